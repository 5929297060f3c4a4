"""``archsearch.launch``: the run's spec reaches every evaluation; the public API is reachable."""

import json
import re
import subprocess
import sys

import pytest

from archsearch import Resources, RunSpec, launch
from archsearch.hparams import SPACES
from archsearch.naming import readable_name
from archsearch.store import Store, best_trials
from scripts.fault_drills import TINY, tiny_spec


def fixed_run(tmp_path, **spec) -> RunSpec:
    """A small fixed-list run: gru (the reference) and lstm on arith at smoke, tiny knobs."""
    values = dict(
        name="probe",
        searcher="fixed",
        searcher_options={"cells": ["lstm"]},
        tasks=("arith",),
        preset="smoke",
        trials=3,
        overrides=TINY,
        budget="none",
    )
    return RunSpec(**{**values, **spec})


def here(tmp_path) -> Resources:
    return Resources(storage=f"sqlite:///{tmp_path}/s.db", in_process=True)


def test_learning_rates_come_from_the_adam_space(tmp_path):
    result = launch(fixed_run(tmp_path, space="adam"), here(tmp_path))
    frame = result.results()
    assert len(frame) == 2 * 3  # two cells, three trials each
    adam, sgd = SPACES.get("adam").params["lr"], SPACES.get("jozefowicz").params["lr"]
    lrs = frame["params_lr"].tolist()
    assert all(adam.low <= lr <= adam.high for lr in lrs), lrs
    assert not set(lrs) & set(sgd.values)  # none of the SGD grid's 0.1, 0.2, 0.3, 0.5 ...
    assert set(frame["params_init_scale"]) <= set(SPACES.get("adam").params["init_scale"].values)


def test_fixed_values_reach_the_evaluations(tmp_path):
    spec = fixed_run(tmp_path, fixed={"layers": 2, "max_grad_norm": 5.0, "lr": 0.003})
    frame = launch(spec, here(tmp_path)).results()
    assert frame["params_layers"].eq(2).all()
    assert frame["params_max_grad_norm"].eq(5.0).all()
    assert frame["params_lr"].eq(0.003).all()
    assert frame["status"].eq("ok").all()


def test_the_stored_run_config_is_the_spec(tmp_path):
    spec = fixed_run(tmp_path, space="jozefowicz", seed=3)
    result = launch(spec, here(tmp_path))
    store = Store(result.storage, create=False)
    (stored,) = [r["config"] for r in store.runs() if r["name"] == "probe"]
    assert RunSpec.from_dict(stored) == spec
    assert json.loads(spec.to_json()) == stored
    # The results frame knows each task's direction, and finds the best trial with it.
    frame = result.results()
    assert frame["higher_is_better"].eq(True).all()  # arith: accuracy
    best = best_trials(frame)
    assert len(best) == 2
    for _, row in best.iterrows():
        same = frame[(frame["cell"] == row["cell"]) & frame["status"].eq("ok")]
        assert row["metric_valid"] == same["metric_valid"].max()


def test_mutants_get_short_names_from_their_lineage(tmp_path):
    result = launch(tiny_spec(12), here(tmp_path))
    names = set(result.results()["cell_name"])
    mutants = names - {"gru", "lstm"}
    assert mutants, names
    assert all(re.fullmatch(r"(gru|lstm)-m\d+-[0-9a-f]{4}", n) for n in mutants), mutants


def test_readable_names_count_generations():
    class E:
        def __init__(self, name, parent=None):
            self.name, self.parent = name, parent

    cells = {"a1": E("gru"), "b2c3d4": E("mb2c3", "a1"), "c9f0e1": E("mc9f0", "b2c3d4")}
    assert readable_name(cells, "a1") == "gru"
    assert readable_name(cells, "b2c3d4") == "gru-m1-b2c3"
    assert readable_name(cells, "c9f0e1") == "gru-m2-c9f0"


def test_every_public_name_is_an_attribute_after_import(tmp_path):
    script = (
        "import archsearch\n"
        "import archsearch.evaluation, archsearch.launcher\n"  # the modules, imported first
        "for name in archsearch.__all__:\n"
        "    getattr(archsearch, name)\n"
        "assert callable(archsearch.evaluate) and callable(archsearch.launch)\n"
        "assert archsearch.zoo.get('gru').name == 'gru'\n"
        "print(len(archsearch.__all__))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 10


@pytest.mark.parametrize("name", ["launch", "RunSpec", "Resources", "load_results", "zoo"])
def test_the_issue_names_are_public(name):
    import archsearch

    assert name in archsearch.__all__


def test_printed_store_urls_hide_the_password():
    from archsearch.launcher import resume_hint

    url = "postgresql+psycopg://ada:s3cret@db.example/archsearch"
    hint = resume_hint("paper", url)
    assert "s3cret" not in hint and "ada:***@db.example" in hint
    assert "--storage" not in resume_hint("paper", None)


def test_only_launch_assembles_store_executor_and_driver():
    """No entry point builds its own executor or calls the driver: they all call launch."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    allowed = {"archsearch/launcher.py", "archsearch/driver.py", "archsearch/execute.py",
               "archsearch/ray_executor.py"}  # fmt: skip
    offenders = []
    for path in [*root.glob("archsearch/**/*.py"), *root.glob("scripts/**/*.py")]:
        relative = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        if relative not in allowed and re.search(r"run_search\(|\w*Executor\(|EvalOptions\(", text):
            offenders.append(relative)
    assert offenders == []
