"""FLOP counts from the cell graph (``cost.py``), on cells whose count is known by hand."""

from __future__ import annotations

from archsearch import zoo
from archsearch.cell import parse_cell
from archsearch.cell.functions import FUNCTIONS
from archsearch.compile.cost import ELEMENTWISE, cell_flops


def test_every_function_has_a_cost():
    assert set(ELEMENTWISE) == set(FUNCTIONS) - {"linear"}


def test_lstm_by_hand():
    X, H, T, B = 3, 5, 7, 2
    f = cell_flops(zoo.get("lstm"), X, H, T, B)
    rows = T * B
    assert f.linear == 4 * (2 * H * (X + H) + H) * rows
    # sigmoid x3, tanh x2 (4 each); mul x3 and add x1 (1 each)
    assert f.elementwise == (5 * 4 + 4) * H * rows
    assert f.forward_backward == 3 * (f.linear + f.elementwise)


def test_shared_subexpression_counts_once_and_copies_are_free():
    cell = parse_cell("cell s(x; h):\n    a = tanh(h)\n    b = a\n    h = linear(x, tanh(h)) * b\n")
    f = cell_flops(cell, 2, 4, 1, 1)
    assert f.linear == 2 * 4 * (2 + 4) + 4
    assert f.elementwise == (4 + 1) * 4  # one tanh, one mul
