"""The run spec: round trips through JSON and TOML, refuses bad values before anything runs."""

import pytest
from typer.testing import CliRunner

from archsearch import RunSpec
from archsearch.cli import app
from archsearch.spec import Resources

MUTANT = "cell mine(x; h):\n    z = sigmoid(linear(x, h))\n    h = z * tanh(linear(x, h))\n"

SPECS = [
    RunSpec(),
    RunSpec(
        name="fixed-run_2.b",  # names are letters, digits and -_. (a report folder's name)
        searcher="fixed",
        searcher_options={"cells": ["gru", MUTANT]},
        tasks=("arith", "music"),  # an alias: stored under its registered name
        preset="smoke",
        trials=3,
        space="jozefowicz",
        sampler="tpe",
        pruner="median",
        fixed={"lr": "0.5", "layers": 1},  # text, as from the command line: stored as numbers
        overrides={"hidden_size": 16, "dropout": 0.25},
        backend="eager",
        budget="none",
        seed=7,
    ),
    RunSpec(searcher="evolution", budget="40", fixed={"lr": 0.001}),
]


@pytest.mark.parametrize("spec", SPECS)
def test_a_spec_round_trips_through_json_and_toml(spec, tmp_path):
    assert RunSpec.from_json(spec.to_json()) == spec
    assert RunSpec.from_toml(spec.to_toml()) == spec
    (tmp_path / "run.toml").write_text(spec.to_toml())
    (tmp_path / "run.json").write_text(spec.to_json())
    assert RunSpec.load(tmp_path / "run.toml") == RunSpec.load(tmp_path / "run.json") == spec


def test_values_are_stored_in_their_normal_form():
    spec = SPECS[1].checked()
    assert spec.tasks == ("arith", "music-jsb")
    assert spec.fixed == {"lr": 0.5, "layers": 1}
    assert (spec.max_evaluations, spec.max_seconds) == (None, None)
    assert (RunSpec(budget="10m").max_seconds, RunSpec(budget="40").max_evaluations) == (600, 40)


def test_identity_leaves_out_name_and_budget_only():
    a, b = RunSpec(name="a", budget="5"), RunSpec(name="b", budget="2h")
    assert a.identity() == b.identity()
    assert a.identity() != RunSpec(seed=1).identity()
    assert set(RunSpec().to_dict()) - set(a.identity()) == {"name", "budget"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"space": "nope"}, "unknown hyperparameter space 'nope'"),
        ({"preset": "huge"}, "unknown preset 'huge'"),
        ({"searcher": "annealing"}, "unknown searcher 'annealing'"),
        ({"backend": "cuda-graphs"}, "unknown backend 'cuda-graphs'"),
        ({"sampler": "grid"}, "unknown sampler 'grid'"),
        ({"pruner": "always"}, "unknown pruner 'always'"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"trials": 0}, "trials must be an integer >= 1"),
        ({"trials": 1.5}, "trials must be an integer"),
        ({"tasks": ("arith", "nope")}, "unknown task 'nope'"),
        ({"tasks": ()}, "at least one task"),
        ({"fixed": {"lr": 5}}, "lr=5 is outside the space"),
        ({"fixed": {"momentum": 0.9}}, "unknown hyperparameter 'momentum'"),
        ({"overrides": {"depth": 3}}, "unknown knob"),
        ({"budget": "0"}, "budget '0'"),
        ({"searcher_options": {"population": 3}}, "unexpected keyword argument 'population'"),
        ({"searcher": "fixed"}, "needs searcher_options cells"),
        ({"searcher": "fixed", "searcher_options": {"cells": ["nope"]}}, "unknown cell 'nope'"),
        ({"name": ""}, "non-empty name"),
    ],
)
def test_every_bad_value_is_refused_before_a_run(change, message):
    # Plain values on construction; what needs a registry by ``checked``, which ``launch``
    # calls before a store exists.
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        RunSpec(**change).checked()


def test_an_unknown_setting_in_a_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown run setting"):
        RunSpec.from_toml('name = "x"\nworkers = 4\n')  # a resource, not part of the spec
    with pytest.raises(ValueError, match="not valid TOML"):
        RunSpec.from_toml("name = ")


@pytest.mark.parametrize(
    "args",
    [
        ["--space", "nope"],
        ["--set", "lr=5"],
        ["--tasks", "arith", "--knob", "depth=3"],
        ["--searcher", "evolution", "--seed", "-2"],
    ],
)
def test_bad_values_fail_before_a_store_or_run_exists(args, tmp_path):
    db = tmp_path / "s.db"
    command = ["search", "--in-process", "--storage", f"sqlite:///{db}", *args]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    assert not db.exists()  # no store made, so no run row, nothing trained


def test_bad_resources_are_refused():
    with pytest.raises(ValueError, match="workers"):
        Resources(workers=0)
    with pytest.raises(ValueError, match="time_limit"):
        Resources(time_limit=-1)
    assert Resources(cpus_per_eval=2.0).eval_threads == 2


def test_the_default_space_is_the_same_everywhere():
    import inspect

    from archsearch.fidelity import measure_fidelity
    from archsearch.setting import EvalSetting

    assert RunSpec().space == EvalSetting().space == "adam"
    assert inspect.signature(measure_fidelity).parameters["space"].default == "adam"
    result = CliRunner().invoke(app, ["eval", "--help"])
    assert "adam" in result.output
