"""The searcher contract: ask for evaluations, tell their outcomes. Knows nothing of Ray.

A ``Proposal`` asks for one evaluation: a cell (as text: cells travel between
processes as text) on one task with some number of hyperparameter trials. An
``Outcome`` is what the searcher learns back: the best validation metric.
``Searcher`` holds what every strategy needs: the cells seen (by canonical
hash, so no architecture is trained twice), the best metric per (cell, task),
the reference cell's metrics, the score of each cell (minimum over the search
tasks of the performance relative to the reference), and a JSON state that a
driver stores after every outcome so a crashed search resumes exactly.

Nothing a searcher does per outcome grows with the run: scores are kept ranked
as outcomes arrive (``search/ranking.py``), and the state is kept in parts, a
part per cell, so that a driver saves only the parts an outcome changed
(``state_changes``). How cells climb the rungs is the other half of the class, in
``search/rung_ladder.py``.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, ClassVar

from archsearch import zoo
from archsearch.cell import Cell, parse_cell
from archsearch.defaults import DEFAULT_PRESET
from archsearch.direction import Direction
from archsearch.rungs import Rungs
from archsearch.scoring import score
from archsearch.search.entries import (
    Entry,
    Outcome,
    Proposal,
    RungBoard,
    entry_from_state,
    improves,
)
from archsearch.search.ranking import Ranking
from archsearch.search.rung_ladder import RungLadder
from archsearch.search.standings import Standings
from tasks import direction


class Searcher(RungLadder, ABC):
    """Base of every search strategy (one file each, registered by name)."""

    name: ClassVar[str]

    def __init__(
        self,
        *,
        tasks: Sequence[str],
        trials: int = 2,
        seed: int = 0,
        reference: str = "gru",
        seeds: Sequence[str] = ("lstm", "gru"),
        preset: str = DEFAULT_PRESET,
        repeats: int = 1,
        rungs: int = 1,
        eta: int = 3,
    ) -> None:
        """``seeds``: zoo cells evaluated first, beside the reference (the search's start);
        ``preset``: the budget the evaluations run at (its measured figures: tasks.measured);
        ``repeats``: every evaluation is trained this many times (the same settings and
        data, other initialisation seeds), and the searcher learns the mean of the repeats'
        best metrics; ``rungs``, ``eta``: candidates start at the cheapest of ``rungs``
        training lengths and the best 1/``eta`` of each rung go on to the next
        (``archsearch.rungs``); a cell is scored at the highest rung it has reached."""
        if not tasks:
            raise ValueError("a search needs at least one task")
        if trials < 1:
            raise ValueError(f"trials must be at least 1, not {trials}")
        if repeats < 1:
            raise ValueError(f"repeats must be at least 1, not {repeats}")
        self.repeats = repeats
        self.rungs = Rungs(rungs, eta)
        self.tasks = list(tasks)
        self.preset = preset
        self.trials = trials
        self.seed = seed
        self.rng = random.Random(seed)
        self.reference = zoo.get(reference).canonical_hash()
        self.reference_name = reference
        self.seed_names = list(seeds)
        self.cells: dict[str, Entry] = {}
        # task -> which way its metric improves: a fact of each task, from the task registry.
        self.direction_of: dict[str, Direction] = {task: direction(task) for task in self.tasks}
        self.pending: dict[str, Proposal] = {}  # asked, not yet told
        self.queue: list[Proposal] = []  # decided, not yet asked for
        self.counter = 0
        self.scores = Ranking()  # every cell with a score, best first, kept up to date
        self.standings = Standings()  # the same cells, the highest rung first: ``ranking()``
        self._order: dict[str, int] = {}  # each cell's position in ``cells`` (breaks ties)
        self._complete: set[str] = set()  # the cells with an outcome on every task
        self._changed: dict[str, None] = {}  # cells whose state changed since state_changes()
        self._boards: dict[int, RungBoard] = {}  # rung -> its ranking, below the top rung
        self._baseline_cells: set[str] = set()

    # -- the contract -------------------------------------------------------------
    def ask(self) -> Proposal | None:
        """The next evaluation to run, or None when nothing can be proposed until a tell."""
        if not self.queue:
            self.propose()
        if not self.queue:
            return None
        proposal = self.queue.pop(0)
        self.pending[proposal.key] = proposal
        return proposal

    def tell(self, proposal: Proposal, outcome: Outcome) -> None:
        """Learn from a finished evaluation (with repeats: once all of its repeats are in)."""
        self.pending.pop(proposal.key, None)
        entry = self.cells[proposal.cell_hash]
        self.touch(proposal.cell_hash)
        metric = outcome.metric if outcome.metric is not None else math.nan
        if self.repeats > 1:
            told = entry.partial.setdefault(proposal.group or proposal.key, [])
            told.append(metric)
            entry.trials[proposal.task] = entry.trials.get(proposal.task, 0) + outcome.trials
            if len(told) < self.repeats:
                return
            del entry.partial[proposal.group or proposal.key]
            # A repeat that did not finish makes the mean unknown: an unstable cell is not
            # judged on its lucky seeds.
            metric = math.fsum(told) / len(told)
            outcome = Outcome(metric, 0)
        self._record(entry, proposal.task, proposal.rung, metric)
        if proposal.purpose != "reeval":
            entry.first.setdefault(str(proposal.rung), {}).setdefault(proposal.task, metric)
        entry.trials[proposal.task] = entry.trials.get(proposal.task, 0) + outcome.trials
        self._rescore(proposal.cell_hash)
        self.learn(proposal, outcome)
        self._promote(proposal.cell_hash, proposal.rung)

    def _record(self, entry: Entry, task: str, rung: int, metric: float) -> None:
        """Keep the best metric per (rung, task); ``best`` follows the highest rung."""
        at_rung = entry.by_rung.setdefault(str(rung), {})
        if improves(metric, at_rung.get(task), self.direction_of[task]):
            at_rung[task] = metric
        if rung >= entry.rung.get(task, 0):
            entry.rung[task] = rung
            entry.best[task] = at_rung.get(task, metric)

    @abstractmethod
    def propose(self) -> None:
        """Append at least one proposal to ``self.queue`` if the strategy can."""

    def learn(self, proposal: Proposal, outcome: Outcome) -> None:
        """Strategy-specific reaction to an outcome (after the bookkeeping)."""

    # -- helpers for strategies ---------------------------------------------------
    def start(self, names: Sequence[str]) -> list[str]:
        """Add the reference and the named zoo cells, and queue them on every task."""
        digests = []
        for name in dict.fromkeys([self.reference_name, *names]):
            digest = self.add_cell(zoo.get(name))
            digests.append(digest)
            for task in self.tasks:
                self.enqueue(digest, task, purpose="reference")
        return digests

    def complete(self, digest: str) -> bool:
        """Whether every search task has an outcome for this cell."""
        return all(task in self.cells[digest].best for task in self.tasks)

    def seen(self, cell: Cell) -> bool:
        return cell.canonical_hash() in self.cells

    def add_cell(self, cell: Cell, *, parent: str | None = None, mutations=()) -> str:
        digest = cell.canonical_hash()
        if digest not in self.cells:
            self.cells[digest] = Entry(cell.to_text(), cell.name, parent, list(mutations))
            self._order[digest] = len(self._order)
            self.touch(digest)
            if digest == self.reference or (parent is None and cell.name in self.seed_names):
                self._baseline_cells.add(digest)
        return digest

    def touch(self, digest: str) -> None:
        """Note that cell ``digest``'s entry changed, so that its state part is saved again
        (``state_changes``). Whatever changes an entry calls it; ``tell`` and ``enqueue`` do."""
        self._changed[digest] = None

    def enqueue(
        self,
        digest: str,
        task: str,
        *,
        purpose: str,
        trials: int | None = None,
        seed: int | None = None,
        front: bool = False,
        rung: int = 0,
    ) -> Proposal:
        """Queue an evaluation of a cell on a task (``front``: ahead of the queue):
        ``self.repeats`` proposals, one per repeat, sharing a group; returns the first."""
        entry = self.cells[digest]
        self.touch(digest)  # what queues an evaluation may have marked the entry (a rung)
        proposals = []
        for repeat in range(self.repeats):
            self.counter += 1
            key = f"e{self.counter:06d}"
            proposals.append(
                Proposal(
                    key=key,
                    cell_text=entry.text,
                    cell_hash=digest,
                    task=task,
                    trials=trials or self.trials,
                    seed=self.seed if seed is None else seed,
                    purpose=purpose,
                    parent=entry.parent,
                    mutations=tuple(entry.mutations),
                    repeat=repeat,
                    group=proposals[0].key if proposals else key,
                    rung=rung,
                )
            )
        if front:
            self.queue[:0] = proposals
        else:
            self.queue.extend(proposals)
        return proposals[0]

    def cell(self, digest: str) -> Cell:
        return parse_cell(self.cells[digest].text)

    def relative(self, digest: str, task: str) -> float:
        """Performance of a cell relative to the reference on one task (NaN if unknown), at
        the highest rung where both have an outcome on it."""
        if task not in self.direction_of:
            return math.nan
        ref = self.cells.get(self.reference)
        own = self.cells[digest].by_rung
        for rung in sorted(own, key=int, reverse=True):
            reference = None if ref is None else ref.by_rung.get(rung, {}).get(task)
            if task in own[rung] and reference is not None:
                return self.direction_of[task].relative(own[rung][task], reference)
        return math.nan

    def relatives(self, digest: str) -> dict[str, float]:
        return {task: self.relative(digest, task) for task in self.tasks}

    def score(self, digest: str) -> float:
        """Minimum over the search tasks of the relative performance (NaN until all are known)."""
        return score(self.relatives(digest))

    def ranking(self) -> list[tuple[str, float]]:
        """(hash, score at its highest rung) of every cell complete at some rung: the
        highest rung first, then the best score there (ties: the older first). A score at
        a cheap rung does not outrank one that held at a higher (``search/standings.py``)."""
        return list(self.standings)

    def leader(self) -> tuple[str, float] | None:
        """The first of ``ranking()``; None before any cell has a score."""
        return self.standings.best()

    def affected(self, digest: str) -> Sequence[str] | set[str]:
        """The cells whose score an outcome of ``digest`` may change: a score depends on the
        cell's own outcomes and the reference's, so an outcome of the reference changes
        every complete cell's (the reference is told a few times in a run, at its start and
        when it is re-evaluated: only then is this more than one cell)."""
        return self._complete if digest == self.reference else (digest,)

    def _rescore(self, digest: str) -> None:
        """Keep ``scores`` up to date after an outcome of ``digest``."""
        if self.complete(digest):
            self._complete.add(digest)
        for cell in self.affected(digest):
            self.scores.set(cell, self.score(cell), self._order[cell])
            self._stand(cell)

    def order(self, digest: str) -> int:
        """The cell's position among ``cells`` (the older first): how rankings break ties."""
        return self._order[digest]

    # -- state ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the search, as JSON-able parts: a part per cell
        (``CELL_PART`` and its hash) and a few for the rest."""
        cells = {CELL_PART + d: asdict(e) for d, e in self.cells.items()}
        return {**self._common_state(), **cells}

    def state_changes(self) -> dict[str, Any]:
        """The parts of ``state_dict()`` that changed since the last call (the cells told,
        added, queued or dropped, and the few parts for the rest): what a driver saves
        with each commit. Call it once per commit: it forgets what it returned."""
        cells = {CELL_PART + d: asdict(self.cells[d]) for d in self._changed}
        self._changed = {}
        return {**self._common_state(), **cells}

    def _common_state(self) -> dict[str, Any]:
        """The parts besides the cells: each is small, whatever the run's length."""
        version, internal, gauss = self.rng.getstate()
        return {
            "searcher": self.name,
            "rng": [version, list(internal), gauss],
            "counter": self.counter,
            "pending": [p.to_dict() for p in self.pending.values()],
            "queue": [p.to_dict() for p in self.queue],
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state``: a ``state_dict()``, the parts a store saved, or a whole
        state as a store saved it before parts (its cells under "cells")."""
        if state.get("searcher") != self.name:
            raise ValueError(f"state of searcher {state.get('searcher')!r}, not {self.name!r}")
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
        self.counter = state["counter"]
        cells = dict(state.get("cells", {}))
        cells.update((k[len(CELL_PART) :], v) for k, v in state.items() if k.startswith(CELL_PART))
        self.cells = {d: entry_from_state(e) for d, e in cells.items()}
        self._order = {d: i for i, d in enumerate(self.cells)}
        # A whole state is saved again in parts at the next commit.
        self._changed = dict.fromkeys(self.cells) if "cells" in state else {}
        self._complete = {d for d in self.cells if self.complete(d)}
        self.scores.clear()
        self.standings.clear()
        for digest in self._complete:
            self.scores.set(digest, self.score(digest), self._order[digest])
            self._stand(digest)
        self._baseline_cells = {
            d
            for d, e in self.cells.items()
            if d == self.reference or (e.parent is None and e.name in self.seed_names)
        }
        self._boards = {}
        for rung in range(self.rungs.top):
            for digest, entry in self.cells.items():
                if self._complete_at(entry, rung):
                    self._rank_at(digest, rung)
        # What was in flight when the state was saved is asked again first.
        self.queue = [Proposal.from_dict(p) for p in state["pending"] + state["queue"]]
        self.pending = {}
        self.load_extra_state(state["extra"])

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        pass


CELL_PART = "cell:"  # the state part of a cell is named "cell:" and its hash
