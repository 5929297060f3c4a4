"""The rules every ``Cell`` obeys, checked when it is constructed.

The parser checks the same rules first, with exact columns; this module is
what holds a cell built in code (by the mutation operators, from a recipe) to
the same standard. Walks are iterative with explicit limits, so a hostile
object graph fails fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import MAX_DEPTH, MAX_NODES, MAX_STATEMENTS, CellError, name_problem, number_problem
from .functions import FUNCTIONS
from .nodes import Assign, Call, Const, Ref

if TYPE_CHECKING:
    from .nodes import Cell


def _fail(message: str, stmt: object, index: int) -> CellError:
    """An error located at statement ``index`` (by line when the cell was parsed)."""
    if isinstance(stmt, Assign) and stmt.line > 0:
        return CellError(message, line=stmt.line, column=stmt.column + 1)
    target = getattr(stmt, "target", "?")
    return CellError(f"statement {index + 1} ({str(target)[:64]!r} = ...): {message}")


def check_header(cell: Cell) -> None:
    problem = name_problem(cell.name, "cell")
    if problem:
        raise CellError(f"header: {problem}")
    if not isinstance(cell.states, tuple) or not cell.states:
        raise CellError("header: a cell needs a tuple of one or more states")
    seen: set[str] = set()
    for role, name in [("input", cell.input)] + [("state", s) for s in cell.states]:
        problem = name_problem(name, role)
        if problem:
            raise CellError(f"header: {problem}")
        if name in seen:
            raise CellError(f"header: the name {name!r} appears twice")
        seen.add(name)


def expected_kind(name: str, cell: Cell, assigned: dict[str, int]) -> str | None:
    """The kind a read of ``name`` has at this point of the body, or ``None`` if undefined."""
    if name == cell.input:
        return "input"
    if name in cell.states:
        return "new" if name in assigned else "prev"
    return "local" if name in assigned else None


def validate(cell: Cell) -> None:
    """Raise ``CellError`` unless ``cell`` obeys every rule of the language."""
    check_header(cell)
    body = cell.body
    if not isinstance(body, tuple) or not body:
        raise CellError("the body must be a non-empty tuple of assignments")
    if len(body) > MAX_STATEMENTS:
        raise CellError(f"the cell has {len(body)} statements; the limit is {MAX_STATEMENTS}")
    targets = {
        s.target: i
        for i, s in reversed(list(enumerate(body)))
        if isinstance(getattr(s, "target", None), str)
    }
    assigned: dict[str, int] = {}
    read: set[str] = set()
    nodes = 0
    for index, stmt in enumerate(body):
        if not isinstance(stmt, Assign):
            raise _fail(f"expected an Assign, got {type(stmt).__name__}", stmt, index)
        target = stmt.target
        problem = name_problem(target, "assigned")
        if problem:
            raise _fail(problem, stmt, index)
        if target == cell.input:
            raise _fail(f"cannot assign the input {target!r}", stmt, index)
        if target in assigned:
            raise _fail(
                f"{target!r} is assigned twice (first in statement {assigned[target] + 1})",
                stmt,
                index,
            )
        stack: list[tuple[object, int]] = [(stmt.value, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                raise _fail(f"the expression is nested deeper than {MAX_DEPTH}", stmt, index)
            nodes += 1
            if nodes > MAX_NODES:
                raise _fail(f"the cell has more than {MAX_NODES} expression nodes", stmt, index)
            if isinstance(node, Ref):
                kind = expected_kind(node.name, cell, assigned)
                if kind is None:
                    later = targets.get(node.name)
                    why = "is read before it is assigned" if later is not None else "is undefined"
                    raise _fail(f"the name {str(node.name)[:64]!r} {why}", stmt, index)
                if node.kind != kind:
                    raise _fail(
                        f"the read of {node.name!r} has kind {node.kind!r}; here it is {kind!r}",
                        stmt,
                        index,
                    )
                read.add(node.name)
            elif isinstance(node, Const):
                problem = number_problem(node.value)
                if problem:
                    raise _fail(problem, stmt, index)
                if node.value < 0 or str(float(node.value)).startswith("-"):
                    raise _fail(
                        f"constants are >= 0 (write -c as neg of c), got {node.value!r}",
                        stmt,
                        index,
                    )
            elif isinstance(node, Call):
                _check_call(node, stmt, index)
                stack.extend((arg, depth + 1) for arg in node.args)
            else:
                raise _fail(f"{type(node).__name__} is not an expression", stmt, index)
        assigned[target] = index
    _check_usage(cell, assigned, read)


def _check_call(node: Call, stmt: Assign, index: int) -> None:
    fn = FUNCTIONS.get(node.fn) if isinstance(node.fn, str) else None
    if fn is None:
        known = ", ".join(FUNCTIONS)
        raise _fail(f"unknown function {str(node.fn)[:64]!r}; known: {known}", stmt, index)
    if not isinstance(node.args, tuple):
        raise _fail(f"the arguments of {fn.name} must be a tuple", stmt, index)
    if fn.arity is None and not node.args:
        raise _fail(f"{fn.name} takes at least 1 argument, got 0", stmt, index)
    if fn.arity is not None and len(node.args) != fn.arity:
        raise _fail(f"{fn.name} takes {fn.arity} argument(s), got {len(node.args)}", stmt, index)
    problem = number_problem(node.bias, f"the bias of {fn.name}")
    if problem:
        raise _fail(problem, stmt, index)
    if node.bias != 0 and fn.name != "linear":
        raise _fail(f"only linear takes a bias; {fn.name} has bias={node.bias!r}", stmt, index)


def _check_usage(cell: Cell, assigned: dict[str, int], read: set[str]) -> None:
    for state in cell.states:
        if state not in assigned:
            raise CellError(f"the state {state!r} is never assigned")
    for name, index in assigned.items():
        if name not in cell.states and name not in read:
            stmt = cell.body[index]
            raise _fail(f"{name!r} is assigned but never read", stmt, index)
    if cell.input not in read:
        raise CellError(f"the input {cell.input!r} is never read")
