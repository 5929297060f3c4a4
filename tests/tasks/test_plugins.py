"""Tasks from installed packages (entry-point group ``archsearch.tasks``), and searches on Ray
with a user's data: the task's name travels to the workers, which resolve it themselves."""

from __future__ import annotations

import os
import textwrap

import pytest

import tasks
from archsearch import Resources, RunSpec, launch
from archsearch.store import load_results
from tests.tasks.conftest import sentences, write_lines

# The README's example plugin, as a package would ship it.
PLUGIN = '''
import numpy as np
from tasks import ClassifyArrays


class ParityTask(ClassifyArrays):
    """Is the number of ones in a bit string odd?"""

    def arrays(self, seed):
        rng = np.random.default_rng(seed)
        x = rng.integers(0, 2, size=(2000, 12, 1)).astype(np.float32)
        return {"x": x, "y": x.sum(axis=(1, 2)).astype(int) % 2}
'''
TINY = {"train_steps": 4, "eval_every": 2, "hidden_size": 8, "eval_batches": 1}


def install(folder, module: str, task: str, source: str) -> str:
    """A package ``module`` in ``folder`` whose dist-info names ``task`` (as pip would leave it)."""
    (folder / module).mkdir(parents=True)
    (folder / module / "__init__.py").write_text(textwrap.dedent(source))
    info = folder / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[archsearch.tasks]\n{task} = {module}:ParityTask\n")
    return str(folder)


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """The parity plugin on this process's path and on its children's (Ray workers)."""
    folder = install(tmp_path / "site", "archsearch_parity", "parity", PLUGIN)
    monkeypatch.syspath_prepend(folder)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [folder, os.environ.get("PYTHONPATH")]))
    )
    return "parity"


def test_an_installed_plugin_is_a_task(plugin, fresh_cache):
    task = tasks.get(plugin, preset="smoke")
    assert (task.metric, task.kind, task.n_inputs, task.n_outputs) == ("accuracy", "classify", 1, 2)
    assert plugin in tasks.names()
    assert task.split_sizes()["train"]["sequences"] == 256  # smoke's cap of the 1,600


def test_a_broken_plugin_is_named_in_the_error(tmp_path, monkeypatch):
    folder = install(tmp_path / "site", "archsearch_broken", "broken", "import not_a_module\n")
    monkeypatch.syspath_prepend(folder)
    with pytest.raises(tasks.TaskError, match="task plugin 'broken'.*failed to load"):
        tasks.get("anything-unknown")


def fixed_search(name: str, task: str) -> RunSpec:
    """The reference and the LSTM on ``task``, one tiny trial each."""
    return RunSpec(
        name=name,
        searcher="fixed",
        searcher_options={"cells": ["lstm"]},
        tasks=(task,),
        preset="smoke",
        trials=1,
        overrides=TINY,
        budget="none",
    )


def on_ray(spec: RunSpec, url: str):
    launch(spec, Resources(storage=url, workers=1))
    return load_results(url, run=spec.name)


def test_a_search_on_ray_with_a_text_task(tmp_path, fresh_cache):
    path = write_lines(tmp_path / "story.txt", sentences(300))
    frame = on_ray(fixed_search("own-text", f"text:{path}"), f"sqlite:///{tmp_path}/s.db")
    assert set(frame["task"]) == {f"text:{(tmp_path / 'story.txt').resolve()}"}
    assert set(frame["cell_name"]) == {"gru", "lstm"} and frame["status"].eq("ok").all()


def test_a_search_on_ray_with_a_plugin_task(tmp_path, fresh_cache, plugin):
    frame = on_ray(fixed_search("own-plugin", plugin), f"sqlite:///{tmp_path}/s.db")
    assert set(frame["task"]) == {"parity"}
    assert set(frame["cell_name"]) == {"gru", "lstm"} and frame["status"].eq("ok").all()
