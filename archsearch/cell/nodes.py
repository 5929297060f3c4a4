"""The frozen cell: the graph a cell's text describes, as plain data.

A ``Cell`` is a header (name, input, states) and a body of assignments whose
values are expression trees. Names are resolved at construction: every
``Ref`` says whether it reads the input, an intermediate value, a state's
value from the previous step, or a state's new value. Every ``Cell`` checks
the rules of the language when it is constructed (``validate.py``), however
it was made. This module never imports torch (NAS-Bench-101's
``model_spec``: spec apart from builder).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

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
    """A number >= 0, broadcast to the hidden size (``1 - z``); ``-c`` is ``neg`` of ``c``."""

    value: float


@dataclass(frozen=True)
class Call:
    """A function of the language (see ``functions.FUNCTIONS``) applied to arguments.

    Operators are calls too: ``a + b`` is ``Call("add", (a, b))``, ``-a`` is
    ``Call("neg", (a,))``. ``bias`` is the initial bias of a ``linear`` call and
    0.0 for every other function. Each ``linear`` or ``scale`` call in the tree
    owns its own parameters, even when two calls are equal as values.
    """

    fn: str
    args: tuple[Expr, ...]
    bias: float = 0.0


Expr = Ref | Const | Call


@dataclass(frozen=True)
class Assign:
    """One statement: ``target = value``.

    ``line`` and ``column`` locate the target in the source (1-based line,
    0-based column as in ``ast``; both 0 when the cell was built in code).
    """

    target: str
    value: Expr
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)


def walk(expr: Expr) -> Iterator[Expr]:
    """The nodes of one expression in pre-order, left to right (depth is bounded by validation)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Call):
            stack.extend(reversed(node.args))


@dataclass(frozen=True)
class Cell:
    """A validated recurrent cell.

    ``states[0]`` is the cell's output; the other states are carried to the
    next step only. ``body`` holds the assignments in source order.
    Construction raises ``CellError`` unless every rule of the language holds.
    """

    name: str
    input: str
    states: tuple[str, ...]
    body: tuple[Assign, ...]

    def __post_init__(self) -> None:
        from .validate import validate

        validate(self)

    # --- reading the graph -------------------------------------------------

    @property
    def output(self) -> str:
        """The state that is the cell's output (``states[0]``)."""
        return self.states[0]

    def calls(self, fn: str | None = None) -> list[Call]:
        """Every call (of ``fn``, or all) in source order: statements, then pre-order."""
        return [
            node
            for stmt in self.body
            for node in walk(stmt.value)
            if isinstance(node, Call) and (fn is None or node.fn == fn)
        ]

    def linears(self) -> list[Call]:
        """Every ``linear`` call in source order; the compiler lays out parameters in this order."""
        return self.calls("linear")

    def scales(self) -> list[Call]:
        """Every ``scale`` call in source order."""
        return self.calls("scale")

    def reads(self) -> frozenset[str]:
        """Every name some expression reads (input, states, locals)."""
        return frozenset(
            node.name for stmt in self.body for node in walk(stmt.value) if isinstance(node, Ref)
        )

    def locals(self) -> tuple[str, ...]:
        """The intermediate names, in assignment order."""
        return tuple(s.target for s in self.body if s.target not in self.states)

    def uses_input_outside_linear(self) -> bool:
        """Whether the input is read other than as a direct argument of ``linear``.

        Such a cell needs input size == hidden size (MUT1's ``tanh(x)``). A
        statement ``a = x`` counts as a use outside ``linear`` (conservative).
        """
        for stmt in self.body:
            stack: list[tuple[Expr, bool]] = [(stmt.value, False)]
            while stack:
                node, in_linear = stack.pop()
                if isinstance(node, Ref) and node.kind == "input" and not in_linear:
                    return True
                if isinstance(node, Call):
                    stack.extend((arg, node.fn == "linear") for arg in node.args)
        return False

    def num_parameters(self, input_size: int, hidden_size: int) -> int:
        """The number of learned scalars for input size ``X`` and hidden size ``H``.

        Per ``linear``: one ``[H, size]`` weight per argument and a bias ``[H]``;
        per ``scale``: a vector ``[H]``.
        """
        total = 0
        for call in self.calls():
            if call.fn == "linear":
                for arg in call.args:
                    is_input = isinstance(arg, Ref) and arg.kind == "input"
                    total += hidden_size * (input_size if is_input else hidden_size)
                total += hidden_size
            elif call.fn == "scale":
                total += hidden_size
        return total

    # --- identity, printing, interchange ----------------------------------

    @cached_property
    def _hash(self) -> str:
        from .canonical import canonical_hash

        return canonical_hash(self)

    def canonical_hash(self) -> str:
        """Hex sha256 that ignores names, independent statement order, operand order of
        ``+``/``*`` and argument order of ``linear`` (see ``canonical.py``)."""
        return self._hash

    def to_text(self) -> str:
        """The cell in the cell language; ``parse_cell`` gives it back (same hash, same text)."""
        from .printer import to_text

        return to_text(self)

    @classmethod
    def from_recipe(
        cls, recipe: dict[str, Any] | str, *, name: str = "recipe", strict: bool = False
    ) -> Cell:
        """A cell from a NAS-Bench-NLP recipe (dict or JSON text), extended ops accepted;
        ``strict`` accepts only NAS-Bench-NLP's own ops and fields (see ``recipe.py``)."""
        from .recipe import from_recipe

        return from_recipe(recipe, name=name, strict=strict)

    def to_recipe(self, *, extended: bool = False) -> dict[str, Any]:
        """The cell as a NAS-Bench-NLP recipe; ``extended`` allows archsearch's extra ops."""
        from .recipe import to_recipe

        return to_recipe(self, extended=extended)
