"""Limits kept and no silent hangs (issue 13 items 2 and 7): resources no node has, Ray
addresses that don't answer, the in-process time limit, threads, run names, reports."""

from __future__ import annotations

import os
import time

import pytest
from typer.testing import CliRunner

from archsearch import Resources, launch
from archsearch.analysis.report import write_report
from archsearch.cli import app
from archsearch.ray_executor import ResourceError, _check_nodes
from archsearch.store import Store, load_results
from tests.reliability.conftest import one_line_error, read_only, tiny_spec

runner = CliRunner()
SMOKE = ["--in-process", "--preset", "smoke", "--budget", "1", "--tasks", "arith"]


def test_more_cpus_per_evaluation_than_the_machine_has_is_refused_at_once(tmp_path):
    db = tmp_path / "s.db"
    start = time.monotonic()
    args = ["search", "--cpus-per-eval", "1000", "--storage", f"sqlite:///{db}"]
    one_line_error(runner.invoke(app, [*args, "--preset", "smoke", "--budget", "1"]), "1000")
    assert time.monotonic() - start < 30
    assert not db.exists() or Store(f"sqlite:///{db}").runs() == []  # no run row


def test_a_gpu_no_node_has_is_refused():
    nodes = [{"Alive": True, "Resources": {"CPU": 16.0}}, {"Alive": False, "Resources": {"GPU": 8}}]
    with pytest.raises(ResourceError, match="no node has a GPU"):
        _check_nodes(nodes, 1.0, 1.0)
    with pytest.raises(ResourceError, match="largest node has 16"):
        _check_nodes(nodes, 32.0, 0.0)
    _check_nodes(nodes, 16.0, 0.0)  # fits


@pytest.mark.slow
def test_gpus_per_eval_on_a_machine_without_one_is_an_error_not_a_hang(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    args = ["search", "--gpus-per-eval", "1", "--storage", f"sqlite:///{tmp_path}/s.db"]
    one_line_error(runner.invoke(app, [*args, "--preset", "smoke", "--budget", "1"]), "GPU")
    assert time.monotonic() - start < 60


@pytest.mark.parametrize("address", ["127.0.0.1:1", "ray://127.0.0.1:1", "not an address"])
def test_an_unreachable_ray_address_is_one_line_within_30_s(address, tmp_path):
    start = time.monotonic()
    args = ["search", "--address", address, "--storage", f"sqlite:///{tmp_path}/s.db"]
    one_line_error(runner.invoke(app, [*args, "--preset", "smoke", "--budget", "1"]), "Ray")
    assert time.monotonic() - start < 30


def test_an_unreachable_ray_address_from_the_environment_too(tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")
    args = ["search", "--storage", f"sqlite:///{tmp_path}/s.db", "--preset", "smoke"]
    one_line_error(runner.invoke(app, [*args, "--budget", "1"]), "cannot reach")


def test_in_process_evaluations_keep_the_time_limit(tmp_path):
    """A 1 s limit on evaluations that would train for minutes: stored as timeout."""
    long = {"train_steps": 10**6, "eval_every": 10**6, "hidden_size": 8, "n_train": 64}
    spec = tiny_spec(overrides=long, trials=3)
    url = f"sqlite:///{tmp_path}/s.db"
    start = time.monotonic()
    launch(spec, Resources(storage=url, in_process=True, time_limit=1.0))
    assert time.monotonic() - start < 120  # two evaluations; without the limit, hours
    frame = load_results(url, run="tiny")
    assert set(frame["status"]) == {"timeout"}
    assert len(frame) == 2  # one trial each: the evaluation's time was up
    assert frame["seconds"].max() < 30


def test_threads_are_capped():
    with pytest.raises(ValueError, match="threads must be 1 to"):
        Resources(threads=1_000_000_000)
    assert Resources(cpus_per_eval=10**6).eval_threads <= 4 * (os.cpu_count() or 1)
    args = ["eval", "gru", "--task", "arith", "--preset", "smoke", "--threads", "1000000000"]
    one_line_error(runner.invoke(app, args), "threads must be 1 to")


@pytest.mark.parametrize("name", ["x/../../escape", "../up", ".hidden", "a b", "x" * 101, "a\\b"])
def test_run_names_that_are_not_folder_names_are_refused(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["search", *SMOKE, "--name", name, "--storage", f"sqlite:///{tmp_path}/s.db"]
    one_line_error(runner.invoke(app, args), "run name")
    assert not list(tmp_path.iterdir())  # no store, no report folder, nothing outside


def test_a_failed_report_leaves_no_folder_behind(store_copy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{store_copy}"
    with pytest.raises(Exception, match="no run 'nope'"):
        write_report(url, "nope", tmp_path / "a" / "b" / "c")
    assert not (tmp_path / "a").exists()
    result = runner.invoke(app, ["report", "--storage", url, "--run", "nope"])
    one_line_error(result, "nope")
    assert not (tmp_path / "results").exists()


def test_report_onto_a_file_or_into_a_read_only_folder_is_one_line(store_copy, tmp_path):
    url = f"sqlite:///{store_copy}"
    (tmp_path / "taken").write_text("mine")
    args = ["report", "--storage", url, "--run", "tiny", "--out"]
    one_line_error(runner.invoke(app, [*args, str(tmp_path / "taken")]), "is a file")
    assert (tmp_path / "taken").read_text() == "mine"
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "keep.txt").write_text("x")
    with read_only(locked):
        one_line_error(runner.invoke(app, [*args, str(locked / "rep")]), "cannot write")
    assert sorted(p.name for p in locked.iterdir()) == ["keep.txt"]
    # And a report again into an existing folder replaces its report, keeps the rest.
    folder = tmp_path / "rep"
    assert runner.invoke(app, [*args, str(folder)]).exit_code == 0
    (folder / "notes.txt").write_text("mine")
    assert runner.invoke(app, [*args, str(folder)]).exit_code == 0
    assert {"report.md", "report.html", "notes.txt"} <= {p.name for p in folder.iterdir()}
