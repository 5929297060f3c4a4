"""The zoo: every reference cell goes through the same contract (nevergrad-style registry tests)."""

from __future__ import annotations

import pytest

from archsearch import zoo
from archsearch.cell import Cell, parse_cell
from archsearch.registry import UnknownNameError

EXPECTED = [
    "tanh", "lstm", "lstm_f", "lstm_i", "lstm_o", "lstm_b", "gru", "mut1", "mut2", "mut3",
    "greff_vanilla", "greff_nig", "greff_nfg", "greff_nog", "greff_niaf", "greff_noaf",
    "greff_np", "greff_cifg", "greff_fgr",
]  # fmt: skip


def test_names() -> None:
    assert zoo.names() == EXPECTED


def test_unknown_name_lists_the_zoo() -> None:
    with pytest.raises(UnknownNameError, match="unknown cell 'lstn'; valid names: tanh, lstm"):
        zoo.get("lstn")


def test_cells_are_parsed_once() -> None:
    assert zoo.get("lstm") is zoo.get("lstm")


@pytest.mark.parametrize("name", EXPECTED)
def test_contract(name: str) -> None:
    cell = zoo.get(name)
    assert isinstance(cell, Cell) and cell.name == name
    text = cell.to_text()
    again = parse_cell(text)
    assert again.canonical_hash() == cell.canonical_hash() and again.to_text() == text
    recipe = cell.to_recipe(extended=True)
    assert Cell.from_recipe(recipe).canonical_hash() == cell.canonical_hash()
    assert "#" in zoo.text(name)  # equations and reference in comments


def test_hashes_are_distinct_except_greff_np_which_is_the_lstm() -> None:
    hashes = {}
    for name in EXPECTED:
        hashes.setdefault(zoo.get(name).canonical_hash(), []).append(name)
    assert sorted(hashes.values(), key=len)[-1] == ["lstm", "greff_np"]
    assert len(hashes) == len(EXPECTED) - 1


def test_lstm_and_gru_layouts_follow_torch() -> None:
    lstm, gru = zoo.get("lstm"), zoo.get("gru")
    assert [s.target for s in lstm.body] == ["i", "f", "g", "o", "c", "h"]
    assert lstm.states == ("h", "c") and len(lstm.linears()) == 4
    assert [s.target for s in gru.body] == ["r", "z", "n", "h"]
    assert [len(call.args) for call in gru.linears()] == [2, 2, 1, 1]
    assert zoo.get("lstm_b").linears()[1].bias == 1.0


def test_input_use_outside_linear() -> None:
    outside = {name for name in EXPECTED if zoo.get(name).uses_input_outside_linear()}
    assert outside == {"mut1", "mut2"}


def test_peepholes_and_full_gate_recurrence() -> None:
    assert len(zoo.get("greff_vanilla").scales()) == 3
    assert len(zoo.get("greff_np").scales()) == 0
    fgr = zoo.get("greff_fgr")
    assert fgr.states == ("h", "c", "i", "f", "o")
    assert [len(call.args) for call in fgr.linears()] == [5, 5, 2, 5]
