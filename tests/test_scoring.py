import math

from archsearch.direction import MAXIMIZE, MINIMIZE
from archsearch.scoring import score


def test_relative_is_above_one_when_beating_the_reference_either_way():
    assert MAXIMIZE.relative(0.9, 0.6) == 1.5
    assert MINIMIZE.relative(100.0, 150.0) == 1.5
    assert MAXIMIZE.relative(0.3, 0.6) == 0.5
    assert MINIMIZE.relative(300.0, 150.0) == 0.5


def test_missing_or_degenerate_metrics_give_nan_or_zero():
    assert math.isnan(MAXIMIZE.relative(None, 0.5))
    assert math.isnan(MAXIMIZE.relative(float("nan"), 0.5))
    assert MAXIMIZE.relative(0.0, 0.5) == 0.0
    assert math.isnan(MAXIMIZE.relative(0.5, 0.0))
    assert math.isnan(MINIMIZE.relative(0.0, 100.0))  # a perplexity of 0 has no ratio


def test_better_best_and_the_oriented_sign_follow_the_direction():
    assert MAXIMIZE.better(0.9, 0.8) and not MAXIMIZE.better(0.8, 0.9)
    assert MINIMIZE.better(90.0, 100.0) and not MINIMIZE.better(100.0, 90.0)
    assert MAXIMIZE.better(0.1, None) and MINIMIZE.better(1e9, None)
    assert not MINIMIZE.better(90.0, 90.0)  # strictly better only
    assert (MAXIMIZE.best([1.0, 3.0, 2.0]), MINIMIZE.best([1.0, 3.0, 2.0])) == (3.0, 1.0)
    assert MINIMIZE.difference(90.0, 100.0) == 10.0 == MAXIMIZE.difference(100.0, 90.0)
    assert (MAXIMIZE.worst, MINIMIZE.worst) == (-math.inf, math.inf)
    assert (MAXIMIZE.name, MINIMIZE.name) == ("maximize", "minimize")


def test_score_is_the_minimum_over_tasks():
    assert score({"arith": 1.2, "xml": 0.9, "ptb": 1.05}) == 0.9
    assert math.isnan(score({"arith": 1.2, "xml": math.nan}))
    assert math.isnan(score({}))
