"""Random search: random cells (NAS-Bench-NLP style), each evaluated on every task.

The reference and the seed cells are evaluated first so that every random
cell has a score to be ranked by.
"""

from __future__ import annotations

from collections.abc import Sequence

from archsearch.search.base import Searcher
from archsearch.space import random_cell


class RandomSearch(Searcher):
    name = "random"

    def __init__(
        self,
        *,
        tasks: Sequence[str],
        trials: int = 2,
        seed: int = 0,
        reference: str = "gru",
        seeds: Sequence[str] = ("lstm", "gru"),
        directions: dict[str, bool] | None = None,
    ) -> None:
        super().__init__(
            tasks=tasks, trials=trials, seed=seed, reference=reference, directions=directions
        )
        self.seed_names = list(seeds)

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
