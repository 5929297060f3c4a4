import math

from archsearch.scoring import relative, score


def test_relative_is_above_one_when_beating_the_reference_either_way():
    assert relative(0.9, 0.6, higher_is_better=True) == 1.5
    assert relative(100.0, 150.0, higher_is_better=False) == 1.5
    assert relative(0.3, 0.6, higher_is_better=True) == 0.5
    assert relative(300.0, 150.0, higher_is_better=False) == 0.5


def test_missing_or_degenerate_metrics_give_nan_or_zero():
    assert math.isnan(relative(None, 0.5, higher_is_better=True))
    assert math.isnan(relative(float("nan"), 0.5, higher_is_better=True))
    assert relative(0.0, 0.5, higher_is_better=True) == 0.0
    assert math.isnan(relative(0.5, 0.0, higher_is_better=True))


def test_score_is_the_minimum_over_tasks():
    assert score({"arith": 1.2, "xml": 0.9, "ptb": 1.05}) == 0.9
    assert math.isnan(score({"arith": 1.2, "xml": math.nan}))
    assert math.isnan(score({}))
