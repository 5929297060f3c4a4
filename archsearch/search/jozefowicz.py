"""The paper's procedure (Jozefowicz, Zaremba and Sutskever, 2015), as we read it.

- A list of the best ``list_size`` architectures (100 in the paper), seeded
  with the LSTM and the GRU; the GRU is also the reference every score is
  relative to.
- Most steps pick a list member at random and mutate it into a valid cell not
  seen before; the candidate meets the tasks in order, cheapest first, and is
  dropped at the first task where its performance relative to the GRU falls
  below ``threshold``, before the dearer tasks.
- With probability ``reeval_probability`` a step instead re-evaluates a list
  member on every task with ``reeval_trials`` new hyperparameter settings
  (one lucky setting can flatter a cell; the best over all its settings counts).
- A candidate that passes every task enters the list if it beats the worst
  member; the list keeps the best by score (minimum relative performance).

Our choices where the paper is silent: the threshold (0.9), the re-evaluation
probability (0.1) and its trial count (twice the normal), uniform choice of
the parent from the list. The threshold on each task is lowered by the
measured move of that task's metric between repeats at the run's preset
(``tasks.measured``: ``threshold * (1 - noise)``), so a candidate is not
dropped by a seed's luck alone.
"""

from __future__ import annotations

import math
from typing import Any

from archsearch.search.base import Outcome, Proposal, Searcher
from archsearch.search.ranking import Ranking
from archsearch.space import Mutant, MutationFailed, mutate
from tasks.measured import noise_margin


class JozefowiczSearch(Searcher):
    name = "jozefowicz"

    def __init__(
        self,
        *,
        list_size: int = 100,
        threshold: float = 0.9,
        reeval_probability: float = 0.1,
        reeval_trials: int | None = None,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        self.list_size = list_size
        self.threshold = threshold
        self.thresholds = {t: threshold * (1 - noise_margin(t, self.preset)) for t in self.tasks}
        self.reeval_probability = reeval_probability
        self.reeval_trials = reeval_trials or 2 * self.trials
        self.members: list[str] = []
        # The cells the list is chosen from (complete, kept, scored), ranked as outcomes
        # arrive: the list is its first list_size, read without sorting every cell.
        self.candidates = Ranking()
        self._listed = -1  # the candidates' version the list was last chosen from
        self.waiting: list[tuple[str, str]] = []  # (cell, task) outcomes awaiting the reference
        self.reevals = 0

    def propose(self) -> None:
        if not self.members:
            self.members = self.start(self.seed_names)
            return
        scored = [d for d in self.members if not math.isnan(self.scores.score(d))]
        if scored and self.rng.random() < self.reeval_probability:
            self.reevals += 1
            digest = self.rng.choice(scored)
            for task in self.tasks:
                self.enqueue(
                    digest,
                    task,
                    purpose="reeval",
                    trials=self.reeval_trials,
                    seed=self.seed + self.reevals,
                )
            return
        mutant = self._mutant(self.rng.choice(self.members))
        if mutant is None:
            return  # every member's neighbourhood is seen: nothing new to try
        digest = self.add_cell(mutant.cell, parent=mutant.parent, mutations=mutant.mutations)
        self.enqueue(digest, self.tasks[0], purpose="candidate")

    def _mutant(self, parent: str) -> Mutant | None:
        """An unseen mutant of ``parent``; if it has none (a long search can see all its
        near mutants), of another member, tried in a random order; None if none has."""
        try:
            return mutate(self.cell(parent), self.rng, seen=self.cells.keys())
        except MutationFailed:
            others = [d for d in self.members if d != parent]
        for other in self.rng.sample(others, len(others)):
            try:
                return mutate(self.cell(other), self.rng, seen=self.cells.keys())
            except MutationFailed:
                continue
        return None

    def learn(self, proposal: Proposal, outcome: Outcome) -> None:
        if proposal.cell_hash == self.reference:
            waiting, self.waiting = self.waiting, []
            for digest, task in waiting:
                self._advance(digest, task)
        if proposal.purpose == "candidate":
            self._advance(proposal.cell_hash, proposal.task, proposal.rung)
        for digest in self.affected(proposal.cell_hash):
            self._rank(digest)
        # The list changes with the ranking, or when a seed on it is told (and scored).
        if self.candidates.version != self._listed or proposal.cell_hash in self.members:
            self._update_list()

    def _rank(self, digest: str) -> None:
        dropped = self.cells[digest].dropped
        score = math.nan if dropped else self.scores.score(digest)
        self.candidates.set(digest, score, self.order(digest))

    def _advance(self, digest: str, task: str, rung: int = 0) -> None:
        """After a candidate's task: drop it, send it on, or wait for the reference. The
        threshold compares like with like (``first_relative``): the candidate's one setting
        against the reference's first evaluation at the rung, never its re-evaluations."""
        rel = self.first_relative(digest, task, rung)
        reference = self.cells[self.reference].best.get(task)
        if reference is None:
            self.waiting.append((digest, task))
            return
        if math.isnan(rel) or rel < self.thresholds[task]:
            self.drop(digest)
            self.candidates.remove(digest)
            return
        position = self.tasks.index(task)
        if position + 1 < len(self.tasks):
            # Ahead of new candidates: finishing a promising one is worth more.
            self.enqueue(digest, self.tasks[position + 1], purpose="candidate", front=True)

    def _update_list(self) -> None:
        self._listed = self.candidates.version
        best = [digest for digest, _ in self.candidates.first(self.list_size)]
        # Seed cells stay until they are scored (they are the list's start).
        unscored_seeds = [
            d for d in self.members if d not in self.candidates and not self.complete(d)
        ]
        self.members = best + [d for d in unscored_seeds if d not in best]

    def extra_state(self) -> dict[str, Any]:
        return {"members": self.members, "waiting": self.waiting, "reevals": self.reevals}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        self.members = list(extra["members"])
        self.waiting = [tuple(w) for w in extra["waiting"]]
        self.reevals = extra["reevals"]
        self.candidates.clear()
        for digest, _ in self.scores:
            self._rank(digest)
