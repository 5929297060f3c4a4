"""The trial record: one training run, as training makes it, executors ship it, the store keeps it.

Torch-free plain data, so executors, the store and the results frame share the
one definition without importing training. A trial is one training run of one
cell on one task with one set of hyperparameters; ``STATUSES`` says how it
can end.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# How a trial can end: trained ("ok"), blew up, raised, ran out of time, was stopped early
# by a pruner, or was stopped by the user.
STATUSES = ("ok", "diverged", "failed", "timeout", "pruned", "interrupted")


@dataclass
class TrialResult:
    """One training run: its hyperparameters, how it ended, and its metrics."""

    params: dict[str, Any]
    status: str = "ok"
    metric_valid: float | None = None
    metric_test: float | None = None
    # Extra metrics: numbers, and training's compact records (valid_curve: [[step, value]]).
    metrics: dict[str, Any] = field(default_factory=dict)
    steps: int = 0
    seconds: float = 0.0
    n_params: int = 0
    seed: int = 0
    error: str | None = None
    started_at: float = 0.0  # wall clock, seconds since the epoch
    finished_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# A stored trial adds where it sits in its evaluation and where it ran.
TRIAL_FIELDS = ("trial", *(f.name for f in fields(TrialResult)), "worker")


def failed_trial(*, status: str, error: str, seed: int) -> dict[str, Any]:
    """The one trial row standing for an evaluation that could not finish."""
    if status not in STATUSES:
        raise ValueError(f"unknown trial status {status!r}; valid: {', '.join(STATUSES)}")
    now = time.time()
    record = TrialResult(
        params={}, status=status, seed=seed, error=error, started_at=now, finished_at=now
    )
    return {"trial": 0, **record.to_dict()}


def trial_seed(seed: int, index: int, repeat: int = 0) -> int:
    """The seed of trial ``index`` of repeat ``repeat`` of an evaluation seeded with ``seed``.

    Repeats of an evaluation meet the same hyperparameter settings (the sampler is seeded
    with ``seed`` alone) and the same data, with other initialisations and batch orders;
    repeat 0 is an evaluation without repeats.
    """
    return (seed * 1_000_003 + index * 7919 + repeat * 104_729) % (2**31 - 1)
