"""What a searcher hands out and hears back (``Proposal``, ``Outcome``), and what it keeps of
each cell (``Entry``) and of each rung (``RungBoard``): plain records, saved in its state."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from archsearch.direction import Direction
from archsearch.search.ranking import Ranking


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
    rung: int = 0  # the training length, archsearch.rungs (0: the cheapest)

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
    # Rungs (archsearch.rungs): "best" holds each task's metric at its highest rung told.
    rung: dict[str, int] = field(default_factory=dict)  # task -> the rung "best" comes from
    by_rung: dict[str, dict[str, float]] = field(default_factory=dict)  # str(rung) -> task -> best
    asked_rung: int = 0  # the highest rung queued: promoted from every rung below it
    # str(rung) -> task -> the metric of its first evaluation there, at the trials every
    # cell gets (a re-evaluation with more settings is left out: see Searcher.first_relative).
    first: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class RungBoard:
    """The cells that compete at one rung, by their score there, kept up to date: all of
    them (``ranked``), and those not promoted yet (``unpromoted``); ``complete``: every
    cell with an outcome on each task at the rung (an outcome of the reference rescores
    them)."""

    ranked: Ranking = field(default_factory=Ranking)
    unpromoted: Ranking = field(default_factory=Ranking)
    complete: set[str] = field(default_factory=set)


def entry_from_state(data: dict[str, Any]) -> Entry:
    """An entry from its state; one saved before rungs existed had every outcome at rung 0."""
    entry = Entry(**data)
    if entry.best and not entry.by_rung:
        entry.by_rung = {"0": {t: m for t, m in entry.best.items() if m is not None}}
        entry.rung = {t: 0 for t in entry.best}
    return entry


def improves(value: float, best: float | None, direction: Direction) -> bool:
    """Whether ``value`` replaces ``best``: a number replaces a missing one, never the reverse."""
    if best is None or math.isnan(best):
        return not math.isnan(value)
    if math.isnan(value):
        return False
    return direction.better(value, best)
