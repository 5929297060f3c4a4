"""``Cell`` to text in the cell language, with the fewest parentheses that keep the tree.

``+`` and ``-`` bind least, then ``*``, then unary ``-``; binary operators are
left-associative, so a right operand of equal precedence keeps its
parentheses (``a - (b - c)``, and ``a + (b + c)`` too, since the tree is kept
as written). Floats print with ``repr``; ``bias=`` only when nonzero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import same_float
from .functions import FUNCTIONS
from .nodes import Call, Const, Expr, Ref

if TYPE_CHECKING:
    from .nodes import Cell

_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "neg": 3}
_ATOM = 4


def to_text(cell: Cell) -> str:
    """The cell's text: header, then one 4-space-indented assignment per line."""
    lines = [f"cell {cell.name}({cell.input}; {', '.join(cell.states)}):"]
    lines += [f"    {stmt.target} = {expression(stmt.value)}" for stmt in cell.body]
    return "\n".join(lines) + "\n"


def expression(expr: Expr) -> str:
    """One expression as text (recursion depth is bounded by validation)."""
    return _text(expr)[0]


def _text(expr: Expr) -> tuple[str, int]:
    if isinstance(expr, Ref):
        return expr.name, _ATOM
    if isinstance(expr, Const):
        return same_float(expr.value), _ATOM
    assert isinstance(expr, Call)
    fn = FUNCTIONS[expr.fn]
    if fn.operator is None:
        args = [expression(arg) for arg in expr.args]
        if expr.bias:
            args.append(f"bias={same_float(expr.bias)}")
        return f"{expr.fn}({', '.join(args)})", _ATOM
    mine = _PRECEDENCE[expr.fn]
    if expr.fn == "neg":
        text, theirs = _text(expr.args[0])
        return "-" + (f"({text})" if theirs < mine else text), mine
    (left, lp), (right, rp) = (_text(arg) for arg in expr.args)
    left = f"({left})" if lp < mine else left
    right = f"({right})" if rp <= mine else right
    return f"{left} {fn.operator} {right}", mine
