"""Which way a task's metric improves: the one place that knows what "better" means.

A task declares its direction (``MAXIMIZE`` for accuracy, ``MINIMIZE`` for perplexity
and negative log-likelihood); training, the searchers, the store's frame, the analysis
and the fidelity tool ask it instead of flipping signs of their own:

    d = MINIMIZE
    d.better(90.0, 100.0)        # True: a lower perplexity is better
    d.relative(90.0, 100.0)      # 1.111: above 1 is better than the reference
    d.oriented(90.0)             # -90.0: larger is better, whatever the direction

Relative performance against a reference ``ref`` (Jozefowicz et al. 2015) is

    relative = metric / ref      when higher is better
    relative = ref / metric      when lower is better

so that above 1 always means better than the reference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Direction:
    """``maximize``: higher values of the metric are better."""

    maximize: bool

    @property
    def sign(self) -> float:
        """+1 or -1: ``sign * value`` is larger for the better value."""
        return 1.0 if self.maximize else -1.0

    @property
    def name(self) -> str:
        """Optuna's word for it: "maximize" or "minimize"."""
        return "maximize" if self.maximize else "minimize"

    @property
    def worst(self) -> float:
        """A value worse than any other (for an unfinished result in a ranking)."""
        return -math.inf if self.maximize else math.inf

    def describe(self) -> str:
        return "higher is better" if self.maximize else "lower is better"

    def oriented(self, value: float) -> float:
        """``value`` with its sign turned so that larger is better."""
        return self.sign * value

    def better(self, value: float, than: float | None) -> bool:
        """Whether ``value`` is strictly better than ``than`` (anything beats None)."""
        return than is None or self.oriented(value) > self.oriented(than)

    def best(self, values: Iterable[float]) -> float:
        return (max if self.maximize else min)(values)

    def difference(self, value: float, reference: float) -> float:
        """How much better ``value`` is than ``reference``, in the metric's units."""
        return self.oriented(value - reference)

    def ratio(self, value: float, reference: float) -> float:
        """``value / reference`` if higher is better, else ``reference / value``."""
        return value / reference if self.maximize else reference / value

    def relative(self, metric: float | None, reference: float | None) -> float:
        """Relative performance (above 1: better than the reference); NaN where either is
        missing or the ratio has no meaning (a zero or negative value)."""
        if (
            metric is None
            or reference is None
            or not (math.isfinite(metric) and math.isfinite(reference))
        ):
            return math.nan
        if metric <= 0 or reference <= 0:
            if self.maximize and metric == 0 and reference > 0:
                return 0.0  # no accuracy at all: as bad as it gets, not undefined
            return math.nan
        return self.ratio(metric, reference)


MAXIMIZE = Direction(True)
MINIMIZE = Direction(False)
