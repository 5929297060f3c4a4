"""NAS-Bench-NLP recipes: reading, strict and extended writing, round trips."""

from __future__ import annotations

import json

import pytest

from archsearch import zoo
from archsearch.cell import Cell, CellError, parse_cell

# An LSTM as NAS-Bench-NLP writes one: the new cell state h_new_1 is read by another node.
LSTM_RECIPE = {
    "i": {"op": "linear", "input": ["x", "h_prev_0"]},
    "i_act": {"op": "activation_sigm", "input": ["i"]},
    "f": {"op": "linear", "input": ["h_prev_0", "x"]},
    "f_act": {"op": "activation_sigm", "input": ["f"]},
    "g": {"op": "linear", "input": ["x", "h_prev_0"]},
    "g_act": {"op": "activation_tanh", "input": ["g"]},
    "o": {"op": "linear", "input": ["x", "h_prev_0"]},
    "o_act": {"op": "activation_sigm", "input": ["o"]},
    "keep": {"op": "elementwise_prod", "input": ["f_act", "h_prev_1"]},
    "write": {"op": "elementwise_prod", "input": ["i_act", "g_act"]},
    "h_new_1": {"op": "elementwise_sum", "input": ["keep", "write"]},
    "squash": {"op": "activation_tanh", "input": ["h_new_1"]},
    "h_new_0": {"op": "elementwise_prod", "input": ["o_act", "squash"]},
}


def test_reading_a_nas_bench_nlp_lstm() -> None:
    cell = Cell.from_recipe(json.dumps(LSTM_RECIPE))
    assert cell.canonical_hash() == zoo.get("lstm").canonical_hash()
    assert cell.states == ("h", "c")


def test_blend_keeps_nas_bench_nlp_argument_order() -> None:
    recipe = {
        "z": {"op": "linear", "input": ["x", "h_prev_0"]},
        "z_act": {"op": "activation_sigm", "input": ["z"]},
        "h_new_0": {"op": "blend", "input": ["z_act", "h_prev_0", "x"]},
    }
    cell = Cell.from_recipe(recipe)
    text = "cell b(x; h):\n    z = sigmoid(linear(x, h))\n    h = blend(z, h, x)"
    assert cell.canonical_hash() == parse_cell(text).canonical_hash()


def test_sums_of_three_inputs_fold_left_and_dead_nodes_are_dropped() -> None:
    recipe = {
        "dead": {"op": "activation_tanh", "input": ["x"]},
        "h_new_0": {"op": "elementwise_sum", "input": ["x", "h_prev_0", "x"]},
    }
    assert Cell.from_recipe(recipe).to_text() == "cell recipe(x; h):\n    h = x + h + x\n"


def test_strict_writing_succeeds_for_the_lstm() -> None:
    recipe = zoo.get("lstm").to_recipe()
    assert {spec["op"] for spec in recipe.values()} <= {
        "linear", "activation_sigm", "activation_tanh", "elementwise_prod", "elementwise_sum"
    }  # fmt: skip
    assert "h_new_0" in recipe and "h_new_1" in recipe
    assert Cell.from_recipe(recipe).canonical_hash() == zoo.get("lstm").canonical_hash()


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("gru", "the operator - at line 10 (h = ...)"),
        ("lstm_b", "linear's bias=1.0"),
        ("greff_vanilla", "scale()"),
    ],
)
def test_strict_writing_refuses_what_the_format_cannot_say(name: str, words: str) -> None:
    with pytest.raises(CellError, match="extended=True") as info:
        zoo.get(name).to_recipe()
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("cell a(x; h):\n    h = -x", "the operator -"),
        ("cell a(x; h):\n    h = x * 2", "the constant 2.0"),
        ("cell a(x; h):\n    h = relu(x)", "relu()"),
        ("cell a(x; h):\n    h = identity(x)", "identity()"),
        ("cell a(x; h, c):\n    h = tanh(x)\n    c = h", "copies another value"),
    ],
)
def test_strict_refusals(text: str, words: str) -> None:
    with pytest.raises(CellError) as info:
        parse_cell(text).to_recipe()
    assert words in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "cell a(x; h, c):\n    h = tanh(linear(x, c))\n    c = h",
        "cell a(x; h, c):\n    c = tanh(x)\n    h = c + h",
        "cell a(x; h, c):\n    h = tanh(x + c)\n    c = tanh(h - c)",
        "cell a(x; h):\n    k = 2.5\n    h = k * -x + relu(identity(h))",
        "cell a(x; h, c):\n    a = c\n    c = tanh(h)\n    h = linear(a, x, bias=-2.0)",
    ],
)
def test_extended_round_trips(text: str) -> None:
    cell = parse_cell(text)
    assert Cell.from_recipe(cell.to_recipe(extended=True)).canonical_hash() == cell.canonical_hash()


@pytest.mark.parametrize(
    ("recipe", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({"h_new_0": {"op": "softmax", "input": ["x"]}}, "unknown op 'softmax'"),
        ({"h_new_0": {"op": "activation_tanh", "input": ["y"]}}, "unknown input 'y'"),
        ({"h_new_0": {"op": "activation_tanh", "input": ["x"]}, "extra": 1}, "expected {"),
        ({"a": {"op": "activation_tanh", "input": ["x"]}}, "no output node h_new_0"),
        (
            {
                "h_new_0": {"op": "activation_tanh", "input": ["x"]},
                "h_new_2": {"op": "activation_tanh", "input": ["x"]},
            },
            "h_new_1 is missing",
        ),
        (
            {
                "a": {"op": "activation_tanh", "input": ["b"]},
                "b": {"op": "elementwise_sum", "input": ["a", "x"]},
                "h_new_0": {"op": "activation_tanh", "input": ["a"]},
            },
            "cycle",
        ),
        ({"h_new_0": {"op": "activation_tanh", "input": ["h_prev_3"]}}, "no h_new_3"),
        ({"x": {"op": "activation_tanh", "input": ["x"]}}, "an input of the cell"),
        ({"h_new_0": {"op": "blend", "input": ["x", "x"]}}, "blend takes 3 input(s), got 2"),
        ({"h_new_0": {"op": "elementwise_sum", "input": ["x"]}}, "2 or more"),
        ({"h_new_0": {"op": "constant", "input": [], "value": "1"}}, "must be a number"),
        ({"h_new_0": {"op": "activation_tanh", "input": ["h_prev_0"]}}, "input 'x' is never read"),
    ],
)
def test_reading_errors(recipe: object, words: str) -> None:
    with pytest.raises(CellError) as info:
        Cell.from_recipe(recipe)
    assert words in str(info.value)


def test_bad_node_names_are_sanitised() -> None:
    recipe = {
        "my node!": {"op": "linear", "input": ["x"]},
        "2nd": {"op": "activation_tanh", "input": ["my node!"]},
        "tanh": {"op": "activation_tanh", "input": ["2nd"]},
        "h_new_0": {"op": "elementwise_prod", "input": ["tanh", "h_prev_0"]},
    }
    cell = Cell.from_recipe(recipe)
    assert [s.target for s in cell.body] == ["my_node_", "n_2nd", "tanh_1", "h"]
    assert parse_cell(cell.to_text()) == cell
