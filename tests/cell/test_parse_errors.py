"""One tiny cell per rule of the language (NAS-Bench-101 ``test_prune_islands`` style)."""

# ruff: noqa: E501  (the table of rules reads best one rule per line)

from __future__ import annotations

import pytest

from archsearch.cell import Call, CellError, Const, Ref, parse_cell

# (rule, text, line, column, words the message must hold)
RULES = [
    ("unknown function", "cell a(x; h):\n    h = foo(x)", 2, 9, "unknown function 'foo'; known functions: tanh"),
    ("operator names are not callable", "cell a(x; h):\n    h = add(x, h)", 2, 9, "unknown function 'add'"),
    ("wrong arity", "cell a(x; h):\n    h = tanh(x, h)", 2, 9, "tanh takes 1 argument(s), got 2"),
    ("linear needs an argument", "cell a(x; h):\n    h = x * linear()", 2, 13, "at least 1"),
    ("undefined name", "cell a(x; h):\n    h = tanh(q)", 2, 14, "undefined name 'q'"),
    ("read before assignment", "cell a(x; h):\n    h = tanh(b)\n    b = x", 2, 14, "read before it is assigned"),
    ("reassigned name", "cell a(x; h):\n    b = x\n    b = x\n    h = b", 3, 5, "assigned twice"),
    ("state assigned twice", "cell a(x; h):\n    h = x\n    h = x", 3, 5, "assigned twice"),
    ("state never assigned", "cell a(x; h, c):\n    h = tanh(x)", 1, 14, "state 'c' is never assigned"),
    ("unused assignment", "cell a(x; h):\n    b = x\n    h = tanh(x)", 2, 5, "'b' is assigned but never read"),
    ("input never read", "cell a(x; h):\n    h = tanh(h)", 1, 8, "input 'x' is never read"),
    ("assigning the input", "cell a(x; h):\n    x = h\n    h = x", 2, 5, "cannot assign the input"),
    ("keyword other than bias", "cell a(x; h):\n    h = linear(x, foo=1)", 2, 19, "unknown keyword 'foo'"),
    ("bias on a non-linear", "cell a(x; h):\n    h = tanh(x, bias=1)", 2, 17, "only linear takes bias"),
    ("bias not a number", "cell a(x; h):\n    h = linear(x, bias=h)", 2, 24, "bias must be a number"),
    ("string constant", "cell a(x; h):\n    h = x * 'a'", 2, 13, "must be a number, got 'a'"),
    ("bool constant", "cell a(x; h):\n    h = True * x", 2, 9, "got True"),
    ("None constant", "cell a(x; h):\n    h = None * x", 2, 9, "got None"),
    ("non-finite constant", "cell a(x; h):\n    h = 1e999 * x", 2, 9, "finite"),
    ("complex constant", "cell a(x; h):\n    h = 2j * x", 2, 9, "must be a number"),
    ("import", "cell a(x; h):\n    import os", 2, 5, "'import' is not allowed"),
    ("bare call", "cell a(x; h):\n    tanh(x)", 2, 5, "expression on its own"),
    ("def", "cell a(x; h):\n    def f(): pass", 2, 5, "'def' is not allowed"),
    ("augmented assignment", "cell a(x; h):\n    h += x", 2, 5, "augmented assignment"),
    ("annotated assignment", "cell a(x; h):\n    h: int = x", 2, 5, "annotated"),
    ("tuple target", "cell a(x; h):\n    h, c = x", 2, 5, "tuple assignment"),
    ("attribute target", "cell a(x; h):\n    h.y = x", 2, 5, "non-name assignment"),
    ("chained assignment", "cell a(x; h):\n    h = b = x", 2, 5, "chained assignment"),
    ("division", "cell a(x; h):\n    h = x / 2", 2, 9, "operator / is not supported"),
    ("power", "cell a(x; h):\n    h = x ** 2", 2, 9, "operator ** is not supported"),
    ("matmul", "cell a(x; h):\n    h = x @ h", 2, 9, "operator @ is not supported"),
    ("unary plus", "cell a(x; h):\n    h = +x", 2, 9, "unary +"),
    ("comparison", "cell a(x; h):\n    h = x < h", 2, 9, "comparisons are not supported"),
    ("lambda", "cell a(x; h):\n    h = lambda: x", 2, 9, "lambda"),
    ("attribute access", "cell a(x; h):\n    h = torch.tanh(x)", 2, 9, "attribute access (.tanh)"),
    ("indexing", "cell a(x; h):\n    h = x[0]", 2, 9, "indexing"),
    ("function as a value", "cell a(x; h):\n    h = tanh * x", 2, 9, "function tanh is used as a value"),
    ("value as a function", "cell a(x; h):\n    h = x(h)", 2, 9, "'x' is a value, not a function"),
    ("bad header", "cel a(x; h):\n    h = x", 1, 1, "expected a header `cell NAME(INPUT; STATE, ...):`"),
    ("header without states", "cell a(x):\n    h = x", 1, 1, "expected a header"),
    ("duplicate header names", "cell a(x; h, h):\n    h = x", 1, 14, "'h' appears twice in the header"),
    ("input named like a state", "cell a(h; h):\n    h = h", 1, 11, "appears twice"),
    ("header name shadows a function", "cell a(x; tanh):\n    tanh = x", 1, 11, "shadows the function tanh()"),
    ("local shadows a function", "cell a(x; h):\n    sigmoid = x\n    h = sigmoid", 2, 5, "shadows"),
    ("keyword as a name", "cell a(x; for):\n    h = x", 1, 11, "not a valid state name"),
    ("name too long", "cell a(x; h):\n    " + "b" * 65 + " = x\n    h = x", 2, 5, "the limit is 64"),
    ("empty body", "cell a(x; h):\n    # nothing", 1, 1, "no statements"),
    ("empty text", "  \n# only a comment\n", 1, 1, "holds no cell"),
    ("body not indented", "cell a(x; h):\nh = x", 2, 1, "must be indented"),
    ("uneven indentation", "cell a(x; h):\n    b = x\n  h = b", 3, 1, "indented like the first"),
    ("second header", "cell a(x; h):\n    h = x\ncell b(x; h):\n    h = x", 3, 1, "second header"),
    ("non-ASCII code", "cell a(x; h):\n    h = é", 2, 9, "ASCII"),
    ("syntax error", "cell a(x; h):\n    h = tanh(x", 2, 13, "invalid syntax"),
    ("too many statements", "cell a(x; h):\n" + "".join(f"    a{i} = x\n" for i in range(257)) + "    h = x", 258, 5, "the limit is 256"),
    ("too deep", "cell a(x; h):\n    h = " + "tanh(" * 32 + "x" + ")" * 32, 2, 169, "nested deeper than 32"),
    ("too deep by parentheses", "cell a(x; h):\n    h = " + "(" * 40 + "x" + ")" * 40, 2, 41, "nested deeper than 32"),
    ("text too large", "cell a(x; h):\n    h = x\n" + "#" * 70000, 1, 1, "the limit is 65536"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "column", "words"), [r[1:] for r in RULES],
                         ids=[r[0] for r in RULES])  # fmt: skip
