"""Statistics for comparing cells over repeated seeds: intervals, paired tests, Holm, power.

Pure: numpy, pandas and ``scipy.stats`` only (no torch, no store). Every test is
scipy's; only Holm's step-down adjustment is written here (it is arithmetic).

The design is paired: cells compared on a task meet the same hyperparameter
settings with the same seeds (the same initialisation seed and data order), so
a *pair* is one (seed, setting) that both cells trained. For a pair ``k`` with
metrics ``a_k`` and ``b_k`` the *oriented difference* is

    d_k = a_k - b_k   if higher is better (accuracy)
    d_k = b_k - a_k   if lower is better (perplexity, NLL)

so ``d_k > 0`` always means "a did better" and every verdict says "better" the
same way for both kinds of metric. Over the ``n`` pairs:

- effect: the mean difference ``d̄`` with a bootstrap 95% interval (resampling pairs);
- standardized effect ``d_z = d̄ / s_d`` (``s_d``: the differences' standard deviation, ddof 1);
- p-value: Wilcoxon's signed-rank test on the ``d_k`` (two-sided, zeros dropped);
- relative performance ``rel = mean(a) / mean(b)`` (higher better) or ``mean(b) / mean(a)``
  (lower better), above 1 when a is better, with a paired bootstrap interval;
- pairs needed for 80% power of the signed-rank test at the measured ``d_z``
  (``archsearch.analysis.power``: simulated from the paired t-test's figure up).

Failed, diverged and timed-out trials have no metric and drop out of the pairs
(``n_dropped`` counts the trials of either cell that found no partner).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from archsearch.analysis.power import (  # noqa: F401  (part of this module's API)
    ALPHA,
    POWER,
    pairs_for_holm,
    pairs_for_power,
    pairs_for_signed_rank,
)
from archsearch.direction import Direction

CONFIDENCE = 0.95  # the intervals' level: 95%, as the study's tables report
RESAMPLES = 9999  # scipy's default number of bootstrap resamples


@dataclass(frozen=True)
class Interval:
    """An estimate with a bootstrap interval over ``n`` observations (NaN bounds: no interval)."""

    estimate: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        """(high - low) / 2: what ``format`` prints after ±."""
        return (self.high - self.low) / 2

    def format(self, digits: int = 3) -> str:
        """``0.910 ± 0.030`` (half the interval's width), or the estimate alone without one."""
        if math.isnan(self.estimate):
            return "-"
        if math.isnan(self.half_width):
            return f"{self.estimate:.{digits}f}"
        return f"{self.estimate:.{digits}f} ± {self.half_width:.{digits}f}"


def bootstrap_interval(
    values: Sequence[float],
    statistic: Callable = np.mean,
    *,
    confidence: float = CONFIDENCE,
    n_resamples: int = RESAMPLES,
    seed: int = 0,
    method: str = "BCa",
) -> Interval:
    """``statistic`` of ``values`` with a ``scipy.stats.bootstrap`` interval (seeded).

    One value has no interval (NaN bounds); identical values have a zero-width one
    (the bootstrap distribution is a point). ``statistic`` takes an ``axis`` argument.
    """
    x = _finite(values)
    if x.size == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    estimate = float(statistic(x, axis=-1))
    if x.size == 1:
        return Interval(estimate, math.nan, math.nan, 1)
    if np.all(x == x[0]):
        return Interval(estimate, estimate, estimate, int(x.size))
    low, high = _bootstrap((x,), statistic, False, confidence, n_resamples, seed, method)
    return Interval(estimate, low, high, int(x.size))


def relative_interval(
    cell: Sequence[float],
    reference: Sequence[float],
    *,
    direction: Direction,
    paired: bool,
    confidence: float = CONFIDENCE,
    n_resamples: int = RESAMPLES,
    seed: int = 0,
    method: str = "BCa",
) -> Interval:
    """Relative performance of the means (above 1: ``cell`` better), with a bootstrap interval.

    ``rel = mean(cell) / mean(reference)`` if higher is better, else the inverse.
    ``paired``: the two samples are matched pairs and resampled together
    (``scipy.stats.bootstrap(paired=True)``); otherwise each is resampled alone.
    """
    a, b = np.asarray(cell, dtype=float), np.asarray(reference, dtype=float)
    if paired:
        keep = np.isfinite(a) & np.isfinite(b)
        a, b = a[keep], b[keep]
    else:
        a, b = _finite(a), _finite(b)

    def ratio(x, y, axis=-1):
        mx, my = np.mean(x, axis=axis), np.mean(y, axis=axis)
        with np.errstate(divide="ignore", invalid="ignore"):
            return direction.ratio(mx, my)

    if a.size == 0 or b.size == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    estimate = float(ratio(a, b))
    n = int(min(a.size, b.size))
    if a.size < 2 or b.size < 2:
        return Interval(estimate, math.nan, math.nan, n)
    if np.all(a == a[0]) and np.all(b == b[0]):
        return Interval(estimate, estimate, estimate, n)
    low, high = _bootstrap((a, b), ratio, paired, confidence, n_resamples, seed, method)
    return Interval(estimate, low, high, n)


@dataclass(frozen=True)
class Comparison:
    """Cell ``a`` against cell ``b`` on one task, over matched pairs (see the module's doc)."""

    a: str
    b: str
    task: str
    direction: Direction  # which way the task's metric improves
    n: int  # matched pairs
    mean_a: float
    mean_b: float
    difference: Interval  # mean oriented difference: above 0 means a is better
    relative: Interval  # relative performance of a to b: above 1 means a is better
    d_z: float  # mean difference / standard deviation of the differences
    p_value: float  # Wilcoxon signed-rank, two-sided
    pairs_needed: int | None  # pairs for 80% power of this test at d_z (None: no effect)
    n_dropped: int = 0  # trials without a finished partner
    note: str = ""

    @property
    def better(self) -> str:
        """Which cell the mean difference favours: ``a``, ``b`` or ``neither`` (zero or none)."""
        d = self.difference.estimate
        if math.isnan(d) or d == 0:
            return "neither"
        return "a" if d > 0 else "b"


def compare_paired(
    a_values: Sequence[float],
    b_values: Sequence[float],
    *,
    direction: Direction,
    a: str = "a",
    b: str = "b",
    task: str = "",
    n_dropped: int = 0,
    seed: int = 0,
    alpha: float = ALPHA,
    power: float = POWER,
) -> Comparison:
    """Compare matched samples (``a_values[k]`` and ``b_values[k]`` are one pair)."""
    x, y = np.asarray(a_values, dtype=float), np.asarray(b_values, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length: {x.size} and {y.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    d = direction.difference(x, y)
    difference = bootstrap_interval(d, seed=seed)
    rel = relative_interval(x, y, direction=direction, paired=True, seed=seed)
    p, note = signed_rank_p(d)
    dz = effect_size_dz(d)
    return Comparison(
        a=a,
        b=b,
        task=task,
        direction=direction,
        n=int(d.size),
        mean_a=float(np.mean(x)) if x.size else math.nan,
        mean_b=float(np.mean(y)) if y.size else math.nan,
        difference=difference,
        relative=rel,
        d_z=dz,
        p_value=p,
        pairs_needed=pairs_for_signed_rank(dz, alpha=alpha, power=power),
        n_dropped=n_dropped,
        note=note,
    )


def signed_rank_p(differences: Sequence[float]) -> tuple[float, str]:
    """Two-sided p of ``scipy.stats.wilcoxon`` on the differences, and a note on edge cases.

    No pairs: p is NaN. All differences zero: p = 1 (nothing favours either cell;
    scipy would drop every zero and fail). Zeros are otherwise dropped (``wilcox``).
    With ``m`` non-zero differences the exact test cannot go below ``2 / 2**m``,
    so fewer than 6 pairs can never reach p < 0.05: the note says so.
    """
    d = _finite(differences)
    if d.size == 0:
        return math.nan, "no matched pairs"
    nonzero = int(np.count_nonzero(d))
    if nonzero == 0:
        return 1.0, "all differences are zero"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scipy warns for small samples
        p = float(stats.wilcoxon(d, zero_method="wilcox").pvalue)
    floor = 2.0 / 2**nonzero
    note = f"{nonzero} non-zero pairs: p cannot go below {floor:.3g}" if floor >= ALPHA else ""
    return min(p, 1.0), note


def effect_size_dz(differences: Sequence[float]) -> float:
    """Cohen's d_z = mean(d) / std(d, ddof=1); ±inf for a constant non-zero difference."""
    d = _finite(differences)
    if d.size < 2:
        return math.nan
    mean, sd = float(np.mean(d)), float(np.std(d, ddof=1))
    if sd <= 1e-12 * max(1.0, abs(mean)):  # constant up to rounding
        return 0.0 if mean == 0 else math.copysign(math.inf, mean)
    return mean / sd


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (same order as given; NaN stays NaN).

    Sort the m finite p-values ascending, p_(1) <= ... <= p_(m); the adjusted
    value is p~_(i) = max over j <= i of min(1, (m - j + 1) * p_(j)). Rejecting
    where p~ < alpha controls the family-wise error rate at alpha.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(~np.isnan(p))
    m = finite.size
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def pair_columns(frame: pd.DataFrame) -> list[str]:
    """What matches two cells' trials into a pair: the seed and every hyperparameter."""
    return ["seed", *sorted(c for c in frame.columns if c.startswith("params_"))]


def matched_pairs(
    frame: pd.DataFrame, a: str, b: str, task: str, *, metric: str = "metric_valid"
) -> tuple[pd.DataFrame, int]:
    """The finished trials of cells ``a`` and ``b`` (hashes) on ``task``, matched by
    (seed, setting): a frame with columns ``a`` and ``b``, and the count of unmatched trials.

    Repeats of one (seed, setting) within a cell (a re-evaluation) are averaged.
    """
    on = pair_columns(frame)
    rows = frame[(frame["task"] == task) & frame["cell"].isin([a, b])]
    ok = rows[(rows["status"] == "ok") & rows[metric].notna()]
    keys = ok[on].astype(str).agg("|".join, axis=1) if len(ok) else pd.Series(dtype=str)
    sides = {
        name: ok.loc[ok["cell"] == cell, metric].groupby(keys[ok["cell"] == cell]).mean()
        for name, cell in (("a", a), ("b", b))
    }
    pairs = pd.concat(sides, axis=1, join="inner").reindex(columns=["a", "b"])
    unmatched = len(rows) - int(keys.isin(pairs.index).sum())
    return pairs.reindex(columns=["a", "b"]), int(unmatched)


def compare_cells(
    frame: pd.DataFrame,
    a: str,
    b: str,
    task: str,
    *,
    direction: Direction,
    metric: str = "metric_valid",
    seed: int = 0,
    names: Mapping[str, str] | None = None,
) -> Comparison:
    """``compare_paired`` on the matched pairs of cells ``a`` and ``b`` (hashes) on ``task``."""
    pairs, dropped = matched_pairs(frame, a, b, task, metric=metric)
    names = names or {}
    return compare_paired(
        pairs["a"].to_numpy(float),
        pairs["b"].to_numpy(float),
        direction=direction,
        a=names.get(a, a),
        b=names.get(b, b),
        task=task,
        n_dropped=dropped,
        seed=seed,
    )


def summarize(
    frame: pd.DataFrame,
    *,
    reference: str,
    direction_of: Mapping[str, Direction],
    metric: str = "metric_valid",
    seed: int = 0,
) -> pd.DataFrame:
    """Per (cell, task): mean metric over finished trials with its interval, and the
    performance relative to ``reference`` (a hash) with a paired interval over the
    matched pairs (all of a cell's trials, unpaired, when none match)."""
    ok = frame[(frame["status"] == "ok") & frame[metric].notna()]
    rows = []
    for (cell, task), group in ok.groupby(["cell", "task"], sort=True):
        value = bootstrap_interval(group[metric].to_numpy(float), seed=seed)
        direction = direction_of[task]
        pairs, _ = matched_pairs(frame, cell, reference, task, metric=metric)
        if len(pairs):
            rel = relative_interval(
                pairs["a"], pairs["b"], direction=direction, paired=True, seed=seed
            )
        else:
            theirs = ok.loc[(ok["cell"] == reference) & (ok["task"] == task), metric]
            rel = relative_interval(
                group[metric], theirs, direction=direction, paired=False, seed=seed
            )
        name = group["cell_name"].iloc[0]
        rows.append((cell, name, task, value.n, value.estimate, value.low, value.high))
        rows[-1] += (rel.estimate, rel.low, rel.high)
    columns = ["cell", "cell_name", "task", "n", "mean", "low", "high", "rel", "rel_low"]
    return pd.DataFrame(rows, columns=[*columns, "rel_high"])


def _finite(values) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    return x[np.isfinite(x)]


def _bootstrap(data, statistic, paired, confidence, n_resamples, seed, method):
    def run(how):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # degenerate resamples: handled below
            rng = np.random.default_rng(seed)
            options = dict(confidence_level=confidence, n_resamples=n_resamples, rng=rng)
            result = stats.bootstrap(data, statistic, paired=paired, method=how, **options)
        return float(result.confidence_interval.low), float(result.confidence_interval.high)

    low, high = run(method)
    if method != "percentile" and not (math.isfinite(low) and math.isfinite(high)):
        low, high = run("percentile")  # BCa fails on near-degenerate samples
    return low, high
