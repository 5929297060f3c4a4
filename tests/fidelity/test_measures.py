"""The fidelity statistics, on inputs whose answers are known or computed by scipy."""

import math

import numpy as np
import pytest
from scipy import stats

from archsearch.direction import MAXIMIZE, MINIMIZE
from archsearch.fidelity import agreement, seed_to_seed, top_k_overlap
from archsearch.fidelity.measures import as_ranked, mean_over_seeds


def test_the_same_order_agrees_fully_and_the_reverse_not_at_all():
    same = agreement([1, 2, 3, 4, 5, 6, 7, 8], [10, 20, 30, 40, 50, 60, 70, 80], direction=MINIMIZE)
    assert same.spearman == pytest.approx(1.0) and same.kendall == pytest.approx(1.0)
    assert same.top_k_overlap == 1.0 and same.k == 2
    reverse = agreement(
        [8, 7, 6, 5, 4, 3, 2, 1], [10, 20, 30, 40, 50, 60, 70, 80], direction=MINIMIZE
    )
    assert reverse.spearman == pytest.approx(-1.0) and reverse.top_k_overlap == 0.0


def test_correlations_are_scipys_and_the_interval_holds_the_estimate():
    rng = np.random.default_rng(3)
    reference = rng.uniform(90, 1500, size=24)
    cheap = reference * rng.lognormal(0, 0.6, size=24)
    result = agreement(list(cheap), list(reference), direction=MINIMIZE, n_boot=500)
    assert result.spearman == pytest.approx(stats.spearmanr(cheap, reference).statistic)
    assert result.kendall == pytest.approx(stats.kendalltau(cheap, reference).statistic)
    assert result.spearman_low <= result.spearman <= result.spearman_high
    assert result.kendall_low <= result.kendall <= result.kendall_high
    assert result.spearman_high - result.spearman_low > 0.01  # a real interval, not a point


def test_a_failed_run_counts_as_the_worst_cell_in_the_metrics_direction():
    # Perplexity: the failed cell is taken as the highest, so it ranks last, as its reference.
    lower = agreement([None, 100.0, 200.0, 300.0], [900, 100, 200, 300], direction=MINIMIZE)
    assert lower.spearman == pytest.approx(1.0)
    # Accuracy: the failed cell is taken as the lowest.
    higher = agreement([0.9, None, 0.5, 0.7], [0.9, 0.1, 0.5, 0.7], direction=MAXIMIZE)
    assert higher.spearman == pytest.approx(1.0)
    assert as_ranked([None, math.nan], direction=MAXIMIZE).tolist() == [-math.inf, -math.inf]


def test_top_k_overlap_counts_shared_best_cells_by_direction():
    cheap = np.array([1.0, 2.0, 3.0, 4.0])
    reference = np.array([2.0, 1.0, 4.0, 3.0])
    assert top_k_overlap(cheap, reference, 2, direction=MINIMIZE) == 1.0  # {0,1} both
    assert top_k_overlap(cheap, reference, 1, direction=MINIMIZE) == 0.0  # 0 against 1
    assert top_k_overlap(cheap, reference, 1, direction=MAXIMIZE) == 0.0  # 3 against 2


def test_seed_to_seed_is_the_mean_pairwise_spearman():
    a, b, c = [1, 2, 3, 4, 5], [1, 2, 3, 5, 4], [5, 4, 3, 2, 1]
    expected = np.mean(
        [
            stats.spearmanr(a, b).statistic,
            stats.spearmanr(a, c).statistic,
            stats.spearmanr(b, c).statistic,
        ]
    )
    assert seed_to_seed([a, b, c], direction=MINIMIZE) == pytest.approx(expected)
    assert mean_over_seeds([[1, None], [3, 4]], direction=MINIMIZE).tolist() == [2.0, math.inf]


def test_too_few_or_unmatched_values_are_refused():
    with pytest.raises(ValueError, match="same number"):
        agreement([1, 2, 3], [1, 2], direction=MAXIMIZE)
    with pytest.raises(ValueError, match=">= 3"):
        agreement([1, 2], [1, 2], direction=MAXIMIZE)


def test_the_vectorised_bootstrap_statistics_equal_scipys_row_by_row():
    from archsearch.fidelity.measures import _kendall_rows, _spearman_rows

    rng = np.random.default_rng(0)
    xs = rng.integers(0, 5, size=(40, 9)).astype(float)  # many ties
    xs[:, 0] = math.inf  # a failed cell
    ys = rng.normal(size=(40, 9))
    ys[::3, 1] = ys[::3, 2]  # ties on the other side too
    for row, (rho, tau) in enumerate(
        zip(_spearman_rows(xs, ys), _kendall_rows(xs, ys), strict=True)
    ):
        assert rho == pytest.approx(stats.spearmanr(xs[row], ys[row]).statistic)
        assert tau == pytest.approx(stats.kendalltau(xs[row], ys[row]).statistic)
