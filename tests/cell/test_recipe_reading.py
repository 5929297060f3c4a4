"""Reading reference tables: nodes without inputs, errors that say where, strict reading."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from archsearch import zoo
from archsearch.cell import CellError, parse_cell
from archsearch.cell.nodes import Cell

LOGS = Path(__file__).resolve().parents[2] / ".." / "shared/data/nasbench-nlp-wt2/logs.jsonl"
TANH = {
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_tanh", "input": ["f"]},
}


def test_a_constant_node_needs_no_input() -> None:
    recipe = {
        "one": {"op": "constant", "value": 1},
        "h_new_0": {"op": "elementwise_prod", "input": ["x", "one"]},
    }
    assert (
        Cell.from_recipe(recipe).canonical_hash()
        == parse_cell("cell a(x; h):\n    h = x * 1").canonical_hash()
    )


@pytest.mark.parametrize("strict", [False, True])
def test_a_node_without_input_is_a_cell_error(strict: bool) -> None:
    recipe = {"f": {"op": "linear"}, "h_new_0": {"op": "activation_tanh", "input": ["f"]}}
    with pytest.raises(CellError, match="""recipe node 'f': "input" is missing"""):
        Cell.from_recipe(recipe, strict=strict)


def test_an_unread_input_names_the_recipe_and_the_nodes_that_read_it() -> None:
    recipe = {
        "dead": {"op": "linear", "input": ["x"]},
        "h_new_0": {"op": "activation_tanh", "input": ["h_prev_0"]},
    }
    with pytest.raises(CellError) as info:
        Cell.from_recipe(recipe, name="nb1000042")
    message = str(info.value)
    assert message.startswith("recipe 'nb1000042': the input 'x' is never read")
    assert "['dead']" in message


def test_unknown_fields_are_ignored_with_a_warning() -> None:
    commented = {key: dict(spec, comment="from the paper") for key, spec in TANH.items()}
    with pytest.warns(UserWarning, match="ignored unknown field.*'comment' in 'f', 'h_new_0'"):
        cell = Cell.from_recipe(commented)
    assert cell.canonical_hash() == Cell.from_recipe(TANH).canonical_hash()


def test_known_fields_read_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Cell.from_recipe(zoo.get("lstm_b").to_recipe(extended=True))


def _with(node: dict) -> dict:
    return {"f": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": node}


@pytest.mark.parametrize(
    ("recipe", "words"),
    [
        (_with({"op": "elementwise_sub", "input": ["f", "x"]}), "'elementwise_sub' is an archs"),
        (_with({"op": "activation_relu", "input": ["f"]}), "'activation_relu' is an archsearch"),
        (_with({"op": "scale", "input": ["f"]}), "'scale' is an archsearch extension"),
        (_with({"op": "copy", "input": ["f"]}), "'copy' is an archsearch extension"),
        ({"h_new_0": {"op": "constant", "input": [], "value": 1.0}}, "'constant' is an archs"),
        (
            _with({"op": "softmax", "input": ["f"]}),
            "known ops: activation_tanh, activation_sigm, activation_leaky_relu, linear, blend, "
            "elementwise_sum, elementwise_prod",
        ),
        (_with({"op": "activation_tanh", "input": ["f"], "comment": "x"}), "['comment'] are not"),
        (_with({"op": "linear", "input": ["f"], "bias": 1.0}), "['bias'] are not NAS-Bench-NLP"),
        (_with({"op": "activation_tanh"}), '"input" is missing'),
        (_with({"op": "elementwise_sum", "input": ["f", "x", "f"]}), "exactly 2 inputs, got 3"),
    ],
)
def test_strict_reading_refuses_what_nas_bench_nlp_does_not_run(recipe: dict, words: str) -> None:
    with pytest.raises(CellError) as info:
        Cell.from_recipe(recipe, strict=True)
    assert words in str(info.value)
    if "is an archsearch" in words or "exactly 2" in words:
        Cell.from_recipe(recipe)  # lenient reading takes it


def test_strict_reading_takes_every_recipe_of_nas_bench_nlp_logs() -> None:
    rows = [json.loads(line) for line in LOGS.read_text().splitlines()]
    assert len(rows) >= 300
    for row in rows:
        strict = Cell.from_recipe(row["recipe"], strict=True)
        assert strict.canonical_hash() == Cell.from_recipe(row["recipe"]).canonical_hash()


@pytest.mark.parametrize("name", ["lstm", "tanh", "lstm_f", "greff_np"])
def test_strict_writing_reads_back_strictly(name: str) -> None:
    cell = zoo.get(name)
    assert Cell.from_recipe(cell.to_recipe(), strict=True).canonical_hash() == cell.canonical_hash()
