"""Regularized (aging) evolution (Real et al., 2019), over the same space.

The population starts with the reference, the seed cells and random cells
until it holds ``population`` members. Then each step samples ``sample``
members at random, mutates the best of them (by score), and evaluates the
child on every task; when the child is complete it joins the population and
the oldest member leaves (aging, not the worst: that is the regularization).
"""

from __future__ import annotations

import math
from typing import Any

from archsearch.search.base import Outcome, Proposal, Searcher
from archsearch.space import mutate, random_cell


class EvolutionSearch(Searcher):
    name = "evolution"

    def __init__(self, *, population: int = 20, sample: int = 5, **common: Any) -> None:
        super().__init__(**common)
        if not 1 <= sample <= population:
            raise ValueError(f"need 1 <= sample <= population, got {sample} and {population}")
        self.population_size = population
        self.sample = sample
        self.population: list[str] = []  # oldest first
        self.started = False
        self.initial = 0  # cells of the initial population asked for so far

    def propose(self) -> None:
        if not self.started:
            self.started = True
            self.initial = len(self.start(self.seed_names))
            return
        if self.initial < self.population_size:
            self.initial += 1
            cell = random_cell(self.rng)
            while self.seen(cell):
                cell = random_cell(self.rng)
            self._evaluate(self.add_cell(cell))
            return
        scored = [d for d in self.population if not math.isnan(self.score(d))]
        if not scored:
            return  # wait for the initial population's outcomes
        contenders = self.rng.sample(scored, min(self.sample, len(scored)))
        parent = max(contenders, key=self.score)
        mutant = mutate(self.cell(parent), self.rng, seen=self.cells.keys())
        self._evaluate(self.add_cell(mutant.cell, parent=mutant.parent, mutations=mutant.mutations))

    def _evaluate(self, digest: str) -> None:
        for task in self.tasks:
            self.enqueue(digest, task, purpose="candidate")

    def learn(self, proposal: Proposal, outcome: Outcome) -> None:
        digest = proposal.cell_hash
        if self.complete(digest) and digest not in self.population:
            self.population.append(digest)
            if len(self.population) > self.population_size:
                self.population.pop(0)

    def extra_state(self) -> dict[str, Any]:
        return {"population": self.population, "started": self.started, "initial": self.initial}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        self.population = list(extra["population"])
        self.started = extra["started"]
        self.initial = extra["initial"]
