"""Cells built in code (as the mutation operators build them) obey the same rules."""

from __future__ import annotations

import pytest

from archsearch.cell import Assign, Call, Cell, CellError, Const, Ref

X, H = Ref("x", "input"), Ref("h", "prev")


def cell(*body: Assign, states: tuple[str, ...] = ("h",)) -> Cell:
    return Cell("built", "x", states, body)


def test_a_valid_built_cell() -> None:
    c = cell(Assign("h", Call("tanh", (Call("linear", (X, H)),))))
    assert c.to_text() == "cell built(x; h):\n    h = tanh(linear(x, h))\n"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ((Assign("h", Call("tanh", (Ref("x", "local"),))),), "kind 'local'; here it is 'input'"),
        ((Assign("h", Call("add", (X, Ref("h", "new")))),), "kind 'new'; here it is 'prev'"),
        ((Assign("h", Call("foo", (X,))),), "unknown function 'foo'"),
        ((Assign("h", Call("tanh", (X, X))),), "tanh takes 1 argument(s), got 2"),
        ((Assign("h", Call("linear", ())),), "at least 1"),
        ((Assign("h", Call("tanh", (X,), bias=1.0)),), "only linear takes a bias"),
        ((Assign("h", Call("linear", (X,), bias=float("nan"))),), "must be finite"),
        ((Assign("h", Call("mul", (X, Const(-1.0)))),), "constants are >= 0"),
        ((Assign("h", Call("mul", (X, Const(True)))),), "must be a number"),
        ((Assign("h", Call("tanh", (Ref("q", "local"),))),), "'q' is undefined"),
        ((Assign("h", Ref("a", "local")), Assign("a", X)), "'a' is read before it is assigned"),
        ((Assign("x", X), Assign("h", X)), "cannot assign the input"),
        ((Assign("h", X), Assign("h", X)), "assigned twice"),
        ((Assign("a", X), Assign("h", X)), "'a' is assigned but never read"),
        ((Assign("h", H),), "the input 'x' is never read"),
        ((Assign("h", "tanh(x)"),), "str is not an expression"),
        ((Assign("linear", X), Assign("h", Ref("linear", "local"))), "shadows the function"),
        ((), "non-empty tuple"),
    ],
)
def test_built_cell_rules(body: tuple, words: str) -> None:
    with pytest.raises(CellError) as info:
        cell(*body)
    assert words in str(info.value)


def test_built_errors_name_the_statement() -> None:
    with pytest.raises(CellError, match=r"^statement 2 \('h' = \.\.\.\): unknown function"):
        cell(Assign("a", X), Assign("h", Call("foo", (Ref("a", "local"),))))


def test_header_rules() -> None:
    body = (Assign("h", X),)
    with pytest.raises(CellError, match="at least|one or more"):
        Cell("c", "x", (), body)
    with pytest.raises(CellError, match="appears twice"):
        Cell("c", "x", ("h", "h"), body)
    with pytest.raises(CellError, match="never assigned"):
        Cell("c", "x", ("h", "c"), body)
    with pytest.raises(CellError, match="not a valid"):
        Cell("c", "x y", ("h",), body)


def test_depth_and_size_limits_are_enforced_without_recursion() -> None:
    deep: object = X
    for _ in range(10_000):
        deep = Call("tanh", (deep,))
    with pytest.raises(CellError, match="nested deeper than 32"):
        cell(Assign("h", deep))
    shared: object = X  # a DAG of Python objects whose tree is 2**30 nodes
    for _ in range(30):
        shared = Call("add", (shared, shared))
    with pytest.raises(CellError, match="more than 4096 expression nodes"):
        cell(Assign("h", shared))


def test_reads_linears_scales_and_input_use() -> None:
    c = cell(
        Assign("a", Call("linear", (X,), bias=1.0)),
        Assign("h", Call("add", (Call("scale", (Ref("a", "local"),)), Call("tanh", (X,))))),
    )
    assert c.reads() == {"x", "a"}
    assert [call.bias for call in c.linears()] == [1.0]
    assert len(c.scales()) == 1
    assert c.uses_input_outside_linear()
    assert c.locals() == ("a",) and c.output == "h"
    assert c.num_parameters(3, 5) == 5 * 3 + 5 + 5
