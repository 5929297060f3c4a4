"""Editing cells as trees: find nodes, replace them, see what is in scope, prune, rebuild.

Cells are frozen, so every edit returns new expressions. A node is addressed by
a ``Site``: the statement's index and the path of argument indices from the
statement's value down to the node.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from archsearch.cell.nodes import Assign, Call, Cell, Const, Expr, Ref


@dataclass(frozen=True)
class Site:
    """Where a node stands: statement ``index``, then ``path`` of argument positions."""

    index: int
    path: tuple[int, ...]


def walk(expr: Expr, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], Expr]]:
    """Every node of ``expr`` in pre-order, with its path."""
    stack = [(path, expr)]
    while stack:
        where, node = stack.pop()
        yield where, node
        if isinstance(node, Call):
            stack.extend((where + (i,), arg) for i, arg in reversed(list(enumerate(node.args))))


def sites(body: tuple[Assign, ...]) -> list[tuple[Site, Expr]]:
    """Every node of every statement, in source order."""
    return [
        (Site(index, path), node)
        for index, statement in enumerate(body)
        for path, node in walk(statement.value)
    ]


def node_at(body: tuple[Assign, ...], site: Site) -> Expr:
    """The node at ``site``; ``IndexError`` if the body has no such place."""
    node = body[site.index].value
    for position in site.path:
        if not isinstance(node, Call):
            raise IndexError(f"no node at {site}")
        node = node.args[position]
    return node


def replace_in(expr: Expr, path: tuple[int, ...], new: Expr) -> Expr:
    """``expr`` with the node at ``path`` replaced by ``new``."""
    if not path:
        return new
    assert isinstance(expr, Call)
    head, rest = path[0], path[1:]
    args = list(expr.args)
    args[head] = replace_in(args[head], rest, new)
    return Call(expr.fn, tuple(args), expr.bias)


def replace_at(body: tuple[Assign, ...], site: Site, new: Expr) -> tuple[Assign, ...]:
    statement = body[site.index]
    changed = Assign(statement.target, replace_in(statement.value, site.path, new))
    return body[: site.index] + (changed,) + body[site.index + 1 :]


def scope(cell: Cell, body: tuple[Assign, ...], index: int) -> list[Ref]:
    """What statement ``index`` may read: input, states (previous or new), earlier locals."""
    assigned = {statement.target for statement in body[:index]}
    refs = [Ref(cell.input, "input")]
    for state in cell.states:
        refs.append(Ref(state, "new" if state in assigned else "prev"))
    refs.extend(
        Ref(statement.target, "local")
        for statement in body[:index]
        if statement.target not in cell.states
    )
    return refs


def reads(expr: Expr) -> Iterator[Ref]:
    for _, node in walk(expr):
        if isinstance(node, Ref):
            yield node


def prune(states: tuple[str, ...], body: tuple[Assign, ...]) -> tuple[Assign, ...]:
    """Drop assignments of intermediate values that nothing reads (dead nodes)."""
    while True:
        read = {ref.name for statement in body for ref in reads(statement.value)}
        kept = tuple(s for s in body if s.target in states or s.target in read)
        if len(kept) == len(body):
            return body
        body = kept


def simplify(expr: Expr) -> Expr:
    """Fold what a constant 1 leaves behind: ``1 * a`` -> ``a``; ``blend(1, a, b)`` -> ``a``."""
    if not isinstance(expr, Call):
        return expr
    args = tuple(simplify(arg) for arg in expr.args)
    if expr.fn == "mul":
        if _is_one(args[0]):
            return args[1]
        if _is_one(args[1]):
            return args[0]
    if expr.fn == "blend" and _is_one(args[0]):
        return args[1]
    return Call(expr.fn, args, expr.bias)


def _is_one(expr: Expr) -> bool:
    return isinstance(expr, Const) and expr.value == 1.0


def rebuild(cell: Cell, body: tuple[Assign, ...], *, name: str | None = None) -> Cell:
    """A new validated cell with ``body`` (dead nodes pruned); raises ``CellError`` if invalid."""
    body = prune(cell.states, tuple(Assign(s.target, simplify(s.value)) for s in body))
    return Cell(name or cell.name, cell.input, cell.states, body)
