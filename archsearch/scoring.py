"""Scores relative to a reference cell (the GRU by default), as the study normalises them.

For a task, the relative performance of an architecture is above 1 when it beats the
reference, whichever way the task's metric improves (``Direction.relative``). An
architecture's score over several tasks is the minimum: good at everything, not great
at one thing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def score(relatives: Mapping[str, float]) -> float:
    """The minimum relative performance over tasks (NaN when any task is missing)."""
    values = list(relatives.values())
    if not values or any(math.isnan(v) for v in values):
        return math.nan
    return min(values)
