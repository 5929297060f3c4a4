"""Rungs (successive halving) and the confirmation stage, with instant stand-in evaluations."""

import hashlib
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from archsearch import Resources, RunSpec, confirm, launch
from archsearch.analysis.report import ranking_by_rung
from archsearch.analysis.stats import pairs_for_holm
from archsearch.cli import app
from archsearch.display import ranking_table
from archsearch.rungs import Rungs
from archsearch.search import searcher_for
from archsearch.search.base import Outcome
from archsearch.spec import PREDATED
from archsearch.store import load_results
from tasks import task_config

ROOT = Path(__file__).parents[2]
TASKS = ("arith", "ptb")


def unit(*parts) -> float:
    text = ":".join(str(p) for p in parts)
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def stand_in(proposal: dict, options) -> dict:
    """Instant: a cell's quality is fixed by its hash; longer rungs and repeats move it a little."""
    quality = unit(proposal["cell_hash"])
    noise = 0.01 * unit(proposal["cell_hash"], proposal["task"], proposal.get("repeat", 0))
    if proposal["task"] == "ptb":  # perplexity: lower is better
        metric = 300 - 100 * quality - 20 * proposal.get("rung", 0) - 100 * noise
    else:
        metric = 0.5 + 0.3 * quality + 0.05 * proposal.get("rung", 0) + noise
    trial = {"params": {"lr": 0.001}, "status": "ok", "metric_valid": metric}
    return {"trials": [trial], "metric": metric, "worker": "stand-in", "seconds": 0.0}


def spec(name: str = "rungs", **changes) -> RunSpec:
    values = dict(
        name=name,
        searcher="jozefowicz",
        tasks=TASKS,
        preset="smoke",
        budget="60",
        rungs=2,
        eta=3,
        top_share=1.0,
        confirm=2,
        confirm_repeats=3,
        searcher_options={"threshold": 0.0, "reeval_probability": 0.0},
    )
    return RunSpec(**{**values, **changes})


def test_a_rung_trains_eta_times_shorter_than_the_next():
    rungs = Rungs(3, 3)
    assert [rungs.fraction(r) for r in range(3)] == [1 / 9, 1 / 3, 1]
    assert Rungs(2, 3, 1 / 3).fraction(1) == pytest.approx(1 / 3)
    assert Rungs(2, 3, 1 / 3).knobs("arith", "quick", {}, 1)["train_steps"] == round(
        task_config("arith", preset="quick").train_steps / 3
    )
    top = rungs.knobs("arith", "quick", {}, 2)
    low = rungs.knobs("arith", "quick", {}, 0)
    assert top == {}
    full = task_config("arith", preset="quick")
    assert low["train_steps"] == round(full.train_steps / 9)
    assert low["eval_every"] == max(1, round(full.eval_every / 9))
    with pytest.raises(ValueError, match="eta"):
        Rungs(2, 1)
    with pytest.raises(ValueError, match="top_share"):
        RunSpec(top_share=0)


