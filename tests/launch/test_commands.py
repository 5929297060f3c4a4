"""The commands a user reaches for daily: search --config, runs, show, export, tasks; log output."""

import json
import os
import subprocess
import sys
import threading

import pytest
import torch
from typer.testing import CliRunner

from archsearch import Resources, RunSpec, launch
from archsearch.cli import app
from archsearch.cli.progress import PlainProgress
from archsearch.driver import Event, Progress
from archsearch.execute import Finished
from archsearch.search import Proposal, make_searcher
from archsearch.store import Store
from scripts.fault_drills import TINY

runner = CliRunner()


def tiny(name="tiny", **changes) -> RunSpec:
    values = dict(
        name=name,
        searcher="fixed",
        searcher_options={"cells": ["lstm"]},
        tasks=("arith", "xml"),
        preset="smoke",
        overrides=TINY,
        budget="none",
    )
    return RunSpec(**{**values, **changes})


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> str:
    """A store with one finished run, ``tiny``: gru and lstm on arith and xml."""
    url = f"sqlite:///{tmp_path_factory.mktemp('store')}/s.db"
    launch(tiny(), Resources(storage=url, in_process=True))
    return url


def test_search_takes_a_config_file_and_logs_a_line_per_evaluation(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the report goes to results/ under here
    spec = tiny("from-file", tasks=("arith",))
    (tmp_path / "run.toml").write_text(spec.to_toml())
    url = f"sqlite:///{tmp_path}/s.db"
    args = ["search", "--config", str(tmp_path / "run.toml"), "--in-process", "--storage", url]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (stored,) = [r["config"] for r in Store(url).runs()]
    assert RunSpec.from_dict(stored) == spec  # the file's spec is the stored config
    committed = [line for line in result.output.splitlines() if line.startswith("[")]
    assert len(committed) == 2  # gru and lstm on arith: one plain line each (not a terminal)
    assert "on arith: valid" in committed[0]
    assert "ranking" in result.output
    assert (tmp_path / "results" / "report-from-file" / "report.md").exists()


def test_options_override_the_config_file(tmp_path):
    (tmp_path / "run.toml").write_text(tiny("base").to_toml())
    args = ["search", "--config", str(tmp_path / "run.toml"), "--space", "nope"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "unknown hyperparameter space 'nope'" in result.output


def test_runs_lists_every_run_with_its_state_and_best(finished):
    result = runner.invoke(app, ["runs", "--storage", finished, "--json"])
    assert result.exit_code == 0, result.output
    (run,) = json.loads(result.stdout)
    assert (run["name"], run["searcher"], run["preset"]) == ("tiny", "fixed", "smoke")
    assert run["tasks"] == ["arith", "xml"]
    assert (run["done"], run["failed"], run["in_flight"], run["state"]) == (4, 0, 0, "finished")
    assert run["best_cell"] in ("gru", "lstm") and run["best_score"] > 0
    assert run["last_commit"].startswith("20")
    table = runner.invoke(app, ["runs", "--storage", finished])
    assert table.exit_code == 0 and "tiny" in table.output and "finished" in table.output
    assert max(len(line) for line in table.output.splitlines()) <= 80


def test_a_driver_killed_holding_its_run_shows_as_interrupted(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    Store(url).close()
    held = f"import os\nfrom archsearch.store import Store\nStore({url!r}).open_run('dead', {{}})"
    subprocess.run([sys.executable, "-c", held + "\nos._exit(0)"], check=True)  # no close()
    result = runner.invoke(app, ["runs", "--storage", url, "--json"])
    assert json.loads(result.stdout)[0]["state"] == "interrupted"


def test_show_reads_a_running_search_without_its_lock(tmp_path):
    """A run held by a live driver, two evaluations asked and one committed."""
    url = f"sqlite:///{tmp_path}/s.db"
    store = Store(url)
    spec = tiny("live", tasks=("arith",), searcher="jozefowicz", searcher_options={})
    searcher = make_searcher("jozefowicz", tasks=["arith"], trials=1, seed=0)
    run = store.open_run("live", spec.to_dict())  # held by this (live) process
    first, second = searcher.ask(), searcher.ask()
    for p in (first, second):
        store.put_cell(p.cell_hash, p.cell_text, name=searcher.cells[p.cell_hash].name)
    from archsearch.search import Outcome

    searcher.tell(first, Outcome(0.5, 1))
    trial = {"trial": 0, "status": "ok", "metric_valid": 0.5}
    run.record(first.key, cell=first.cell_hash, task="arith", trials=[trial],
               state=searcher.state_dict())  # fmt: skip
    result = runner.invoke(app, ["show", "live", "--storage", url])
    assert result.exit_code == 0, result.output
    assert "running" in result.output and "in flight" in result.output
    assert second.key in result.output
    listed = json.loads(runner.invoke(app, ["runs", "--storage", url, "--json"]).stdout)
    assert (listed[0]["state"], listed[0]["in_flight"], listed[0]["done"]) == ("running", 1, 1)
    run.record(second.key, cell=second.cell_hash, task="arith", trials=[trial])  # still ours
    run.close()


def test_show_ranks_a_finished_run(finished):
    result = runner.invoke(app, ["show", "tiny", "--storage", finished])
    assert result.exit_code == 0, result.output
    assert "ranking" in result.output and "lstm" in result.output
    assert "nothing in flight (run finished)" in result.output
    unknown = runner.invoke(app, ["show", "nope", "--storage", finished])
    assert unknown.exit_code == 2 and "runs: tiny" in unknown.output


def test_export_writes_text_recipe_layer_and_readme(finished, tmp_path):
    out = tmp_path / "lstm"
    result = runner.invoke(app, ["export", "lstm", "--run", "tiny", "--out", str(out),
                                 "--storage", finished])  # fmt: skip
    assert result.exit_code == 0, result.output
    from archsearch import parse_cell, zoo

    text = (out / "cell.txt").read_text()
    assert parse_cell(text).canonical_hash() == zoo.get("lstm").canonical_hash()
    assert json.loads((out / "recipe.json").read_text())  # the NAS-Bench-NLP recipe
    layer = torch.jit.load(str(out / "layer.pt"))
    hidden = TINY["hidden_size"]
    output, _ = layer(torch.randn(5, 2, hidden))
    assert output.shape == (5, 2, hidden)  # the run's sizes
    readme = (out / "README.md").read_text()
    assert "| arith |" in readme and "| xml |" in readme and "higher" in readme
    missing = runner.invoke(app, ["export", "mut9", "--run", "tiny", "--out", str(out),
                                  "--storage", finished])  # fmt: skip
    assert missing.exit_code == 2 and "is no cell of this run" in missing.output


def test_plain_progress_writes_a_line_per_commit_and_a_heartbeat():
    lines, wrote = [], threading.Event()

    def write(text):
        lines.append(text)
        wrote.set()

    proposal = Proposal("e000001", "text", "abcdef12", "arith", 1, 0)
    finished = Finished(proposal, [{"status": "ok"}], 0.75, "w", 3.0)
    progress = Progress(done=1, best_score=1.0, best_cell="gru")
    with PlainProgress(write, heartbeat_s=0.05) as show:
        show(Event("start", Progress(), message="run 'x' starts"))
        show(Event("commit", progress, finished, cell="gru-m1-abcd"))
        wrote.clear()
        assert wrote.wait(timeout=30)  # nothing else happens: the heartbeat speaks
    assert lines[0] == "run 'x' starts"
    assert lines[1] == "[1] gru-m1-abcd on arith: valid 0.7500 (3 s); best 1.000 (gru)"
    assert lines[2].startswith("still running: 1 done")


def test_heartbeat_waits_for_its_interval():
    now, lines = [0.0], []
    show = PlainProgress(lines.append, heartbeat_s=60, clock=lambda: now[0])
    show(Event("start", Progress(), message="start"))
    now[0] = 59.0
    show.beat()
    assert lines == ["start"]
    now[0] = 60.5
    show.beat()
    assert len(lines) == 2 and "no evaluation committed yet" in lines[1]


def test_tasks_answers_without_building_corpora(tmp_path):
    env = {**os.environ, "ARCHSEARCH_CACHE": str(tmp_path)}  # a fresh machine: nothing cached
    code = "from archsearch.cli import main; main()"
    done = subprocess.run([sys.executable, "-c", code, "tasks", "--json"], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    described = {d["name"]: d for d in json.loads(done.stdout)}
    for name in ("ptb", "music-jsb", "music-muse", "music-folk"):
        assert described[name]["built"] is False and "splits" not in described[name]
    assert described["arith"]["built"] and described["arith"]["splits"]["train"]["sequences"]
    assert not list(tmp_path.glob("*.npz"))  # nothing was built


def test_tasks_build_builds_what_is_not_built(monkeypatch):
    from archsearch.cli import corpora

    monkeypatch.setattr(corpora, "built", lambda name: name != "xml")
    plain = runner.invoke(app, ["tasks", "--preset", "smoke"])
    assert plain.exit_code == 0 and "not built" in plain.output
    wide = [line for line in plain.output.splitlines() if len(line) > 80]
    assert not wide, wide  # the lines themselves, to tell a table from a stray log line
    built = runner.invoke(app, ["tasks", "--preset", "smoke", "--build"])
    assert built.exit_code == 0 and "building xml" in built.output
    assert "not built" not in built.output


def test_ctrl_c_leaves_the_run_interrupted_with_a_masked_resume_hint(tmp_path):
    import signal

    url = f"sqlite:///{tmp_path}/s.db"
    said = []

    def on_event(event):
        said.append(event)
        if event.kind == "commit" and event.progress.done == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C once: stop scheduling

    result = launch(tiny(), Resources(storage=url, in_process=True), on_event=on_event)
    assert result.interrupted and result.progress.done == 1
    assert "Resume with the same command" in said[-1].message
    listed = json.loads(runner.invoke(app, ["runs", "--storage", url, "--json"]).stdout)
    assert (listed[0]["state"], listed[0]["done"]) == ("interrupted", 1)
    launch(tiny(), Resources(storage=url, in_process=True))  # the same call resumes, to the end
    listed = json.loads(runner.invoke(app, ["runs", "--storage", url, "--json"]).stdout)
    assert (listed[0]["state"], listed[0]["done"]) == ("finished", 4)
