"""Isomorphic copies of a cell for the hash tests: renamed, reordered, operands swapped."""

from __future__ import annotations

import random

from archsearch.cell import Assign, Call, Cell, Ref


def rename_expr(expr, names: dict[str, str], rng: random.Random):
    """``expr`` with every name renamed and the operands of ``+``, ``*``, ``linear`` shuffled."""
    if isinstance(expr, Ref):
        return Ref(names[expr.name], expr.kind)
    if isinstance(expr, Call):
        args = [rename_expr(a, names, rng) for a in expr.args]
        if expr.fn in ("add", "mul", "linear"):
            rng.shuffle(args)
        return Call(expr.fn, tuple(args), expr.bias)
    return expr


def shuffle(cell: Cell, rng: random.Random) -> Cell:
    """Rename every name, swap commutative operands, reorder statements where allowed."""
    every = [cell.input, *cell.states, *cell.locals()]
    fresh = [f"v{i}" for i in range(len(every))]
    rng.shuffle(fresh)
    names = dict(zip(every, fresh, strict=True))
    pending = list(cell.body)
    done: set[str] = set()
    order = []
    while pending:
        ready = []
        for stmt in pending:
            reads = list(refs(stmt.value))
            ok = all(
                (r.kind != "local" or r.name in done)
                and (r.kind != "new" or r.name in done)
                and (r.kind != "prev" or r.name not in done or r.name == stmt.target)
                for r in reads
            )
            # a state may be assigned only when no pending statement still reads its prev value
            if stmt.target in cell.states:
                ok = ok and not any(
                    r.kind == "prev" and r.name == stmt.target
                    for other in pending
                    if other is not stmt
                    for r in refs(other.value)
                )
            if ok:
                ready.append(stmt)
        stmt = rng.choice(ready)
        pending.remove(stmt)
        done.add(stmt.target)
        order.append(Assign(names[stmt.target], rename_expr(stmt.value, names, rng)))
    states = tuple(names[s] for s in cell.states)
    return Cell(f"c{rng.randrange(99)}", names[cell.input], states, tuple(order))


def refs(expr):
    """Every ``Ref`` in ``expr``."""
    if isinstance(expr, Ref):
        yield expr
    elif isinstance(expr, Call):
        for arg in expr.args:
            yield from refs(arg)
