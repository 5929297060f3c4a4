"""How well a cheap evaluation orders cells as a reference does: pure statistics (no torch).

Given one value per cell from the cheap evaluation and one from the reference
(the same metric, e.g. perplexity, or accuracy), over ``n`` cells:

- Spearman's rho and Kendall's tau (``scipy.stats``), each with a bootstrap 95%
  interval: cells are resampled with replacement ``n_boot`` times and the
  2.5th and 97.5th percentiles of the statistic taken (resamples with a
  constant side, where a rank correlation is undefined, are dropped; the
  resamples are computed at once, as arrays);
- top-k overlap: the share of the reference's best ``k`` cells that are also
  among the cheap evaluation's best ``k``, with ``k = max(1, round(n / 4))``;
- seed-to-seed agreement: Spearman between repeats of the cheap evaluation.

A cell whose cheap run failed or diverged has no value: it counts as the
worst of the panel (its value becomes +inf or -inf by the metric's
direction), which is how a search treats it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from archsearch.direction import Direction


@dataclass(frozen=True)
class Agreement:
    """Rank agreement of a cheap evaluation with a reference, over ``n`` cells."""

    n: int
    spearman: float
    spearman_low: float
    spearman_high: float
    kendall: float
    kendall_low: float
    kendall_high: float
    k: int
    top_k_overlap: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def as_ranked(values: Sequence[float | None], *, direction: Direction) -> np.ndarray:
    """``values`` as floats, a missing or NaN value replaced by the worst possible one."""
    worst = direction.worst
    return np.array(
        [
            worst if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
            for v in values
        ]
    )


def top_k_overlap(cheap: np.ndarray, reference: np.ndarray, k: int, *, direction: Direction):
    """Share of the reference's best ``k`` that the cheap values also put in their best ``k``."""
    sign = -direction.sign  # ascending order of sign * value: the best first
    best_cheap = set(np.argsort(sign * cheap, kind="stable")[:k])
    best_reference = set(np.argsort(sign * reference, kind="stable")[:k])
    return len(best_cheap & best_reference) / k


def agreement(
    cheap: Sequence[float | None],
    reference: Sequence[float | None],
    *,
    direction: Direction,
    n_boot: int = 2000,
    seed: int = 0,
) -> Agreement:
    """Spearman, Kendall (with bootstrap 95% intervals) and top-k overlap of two orderings."""
    x = as_ranked(cheap, direction=direction)
    y = as_ranked(reference, direction=direction)
    if len(x) != len(y) or len(x) < 3:
        raise ValueError(
            f"need the same number (>= 3) of cheap and reference values: {len(x)}, {len(y)}"
        )
    rho = _spearman(x, y)
    tau = _kendall(x, y)
    picks = np.random.default_rng(seed).integers(len(x), size=(n_boot, len(x)))
    rhos, taus = _spearman_rows(x[picks], y[picks]), _kendall_rows(x[picks], y[picks])
    k = max(1, round(len(x) / 4))
    return Agreement(
        n=len(x),
        spearman=rho,
        spearman_low=_percentile(rhos, 2.5),
        spearman_high=_percentile(rhos, 97.5),
        kendall=tau,
        kendall_low=_percentile(taus, 2.5),
        kendall_high=_percentile(taus, 97.5),
        k=k,
        top_k_overlap=top_k_overlap(x, y, k, direction=direction),
    )


def seed_to_seed(by_seed: Sequence[Sequence[float | None]], *, direction: Direction) -> float:
    """Mean Spearman over every pair of repeats (each a value per cell, in one cell order)."""
    ranked = [as_ranked(v, direction=direction) for v in by_seed]
    pairs = [_spearman(a, b) for a, b in itertools.combinations(ranked, 2)]
    return float(np.mean(pairs)) if pairs else math.nan


def mean_over_seeds(by_seed: Sequence[Sequence[float | None]], *, direction: Direction):
    """Per cell, the mean of its repeats' ranks-safe values (any missing repeat: worst)."""
    ranked = np.array([as_ranked(v, direction=direction) for v in by_seed])
    with np.errstate(invalid="ignore"):
        return ranked.mean(axis=0)


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho; NaN (no warning) when one side is constant: no order to compare."""
    if len(np.unique(x)) < 2 or len(np.unique(y)) < 2:
        return math.nan
    return float(stats.spearmanr(x, y).statistic)


def _kendall(x: np.ndarray, y: np.ndarray) -> float:
    if len(np.unique(x)) < 2 or len(np.unique(y)) < 2:
        return math.nan
    return float(stats.kendalltau(x, y).statistic)


def _spearman_rows(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row pair (Pearson of average ranks); NaN where a row is constant."""
    rx, ry = stats.rankdata(xs, axis=1), stats.rankdata(ys, axis=1)
    rx, ry = rx - rx.mean(axis=1, keepdims=True), ry - ry.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(axis=1) / np.sqrt((rx**2).sum(axis=1) * (ry**2).sum(axis=1))


def _kendall_rows(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row pair (as ``scipy.stats.kendalltau``); NaN where undefined."""
    i, j = np.triu_indices(xs.shape[1], k=1)
    with np.errstate(invalid="ignore"):  # inf - inf: two failed cells tie
        dx = np.nan_to_num(np.sign(xs[:, i] - xs[:, j]))
        dy = np.nan_to_num(np.sign(ys[:, i] - ys[:, j]))
        untied = np.sqrt((dx != 0).sum(axis=1) * (dy != 0).sum(axis=1))
        return (dx * dy).sum(axis=1) / untied


def _percentile(values: np.ndarray, q: float) -> float:
    finite = values[np.isfinite(values)]
    return float(np.percentile(finite, q)) if finite.size else math.nan
