"""Nothing trained twice across runs: an evaluation another run of the store committed with
the same settings and seed is copied (archsearch/store/reuse.py), and only then."""

from __future__ import annotations

import pytest

from archsearch import Resources, RunSpec, launch
from archsearch.execute import evaluate_proposal
from archsearch.records import trial_seed
from archsearch.store import Store
from archsearch.store.reuse import find_reusable


def counting(status: str = "ok"):
    """An evaluation that trains nothing, remembers what it was asked, and gives each cell
    its own metric (so a copy can be told from a new evaluation)."""
    asked: list[tuple[str, str, int]] = []

    def evaluate(proposal: dict, options) -> dict:
        asked.append((proposal["cell_hash"], proposal["task"], proposal["seed"]))
        metric = (
            0.1
            + (int(proposal["cell_hash"][:6], 16) % 1000) / 2000
            + 0.01 * options.setting.data_seed
        )
        trials = [
            {
                "params": {"lr": 0.001},
                "status": status,
                "metric_valid": metric,
                "seed": trial_seed(proposal["seed"], i),
            }
            for i in range(proposal["trials"])
        ]
        return {"trials": trials, "metric": metric, "worker": "here", "seconds": 0.0}

    evaluate.asked = asked
    return evaluate


def spec(name: str, cells: list[str], **changes) -> RunSpec:
    values = dict(
        name=name,
        searcher="fixed",
        searcher_options={"cells": cells},
        tasks=("arith", "xml"),
        preset="smoke",
        trials=2,
        budget="none",
    )
    return RunSpec(**{**values, **changes})


def run(url: str, the_spec: RunSpec, evaluate, **resources):
    return launch(the_spec, Resources(storage=url, in_process=True, **resources), evaluate=evaluate)


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'reuse.db'}"


def test_a_second_run_trains_only_what_the_first_did_not(url):
    first, second = counting(), counting()
    run(url, spec("a", ["lstm"]), first)
    result = run(url, spec("b", ["lstm", "tanh"]), second)

    assert len(first.asked) == 4  # gru (the reference) and lstm on two tasks
    assert len(second.asked) == 2  # tanh on two tasks: gru and lstm were copied
    assert result.progress.reused == 4
    frame = result.results()
    a = run(url, spec("a", ["lstm"]), counting()).results()
    copied = frame[frame["cell_name"].isin(["gru", "lstm"])]
    assert len(copied) == 8  # 2 cells x 2 tasks x 2 trials, every trial copied
    merged = copied.merge(a, on=["cell", "task", "trial"], suffixes=("", "_a"))
    assert (merged["metric_valid"] == merged["metric_valid_a"]).all()
    assert (merged["seed"] == merged["seed_a"]).all()


@pytest.mark.parametrize(
    "change",
    [dict(seed=1), dict(fixed={"layers": 2}), dict(overrides={"hidden_size": 16}), dict(trials=1)],
    ids=["seed", "fixed", "overrides", "trials"],
)
def test_other_settings_are_trained_again(url, change):
    run(url, spec("a", ["lstm"]), counting())
    again = counting()
    result = run(url, spec("b", ["lstm"], **change), again)
    assert len(again.asked) == 4
    assert result.progress.reused == 0


def test_a_preset_whose_knob_values_changed_is_trained_again(url, monkeypatch):
    """A preset is a name: when a new version gives it other knob values, the evaluations
    stored under the old values are not copied."""
    from tasks.arith import ArithTask

    run(url, spec("a", ["lstm"]), counting())
    before = spec("a", ["lstm"]).evaluation.resolve("arith").digest
    longer = {**ArithTask.PRESETS, "smoke": {**ArithTask.PRESETS["smoke"], "train_steps": 101}}
    monkeypatch.setattr(ArithTask, "PRESETS", longer)
    after = spec("a", ["lstm"]).evaluation.resolve("arith").digest
    again = counting()
    run(url, spec("b", ["lstm"]), again)

    assert before != after
    assert sorted(task for _, task, _ in again.asked) == ["arith", "arith"]  # xml: copied


def test_a_knob_given_at_its_presets_value_is_the_same_budget(url):
    """arith's smoke preset has seq_len 24 and xml's 40: a run that sets 24 trained arith
    as the preset does, so a run of the plain preset copies arith and trains xml."""
    run(url, spec("a", ["lstm"], overrides={"seq_len": 24}), counting())
    again = counting()
    result = run(url, spec("b", ["lstm"]), again)
    assert sorted(task for _, task, _ in again.asked) == ["xml", "xml"]
    assert result.progress.reused == 2


def test_reuse_can_be_turned_off(url):
    run(url, spec("a", ["lstm"]), counting())
    again = counting()
    run(url, spec("b", ["lstm"]), again, reuse=False)
    assert len(again.asked) == 4


@pytest.mark.parametrize("status", ["timeout", "failed", "diverged"])
def test_an_evaluation_that_did_not_finish_is_trained_again(url, status):
    run(url, spec("a", ["lstm"]), counting(status=status))
    again = counting()
    run(url, spec("b", ["lstm"]), again)
    assert len(again.asked) == 4


def test_a_copy_says_where_it_comes_from(url):
    run(url, spec("a", ["lstm"]), counting())
    run(url, spec("b", ["lstm"]), counting())
    store = Store(url)
    with store.open_run("b", spec("b", ["lstm"]).to_dict()) as handle:
        metas = [done.meta for done in handle.finished()]
    assert {m["reused_from"] for m in metas} == {"a"}
    assert all(m["seed"] == 0 for m in metas)


def test_the_lookup_ignores_settings_that_do_not_reach_an_evaluation(url):
    """The run's name, tasks, searcher and budget do not change an evaluation's outcome."""
    run(url, spec("a", ["lstm"]), counting())
    store = Store(url, create=False)
    other = spec("other", ["tanh"], tasks=("arith",), budget="3")
    found = find_reusable(
        store,
        run_id=-1,
        setting=other.evaluation.resolve("arith"),
        cell=_hash("lstm"),
        task="arith",
        trials=2,
        seed=0,
    )
    assert found is not None and found.run == "a"
    reaching = set(other.evaluation.beyond_budget())
    assert {"space", "fixed", "data_seed", "backend"} <= reaching
    assert not reaching & {"name", "tasks", "searcher", "budget"}


def test_the_lookup_compares_the_digest_the_evaluation_recorded(url):
    """A real evaluation (in this process, at smoke) records the digest of the setting it
    trained under; the driver's lookup asks for the same digest, rung by rung."""
    the_spec = spec("real", ["lstm"], tasks=("arith",), trials=1)
    run(url, the_spec, evaluate_proposal)
    store = Store(url)
    with store.open_run("real", the_spec.checked().to_dict()) as handle:
        metas = [done.meta for done in handle.finished()]
    asked = the_spec.evaluation.resolve("arith", the_spec.rung_plan, 0).digest
    assert [m["setting"] for m in metas] == [asked, asked]  # gru (the reference) and lstm
    changed = spec("x", ["lstm"], tasks=("arith",), trials=1, overrides={"hidden_size": 9})
    assert changed.evaluation.resolve("arith").digest != asked


def _hash(name: str) -> str:
    from archsearch import zoo

    return zoo.get(name).canonical_hash()
