"""The canonical hash: the invariances of the spec, and the differences that matter."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch import zoo
from archsearch.cell import parse_cell
from tests.cell.reorder import shuffle


def h(text: str) -> str:
    return parse_cell(text).canonical_hash()


LSTM = zoo.text("lstm")


def test_renaming_intermediates_states_input_and_cell() -> None:
    renamed = """
cell other(inp; out, mem):
    gate_in = sigmoid(linear(inp, out))
    gate_forget = sigmoid(linear(inp, out))
    cand = tanh(linear(inp, out))
    gate_out = sigmoid(linear(inp, out))
    mem = gate_forget * mem + gate_in * cand
    out = gate_out * tanh(mem)
"""
    assert h(renamed) == h(LSTM)


def test_reordering_independent_statements_and_swapping_operands() -> None:
    shuffled = """
cell lstm(x; h, c):
    o = sigmoid(linear(h, x))
    g = tanh(linear(x, h))
    f = sigmoid(linear(x, h))
    i = sigmoid(linear(h, x))
    c = g * i + c * f
    h = tanh(c) * o
"""
    assert h(shuffled) == h(LSTM)


def test_non_commutative_operands_matter() -> None:
    assert h("cell a(x; h):\n    h = x - h") != h("cell a(x; h):\n    h = h - x")
    assert h("cell a(x; h):\n    h = blend(x, h, x)") != h("cell a(x; h):\n    h = blend(h, x, x)")


def test_zoo_variants_differ() -> None:
    hashes = {name: zoo.get(name).canonical_hash() for name in ("lstm", "lstm_b", "lstm_f")}
    assert len(set(hashes.values())) == 3


def test_two_linears_are_not_one() -> None:
    twins = "cell a(x; h):\n    a = tanh(linear(x))\n    b = tanh(linear(x))\n    h = a * b"
    square = "cell a(x; h):\n    a = tanh(linear(x))\n    h = a * a"
    assert h(twins) != h(square)


def test_sharing_is_seen_through_commutative_ties() -> None:
    # a and b have equal subtrees; only a is also read by c: swapping a * b must not matter
    head = "cell t(x; h, c):\n    a = tanh(linear(x))\n    b = tanh(linear(x))\n"
    one = head + "    h = a * b\n    c = a + h"
    two = head + "    h = b * a\n    c = a + h"
    other = head + "    h = a * b\n    c = b + h"
    assert h(one) == h(two) == h(other)  # other is one with a and b renamed


def test_equal_parameter_free_subexpressions_are_one_value() -> None:
    assert h("cell a(x; h):\n    a = tanh(x)\n    b = tanh(x)\n    h = a * b") == h(
        "cell a(x; h):\n    a = tanh(x)\n    h = a * a"
    )


def test_bias_constants_and_state_order_matter() -> None:
    assert h("cell a(x; h):\n    h = linear(x, bias=1.0)") != h("cell a(x; h):\n    h = linear(x)")
    assert h("cell a(x; h):\n    h = x * 2") != h("cell a(x; h):\n    h = x * 3")
    swapped = "cell a(x; h, c):\n    h = tanh(x + c)\n    c = x"
    assert h("cell a(x; h, c):\n    h = tanh(x + c)\n    c = h") != h(swapped)


def test_prev_and_new_reads_differ() -> None:
    assert h("cell a(x; h, c):\n    c = tanh(x)\n    h = c * x") != h(
        "cell a(x; h, c):\n    h = c * x\n    c = tanh(x)"
    )


def test_greff_np_is_the_lstm() -> None:
    assert zoo.get("greff_np").canonical_hash() == zoo.get("lstm").canonical_hash()


# --- property: random renamings and valid reorderings keep the hash ------------------


@settings(max_examples=150, deadline=2000)
@given(name=st.sampled_from(zoo.names()), seed=st.integers(0, 2**32))
def test_random_renaming_and_reordering_keep_the_hash(name: str, seed: int) -> None:
    cell = zoo.get(name)
    other = shuffle(cell, random.Random(seed))
    assert other.canonical_hash() == cell.canonical_hash()
    assert parse_cell(other.to_text()).canonical_hash() == cell.canonical_hash()
