import json

import pytest
from typer.testing import CliRunner

from archsearch.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "nope", "--task", "arith"], "unknown cell 'nope'"),
        (["eval", "gru", "--task", "nope"], "unknown task 'nope'"),
        (["eval", "gru", "--task", "arith", "--preset", "huge"], "unknown preset"),
        (["eval", "gru", "--task", "arith", "--set", "lr=0.4"], "lr=0.4 is outside the space"),
        (
            ["eval", "gru", "--task", "arith", "--space", "jozefowicz", "--set", "lr=0.4"],
            "lr=0.4 is not in the space",
        ),
        (["eval", "gru", "--task", "arith", "--knob", "depth=3"], "unknown knob"),
        (["eval", "cell c(x; h):\n    h = tanh(y)\n", "--task", "arith"], "line 2"),
        (["search", "--budget", "0"], "budget '0'"),
        (["search", "--searcher", "annealing"], "valid names: jozefowicz, evolution, random"),
        (["search", "--tasks", "arith,nope"], "unknown task 'nope'"),
        (["zoo", "nope"], "unknown cell"),
        (["search", "--space", "nope"], "unknown hyperparameter space 'nope'"),
        (["search", "--set", "lr=5"], "lr=5 is outside the space"),
        (["search", "--knob", "depth=3"], "unknown knob"),
        (["search", "--seed", "-1"], "seed must be an integer >= 0"),
        (["search", "--config", "/nonexistent/run.toml"], "cannot read"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_eval_json_has_every_trial_and_the_best():
    result = runner.invoke(
        app,
        [
            "eval",
            "gru",
            "--task",
            "arith",
            "--preset",
            "smoke",
            "--trials",
            "2",
            "--json",
            "--set",
            "layers=1",
        ],
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout[result.stdout.index("{") :])
    assert len(record["trials"]) == 2 and record["best"]["status"] == "ok"
    assert all(t["params"]["layers"] == 1 for t in record["trials"])


def test_zoo_prints_cells_that_parse_back():
    from archsearch.cell import parse_cell

    result = runner.invoke(app, ["zoo", "gru"])
    assert result.exit_code == 0
    assert parse_cell(result.stdout).name == "gru"


def test_ablate_trains_the_variants_and_prints_the_gate_table(tmp_path):
    url = f"sqlite:///{tmp_path}/a.db"
    result = runner.invoke(
        app,
        [
            "ablate",
            "lstm",
            "--preset",
            "smoke",
            "--in-process",
            "--tasks",
            "arith",
            "--trials",
            "1",
            "--storage",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    for row in ("no i", "no f", "f bias 1", "no o"):
        assert row in result.output
    assert "arith: " in result.output and "most important first" in result.output
    from archsearch.store import load_results

    assert load_results(url)["cell"].nunique() == 6  # lstm, 4 variants, the gru reference


def test_knob_text_reads_as_numbers_booleans_and_none():
    from archsearch.cli.single import typed

    values = {"a": "3", "b": "0.5", "c": "false", "d": "True", "e": "none", "f": "linear"}
    assert typed(values) == {"a": 3, "b": 0.5, "c": False, "d": True, "e": None, "f": "linear"}
