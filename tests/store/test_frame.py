"""load_results: one row per trial, columns checked by hand on a small store."""

from __future__ import annotations

import pandas as pd
import pytest

from archsearch.store import Store, StoreError, load_results
from archsearch.store.frame import COLUMNS
from tests.store.conftest import trial


@pytest.fixture
def filled(store: Store, url: str) -> str:
    store.put_cell("h-lstm", "lstm text", name="lstm")
    store.put_cell("h-mut", "mutant text", parent="h-lstm", mutations=["drop_gate"])
    with store.open_run("a", {}) as run:
        run.record(
            "e0",
            cell="h-lstm",
            task="ptb",
            trials=[
                trial(
                    0,
                    metric_valid=4.5,
                    metric_test=4.7,
                    steps=100,
                    seconds=2.0,
                    seed=7,
                    n_params=1000,
                    worker="w1",
                    started_at=0.0,
                    finished_at=2.0,
                    metrics={"ppl": 90.0},
                ),
                trial(1, status="diverged", params={"lr": 1.0, "clip": 5}, error="nan loss"),
            ],
        )
    with store.open_run("b", {}) as run:
        run.record("e0", cell="h-mut", task="music", trials=[trial(0, metric_valid=7.0)])
    return url


def test_one_row_per_trial_with_params_and_metrics_columns(filled: str):
    df = load_results(filled)
    assert list(df.columns) == [*COLUMNS, "params_clip", "params_lr", "metrics_ppl"]
    assert len(df) == 3
    first, second, third = (df.iloc[i] for i in range(3))
    assert (first.run, first.key, first.cell, first.cell_name, first.task) == (
        "a",
        "e0",
        "h-lstm",
        "lstm",
        "ptb",
    )
    assert (first.trial, first.status, first.metric_valid, first.metric_test) == (0, "ok", 4.5, 4.7)
    assert (first.steps, first.seconds, first.n_params, first.seed) == (100, 2.0, 1000, 7)
    assert first.worker == "w1" and pd.isna(first.error) and pd.isna(first.parent)
    assert first.started_at == pd.Timestamp(0, unit="s", tz="UTC")
    assert first.finished_at == pd.Timestamp(2, unit="s", tz="UTC")
    assert (first.params_lr, first.metrics_ppl) == (0.1, 90.0) and pd.isna(first.params_clip)
    assert (second.status, second.error, second.params_clip, second.params_lr) == (
        "diverged",
        "nan loss",
        5,
        1.0,
    )
    assert pd.isna(second.metric_valid) and pd.isna(second.steps) and pd.isna(second.started_at)
    assert (third.run, third.parent, third.task) == ("b", "h-lstm", "music")
    assert pd.isna(third.cell_name)
    assert str(df.steps.dtype) == "Int64" and str(df.started_at.dt.tz) == "UTC"


def test_one_run_only(filled: str):
    df = load_results(filled, run="b")
    assert df.run.tolist() == ["b"]
    assert "params_clip" not in df.columns
    with pytest.raises(StoreError, match="no run 'c'.*runs: a, b"):
        load_results(filled, run="c")


def test_an_empty_store_gives_an_empty_frame_with_the_base_columns(store: Store, url: str):
    df = load_results(url)
    assert df.empty and list(df.columns) == COLUMNS


def test_reading_never_creates_a_store(tmp_path):
    with pytest.raises(StoreError, match="no store at"):
        load_results(f"sqlite:///{tmp_path / 'typo.db'}")
    assert not (tmp_path / "typo.db").exists()
