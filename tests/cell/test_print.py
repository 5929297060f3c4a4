"""``to_text``: minimal parentheses, and parse(print(c)) is c again (hash and text)."""

from __future__ import annotations

import pytest

from archsearch.cell import parse_cell


@pytest.mark.parametrize(
    "expression",
    [
        "a - (b - c)",
        "a - b - c",
        "(a + b) * c",
        "a * (b * c)",
        "a + b * c",
        "-(a + b)",
        "--a",
        "a * -b",
        "-a * b",
        "a - -1.0",
        "blend(a, b, c) * 2.5",
        "linear(a, b, bias=-0.5) + linear(c, bias=1e-05)",
        "1e+100 - a",
    ],
)
def test_minimal_parentheses(expression: str) -> None:
    text = f"cell t(x; h, a, b, c):\n    a = x\n    b = h\n    c = x\n    h = {expression}\n"
    cell = parse_cell(text)
    assert cell.to_text() == text
    again = parse_cell(cell.to_text())
    assert again.canonical_hash() == cell.canonical_hash() and again == cell


def test_integers_print_as_floats_and_zero_bias_is_left_out() -> None:
    cell = parse_cell("cell t(x; h):\n    h = (1 - linear(x, bias=0)) * h")
    assert cell.to_text() == "cell t(x; h):\n    h = (1.0 - linear(x)) * h\n"
