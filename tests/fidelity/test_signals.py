"""Ranking signals: computed from known curves, recorded by training, read in the right order."""

import math

import pytest

from archsearch import zoo
from archsearch.cell import parse_cell
from archsearch.direction import MAXIMIZE, MINIMIZE, Direction
from archsearch.evaluation import build_task
from archsearch.fidelity.signals import (
    GROWTH_LIMIT,
    SIGNALS,
    TrialView,
    extrapolate,
    oriented,
    signal_values,
    unrecorded,
)
from archsearch.train import train_trial

# h' = h + tanh(W x + U h + b): the state adds a bounded step to itself each time step, an
# unbounded linear (identity) path, like NAS-Bench-NLP's cells that rank well at one epoch.
UNBOUNDED = parse_cell("cell accumulator(x; h):\n    h = h + tanh(linear(x, h))\n")
FIXED = {"lr": 3e-3, "init_scale": 1, "layers": 1, "max_grad_norm": 5}


def _curve(f, steps):
    return [[t, f(t)] for t in steps]


def test_an_exact_power_law_is_extrapolated_to_its_value_at_four_times_the_steps():
    def law(t):
        return 900.0 * t**-0.3

    curve = _curve(law, [100, 200, 300, 400, 500, 600])
    assert extrapolate(curve, direction=MINIMIZE) == pytest.approx(law(2400), rel=1e-9)
    assert extrapolate(curve, factor=10, direction=MINIMIZE) == pytest.approx(law(6000))


def test_an_accuracy_curve_is_extrapolated_through_its_error():
    def accuracy(t):
        return 1.0 - 2.0 * t**-0.5

    curve = _curve(accuracy, [50, 100, 150, 200])
    assert extrapolate(curve, direction=MAXIMIZE) == pytest.approx(accuracy(800), rel=1e-9)


def test_only_the_last_half_of_the_passes_is_fitted():
    # An early plateau, then a power law: the plateau must not bend the fit.
    curve = [[10, 5000.0], [20, 5000.0]] + _curve(lambda t: 50.0 * t**-0.2, [40, 80])
    assert extrapolate(curve, direction=MINIMIZE) == pytest.approx(50.0 * 320**-0.2)


@pytest.mark.parametrize(
    ("curve", "higher"),
    [
        ([[100, 250.0]], False),  # one pass: nothing to fit
        ([[100, 0.5], [200, 1.0]], True),  # a perfect accuracy: no distance to fit
        ([[100, 3.0], [100, 2.0]], False),  # one step twice: no slope
    ],
)
def test_the_last_value_stands_when_there_is_nothing_to_fit(curve, higher):
    assert extrapolate(curve, direction=Direction(higher)) == curve[-1][1]


def test_no_curve_has_no_extrapolation():
    assert extrapolate([], direction=MINIMIZE) is None


def _trial(valid, growth=1.0, tail=5.0, curve=None):
    metrics = {
        "valid_curve": curve or [[1, valid + 10], [2, valid]],
        "train_loss_tail": tail,
        "state_growth": growth,
    }
    return TrialView(valid, metrics)


def test_each_signal_reads_its_own_record():
    trial = _trial(250.0, growth=1.2, tail=4.5, curve=[[100, 300.0], [200, 260.0]])
    values = {name: signal_values(name, [trial], direction=MINIMIZE)[0] for name in SIGNALS}
    assert values["final"] == 250.0  # the best pass's parameters, not the last pass
    assert values["last_pass"] == 260.0
    assert values["train_tail"] == 4.5
    assert values["state_growth"] == 1.2
    assert values["extrapolated"] == pytest.approx(260.0 * (260.0 / 300.0) ** 2)
    assert values["final_stable"] == 250.0  # bounded: unchanged


def test_unbounded_cells_rank_behind_bounded_ones_in_the_penalised_signal():
    good, unbounded, poor = (
        _trial(100.0),
        _trial(90.0, growth=GROWTH_LIMIT * 3),
        _trial(300.0),
    )
    lower = signal_values("final_stable", [good, unbounded, poor], direction=MINIMIZE)
    assert sorted(range(3), key=lambda i: lower[i]) == [0, 2, 1]
    higher = signal_values(
        "final_stable",
        [TrialView(0.9, good.metrics), TrialView(0.95, unbounded.metrics)],
        direction=MAXIMIZE,
    )
    assert higher[0] > higher[1]


def test_a_loss_signal_is_turned_to_the_tasks_direction_for_comparison():
    assert oriented("train_tail", [2.0, 3.0], direction=MAXIMIZE) == [-2.0, -3.0]
    assert oriented("train_tail", [2.0, None], direction=MINIMIZE) == [2.0, None]
    assert oriented("final", [0.8, 0.9], direction=MAXIMIZE) == [0.8, 0.9]


def test_a_failed_run_has_no_value_and_an_unrecorded_metric_is_told_apart():
    old = TrialView(250.0, {"cpu_seconds": 3.0})  # stored before the signals were recorded
    trials = [None, old, _trial(200.0)]
    assert signal_values("train_tail", trials, direction=MINIMIZE) == [None, None, 5.0]
    assert unrecorded("train_tail", trials) == [1]
    assert unrecorded("final", trials) == []
    with pytest.raises(ValueError, match="valid: final"):
        signal_values("nope", trials, direction=MINIMIZE)


def _trained(cell, steps=10, seed=0):
    task = build_task("ptb", "smoke", 0, (("train_steps", steps), ("eval_every", 4)))
    return train_trial(cell, task, FIXED, optimizer="adam", seed=seed)


def test_training_records_the_curve_the_loss_tail_and_the_state_growth():
    result = _trained(zoo.get("lstm"))
    assert result.status == "ok"
    curve = result.metrics["valid_curve"]
    assert [step for step, _ in curve] == [4, 8, 10]  # every pass, and the last step
    assert min(v for _, v in curve) == pytest.approx(result.metric_valid, rel=1e-5)
    assert (
        math.isfinite(result.metrics["train_loss_tail"]) and result.metrics["train_loss_tail"] > 0
    )
    assert result.metrics["state_growth"] > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_the_state_grows_more_for_an_unbounded_linear_recurrence_than_for_the_lstm(seed):
    lstm = _trained(zoo.get("lstm"), seed=seed).metrics["state_growth"]
    unbounded = _trained(UNBOUNDED, seed=seed).metrics["state_growth"]
    assert lstm < GROWTH_LIMIT < unbounded
