"""A trial as the driver hands it in, checked and turned into a row of ``trials``.

A trial is one training run of one cell on one task with one set of
hyperparameters. Only ``trial`` (its index in the evaluation) and ``status``
are required; every other field may be left out (stored as NULL, or {}).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from typing import Any

from archsearch.records import STATUSES, TRIAL_FIELDS

# TRIAL_FIELDS (archsearch.records) are: trial (int, index within its evaluation), params
# (dict), status (one of STATUSES), metric_valid and metric_test (float | None), metrics
# (dict of extra metrics), steps, seconds, n_params, seed, error, started_at and
# finished_at (datetime | epoch seconds | None), worker (str | None: where it ran).


def trial_row(trial: Mapping[str, Any]) -> dict[str, Any]:
    """``trial`` checked, with its numbers made plain Python numbers (numpy's too)."""
    unknown = sorted(set(trial) - set(TRIAL_FIELDS))
    if unknown:
        raise ValueError(f"unknown trial fields {unknown}; valid: {', '.join(TRIAL_FIELDS)}")
    if "trial" not in trial or "status" not in trial:
        raise ValueError(f"a trial needs 'trial' (its index) and 'status'; got {dict(trial)}")
    if trial["status"] not in STATUSES:
        raise ValueError(f"unknown trial status {trial['status']!r}; valid: {', '.join(STATUSES)}")
    return {
        "trial": operator.index(trial["trial"]),
        "params": dict(trial.get("params") or {}),
        "status": trial["status"],
        "metric_valid": _float(trial.get("metric_valid")),
        "metric_test": _float(trial.get("metric_test")),
        "metrics": dict(trial.get("metrics") or {}),
        "steps": _int(trial.get("steps")),
        "seconds": _float(trial.get("seconds")),
        "n_params": _int(trial.get("n_params")),
        "worker": _text(trial.get("worker")),
        "started_at": trial.get("started_at"),
        "finished_at": trial.get("finished_at"),
        "error": _text(trial.get("error")),
        "seed": _int(trial.get("seed")),
    }


def _float(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value  # SQLite can't keep NaN; NULL means "no value"


def _int(value: Any) -> int | None:
    return None if value is None else operator.index(value)  # refuses 3.7, takes numpy ints


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
