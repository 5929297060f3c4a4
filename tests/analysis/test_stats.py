import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sp

from archsearch.analysis import stats
from archsearch.direction import MAXIMIZE, MINIMIZE


def test_bootstrap_interval_is_scipys_with_the_same_seed_and_contains_the_mean():
    values = [0.61, 0.58, 0.66, 0.70, 0.59, 0.63, 0.64]
    interval = stats.bootstrap_interval(values, seed=3)
    theirs = sp.bootstrap(
        (np.array(values),), np.mean, n_resamples=9999, rng=np.random.default_rng(3)
    ).confidence_interval
    assert interval.estimate == pytest.approx(np.mean(values))
    assert (interval.low, interval.high) == pytest.approx((theirs.low, theirs.high))
    assert interval.low < interval.estimate < interval.high
    assert interval.n == 7
    assert interval.format(2) == f"0.63 ± {(theirs.high - theirs.low) / 2:.2f}"


def test_bootstrap_edge_cases_one_value_and_constant_values():
    one = stats.bootstrap_interval([0.5])
    assert one.estimate == 0.5 and math.isnan(one.low) and one.format() == "0.500"
    same = stats.bootstrap_interval([0.5, 0.5, 0.5])
    assert (same.low, same.high) == (0.5, 0.5)
    assert math.isnan(stats.bootstrap_interval([]).estimate)


def test_relative_interval_orients_by_direction_and_matches_a_paired_scipy_bootstrap():
    cell = np.array([100.0, 120.0, 110.0, 130.0, 105.0])
    ref = np.array([110.0, 125.0, 120.0, 128.0, 115.0])
    rel = stats.relative_interval(cell, ref, direction=MINIMIZE, paired=True, seed=1)
    assert rel.estimate == pytest.approx(ref.mean() / cell.mean())  # perplexity: ref / cell
    theirs = sp.bootstrap(
        (cell, ref),
        lambda x, y, axis=-1: np.mean(y, axis=axis) / np.mean(x, axis=axis),
        paired=True,
        rng=np.random.default_rng(1),
    ).confidence_interval
    assert (rel.low, rel.high) == pytest.approx((theirs.low, theirs.high))
    acc = stats.relative_interval([0.8, 0.9], [0.4, 0.5], direction=MAXIMIZE, paired=False)
    assert acc.estimate == pytest.approx(0.85 / 0.45)


def test_wilcoxon_p_is_scipys_and_edge_cases_are_explicit():
    d = [0.3, -0.1, 0.5, 0.2, 0.4, 0.25, -0.05, 0.6]
    p, note = stats.signed_rank_p(d)
    assert p == pytest.approx(sp.wilcoxon(d).pvalue)
    assert note == ""
    assert stats.signed_rank_p([]) == (pytest.approx(math.nan, nan_ok=True), "no matched pairs")
    assert stats.signed_rank_p([0.0, 0.0, 0.0]) == (1.0, "all differences are zero")
    p, note = stats.signed_rank_p([0.1, 0.2, 0.3])
    assert (
        p == pytest.approx(sp.wilcoxon([0.1, 0.2, 0.3]).pvalue) and "cannot go below 0.25" in note
    )


def test_paired_comparison_says_better_the_same_way_for_accuracy_and_perplexity():
    acc = stats.compare_paired([0.9, 0.8, 0.85], [0.7, 0.6, 0.7], direction=MAXIMIZE)
    ppl = stats.compare_paired([90.0, 80.0, 85.0], [110.0, 100.0, 112.0], direction=MINIMIZE)
    assert acc.better == "a" and acc.difference.estimate == pytest.approx(0.1833, abs=1e-3)
    assert ppl.better == "a" and ppl.difference.estimate > 0  # lower perplexity: a is better
    assert ppl.relative.estimate == pytest.approx(np.mean([110, 100, 112]) / 85.0)
    d = np.array([20.0, 20.0, 27.0])
    assert ppl.d_z == pytest.approx(d.mean() / d.std(ddof=1))
    assert ppl.p_value == pytest.approx(sp.wilcoxon(d).pvalue)
    with pytest.raises(ValueError, match="differ in length"):
        stats.compare_paired([1.0], [1.0, 2.0], direction=MAXIMIZE)


