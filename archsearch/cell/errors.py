"""The one error of the cell language, its limits, and the checks every path shares.

Every invalid cell, whether parsed from text, read from a recipe or built in
code, raises ``CellError``. Parsed cells say ``line L, column C:`` first;
cells built in code name the statement (``statement 3 ('c = ...'):``);
recipes name the node (``recipe node 'n3':``).
"""

from __future__ import annotations

import keyword
import math
import re

from .functions import CALLABLE

# Limits: generous for any real cell, small enough that hostile text fails fast.
MAX_TEXT = 64 * 1024  # characters of cell text
MAX_STATEMENTS = 256  # assignments in a body
MAX_DEPTH = 32  # nesting of one expression (``tanh(a + b)`` has depth 3)
MAX_NODES = 4096  # expression nodes in a whole cell (bounds shared subtrees too)
MAX_NAME = 64  # characters in a name

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class CellError(ValueError):
    """An invalid cell. ``line`` and ``column`` are 1-based, or ``None`` when unknown."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        if line is not None and column is None:
            column = 1
        self.reason = message
        self.line = line
        self.column = column
        if line is not None:
            message = f"line {line}, column {column}: {message}"
        super().__init__(message)


def name_problem(name: object, role: str) -> str | None:
    """Why ``name`` cannot be used as ``role`` ("state", "input" ...), or ``None`` if it can."""
    if not isinstance(name, str):
        return f"the {role} name must be a str, got {type(name).__name__}"
    if len(name) > MAX_NAME:
        return (
            f"the {role} name {name[:20]!r}... is {len(name)} characters; the limit is {MAX_NAME}"
        )
    if not NAME_RE.fullmatch(name) or keyword.iskeyword(name):
        return (
            f"{name!r} is not a valid {role} name "
            "(ASCII letters, digits and _, not starting with a digit, not a Python keyword)"
        )
    if role != "cell" and name in CALLABLE:
        return f"the {role} name {name!r} shadows the function {name}(); pick another name"
    return None


def number_problem(value: object, what: str = "a constant") -> str | None:
    """Why ``value`` is not a usable number, or ``None``: finite int or float, never a bool."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{what} must be a number, got {value!r}"[:200]
    try:
        number = float(value)
    except OverflowError:
        return f"{what} is too large to be a float"
    if not math.isfinite(number):
        return f"{what} must be finite, got {number!r}"
    return None


def same_float(value: float) -> str:
    """The canonical text of a float: ``repr``, with -0.0 folded into 0.0."""
    return repr(float(value) + 0.0)