def test_the_best_third_of_a_rung_is_promoted_and_the_baselines_always():
    """Asynchronous successive halving: a cell is promoted when it is among the best
    floor(n / eta) of the n cells its rung has completed so far; so at any moment the
    rung's best third has been promoted (and earlier promotions stay)."""
    searcher = searcher_for(spec())
    baselines = set(confirm.baseline_hashes().values())

    def complete_at_0() -> list[str]:
        return [
            d
            for d, e in searcher.cells.items()
            if d not in baselines and searcher._complete_at(e, 0) and not e.dropped
        ]

    ranks_at_promotion = []
    original = searcher._enqueue_rung

    def enqueue_rung(digest, rung, *, purpose):
        if digest not in baselines:
            ranked = sorted(complete_at_0(), key=lambda d: -searcher.rung_score(d, 0))
            ranks_at_promotion.append((ranked.index(digest), len(ranked)))
        original(digest, rung, purpose=purpose)

    searcher._enqueue_rung = enqueue_rung
    for _ in range(200):
        proposal = searcher.ask()
        if proposal is None:
            break
        result = stand_in(proposal.to_dict(), None)
        searcher.tell(proposal, Outcome(result["metric"], 1))
    complete = complete_at_0()
    promoted = {d for d in complete if searcher.cells[d].asked_rung == 1}
    assert len(complete) >= 30
    assert all(rank < n // 3 for rank, n in ranks_at_promotion)
    ranked = sorted(complete, key=lambda d: -searcher.rung_score(d, 0))
    assert set(ranked[: len(complete) // 3]) <= promoted
    assert len(promoted) < len(complete) / 2  # far from everyone
    assert all(searcher.cells[b].asked_rung == 1 for b in baselines)
    # A promoted cell is scored at its highest rung.
    top = next(d for d in promoted if searcher.highest_rung(d) == 1)
    assert searcher.score(top) == pytest.approx(searcher.rung_score(top, 1))


def flattered(proposal: dict, options) -> dict:
    """``stand_in``, but every candidate (not a baseline) does worse at rung 1 than at 0."""
    result = stand_in(proposal, options)
    if proposal["rung"] == 1 and proposal["cell_hash"] not in confirm.baseline_hashes().values():
        metric = result["metric"] + (80 if proposal["task"] == "ptb" else -0.2)
        result["metric"] = result["trials"][0]["metric_valid"] = metric
    return result


def test_the_ranking_puts_the_top_rung_first_though_the_cheap_rung_scored_higher():
    """The cheap rung flatters (as in the main job): every candidate does worse at the top
    rung than at rung 0, so rung-0 cells outscore the promoted ones. The ranking, the
    leader, the table and the confirmation's choice still put the top rung first."""
    searcher = searcher_for(spec())
    baselines = set(confirm.baseline_hashes().values())
    for _ in range(200):
        proposal = searcher.ask()
        if proposal is None:
            break
        searcher.tell(proposal, Outcome(flattered(proposal.to_dict(), None)["metric"], 1))
    ranking = searcher.ranking()
    rungs = [searcher.standings.rung(d) for d, _ in ranking]
    assert rungs == sorted(rungs, reverse=True) and rungs[0] == 1 and 0 in rungs
    promoted = [
        s for (d, s), r in zip(ranking, rungs, strict=True) if r == 1 and d not in baselines
    ]
    assert promoted and max(promoted) < ranking[rungs.index(0)][1]  # the flattered rung
    assert searcher.leader() == ranking[0]
    picked = confirm.chosen(searcher, 2)
    assert picked == [d for d, _ in ranking if d not in baselines][:2]
    assert all(searcher.standings.rung(d) == 1 for d in picked)
    console = Console(width=200, record=True)
    console.print(ranking_table(searcher, top=len(ranking)))
    lines = [line.split() for line in console.export_text().splitlines() if line.strip()]
    rows = [line for line in lines if line[0].isdigit()]
    assert [row[3] for row in rows] == [str(r) for r in rungs]  # the rung column, in order
    for row, (digest, value), rung in zip(rows, ranking, rungs, strict=True):
        assert row[2] == f"{value:.3f}"
        # each task's column at the cell's rung: against the reference at the same rung
        relatives = [f"{searcher.relative_at(digest, t, rung):.3f}" for t in TASKS]
        assert row[4 : 4 + len(TASKS)] == relatives


def test_the_report_ranks_as_the_search_does_each_cell_against_the_reference_at_its_rung(
    tmp_path,
):
    url = f"sqlite:///{tmp_path}/s.db"
    result = launch(spec(confirm=0), Resources(storage=url, in_process=True), evaluate=flattered)
    frame = load_results(url, run="rungs")
    table = ranking_by_rung(frame, reference="gru", tasks=TASKS)
    scored = table.dropna(subset=["score"])
    searched = result.searcher.ranking()
    assert list(scored["cell"]) == [d for d, _ in searched]
    assert list(scored["score"]) == pytest.approx([s for _, s in searched])
    assert list(scored["rung"]) == [result.searcher.standings.rung(d) for d, _ in searched]
    assert set(scored["rung"]) == {0, 1}


def test_a_search_stores_rungs_and_ends_with_a_confirmation(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    result = launch(spec(), Resources(storage=url, in_process=True), evaluate=stand_in)
    frame = load_results(url, run="rungs")
    assert set(frame["rung"]) == {0, 1}
    assert (frame.loc[frame["purpose"] == "promotion", "rung"] == 1).all()
    confirmed = frame[frame["rung"] == 1]
    # Each confirmed cell and each baseline: every task, repeats 0..2, once each.
    per_slot = confirmed.groupby(["cell", "task", "repeat"]).size()
    assert (per_slot == 1).all()
    cells = {result.searcher.cells[d].name for d in confirmed["cell"]}
    assert {"gru", "lstm"} <= cells
    rows = result.confirmation
    assert len(rows) == 2 * 2 * len(TASKS)  # two cells, two baselines, every task
    assert {r.baseline for r in rows} == {"gru", "lstm"}
    assert not {r.cell for r in rows} & {"gru", "lstm"}  # the search's best, not a baseline
    assert all(r.pairs == 3 for r in rows)
    assert all(r.verdict in ("better", "worse", "equivalent", "inconclusive") for r in rows)
    # Holm never lowers a p-value.
    assert all(r.p_holm >= r.p - 1e-12 for r in rows)
    # Three pairs decide nothing, and the repeats asked for can decide under Holm.
    assert {r.verdict for r in rows} == {"inconclusive"}
    floor = pairs_for_holm(len(rows))
    assert all(r.repeats_needed is None or r.repeats_needed >= floor for r in rows)


def test_show_json_has_the_confirmation_rows(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    launch(spec(), Resources(storage=url, in_process=True), evaluate=stand_in)
    shown = CliRunner().invoke(app, ["show", "rungs", "--storage", url, "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    rows = data["confirmation"]
    assert len(rows) == 2 * 2 * len(TASKS)
    keys = {"cell", "baseline", "task", "relative", "low", "high", "p_holm", "verdict"}
    assert all(keys <= set(row) for row in rows)
    assert all(row["low"] <= row["relative"] <= row["high"] for row in rows)
    text = CliRunner().invoke(app, ["show", "rungs", "--storage", url])
    assert "confirmation" in text.output and "verdict" in text.output


def test_without_confirmation_nothing_is_trained_after_the_search(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    launch(spec(confirm=0), Resources(storage=url, in_process=True), evaluate=stand_in)
    frame = load_results(url, run="rungs")
    assert frame["key"].nunique() == 60
    assert "confirm" not in set(frame["purpose"])


def test_a_time_budget_keeps_time_for_the_confirmation(tmp_path):
    """With a wall-time budget the search stops early enough to confirm: the reserve is
    estimated from the run's own evaluation times, and the confirmation still runs."""
    url = f"sqlite:///{tmp_path}/s.db"

    def slow(proposal, options):
        time.sleep(0.05)
        return {**stand_in(proposal, options), "seconds": 0.05}

    result = launch(spec(budget="6s"), Resources(storage=url, in_process=True), evaluate=slow)
    frame = load_results(url, run="rungs")
    assert (frame["purpose"] == "confirm").any()
    assert result.confirmation and all(r.pairs == 3 for r in result.confirmation)
    # A resumed run estimates the confirmation from what its evaluations took before.
    from archsearch.store import Store
    from archsearch.store.finished import finished_evaluations

    store = Store(url)
    with store.engine.connect() as conn:
        finished = finished_evaluations(store, store.run_id(conn, "rungs"))
    seconds = confirm.seconds_by_rung(finished)
    assert {(t, r) for t in TASKS for r in (0, 1)} <= set(seconds)
    assert all(s == pytest.approx(0.05) for values in seconds.values() for s in values)


def _slots(frame):
    per_key = frame.groupby("key").agg(
        cell=("cell", "first"), task=("task", "first"), rung=("rung", "first"),
        repeat=("repeat", "first"), purpose=("purpose", "first"),
    )  # fmt: skip
    return per_key


def test_sigkill_with_rungs_and_confirmation_then_resume_loses_and_repeats_nothing(tmp_path):
    """Kill the driver at random moments of a real (tiny) search with rungs and a
    confirmation; resume with the same command: every slot is trained once."""
    url = f"sqlite:///{tmp_path}/s.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    job = [sys.executable, str(ROOT / "scripts" / "fault_drills.py"), "job", url, "16", "rungs"]
    rng, before = random.Random(1), set()

    def committed() -> set[str]:
        try:
            return set(load_results(url, run="job")["key"])
        except Exception:  # no store or run yet
            return set()

    for _ in range(2):
        process = subprocess.Popen(
            job, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        start = len(committed())
        deadline = time.monotonic() + 300
        # Kill once a few more evaluations are committed (an event, not a fixed time).
        goal = start + rng.randint(2, 6)
        while len(committed()) < goal and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait()
        before |= committed()
    finished = subprocess.run(job, env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    frame = load_results(url, run="job")
    keys = set(frame["key"])
    assert before <= keys  # nothing committed was lost
    assert not frame.duplicated(["key", "trial"]).any()
    slots = _slots(frame)
    assert not slots.duplicated(["cell", "task", "rung", "repeat"]).any()  # none trained twice
    search = slots[slots["purpose"] != "confirm"]
    assert len(search) == 16
    confirmed = slots[slots["rung"] == 1]
    counts = confirmed.groupby(["cell", "task"]).size()
    assert len(counts) == 3 * 2 and (counts == 2).all()  # best cell + 2 baselines, 2 repeats
    assert not math.isnan(frame["metric_valid"].astype(float).mean())


def test_the_winners_curse_compares_rung_0_with_the_top_rung_and_the_confirmation(tmp_path):
    from archsearch.analysis.winners_curse import describe, winners_curse

    url = f"sqlite:///{tmp_path}/s.db"
    launch(spec(confirm=5), Resources(storage=url, in_process=True), evaluate=stand_in)
    result = winners_curse(url, "rungs", k=5)
    assert result.candidates >= 10 and len(result.top_at_rung0) == 5
    top, confirmed = result.stages
    # The stand-in's quality is the cell's own: the rankings agree, up to its small noise.
    assert top.spearman > 0.8 and confirmed.cells == 5
    assert 0 <= confirmed.stayed <= confirmed.of <= 5
    assert "Spearman" in describe(result)


def test_a_run_stored_before_rungs_resumes_as_one_rung_without_confirmation(tmp_path):
    """A stored config without the rung and confirmation settings meant one rung, the whole
    preset and nothing confirmed: resuming it with those values is the same run."""
    from archsearch.store import Store

    url = f"sqlite:///{tmp_path}/s.db"
    old = spec(rungs=1, top_share=1.0, confirm=0, confirm_repeats=2)
    config = {k: v for k, v in old.to_dict().items() if k not in PREDATED}
    store = Store(url)
    store.open_run(old.name, config).close(ending="interrupted")
    store.close()
    launch(old, Resources(storage=url, in_process=True), evaluate=stand_in)
    assert load_results(url, run="rungs")["key"].nunique() == 60
    with pytest.raises(ValueError, match="rungs: 1 -> 2"):
        launch(old.replace(rungs=2), Resources(storage=url, in_process=True))