def test_holm_against_a_hand_worked_example():
    # Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> max so far 0.06.
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    with_nan = stats.holm([0.01, math.nan, 0.02])  # NaN is not counted in m
    assert with_nan[0] == pytest.approx(0.02) and math.isnan(with_nan[1])
    assert with_nan[2] == pytest.approx(0.02)


def test_pairs_for_power_reaches_80_percent_and_one_fewer_does_not():
    n = stats.pairs_for_power(0.5)

    def power(k):
        crit = sp.t.ppf(0.975, k - 1)
        return sp.nct.sf(crit, k - 1, 0.5 * math.sqrt(k)) + sp.nct.cdf(-crit, k - 1, 0.5 * k**0.5)

    assert power(n) >= 0.8 > power(n - 1)
    assert n == 34  # the textbook figure for d_z = 0.5 (two-sided, 0.05, 80%)
    assert stats.pairs_for_power(-0.5) == n
    assert stats.pairs_for_power(0.0) is None and stats.pairs_for_power(math.nan) is None
    assert stats.pairs_for_power(0.5, alpha=0.01) > n


def _frame():
    rows = []
    for cell, shift in (("A", 0.0), ("B", -0.1)):
        for seed in range(3):
            for lr in (0.1, 0.2):
                value = 0.5 + shift + 0.01 * seed + lr
                rows.append(
                    dict(
                        cell=cell,
                        cell_name=cell,
                        task="xml",
                        status="ok",
                        metric_valid=value,
                        seed=seed,
                        params_lr=lr,
                    )
                )
    rows.append(
        dict(
            cell="A",
            cell_name="A",
            task="xml",
            status="diverged",
            metric_valid=math.nan,
            seed=0,
            params_lr=0.3,
        )
    )
    rows.append(
        dict(
            cell="B",
            cell_name="B",
            task="xml",
            status="ok",
            metric_valid=0.9,
            seed=7,
            params_lr=0.1,
        )
    )  # no partner
    return pd.DataFrame(rows)


def test_trials_pair_by_seed_and_setting_and_unmatched_ones_are_counted():
    pairs, dropped = stats.matched_pairs(_frame(), "A", "B", "xml")
    assert len(pairs) == 6 and dropped == 2
    assert (pairs["a"] - pairs["b"]).to_numpy() == pytest.approx([0.1] * 6)
    comparison = stats.compare_cells(_frame(), "A", "B", "xml", direction=MAXIMIZE)
    assert comparison.n == 6 and comparison.better == "a" and comparison.n_dropped == 2


def test_summary_gives_means_intervals_and_relative_to_the_reference():
    table = stats.summarize(_frame(), reference="A", direction_of={"xml": MAXIMIZE}).set_index(
        "cell"
    )
    assert table.loc["A", "rel"] == pytest.approx(1.0)
    b = [0.4 + 0.01 * s + lr for s in range(3) for lr in (0.1, 0.2)]
    assert table.loc["B", "mean"] == pytest.approx(np.mean(b + [0.9]))
    assert table.loc["B", "rel"] == pytest.approx(np.mean(b) / (np.mean(b) + 0.1))
    assert table.loc["B", "low"] < table.loc["B", "mean"] < table.loc["B", "high"]


def test_the_signed_rank_tests_pairs_reach_its_power_and_fewer_do_not():
    """The repeats-needed figure is Wilcoxon's own (simulated): at the pairs it names the
    test detects the effect 80% of the time in fresh draws, two pairs fewer it does not."""
    import numpy as np
    from scipy import stats as scipy_stats

    from archsearch.analysis.power import pairs_for_signed_rank

    def power(n: int, d_z: float, alpha: float) -> float:
        draws = np.random.default_rng(123).normal(d_z, 1.0, size=(4000, n))
        return float(np.mean(scipy_stats.wilcoxon(draws, axis=1, method="exact").pvalue < alpha))

    for d_z, alpha in ((1.0, 0.05), (1.5, 0.05 / 6)):
        n = pairs_for_signed_rank(d_z, alpha=alpha)
        assert n >= stats.pairs_for_power(d_z, alpha=alpha)  # never fewer than the t-test's
        assert n >= stats.pairs_for_holm(1, alpha)  # nor than the smallest p allows
        assert power(n, d_z, alpha) > 0.77
        assert power(n - 2, d_z, alpha) < 0.8
    assert pairs_for_signed_rank(0.0) is None
    assert pairs_for_signed_rank(float("inf"), alpha=0.05 / 6) == stats.pairs_for_holm(6)
