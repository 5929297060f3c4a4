"""Scores relative to a reference cell (the GRU by default), as the study normalises them.

For a task, the relative performance of an architecture is ``arch / ref`` for
metrics where higher is better (accuracy) and ``ref / arch`` where lower is
better (perplexity, NLL), so above 1 beats the reference in both cases. An
architecture's score over several tasks is the minimum: good at everything,
not great at one thing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def relative(metric: float | None, reference: float | None, *, higher_is_better: bool) -> float:
    """Performance relative to the reference; NaN when either is missing or not positive."""
    if metric is None or reference is None:
        return math.nan
    if not (math.isfinite(metric) and math.isfinite(reference)) or metric <= 0 or reference <= 0:
        # A zero accuracy relates as 0 (worst); a zero reference accuracy has no ratio.
        if higher_is_better and metric == 0 and reference > 0:
            return 0.0
        return math.nan
    return metric / reference if higher_is_better else reference / metric


def score(relatives: Mapping[str, float]) -> float:
    """The minimum relative performance over tasks (NaN when any task is missing)."""
    values = list(relatives.values())
    if not values or any(math.isnan(v) for v in values):
        return math.nan
    return min(values)
