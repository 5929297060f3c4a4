"""The contract every registered task passes, at the smoke preset."""

from __future__ import annotations

import itertools
import json
import math

import pytest
import torch

import tasks
from archsearch.registry import UnknownNameError

_CACHE: dict = {}


def smoke(name: str, seed: int = 0) -> tasks.Task:
    """One smoke-preset task per (name, seed), built once for the session."""
    if (name, seed) not in _CACHE:
        _CACHE[name, seed] = tasks.get(name, preset="smoke", seed=seed)
    return _CACHE[name, seed]


NAMES = tasks.names()


def perfect_logits(task: tasks.Task, batch: tasks.Batch) -> torch.Tensor:
    if task.input_kind == "rolls":
        return (batch.targets * 2 - 1) * 50.0  # (T, B, 88): confident and right
    logits = torch.full((*batch.targets.shape, task.n_outputs), -50.0)
    return logits.scatter(-1, batch.targets.unsqueeze(-1), 50.0)


def evaluate(task: tasks.Task, split: str, make_logits) -> dict[str, float]:
    total: dict[str, float] = {}
    for batch in task.eval_batches(split):
        for key, value in task.stats(make_logits(task, batch), batch).items():
            total[key] = total.get(key, 0.0) + value
    return task.summarize(total)


def test_registry_names_and_presets():
    assert tasks.PRESETS == ("smoke", "quick", "paper")
    assert {"arith", "xml"} <= set(NAMES)
    for name in NAMES:
        task_cls = tasks.TASKS.get(name)[0]
        assert set(task_cls.presets_for(**tasks.TASKS.get(name)[1])) == set(tasks.PRESETS)


def test_errors_list_the_valid_choices():
    with pytest.raises(UnknownNameError, match="arith") as info:
        tasks.get("nope")
    assert isinstance(info.value, ValueError)
    with pytest.raises(tasks.TaskError, match="smoke, quick, paper"):
        tasks.get("arith", preset="huge")
    with pytest.raises(tasks.TaskError, match="seq_len") as info:
        tasks.get("arith", preset="smoke", seqlen=3)
    assert isinstance(info.value, ValueError)
    with pytest.raises(tasks.TaskError, match="batch_size"):
        tasks.get("xml", preset="smoke", batch_size=0)


@pytest.mark.parametrize("name", NAMES)
def test_batches_have_the_contract_shapes(name):
    task = smoke(name)
    assert task.input_kind in ("tokens", "rolls") and task.metric in (
        "accuracy",
        "perplexity",
        "nll",
    )
    for batch in itertools.islice(task.train_batches(seed=0), 3):
        steps, size = batch.mask.shape
        assert size == task.config.batch_size and 1 <= steps <= task.config.seq_len
        assert batch.mask.dtype == batch.loss_mask.dtype == torch.bool
        assert batch.mask.any() and batch.loss_mask.any()
        if task.input_kind == "tokens":
            assert batch.inputs.dtype == batch.targets.dtype == torch.int64
            assert batch.inputs.shape == batch.targets.shape == (steps, size)
            assert int(batch.inputs.min()) >= 0 and int(batch.inputs.max()) < task.n_inputs
            assert int(batch.targets[batch.mask].max()) < task.n_outputs
        else:
            assert batch.inputs.dtype == batch.targets.dtype == torch.float32
            assert batch.inputs.shape == batch.targets.shape == (steps, size, 88)
            assert task.n_inputs == task.n_outputs == 88


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_batches(name):
    first = list(itertools.islice(smoke(name).train_batches(seed=3), 3))
    again = list(itertools.islice(tasks.get(name, preset="smoke").train_batches(seed=3), 3))
    for a, b in zip(first, again, strict=True):
        assert torch.equal(a.inputs, b.inputs) and torch.equal(a.mask, b.mask)
    evals = [list(smoke(name).eval_batches("valid")) for _ in range(2)]
    assert len(evals[0]) >= 1
    assert all(torch.equal(a.targets, b.targets) for a, b in zip(*evals, strict=True))
    cap = smoke(name).config.eval_batches
    assert cap is None or len(evals[0]) <= cap


@pytest.mark.parametrize("name", NAMES)
def test_perfect_predictor_scores_perfectly(name):
    task = smoke(name)
    result = evaluate(task, "valid", perfect_logits)
    best = {"accuracy": 1.0, "perplexity": 1.0, "nll": 0.0}[task.metric]
    assert result[task.metric] == pytest.approx(best, abs=1e-6)
    if name == "arith":
        assert result["sequence_accuracy"] == 1.0


@pytest.mark.parametrize("name", NAMES)
def test_uniform_predictor_scores_at_chance(name):
    task = smoke(name)

    def zeros(task, batch):
        return torch.zeros(*batch.targets.shape[:2], task.n_outputs)

    result = evaluate(task, "test", zeros)
    if task.metric == "perplexity":
        assert result["perplexity"] == pytest.approx(task.n_outputs, rel=1e-4)
    elif task.metric == "nll":
        assert result["nll"] == pytest.approx(88 * math.log(2), rel=1e-5)
    else:
        gen = torch.Generator().manual_seed(0)

        def noise(task, batch):
            return torch.randn(*batch.targets.shape[:2], task.n_outputs, generator=gen)

        assert evaluate(task, "test", noise)["accuracy"] < 3.0 / task.n_outputs
        assert result["nll"] == pytest.approx(math.log(task.n_outputs), rel=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_loss_is_a_differentiable_scalar(name):
    task = smoke(name)
    batch = next(task.train_batches(seed=0))
    logits = torch.zeros(*batch.targets.shape[:2], task.n_outputs, requires_grad=True)
    loss = task.loss(logits, batch)
    loss.backward()
    assert loss.dim() == 0 and torch.isfinite(loss) and logits.grad is not None


@pytest.mark.parametrize("name", NAMES)
def test_splits_are_disjoint(name):
    task = smoke(name)
    keys = {split: task.example_keys(split) for split in ("train", "valid", "test")}
    if keys["train"] is None:
        pytest.skip("the corpus fixes its own split")
    assert all(keys.values())
    assert not keys["train"] & keys["valid"]
    assert not keys["train"] & keys["test"]
    assert not keys["valid"] & keys["test"]


@pytest.mark.parametrize("name", NAMES)
def test_describe_is_json_with_real_splits(name):
    info = json.loads(json.dumps(smoke(name).describe()))
    assert info["name"] == name and info["metric"] == smoke(name).metric
    assert ("vocab" in info) != ("keys" in info)
    for split in ("train", "valid", "test"):
        assert info["splits"][split]["sequences"] >= 1 and info["splits"][split]["tokens"] >= 1
    assert info["seq_len"] == smoke(name).config.seq_len
