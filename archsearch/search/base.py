"""The searcher contract: ask for evaluations, tell their outcomes. Knows nothing of Ray.

A ``Proposal`` asks for one evaluation: a cell (as text: cells travel between
processes as text) on one task with some number of hyperparameter trials. An
``Outcome`` is what the searcher learns back: the best validation metric.
``Searcher`` holds what every strategy needs: the cells seen (by canonical
hash, so no architecture is trained twice), the best metric per (cell, task),
the reference cell's metrics, the score of each cell (minimum over the search
tasks of the performance relative to the reference), and a JSON state that a
driver stores after every outcome so a crashed search resumes exactly.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from archsearch import zoo
from archsearch.cell import Cell, parse_cell
from archsearch.scoring import relative, score
from tasks import directions as task_directions


@dataclass(frozen=True)
class Proposal:
    """One evaluation to run: ``cell_text`` on ``task`` with ``trials`` settings."""

    key: str
    cell_text: str
    cell_hash: str
    task: str
    trials: int
    seed: int
    purpose: str = "candidate"  # "reference", "candidate" or "reeval"
    parent: str | None = None
    mutations: tuple[str, ...] = ()
    repeat: int = 0  # which of the run's repeats (same settings and data, other init seeds)
    group: str = ""  # the key of repeat 0: the repeats of one evaluation share it

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "mutations": list(self.mutations)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Proposal:
        return cls(**{**data, "mutations": tuple(data.get("mutations", ()))})


@dataclass(frozen=True)
class Outcome:
    """The searcher's view of a finished evaluation (its direction is the task's)."""

    metric: float | None  # best validation metric; None when no trial finished
    trials: int = 0


@dataclass
class Entry:
    """What the searcher knows of one cell."""

    text: str
    name: str
    parent: str | None = None
    mutations: list[str] = field(default_factory=list)
    best: dict[str, float | None] = field(default_factory=dict)  # task -> best valid metric
    trials: dict[str, int] = field(default_factory=dict)  # task -> trials run
    dropped: bool = False  # fell below the threshold on a task (the paper's cascade)
    # group -> the metrics of its repeats told so far (with repeats > 1, until all are in)
    partial: dict[str, list[float]] = field(default_factory=dict)


class Searcher(ABC):
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
        preset: str = "quick",
        repeats: int = 1,
    ) -> None:
        """``seeds``: zoo cells evaluated first, beside the reference (the search's start);
        ``preset``: the budget the evaluations run at (its measured figures: tasks.measured);
        ``repeats``: every evaluation is trained this many times (the same settings and
        data, other initialisation seeds), and the searcher learns the mean of the repeats'
        best metrics."""
        if not tasks:
            raise ValueError("a search needs at least one task")
        if trials < 1:
            raise ValueError(f"trials must be at least 1, not {trials}")
        if repeats < 1:
            raise ValueError(f"repeats must be at least 1, not {repeats}")
        self.repeats = repeats
        self.tasks = list(tasks)
        self.preset = preset
        self.trials = trials
        self.seed = seed
        self.rng = random.Random(seed)
        self.reference = zoo.get(reference).canonical_hash()
        self.reference_name = reference
        self.seed_names = list(seeds)
        self.cells: dict[str, Entry] = {}
        # task -> higher is better: a fact of each task, from the task registry.
        self.directions: dict[str, bool] = task_directions(self.tasks)
        self.pending: dict[str, Proposal] = {}  # asked, not yet told
        self.queue: list[Proposal] = []  # decided, not yet asked for
        self.counter = 0

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
        old = entry.best.get(proposal.task)
        if old is None or _better(metric, old, self.directions[proposal.task]):
            entry.best[proposal.task] = metric
        entry.trials[proposal.task] = entry.trials.get(proposal.task, 0) + outcome.trials
        self.learn(proposal, outcome)

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
        return digest

    def enqueue(
        self,
        digest: str,
        task: str,
        *,
        purpose: str,
        trials: int | None = None,
        seed: int | None = None,
        front: bool = False,
    ) -> Proposal:
        """Queue an evaluation of a cell on a task (``front``: ahead of the queue):
        ``self.repeats`` proposals, one per repeat, sharing a group; returns the first."""
        entry = self.cells[digest]
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
        """Performance of a cell relative to the reference on one task (NaN if unknown)."""
        if task not in self.directions:
            return math.nan
        ref = self.cells.get(self.reference)
        metric = self.cells[digest].best.get(task)
        reference = None if ref is None else ref.best.get(task)
        return relative(metric, reference, higher_is_better=self.directions[task])

    def relatives(self, digest: str) -> dict[str, float]:
        return {task: self.relative(digest, task) for task in self.tasks}

    def score(self, digest: str) -> float:
        """Minimum over the search tasks of the relative performance (NaN until all are known)."""
        return score(self.relatives(digest))

    def ranking(self) -> list[tuple[str, float]]:
        """(hash, score) of every cell with a score, best first."""
        scored = [(d, self.score(d)) for d in self.cells]
        return sorted(((d, s) for d, s in scored if not math.isnan(s)), key=lambda x: -x[1])

    # -- state ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the search, as JSON-able data."""
        version, internal, gauss = self.rng.getstate()
        return {
            "searcher": self.name,
            "rng": [version, list(internal), gauss],
            "counter": self.counter,
            "cells": {d: asdict(e) for d, e in self.cells.items()},
            "pending": [p.to_dict() for p in self.pending.values()],
            "queue": [p.to_dict() for p in self.queue],
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("searcher") != self.name:
            raise ValueError(f"state of searcher {state.get('searcher')!r}, not {self.name!r}")
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
        self.counter = state["counter"]
        self.cells = {d: Entry(**e) for d, e in state["cells"].items()}
        # What was in flight when the state was saved is asked again first.
        self.queue = [Proposal.from_dict(p) for p in state["pending"] + state["queue"]]
        self.pending = {}
        self.load_extra_state(state["extra"])

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        pass


def _better(value: float, best: float | None, higher_is_better: bool) -> bool:
    if best is None or math.isnan(best):
        return not math.isnan(value)
    if math.isnan(value):
        return False
    return value > best if higher_is_better else value < best
