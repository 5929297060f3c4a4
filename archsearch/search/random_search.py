"""Random search: random cells (NAS-Bench-NLP style), each evaluated on every task.

The reference and the seed cells are evaluated first so that every random
cell has a score to be ranked by.
"""

from __future__ import annotations

from archsearch.search.base import Searcher
from archsearch.space import random_cell


class RandomSearch(Searcher):
    name = "random"

    def propose(self) -> None:
        if not self.cells:
            self.start(self.seed_names)
            return
        cell = random_cell(self.rng)
        while self.seen(cell):
            cell = random_cell(self.rng)
        digest = self.add_cell(cell)
        for task in self.tasks:
            self.enqueue(digest, task, purpose="candidate")
