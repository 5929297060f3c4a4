"""The budget's training knobs: adaptive head, annealed schedules, warm-up, penalties, init."""

import math

import pytest
import torch

import tasks
from archsearch import evaluate, zoo
from archsearch.model import TaskModel
from archsearch.train import _penalties, _schedule
from tasks.heads import AdaptiveHead

FIXED = dict(lr=3e-3, init_scale=1.0, layers=1, max_grad_norm=5.0)


def test_the_adaptive_head_scores_exactly_its_full_distribution():
    task = tasks.get("ptb", preset="smoke", head="adaptive")
    head = AdaptiveHead(task, 16, (1000, 4000))
    batch = next(task.eval_batches("valid"))
    features = torch.randn(*batch.inputs.shape, 16)
    sums = head.stats(features, batch)
    with torch.no_grad():
        log_probs = head.adaptive.log_prob(features.reshape(-1, 16))  # (N, V): every word
    expected = -log_probs.gather(1, batch.targets.reshape(-1, 1)).sum()
    assert sums["nll_sum"] == pytest.approx(float(expected), rel=1e-5)
    assert torch.exp(log_probs).sum(1).allclose(torch.ones(log_probs.shape[0]), atol=1e-4)
    loss = head.loss(features, batch)
    assert loss.item() == pytest.approx(sums["nll_sum"] / sums["count"], rel=1e-5)


def test_ptb_trains_with_the_adaptive_head():
    result = evaluate(
        "lstm", "ptb", preset="smoke", trials=1, fixed=FIXED, overrides={"head": "adaptive"}
    ).best
    assert result is not None and math.isfinite(result.metric_valid)
    assert result.metric_valid < 5000  # the uniform guess over 10,000 words is 10,000
    assert result.metrics["cpu_seconds"] > 0


def _rates(kind, total, warmup=0):
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=1.0)
    schedule = _schedule(optimizer, kind, total, warmup)
    rates = []
    for _ in range(total):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    return rates + [optimizer.param_groups[0]["lr"]]


def test_annealed_schedules_fall_from_the_rate_to_zero_and_warm_up_rises_first():
    linear = _rates("linear", 10)
    assert linear[0] == 1.0 and linear[5] == pytest.approx(0.5) and linear[-1] == 0.0
    cosine = _rates("cosine", 10)
    assert cosine[5] == pytest.approx(0.5) and cosine[-1] == pytest.approx(0.0, abs=1e-12)
    warm = _rates("plateau", 10, warmup=4)
    assert warm[:5] == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0])
    assert (
        _schedule(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0), "plateau", 10)
        is None
    )
    with pytest.raises(ValueError, match="lr_schedule"):
        _schedule(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0), "step", 10)


def test_activation_penalties_grow_with_the_state_and_are_off_by_default():
    quiet = torch.zeros(5, 2, 3)
    loud = torch.arange(30.0).reshape(5, 2, 3)
    config = tasks.get("arith", preset="smoke", activation_reg=2.0, temporal_reg=1.0).config
    assert float(_penalties(quiet, config)) == 0.0
    expected = 2.0 * loud.pow(2).mean() + (loud[1:] - loud[:-1]).pow(2).mean()
    assert float(_penalties(loud, config)) == pytest.approx(float(expected))
    assert _penalties(loud, tasks.get("arith", preset="smoke").config) == 0.0


def test_nasbench_initialisation_bounds_every_cell_parameter_by_s_over_root_h():
    task = tasks.get("ptb", preset="smoke")
    hidden = task.config.hidden_size
    model = TaskModel(
        zoo.get("lstm"), input_kind="tokens", n_inputs=task.n_inputs,
        head=task.make_head(hidden), hidden_size=hidden, init="nasbench", init_scale=0.5,
    )  # fmt: skip
    bound = 0.5 / math.sqrt(hidden)  # theirs (1 / sqrt(H)) times the init scale
    for parameter in model.cells.parameters():
        assert parameter.abs().max() <= bound and parameter.abs().max() > 0.5 * bound
    assert 0.025 < model.encoder.weight.abs().max() <= 0.05


