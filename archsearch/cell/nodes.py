"""The frozen cell: the graph a cell's text describes, as plain data.

A ``Cell`` is a header (name, input, states) and a body of assignments whose
values are expression trees. Names are resolved at construction: every
``Ref`` says whether it reads the input, an intermediate value, a state's
value from the previous step, or a state's new value. This module never
imports torch (NAS-Bench-101's ``model_spec``: spec apart from builder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

RefKind = Literal["input", "local", "prev", "new"]


@dataclass(frozen=True)
class Ref:
    """A read of a name.

    ``kind`` is ``"input"`` for the cell's input, ``"local"`` for an
    intermediate value, ``"prev"`` for a state read before its assignment (the
    previous step's value) and ``"new"`` for a state read after it.
    """

    name: str
    kind: RefKind


@dataclass(frozen=True)
class Const:
    """A number, broadcast to the hidden size (``1 - z``)."""

    value: float


@dataclass(frozen=True)
class Call:
    """A function of the language (see ``functions.FUNCTIONS``) applied to arguments.

    Operators are calls too: ``a + b`` is ``Call("add", (a, b))``, ``-a`` is
    ``Call("neg", (a,))``. ``bias`` is the initial bias of a ``linear`` call and
    0.0 for every other function.
    """

    fn: str
    args: tuple[Expr, ...]
    bias: float = 0.0


Expr = Union[Ref, Const, Call]


@dataclass(frozen=True)
class Assign:
    """One statement: ``target = value``; ``line`` is its line in the source (1-based, 0 if built)."""

    target: str
    value: Expr
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Cell:
    """A validated recurrent cell.

    ``states[0]`` is the cell's output; the other states are carried to the
    next step only. ``body`` holds the assignments in source order.
    """

    name: str
    input: str
    states: tuple[str, ...]
    body: tuple[Assign, ...]
