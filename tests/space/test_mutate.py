import random

import pytest

from archsearch import zoo
from archsearch.cell import parse_cell
from archsearch.space import mutate, random_cell
from archsearch.space.mutate import OPERATORS


@pytest.mark.parametrize("name", ["lstm", "gru", "mut1", "tanh"])
def test_mutants_are_valid_new_cells_with_lineage(name):
    parent = zoo.get(name)
    rng = random.Random(0)
    seen: set[str] = set()
    for _ in range(30):
        mutant = mutate(parent, rng, seen=seen)
        digest = mutant.cell.canonical_hash()
        assert digest != parent.canonical_hash() and digest not in seen
        seen.add(digest)
        assert mutant.parent == parent.canonical_hash()
        assert mutant.mutations and all(m.split(":")[0] in OPERATORS for m in mutant.mutations)
        # The mutant is a real cell: its text parses back to the same architecture.
        assert parse_cell(mutant.cell.to_text()).canonical_hash() == digest


def test_mutation_is_seeded():
    lstm = zoo.get("lstm")
    first = [mutate(lstm, random.Random(5)).cell.canonical_hash() for _ in range(3)]
    assert len(set(first)) == 1
    assert mutate(lstm, random.Random(6)).cell.canonical_hash() != first[0]


def test_every_operator_is_used_over_many_mutations():
    rng = random.Random(1)
    used = set()
    for _ in range(200):
        used.update(m.split(":")[0] for m in mutate(zoo.get("lstm"), rng).mutations)
    assert used == set(OPERATORS)


def test_random_cells_are_valid_seeded_and_varied():
    cells = [random_cell(random.Random(seed)) for seed in range(40)]
    hashes = {c.canonical_hash() for c in cells}
    assert len(hashes) > 30
    assert random_cell(random.Random(3)).canonical_hash() == cells[3].canonical_hash()
    for cell in cells:
        assert parse_cell(cell.to_text()).canonical_hash() == cell.canonical_hash()
        assert cell.states[0] == "h"