def test_bad_knob_values_are_refused_with_the_valid_ones():
    with pytest.raises(ValueError, match="cosine"):
        tasks.get("arith", preset="smoke", lr_schedule="cyclic")
    with pytest.raises(ValueError, match="adaptive"):
        tasks.get("ptb", preset="smoke", head="sampled")
    with pytest.raises(ValueError, match="nasbench"):
        tasks.get("xml", preset="smoke", init="xavier")
    with pytest.raises(ValueError, match="diverged_retry"):
        tasks.get("xml", preset="smoke", diverged_retry=0.5)
    with pytest.raises(ValueError, match=r"weight_drop must be in \[0, 1\)"):
        tasks.get("ptb", preset="smoke", weight_drop=1.5)


def test_weight_drop_reaches_every_cell_layer():
    task = tasks.get("ptb", preset="smoke", weight_drop=0.5)
    hidden = task.config.hidden_size
    model = TaskModel(
        zoo.get("gru"), input_kind="tokens", n_inputs=task.n_inputs, layers=2,
        head=task.make_head(hidden), hidden_size=hidden, weight_drop=task.config.weight_drop,
    )  # fmt: skip
    assert [layer.weight_drop for layer in model.cells] == [0.5, 0.5]
    overrides = {"weight_drop": 0.5}
    result = evaluate("gru", "ptb", preset="smoke", trials=1, fixed=FIXED, overrides=overrides).best
    assert result is not None and math.isfinite(result.metric_valid)


def fake_training(diverges_above: float):
    """A train_trial stand-in: diverges at a learning rate above ``diverges_above``."""
    rates = []

    def train_trial(cell, task, params, **options):
        from archsearch.records import TrialResult

        rates.append(params["lr"])
        if params["lr"] > diverges_above:
            return TrialResult(params=dict(params), status="diverged", steps=7, seconds=1.0)
        return TrialResult(
            params=dict(params),
            metric_valid=0.5,
            steps=100,
            seconds=2.0,
            metrics={"cpu_seconds": 2.0},
        )

    train_trial.rates = rates
    return train_trial


def test_a_diverged_trial_is_trained_again_at_a_lower_rate(monkeypatch):
    import archsearch.evaluation as evaluation

    fake = fake_training(diverges_above=0.002)
    monkeypatch.setattr(evaluation, "train_trial", fake)
    fixed = {"lr": 0.003, "layers": 1}
    done = evaluate(
        "lstm", "arith", preset="smoke", trials=1, fixed=fixed, overrides={"diverged_retry": 3}
    )
    trial = done.trials[0]
    assert fake.rates == pytest.approx([0.003, 0.001])
    assert trial.status == "ok" and trial.metric_valid == 0.5
    assert trial.params["lr"] == 0.003  # the sampled setting: it still pairs with other cells'
    assert trial.metrics["retry_lr"] == pytest.approx(0.001)
    assert trial.metrics["diverged_steps"] == 7 and trial.seconds == 3.0


def test_without_the_knob_or_when_training_converges_nothing_is_retried(monkeypatch):
    import archsearch.evaluation as evaluation

    fake = fake_training(diverges_above=0.002)
    monkeypatch.setattr(evaluation, "train_trial", fake)
    fixed = {"lr": 0.003, "layers": 1}
    assert (
        evaluate("lstm", "arith", preset="smoke", trials=1, fixed=fixed).trials[0].status
        == "diverged"
    )
    calm = evaluate("lstm", "arith", preset="smoke", trials=1, fixed={**fixed, "lr": 0.001},
                    overrides={"diverged_retry": 3})  # fmt: skip
    assert calm.trials[0].status == "ok" and "retry_lr" not in calm.trials[0].metrics
    assert fake.rates == pytest.approx([0.003, 0.001])
