"""Every entry point resolves the same arguments into the same task configuration: the
evaluation setting is built and resolved one way (archsearch/setting.py)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from archsearch.cli import app
from archsearch.setting import EvalSetting


class Resolved(Exception):
    """Raised once the entry point has resolved its setting for arith: nothing trains."""


@pytest.fixture
def resolutions(monkeypatch):
    """Each (task, config, digest) an entry point resolves, until it reaches arith."""
    seen: list[tuple[str, object, str]] = []
    real = EvalSetting.resolve

    def resolve(self, task, rungs=None, rung=0):
        resolved = real(self, task, rungs, rung)
        seen.append((resolved.task, resolved.config, resolved.digest))
        if resolved.task == "arith":
            raise Resolved
        return resolved

    monkeypatch.setattr(EvalSetting, "resolve", resolve)
    return seen


def arith(seen) -> tuple[object, str]:
    configs = [(config, digest) for task, config, digest in seen if task == "arith"]
    assert configs, f"no arith configuration was resolved: {seen}"
    return configs[0]


COMMON = ["--preset", "smoke", "--set", "layers=1"]


def entry_points(tmp_path, knobs: list[str]) -> dict[str, list[str]]:
    db = f"sqlite:///{tmp_path / 'one.db'}"
    store = ["--storage", db, "--in-process"]
    return {
        "eval": ["eval", "gru", "--task", "arith", *COMMON, *knobs],
        "search": [
            "search", "--tasks", "arith", *COMMON, *knobs, "--rungs", "1", "--top-share", "1",
            "--confirm", "0", "--budget", "2", "--name", "s", *store,
        ],
        "fidelity": [
            "fidelity", "gru", "lstm", "--task", "arith", *COMMON, *knobs, "--seeds", "0,1",
            "--name", "f", "--out", str(tmp_path / "f"), *store,
        ],
        "reproduce": [
            "reproduce", "4", "--preset", "smoke", "--repeats", "1", "--trials", "1",
            "--out", str(tmp_path / "r"), *store,
        ],
    }  # fmt: skip


def resolve_with(args: list[str], seen: list) -> tuple[object, str]:
    seen.clear()
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, Resolved), result.output
    return arith(seen)


def test_eval_search_fidelity_and_reproduce_resolve_the_same_configuration(tmp_path, resolutions):
    found = {
        name: resolve_with(args, resolutions)
        for name, args in entry_points(tmp_path, knobs=[]).items()
    }
    configs = {name: config for name, (config, _) in found.items()}
    digests = {name: digest for name, (_, digest) in found.items()}
    assert len(set(configs.values())) == 1, configs
    assert len(set(digests.values())) == 1, digests  # the space, fixed values, seed too


def test_knobs_change_the_configuration_alike_everywhere(tmp_path, resolutions):
    knobs = ["--knob", "train_steps=3", "--knob", "hidden_size=8"]
    points = entry_points(tmp_path, knobs)
    points.pop("reproduce")  # a finding trains its preset as it is: it takes no knobs
    found = {name: resolve_with(args, resolutions) for name, args in points.items()}
    configs = {config for config, _ in found.values()}
    assert len(configs) == 1
    (config,) = configs
    assert (config.train_steps, config.hidden_size) == (3, 8)
    plain = resolve_with(entry_points(tmp_path, [])["eval"], resolutions)[0]
    assert plain != config  # the check could fail: the knobs reached the configuration
