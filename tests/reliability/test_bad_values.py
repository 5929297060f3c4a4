"""Bad values refused before a run exists (issue 13 items 3 and 6): one line, exit 2, no
store row, nothing trained; cells that are missing files or folders; seeds too large."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from archsearch import RunSpec
from archsearch.cli import app
from archsearch.store import Store
from archsearch.zoo import load_cell
from tests.reliability.conftest import one_line_error

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["search", "--space", "adamm"], "unknown hyperparameter space 'adamm'"),
        (["search", "--seed", "-1"], "seed must be"),
        (["search", "--seed", str(2**31)], "below 2**31"),
        (["ablate", "lstm", "--preset", "smokee"], "unknown preset 'smokee'"),
        (["ablate", "lstm", "--seed", str(2**40)], "below 2**31"),
        (["ablate", "/nonexistent/x.cell"], "cannot read the cell file"),
        (["ablate", "FOLDER"], "is a folder"),
        (["ablate", "FOLDER/cells.cell"], "is a folder"),
    ],
)
def test_bad_values_are_refused_before_a_run_exists(args, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FOLDER" / "cells.cell").mkdir(parents=True)
    url = f"sqlite:///{tmp_path}/s.db"
    command = [*args, "--in-process", "--storage", url]
    if args[0] == "search":
        command += ["--preset", "smoke", "--budget", "1"]
    one_line_error(runner.invoke(app, command), words)
    assert not (tmp_path / "s.db").exists() or Store(url).runs() == []
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--backend", "torchscrpt"], "unknown backend 'torchscrpt'"),
        (["--seed", str(2**31)], "below 2**31"),
        (["--seed", "-3"], "seed must be"),
    ],
)
def test_eval_checks_its_values_before_training(args, words):
    command = ["eval", "gru", "--task", "arith", "--preset", "smoke", "--trials", "1", *args]
    result = runner.invoke(app, command)
    one_line_error(result, words)
    assert "steps" not in result.output  # no trial table: nothing was trained


def test_seeds_above_what_the_database_holds_are_refused_by_the_spec():
    RunSpec(seed=2**31 - 1)
    with pytest.raises(ValueError, match="below 2"):
        RunSpec(seed=2**31)


def test_load_cell_says_what_is_wrong_with_a_path(tmp_path):
    (tmp_path / "bad.cell").write_bytes(b"\xff\xfe")
    for path, words in [
        (tmp_path / "none.cell", "cannot read"),
        (tmp_path, "is a folder"),
        (tmp_path / "bad.cell", "cannot read"),
    ]:
        with pytest.raises(ValueError, match=words):
            load_cell(str(path))
