"""``seq:FILE.npz``: y decides the task; variable lengths are padded and masked; the split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tasks
from tests.tasks.conftest import features


def save(tmp_path, name: str, **arrays) -> str:
    path = tmp_path / name
    np.savez(path, **arrays)
    return f"seq:{path}"


def all_batches(task, split: str) -> list:
    return list(task.eval_batches(split))


def test_int_labels_make_a_classification_read_at_the_end(tmp_path, fresh_cache):
    x = features(120, 6, 3)
    y = (x[:, -1, 0] > 0).astype(np.int64) + 2 * (x[:, 0, 1] > 0)  # four classes
    task = tasks.get(save(tmp_path, "cls.npz", x=x, y=y), preset="smoke")
    assert (task.metric, task.direction.maximize, task.kind) == ("accuracy", True, "classify")
    assert (task.n_inputs, task.n_outputs, task.input_kind) == (3, 4, "rolls")
    batch = next(task.train_batches(seed=0))
    assert batch.inputs.shape == (6, 8, 3) and batch.inputs.dtype == torch.float32
    assert batch.targets.shape == (6, 8) and batch.targets.dtype == torch.int64
    assert batch.mask[:-1].sum() == 0 and batch.mask[-1].all()  # only the last step is scored
    perfect = torch.full((6, 8, 4), -20.0).scatter(-1, batch.targets.unsqueeze(-1), 20.0)
    assert task.summarize(task.stats(perfect, batch))["accuracy"] == 1.0


@pytest.mark.parametrize("shape", [(), (2,)])
def test_float_targets_make_a_regression_scored_by_mse(tmp_path, fresh_cache, shape):
    x = features(100, 5, 2)
    y = np.stack([x[:, :, 0].mean(1), x[:, :, 1].sum(1)], axis=1)[:, : (shape or (1,))[0]]
    y = y.reshape(100, *shape).astype(np.float64)
    task = tasks.get(save(tmp_path, "reg.npz", x=x, y=y), preset="smoke")
    assert (task.metric, task.direction.maximize, task.kind) == ("mse", False, "regress")
    assert task.n_outputs == (shape or (1,))[0]
    batch = all_batches(task, "valid")[0]
    assert batch.targets.shape == (5, len(batch.mask[0]), task.n_outputs)
    exact = batch.targets.clone()
    assert task.summarize(task.stats(exact, batch))["mse"] == 0.0
    assert task.summarize(task.stats(exact + 0.5, batch))["mse"] == pytest.approx(0.25)


def test_binary_steps_make_a_per_step_multilabel_task(tmp_path, fresh_cache):
    x = features(80, 7, 4)
    y = (x[:, :, :3] > 0).astype(np.uint8)  # three labels a step, read off the inputs
    task = tasks.get(save(tmp_path, "lab.npz", x=x, y=y), preset="smoke")
    assert (task.metric, task.direction.maximize, task.kind) == ("nll", False, "labels")
    assert task.n_outputs == 3
    batch = next(task.train_batches(seed=0))
    assert batch.targets.shape == (7, 8, 3) and batch.mask.all()
    zeros = torch.zeros(7, 8, 3)
    assert task.summarize(task.stats(zeros, batch))["nll"] == pytest.approx(3 * np.log(2))


def test_sequences_of_different_lengths_are_padded_and_masked(tmp_path, fresh_cache):
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 9, size=60)
    x = np.empty(60, dtype=object)
    for i, steps in enumerate(lengths):
        x[i] = rng.normal(size=(steps, 2)) + 1.0  # never exactly zero
    y = (lengths > 5).astype(int)
    split = np.repeat([0, 1, 2], 20)
    task = tasks.get(save(tmp_path, "var.npz", x=x, y=y, split=split), preset="smoke")
    (batch, *_) = all_batches(task, "valid")
    got = batch.mask.float().argmax(0).numpy() + 1  # the scored step, per sequence
    want = lengths[20:28]
    assert got.tolist() == want.tolist() and batch.mask.sum() == len(want)
    padding = torch.arange(batch.inputs.shape[0])[:, None] >= torch.from_numpy(want)[None, :]
    assert (batch.inputs[padding] == 0).all() and (batch.inputs[~padding] != 0).all()
    assert task.split_sizes()["valid"] == {
        "sequences": 20,
        "tokens": int(want.sum() + lengths[28:40].sum()),
    }


def test_an_explicit_split_is_followed(tmp_path, fresh_cache):
    x = features(50, 3, 1)
    x[:, 0, 0] = np.arange(50)  # each sequence names itself in its first value
    split = np.array([2, 1, 0, 0, 0] * 10)
    task = tasks.get(save(tmp_path, "split.npz", x=x, y=np.arange(50) % 2, split=split))
    seen = {
        s: sorted(int(v) for b in all_batches(task, s) for v in b.inputs[0, :, 0])
        for s in ("valid", "test")
    }
    assert seen["test"] == list(range(0, 50, 5)) and seen["valid"] == list(range(1, 50, 5))
    assert task.split_sizes()["train"]["sequences"] == 30


def test_without_a_split_it_is_a_seeded_80_10_10(tmp_path, fresh_cache):
    name = save(tmp_path, "plain.npz", x=features(200, 3, 2), y=np.arange(200) % 3)
    sizes = {s: v["sequences"] for s, v in tasks.get(name).split_sizes().items()}
    assert sizes == {"train": 160, "valid": 20, "test": 20}
    again = tasks.get(name, seed=5)  # the same split for every run and data seed
    first = tasks.get(name)
    assert all(
        torch.equal(a.inputs, b.inputs)
        for a, b in zip(all_batches(first, "test"), all_batches(again, "test"), strict=True)
    )


def test_a_converted_archive_is_cached_by_its_content(tmp_path, fresh_cache):
    name = save(tmp_path, "c.npz", x=features(40, 3, 2), y=np.arange(40) % 2)
    tasks.get(name, preset="smoke")
    assert len(list(fresh_cache.glob("seq-*.npz"))) == 1
    save(tmp_path, "c.npz", x=features(40, 3, 2, seed=1), y=np.arange(40) % 2)
    tasks.get(name, preset="smoke")
    assert len(list(fresh_cache.glob("seq-*.npz"))) == 2


@pytest.mark.parametrize("kind", ["classify", "regress", "labels"])
def test_an_array_task_trains(tmp_path, fresh_cache, kind):
    from archsearch.evaluation import evaluate

    x = features(64, 5, 2)
    y = {
        "classify": (x[:, :, 0].sum(1) > 0).astype(int),
        "regress": x[:, :, 1].mean(1),
        "labels": (x > 0).astype(np.uint8),
    }[kind]
    knobs = {"train_steps": 4, "eval_every": 2, "hidden_size": 8}
    name = save(tmp_path, f"{kind}.npz", x=x, y=y)
    result = evaluate("gru", name, preset="smoke", trials=1, overrides=knobs)
    assert result.best is not None and np.isfinite(result.best.metric_test)
