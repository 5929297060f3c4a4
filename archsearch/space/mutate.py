"""Mutation: turn a cell into a new, valid candidate, and say what was done.

After Jozefowicz et al. (2015): each mutation draws a probability ``p``
uniformly, then visits every node of the cell graph and, with probability
``p``, applies one operator that fits it. Operators:

- ``activation``: replace an activation by another (tanh, sigmoid, relu, identity, ...);
- ``elementwise``: replace ``+``, ``-`` or ``*`` by another of them;
- ``insert``: wrap a value in an activation, gate it (``v * sigmoid(linear(...))``),
  or combine it with another available value;
- ``delete``: replace a node by one of its arguments;
- ``rewire``: make a read point at another value available at that place;
- ``add_arg`` / ``drop_arg``: grow or shrink a ``linear``'s argument list;
- ``bias``: change a ``linear``'s initial bias.

The result passes the same checks as parsed text (``Cell``'s validation) with
dead nodes pruned; an edit that yields an invalid cell is drawn again. At least
one operator is applied.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from archsearch.cell import CellError
from archsearch.cell.functions import ACTIVATIONS, ELEMENTWISE
from archsearch.cell.nodes import Assign, Call, Cell, Expr, Ref
from archsearch.space.edit import Site, node_at, rebuild, replace_at, scope, sites

BIASES = (-1.0, 0.0, 1.0, 2.0)
OPERATORS = (
    "activation",
    "elementwise",
    "insert",
    "delete",
    "rewire",
    "add_arg",
    "drop_arg",
    "bias",
)


@dataclass(frozen=True)
class Mutant:
    """A mutated cell with its lineage: the parent's hash and the edits applied."""

    cell: Cell
    parent: str
    mutations: tuple[str, ...]


class MutationFailed(RuntimeError):
    """No valid mutant was found in the allowed attempts."""


def mutate(
    cell: Cell,
    rng: random.Random,
    *,
    attempts: int = 50,
    seen: set[str] | frozenset[str] = frozenset(),
) -> Mutant:
    """A valid mutant of ``cell`` whose canonical hash is neither the parent's nor in ``seen``."""
    parent = cell.canonical_hash()
    for _ in range(attempts):
        p = rng.random()
        body, done = cell.body, []
        # Last node first: an edit then never moves a node still to be visited.
        for site, _node in reversed(sites(cell.body)):
            if rng.random() < p:
                body, label = _apply_one(cell, body, site, rng)
                if label:
                    done.append(label)
        if not done:
            site, _node = rng.choice(sites(cell.body))
            body, label = _apply_one(cell, body, site, rng)
            if label:
                done.append(label)
        if not done:
            continue
        try:
            child = rebuild(cell, body)
        except CellError:
            continue
        digest = child.canonical_hash()
        if digest == parent or digest in seen:
            continue
        return Mutant(rebuild(cell, child.body, name=f"m{digest[:10]}"), parent, tuple(done))
    raise MutationFailed(f"no valid unseen mutant of {cell.name!r} in {attempts} attempts")


def _apply_one(cell, body, site: Site, rng) -> tuple[tuple[Assign, ...], str | None]:
    """Apply one fitting operator at ``site`` (if the site still exists after earlier edits)."""
    try:
        node = node_at(body, site)
    except IndexError:
        return body, None
    fitting = [op for op in OPERATORS if _fits(op, node)]
    if not fitting:
        return body, None
    op = rng.choice(fitting)
    new, label = _EDITS[op](cell, body, site, node, rng)
    if new is None:
        return body, None
    where = body[site.index].target
    return replace_at(body, site, new), f"{op}:{label}@{where}"


def _fits(op: str, node: Expr) -> bool:
    is_call = isinstance(node, Call)
    fn = node.fn if is_call else None
    return {
        "activation": fn in ACTIVATIONS,
        "elementwise": fn in ELEMENTWISE,
        "insert": not isinstance(node, Call) or fn != "linear",
        "delete": is_call and any(not _is_const(a) for a in node.args),
        "rewire": isinstance(node, Ref),
        "add_arg": fn == "linear",
        "drop_arg": fn == "linear" and len(node.args) > 1,
        "bias": fn == "linear",
    }[op]


def _is_const(expr: Expr) -> bool:
    return not isinstance(expr, (Call, Ref))


def _activation(cell, body, site, node, rng):
    fn = rng.choice([a for a in ACTIVATIONS if a != node.fn])
    return Call(fn, node.args), f"{node.fn}->{fn}"


def _elementwise(cell, body, site, node, rng):
    fn = rng.choice([e for e in ELEMENTWISE if e != node.fn])
    return Call(fn, node.args), f"{node.fn}->{fn}"


def _insert(cell, body, site, node, rng):
    available = scope(cell, body, site.index)
    kind = rng.choice(("activation", "gate", "combine"))
    if kind == "activation":
        fn = rng.choice(ACTIVATIONS)
        return Call(fn, (node,)), f"{fn}"
    if kind == "gate":
        reads = tuple(rng.sample(available, k=min(len(available), rng.choice((1, 2)))))
        return Call("mul", (node, Call("sigmoid", (Call("linear", reads),)))), "gate"
    fn = rng.choice(ELEMENTWISE)
    return Call(fn, (node, rng.choice(available))), fn


def _delete(cell, body, site, node, rng):
    keep = rng.choice([a for a in node.args if not _is_const(a)])
    return keep, node.fn


def _rewire(cell, body, site, node, rng):
    choices = [ref for ref in scope(cell, body, site.index) if ref != node]
    if not choices:
        return None, ""
    new = rng.choice(choices)
    return new, f"{node.name}->{new.name}"


def _add_arg(cell, body, site, node, rng):
    new = rng.choice(scope(cell, body, site.index))
    return Call("linear", node.args + (new,), node.bias), new.name


def _drop_arg(cell, body, site, node, rng):
    position = rng.randrange(len(node.args))
    args = node.args[:position] + node.args[position + 1 :]
    return Call("linear", args, node.bias), str(position)


def _bias(cell, body, site, node, rng):
    bias = rng.choice([b for b in BIASES if b != node.bias])
    return Call("linear", node.args, bias), f"{node.bias:g}->{bias:g}"


_EDITS = {
    "activation": _activation,
    "elementwise": _elementwise,
    "insert": _insert,
    "delete": _delete,
    "rewire": _rewire,
    "add_arg": _add_arg,
    "drop_arg": _drop_arg,
    "bias": _bias,
}
