"""How many pairs a paired comparison needs: to detect an effect, to pass Holm's correction.

The verdicts test matched pairs with Wilcoxon's signed-rank test (``archsearch.analysis.
stats``). At the few pairs a laptop affords, its exact p-values are discrete: with ``n``
pairs the smallest is ``2 / 2**n``, so a paired t-test's power figure promises more than
the signed-rank test can give. ``pairs_for_signed_rank`` starts from the t-test's figure
and the discreteness floor and simulates the test itself until it reaches the power.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

ALPHA = 0.05  # significance level of every verdict, after Holm's correction
POWER = 0.8  # the power the "repeats needed" figure aims at
REPLICATES = 2000  # simulated samples per number of pairs: power within about ±0.02
EXACT_UP_TO = 50  # pairs for which scipy's exact signed-rank distribution is used


def pairs_for_power(
    d_z: float, *, alpha: float = ALPHA, power: float = POWER, max_n: int = 100_000
) -> int | None:
    """Fewest pairs for which a two-sided paired t-test at ``alpha`` detects ``d_z`` with ``power``.

    The paired t-test approximation (Wilcoxon's signed-rank test has an asymptotic
    relative efficiency of 0.955 against it under normal differences, so it needs
    about 5% more pairs): with ``n`` pairs the statistic follows a noncentral t with
    ``n - 1`` degrees of freedom and noncentrality ``d_z * sqrt(n)``, and

        power(n) = P(T > t_crit) + P(T < -t_crit),  t_crit = t.ppf(1 - alpha / 2, n - 1)

    (``scipy.stats.nct`` and ``scipy.stats.t``). None when there is no effect
    (``d_z`` zero or NaN) or it needs more than ``max_n`` pairs.
    """
    if d_z is None or math.isnan(d_z) or d_z == 0:
        return None
    if abs(d_z) > 100:  # two pairs detect it (and nct loses precision far out)
        return 2

    def achieved(n: int) -> float:
        df, nc = n - 1, abs(d_z) * math.sqrt(n)
        crit = stats.t.ppf(1 - alpha / 2, df)
        return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))

    low, high = 1, 2  # power grows with n: double until it is reached, then bisect
    while achieved(high) < power:
        low, high = high, 2 * high
        if high > max_n:
            return None
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if achieved(middle) >= power else (middle, high)
    return high


def pairs_for_holm(m: int = 1, alpha: float = ALPHA) -> int:
    """The fewest pairs with which one of ``m`` Holm-adjusted tests can reach ``alpha``:
    Wilcoxon's exact two-sided p is at least ``2 / 2**n``, so ``m * 2 / 2**n < alpha``
    (6 pairs for one test at 0.05). Fewer pairs can decide nothing."""
    return next(n for n in range(1, 64) if m * 2.0 / 2**n < alpha)


def pairs_for_signed_rank(
    d_z: float,
    *,
    alpha: float = ALPHA,
    power: float = POWER,
    max_n: int = 200,
    replicates: int = REPLICATES,
    seed: int = 0,
) -> int | None:
    """Fewest pairs for which Wilcoxon's two-sided signed-rank test at ``alpha`` detects
    an effect ``d_z`` with ``power``, for normal differences ``d ~ N(d_z, 1)``.

    From ``n0 = max(pairs_for_power(d_z), pairs_for_holm(1, alpha))`` up, ``replicates``
    samples of ``n`` differences are drawn (seeded, so the figure is reproducible) and
    tested (exact p up to ``EXACT_UP_TO`` pairs); the first ``n`` whose share of
    ``p < alpha`` reaches ``power`` is returned. Beyond ``max_n`` pairs the t-test's figure
    stands (the tests' efficiencies then differ by about 5%). None: no effect to detect.
    """
    start = pairs_for_power(d_z, alpha=alpha, power=power)
    if start is None:
        return None
    floor = pairs_for_holm(1, alpha)
    if abs(d_z) > 100 or math.isinf(d_z):  # every pair on one side: the floor decides
        return max(start, floor)
    rng = np.random.default_rng(seed)
    n = max(start, floor)
    while n <= max_n:
        draws = rng.normal(abs(d_z), 1.0, size=(replicates, n))
        method = "exact" if n <= EXACT_UP_TO else "approx"
        p = stats.wilcoxon(draws, axis=1, method=method).pvalue
        if float(np.mean(p < alpha)) >= power:
            return n
        n += 1
    return start
