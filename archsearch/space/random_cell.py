"""Random cells for random search, in the manner of NAS-Bench-NLP's generator.

A random cell has one or two states (``h``, and ``c``). Nodes are drawn one at
a time, each a random function of values already available (the input, the
previous states, earlier nodes): a ``linear`` of one to three of them, an
activation, an element-wise operation or a ``blend``. The last node becomes
``h``; with two states an earlier node becomes ``c``. Nodes that reach no
state are pruned, and a cell that does not read its input is drawn again.
"""

from __future__ import annotations

import random

from archsearch.cell import CellError
from archsearch.cell.functions import ACTIVATIONS, ELEMENTWISE
from archsearch.cell.nodes import Assign, Call, Cell, Expr, Ref
from archsearch.space.edit import prune, walk

# Relative weights of node kinds: linear maps carry the learning, so they come often.
KINDS = ("linear",) * 3 + ("activation",) * 3 + ("elementwise",) * 2 + ("blend",)


def random_cell(
    rng: random.Random, *, min_nodes: int = 3, max_nodes: int = 10, attempts: int = 100
) -> Cell:
    """A valid random cell with ``min_nodes`` to ``max_nodes`` nodes before pruning."""
    if min_nodes < 2 or max_nodes < min_nodes:
        raise ValueError("random cells need 2 <= min_nodes <= max_nodes")
    for _ in range(attempts):
        try:
            return _draw(rng, rng.randint(min_nodes, max_nodes), rng.choice((1, 2)))
        except CellError:
            continue
    raise RuntimeError(f"no valid random cell in {attempts} attempts")


def _draw(rng: random.Random, n_nodes: int, n_states: int) -> Cell:
    states = ("h", "c")[:n_states]
    available: list[Expr] = [Ref("x", "input"), *(Ref(s, "prev") for s in states)]
    values: list[Expr] = []
    for _ in range(n_nodes):
        value = _node(rng, available)
        values.append(value)
        available.append(Ref(f"v{len(values) - 1}", "local"))
    targets = [f"v{i}" for i in range(n_nodes)]
    targets[-1] = "h"
    if n_states == 2:
        targets[rng.randrange(n_nodes - 1)] = "c"
    renamed = {f"v{i}": t for i, t in enumerate(targets) if t != f"v{i}"}
    body = tuple(
        Assign(target, _rename(value, renamed))
        for target, value in zip(targets, values, strict=True)
    )
    body = prune(states, body)
    cell = Cell("random", "x", states, body)
    return Cell(f"r{cell.canonical_hash()[:10]}", "x", states, body)


def _node(rng: random.Random, available: list[Expr]) -> Call:
    kind = rng.choice(KINDS)
    if kind == "linear":
        k = rng.randint(1, min(3, len(available)))
        return Call("linear", tuple(rng.sample(available, k)))
    if kind == "activation":
        return Call(rng.choice(ACTIVATIONS), (rng.choice(available),))
    if kind == "elementwise":
        return Call(rng.choice(ELEMENTWISE), tuple(rng.sample(available, 2)))
    return Call("blend", tuple(rng.choice(available) for _ in range(3)))


def _rename(expr: Expr, renamed: dict[str, str]) -> Expr:
    """Reads of a node that became a state now read that state's new value."""
    if isinstance(expr, Ref) and expr.name in renamed:
        return Ref(renamed[expr.name], "new")
    if isinstance(expr, Call):
        return Call(expr.fn, tuple(_rename(a, renamed) for a in expr.args), expr.bias)
    return expr


def size(cell: Cell) -> int:
    """The number of function nodes of a cell (for tests and reports)."""
    return sum(1 for s in cell.body for _, node in walk(s.value) if isinstance(node, Call))
