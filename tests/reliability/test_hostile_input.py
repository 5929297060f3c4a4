"""Hostile input: recipes fuzzed over JSON, and bad command-line values. Only clear errors."""

import contextlib
import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from archsearch import zoo
from archsearch.cell import Cell, CellError
from archsearch.cli import app
from archsearch.store import Store

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
NAMES = st.sampled_from(["x", "h_prev_0", "h_prev_1", "h_new_0", "h_new_1", "a", "b", "c"])
OPS = st.sampled_from(
    [
        "linear",
        "activation_tanh",
        "activation_sigm",
        "activation_leaky_relu",
        "elementwise_sum",
        "elementwise_prod",
        "blend",
        "bogus",
        "",
    ]
)
NODES = st.dictionaries(
    NAMES, st.fixed_dictionaries({"op": OPS, "input": st.lists(NAMES, max_size=4)}), max_size=7
)


def only_cell_errors(recipe) -> None:
    start = time.monotonic()
    with contextlib.suppress(CellError):  # any other exception fails the test
        Cell.from_recipe(recipe)
    assert time.monotonic() - start < 1.0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_any_json_value_as_a_recipe(value):
    only_cell_errors(value)
    only_cell_errors(json.dumps(value))


@settings(max_examples=300, deadline=None)
@given(NODES)
def test_recipe_shaped_graphs_with_cycles_unknown_ops_and_missing_outputs(nodes):
    only_cell_errors(nodes)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["lstm", "lstm_f", "tanh"]), st.data())
def test_edited_real_recipes(name, data):
    recipe = zoo.get(name).to_recipe()
    node = data.draw(st.sampled_from(sorted(recipe)))
    field = data.draw(st.sampled_from(["op", "input", "drop"]))
    if field == "drop":
        del recipe[node]
    elif field == "op":
        recipe[node]["op"] = data.draw(OPS)
    else:
        recipe[node]["input"] = data.draw(st.lists(NAMES, max_size=4))
    only_cell_errors(recipe)


def test_recipe_errors_say_what_is_wrong():
    cases = {
        "{not json": "JSON",
        json.dumps({"h_new_0": {"op": "linear", "input": ["h_new_0"]}}): "cycle",
        json.dumps({"h_new_0": {"op": "conv", "input": ["x"]}}): "conv",
        json.dumps({"a": {"op": "linear", "input": ["x"]}}): "h_new_0",
    }
    for text, word in cases.items():
        try:
            Cell.from_recipe(text)
        except CellError as error:
            assert word.lower() in str(error).lower(), (text, str(error))
        else:
            raise AssertionError(f"{text} was accepted")


runner = CliRunner()


def test_bad_storage_urls_are_one_line_errors(tmp_path):
    try:
        import psycopg  # noqa: F401

        unreachable = "cannot open the store"
    except ImportError:  # without the postgres extra, the error names it
        unreachable = "pip install 'archsearch[postgres]'"
    for url, words in [
        ("nope://x", "unknown database"),
        ("postgresql+psycopg://u:secret@127.0.0.1:1/db", unreachable),
        ("not a url", "store URL"),
    ]:
        result = runner.invoke(app, ["search", "--in-process", "--storage", url, "--budget", "1"])
        assert result.exit_code == 2, result.output
        assert words in result.output and "Traceback" not in result.output
        assert "secret" not in result.output


def test_a_run_held_by_a_live_driver_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    store = Store(url)
    from archsearch.spec import RunSpec

    held = store.open_run("default", RunSpec().to_dict())
    try:
        result = runner.invoke(app, ["search", "--in-process", "--storage", url, "--budget", "1"])
        assert result.exit_code == 2, result.output
        assert "default" in result.output and "Traceback" not in result.output
    finally:
        held.close()
