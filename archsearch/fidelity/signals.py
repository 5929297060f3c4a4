"""Ranking signals: what of one training run orders cells, besides its validation metric.

Each signal reads one trial (its ``metric_valid`` and the extra ``metrics`` that
``archsearch.train`` records) and gives one number per cell. A signal is read in
the task's direction, or lower-is-better (a loss, a growth); ``oriented`` turns
its values into the task's direction (negated where they differ), so that
``measures.agreement`` compares them with the reference:

- ``final`` (the default, what a search ranks by): the trial's validation
  metric, measured with the parameters of its best validation pass. It is also
  the best metric over the passes, so "the best validation metric" is this row;
- ``last_pass``: the metric of the last validation pass;
- ``train_tail``: the mean training loss over the last quarter of the steps run;
- ``extrapolated``: the validation curve fitted by a power law and read at
  ``EXTRAPOLATE_FACTOR`` times its last step (``extrapolate``);
- ``state_growth``: the trained model's state growth over a sequence ten training
  windows long (``archsearch.train.state_growth``), lower ranked better;
- ``final_stable``: ``final``, with every cell whose state grows by more than
  ``GROWTH_LIMIT`` ranked behind every cell whose state does not (among
  themselves, still by ``final``).

A failed or diverged run has no value for any signal (it ranks as the panel's
worst). A finished trial stored before a signal was recorded has no value either;
``unrecorded`` says which cells lack one, and such a signal is not compared.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archsearch.direction import Direction

DEFAULT_SIGNAL = "final"
EXTRAPOLATE_FACTOR = 4  # the curve read at 4x the steps: the rungs' usual reduction factor
# A state that grows by more than half over ten training windows is held in check only by
# training's short windows. Set by hand, not tuned on a panel.
GROWTH_LIMIT = 1.5
# final_stable moves an unbounded cell this far behind in the task's direction: further than
# any metric spreads, so only the order between bounded and unbounded cells changes.
_BEHIND = 1e12


@dataclass(frozen=True)
class TrialView:
    """What a signal reads of one finished trial."""

    metric_valid: float
    metrics: dict[str, Any]


@dataclass(frozen=True)
class Signal:
    """One ranking signal: its name, a line saying what it is, and how it is computed."""

    name: str
    description: str
    needs: tuple[str, ...]  # the trial metrics it reads (absent: not recorded, not failed)
    compute: Callable[[TrialView, Direction], float | None]  # (trial, task's direction) -> value
    lower_is_better: bool = False  # True: lower ranks better whatever the task (a loss)
    shown_per_cell: bool = True  # False: a report's per-cell table has it already, or a rank key

    def value(self, trial: TrialView | None, direction: Direction) -> float | None:
        """The signal for one cell; None when its run failed, diverged or lacks the metric."""
        if trial is None or any(trial.metrics.get(key) is None for key in self.needs):
            return None
        value = self.compute(trial, direction)
        return value if value is not None and math.isfinite(value) else None


def extrapolate(
    curve: Sequence[Sequence[float]], *, factor: float = EXTRAPOLATE_FACTOR, direction: Direction
) -> float | None:
    """The validation curve ``[[step, value], ...]`` read at ``factor`` times its last step.

    The distance to a perfect score, ``d = v`` (a loss, a perplexity) or ``d = 1 - v``
    (an accuracy, higher is better), is fitted by a power law ``d = a t^c`` (least
    squares on ``log d = log a + c log t``) over the last half of the passes, at least
    two, and read at ``t = factor * t_last``. The last value when there is nothing to
    fit: one pass, a distance that is not positive, or a fit that is not finite.
    """
    if not curve:
        return None
    steps = np.array([float(s) for s, _ in curve])
    values = np.array([float(v) for _, v in curve])
    last = float(values[-1])
    distance = 1.0 - values if direction.maximize else values
    keep = max(2, math.ceil(len(curve) / 2))
    steps, distance = steps[-keep:], distance[-keep:]
    if len(steps) < 2 or np.any(distance <= 0) or np.any(steps <= 0) or np.ptp(steps) == 0:
        return last
    slope, intercept = np.polyfit(np.log(steps), np.log(distance), 1)
    predicted = math.exp(intercept + slope * math.log(factor * steps[-1]))
    if not math.isfinite(predicted):
        return last
    return 1.0 - predicted if direction.maximize else predicted


def _final_stable(trial: TrialView, direction: Direction) -> float:
    if trial.metrics["state_growth"] <= GROWTH_LIMIT:
        return trial.metric_valid
    return trial.metric_valid - direction.sign * _BEHIND  # behind every stable cell


SIGNALS: dict[str, Signal] = {
    s.name: s
    for s in (
        Signal(
            "final",
            "validation metric of the best pass's parameters (the default; also the best pass)",
            (),
            lambda t, direction: t.metric_valid,
            shown_per_cell=False,
        ),
        Signal(
            "last_pass",
            "validation metric of the last pass",
            ("valid_curve",),
            lambda t, direction: (
                t.metrics["valid_curve"][-1][1] if t.metrics["valid_curve"] else None
            ),
        ),
        Signal(
            "train_tail",
            "mean training loss over the last quarter of the steps",
            ("train_loss_tail",),
            lambda t, direction: t.metrics["train_loss_tail"],
            lower_is_better=True,
        ),
        Signal(
            "extrapolated",
            f"validation curve's power law read at {EXTRAPOLATE_FACTOR}x the steps",
            ("valid_curve",),
            lambda t, direction: extrapolate(t.metrics["valid_curve"], direction=direction),
        ),
        Signal(
            "state_growth",
            "state growth over a sequence 10 training windows long (lower ranked better)",
            ("state_growth",),
            lambda t, direction: t.metrics["state_growth"],
            lower_is_better=True,
        ),
        Signal(
            "final_stable",
            f"final, cells whose state grows more than {GROWTH_LIMIT}x ranked last",
            ("state_growth",),
            _final_stable,
            shown_per_cell=False,
        ),
    )
}
assert DEFAULT_SIGNAL in SIGNALS


def signal_values(
    name: str, trials: Sequence[TrialView | None], *, direction: Direction
) -> list[float | None]:
    """Signal ``name`` for each cell's trial (None: the run failed or diverged)."""
    if name not in SIGNALS:
        raise ValueError(f"unknown signal {name!r}; valid: {', '.join(SIGNALS)}")
    return [SIGNALS[name].value(t, direction) for t in trials]


def oriented(
    name: str, values: Sequence[float | None], *, direction: Direction
) -> list[float | None]:
    """Signal ``name``'s values in the task's direction: negated where the signal ranks
    lower-is-better and the task higher-is-better."""
    flip = SIGNALS[name].lower_is_better and direction.maximize
    return [None if v is None else (-v if flip else v) for v in values]


def unrecorded(name: str, trials: Sequence[TrialView | None]) -> list[int]:
    """Indexes of finished trials that do not carry what signal ``name`` reads."""
    needs = SIGNALS[name].needs
    return [
        i
        for i, t in enumerate(trials)
        if t is not None and any(t.metrics.get(key) is None for key in needs)
    ]
