"""Cells like those a search compiles, drawn reproducibly, for the compiler's tests and benches."""

from __future__ import annotations

import random

from archsearch import zoo
from archsearch.cell.nodes import Cell
from archsearch.space import mutate, random_cell


def search_cells(n: int = 20, seed: int = 0) -> list[Cell]:
    """``n`` cells, alternately a mutant of a random zoo cell and a random cell, seeded."""
    rng = random.Random(seed)
    cells = []
    for i in range(n):
        if i % 2:
            cells.append(random_cell(rng))
        else:
            cells.append(mutate(zoo.get(rng.choice(zoo.names())), rng).cell)
    return cells