def test_rule(text: str, line: int, column: int, words: str) -> None:
    with pytest.raises(CellError) as info:
        parse_cell(text)
    assert str(info.value).startswith(f"line {line}, column {column}: "), str(info.value)
    assert words in str(info.value)
    assert (info.value.line, info.value.column) == (line, column)


def test_cell_error_is_a_value_error() -> None:
    assert issubclass(CellError, ValueError)


def test_state_read_in_its_own_assignment_is_the_previous_value() -> None:
    cell = parse_cell("cell a(x; h, c):\n    c = c * tanh(x)\n    h = tanh(c)")
    c_read = cell.body[0].value.args[0]
    assert c_read == Ref("c", "prev")
    assert cell.body[1].value.args[0] == Ref("c", "new")


def test_comments_blank_lines_and_crlf_are_fine() -> None:
    text = "# a comment\r\n\r\ncell a(x; h):  # the header\r\n    # inside\r\n\r\n    h = tanh(x)  # end\r\n"
    assert parse_cell(text).body[0].line == 6


def test_continuation_lines_and_negative_bias() -> None:
    cell = parse_cell("cell a(x; h):\n    h = tanh(\n        linear(x, h, bias=-1.5))")
    assert cell.linears()[0].bias == -1.5


def test_negative_literal_is_neg_of_a_constant() -> None:
    cell = parse_cell("cell a(x; h):\n    h = -1 * x")
    assert cell.body[0].value.args[0] == Call("neg", (Const(1.0),))
