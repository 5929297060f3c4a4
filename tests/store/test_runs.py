"""Runs and evaluations: create, resume, record, read back in commit order."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from archsearch.store import RunHandle, Store, StoreError
from tests.store.conftest import trial


@pytest.fixture
def run(store: Store):
    store.put_cell("cell-a", "a text", name="lstm")
    store.put_cell("cell-b", "b text", parent="cell-a", mutations=["swap_gate"])
    with store.open_run("first", {"searcher": "jozefowicz", "budget": 10}) as run:
        yield run


def test_a_new_run_is_created_and_a_closed_one_resumed_with_its_stored_config(store: Store):
    with store.open_run("r", {"budget": 10}) as run:
        assert isinstance(run, RunHandle) and not run.resumed
        assert run.config == {"budget": 10}
    with store.open_run("r", {"budget": 99}) as again:
        assert again.resumed and again.config == {"budget": 10}
    [listed] = store.runs()
    assert listed["name"] == "r" and listed["config"] == {"budget": 10}
    assert listed["n_evaluations"] == 0 and listed["locked_by"] is None
    assert listed["created_at"].tzinfo is timezone.utc


def test_evaluations_read_back_in_commit_order_with_all_their_trials(run: RunHandle):
    for key, cell in [("z", "cell-a"), ("a", "cell-b"), ("m", "cell-a")]:
        assert run.record(key, cell=cell, task="ptb", trials=[trial(1), trial(0)], meta={"k": key})
    done = run.finished()
    assert [e.key for e in done] == ["z", "a", "m"]  # commit order, not key order
    assert [e.seq for e in done] == sorted(e.seq for e in done)
    assert [e.cell for e in done] == ["cell-a", "cell-b", "cell-a"]
    assert done[1].meta == {"k": "a"} and done[1].task == "ptb"
    assert [t["trial"] for t in done[0].trials] == [0, 1]
    assert done[0].trials[1]["params"] == {"lr": 0.2}


def test_recording_a_key_twice_is_a_no_op(run: RunHandle):
    assert run.record("e0", cell="cell-a", task="ptb", trials=[trial(0)])
    assert not run.record("e0", cell="cell-b", task="other", trials=[trial(0), trial(1)])
    [done] = run.finished()
    assert done.cell == "cell-a" and len(done.trials) == 1
    assert run.store.runs()[0]["n_evaluations"] == 1


def test_two_runs_in_one_store_do_not_see_each_others_evaluations(store: Store, run: RunHandle):
    with store.open_run("second", {}) as other:
        run.record("e0", cell="cell-a", task="ptb", trials=[trial(0)])
        other.record("e0", cell="cell-b", task="music", trials=[trial(0)])
        other.record("e1", cell="cell-b", task="music", trials=[trial(0)])
        assert [(e.key, e.cell) for e in run.finished()] == [("e0", "cell-a")]
        assert [e.key for e in other.finished()] == ["e0", "e1"]
    counts = {r["name"]: r["n_evaluations"] for r in store.runs()}
    assert counts == {"first": 1, "second": 2}


def test_a_trial_comes_back_as_it_went_in(run: RunHandle):
    started = datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=timezone.utc)
    full = {
        "trial": 3,
        "params": {"lr": 0.001, "layers": 2, "optimizer": "adam", "clip": None},
        "status": "diverged",
        "metric_valid": 1.25,
        "metric_test": None,
        "metrics": {"perplexity": 3.5},
        "steps": 1200,
        "seconds": 12.5,
        "n_params": 3_000_000_000,  # past 32 bits
        "worker": "node-3",
        "started_at": started,
        "finished_at": started.timestamp() + 12.5,  # epoch seconds are taken too
        "error": "loss became inf at step 1200",
        "seed": 2**32 + 7,
    }
    run.record("e0", cell="cell-a", task="ptb", trials=[full])
    [got] = run.finished()[0].trials
    assert got == {**full, "finished_at": datetime(2024, 5, 1, 12, 0, 12, 750000, timezone.utc)}


def test_nan_metrics_are_stored_as_missing(run: RunHandle):
    run.record("e0", cell="cell-a", task="ptb", trials=[trial(0, metric_valid=float("nan"))])
    assert run.finished()[0].trials[0]["metric_valid"] is None


@pytest.mark.parametrize(
    "trials, message",
    [
        ([], "one or more trials"),
        ([trial(0), trial(0)], "distinct indices"),
        ([trial(0, status="exploded")], "valid: ok, diverged"),
        ([trial(0, loss=1.0)], "unknown trial fields ['loss']"),
        ([{"status": "ok"}], "needs 'trial'"),
        ([trial(0, steps=10.5)], "integer"),
    ],
)
def test_a_malformed_evaluation_is_refused_and_nothing_written(run: RunHandle, trials, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("[", r"\[")):
        run.record("e0", cell="cell-a", task="ptb", trials=trials)
    assert run.finished() == []


def test_an_evaluation_of_an_unstored_cell_is_refused(run: RunHandle):
    with pytest.raises(StoreError, match="put_cell"):
        run.record("e0", cell="nowhere", task="ptb", trials=[trial(0)])
    assert run.finished() == []


def test_a_closed_run_cannot_write_but_can_be_read(run: RunHandle):
    run.record("e0", cell="cell-a", task="ptb", trials=[trial(0)])
    run.close()
    run.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        run.record("e1", cell="cell-a", task="ptb", trials=[trial(0)])
    assert [e.key for e in run.finished()] == ["e0"]


def test_cells_are_stored_once(store: Store):
    assert store.put_cell("h", "text", name="gru", parent="p", mutations=["add_gate", "drop"])
    assert not store.put_cell("h", "other text")
    cell = store.cell("h")
    assert {k: cell[k] for k in ("hash", "text", "name", "parent", "mutations")} == {
        "hash": "h",
        "text": "text",
        "name": "gru",
        "parent": "p",
        "mutations": ["add_gate", "drop"],
    }
    assert store.cell("unknown") is None


def test_a_store_made_in_the_default_place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Store().close()
    assert (tmp_path / "results" / "archsearch.db").exists()


def test_state_is_saved_with_the_record_and_read_back(store: Store):
    store.put_cell("abc", "cell c(x; h):\n    h = tanh(linear(x, h))\n")
    with store.open_run("r", {}) as run:
        assert run.state is None and run.count() == 0
        run.record(
            "e1",
            cell="abc",
            task="xml",
            trials=[{"trial": 0, "status": "ok"}],
            state={"counter": 1, "rng": [3, [1, 2], None]},
        )
        # A repeated key writes nothing, not even the state.
        run.record(
            "e1",
            cell="abc",
            task="xml",
            trials=[{"trial": 0, "status": "ok"}],
            state={"counter": 99},
        )
    with store.open_run("r", {}) as run:
        assert run.state == {"counter": 1, "rng": [3, [1, 2], None]}
        assert run.count() == 1
