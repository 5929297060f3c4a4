"""Gates, found automatically, and the ablations the study trains.

A gate is a sigmoid-activated value that multiplies another value: a name
assigned ``sigmoid(...)`` and read as an operand of ``*`` (or as the mixing
weight of ``blend``), or a ``sigmoid(...)`` written directly as such an
operand. Removing a gate replaces it by the constant 1 (the paper's LSTM-f,
-i, -o), after which ``1 * a`` folds to ``a`` and nodes that only fed the gate
are pruned. A gate is *forget-like* when it multiplies a state's previous
value (the LSTM's ``f * c``, the GRU's ``z * h``); for such a gate the
bias-1 variant (the paper's LSTM-b) sets the bias of the gate's ``linear``
calls to 1.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from archsearch.cell import CellError
from archsearch.cell.nodes import Assign, Call, Cell, Const, Expr, Ref
from archsearch.space.edit import Site, rebuild, replace_at, sites


@dataclass(frozen=True)
class Gate:
    """A gate: ``name`` is the variable it is assigned to, or ``statement#k`` for an inline one."""

    name: str
    site: Site | None  # for an inline gate: where the sigmoid stands
    forget_like: bool


def find_gates(cell: Cell) -> list[Gate]:
    """The cell's gates in source order."""
    sigmoid_names = {
        s.target for s in cell.body if isinstance(s.value, Call) and s.value.fn == "sigmoid"
    }
    named: dict[str, bool] = {}
    inline: list[Gate] = []
    counts: dict[str, int] = {}
    for site, node in sites(cell.body):
        if not isinstance(node, Call):
            continue
        for position, operand, other in _gated_operands(node):
            if isinstance(operand, Ref) and operand.name in sigmoid_names:
                named[operand.name] = named.get(operand.name, False) or _is_prev(other)
            elif isinstance(operand, Call) and operand.fn == "sigmoid":
                target = cell.body[site.index].target
                counts[target] = counts.get(target, 0) + 1
                inline.append(
                    Gate(
                        f"{target}#{counts[target]}",
                        Site(site.index, site.path + (position,)),
                        _is_prev(other),
                    )
                )
    order = [s.target for s in cell.body]
    gates = [Gate(name, None, forget) for name, forget in named.items()]
    gates.extend(inline)
    return sorted(gates, key=lambda g: (order.index(g.name.split("#")[0]), g.name))


def _gated_operands(node: Call):
    """(position, operand, what it multiplies) for each operand that can act as a gate."""
    if node.fn == "mul":
        yield 0, node.args[0], node.args[1]
        yield 1, node.args[1], node.args[0]
    elif node.fn == "blend":
        yield 0, node.args[0], node.args[1]


def _is_prev(expr: Expr) -> bool:
    return isinstance(expr, Ref) and expr.kind == "prev"


def remove_gate(cell: Cell, gate: Gate) -> Cell:
    """``cell`` with ``gate`` replaced by the constant 1, named ``<cell>_no_<gate>``."""
    one = Const(1.0)
    if gate.site is not None:
        body = replace_at(cell.body, gate.site, one)
    else:
        body = tuple(Assign(s.target, _substitute(s.value, gate.name, one)) for s in cell.body)
    return rebuild(cell, body, name=_name(f"{cell.name}_no_{gate.name}"))


def forget_bias(cell: Cell, gate: Gate, bias: float = 1.0) -> Cell:
    """``cell`` with the bias of every ``linear`` inside the gate's sigmoid set to ``bias``."""
    if gate.site is not None:
        index, path = gate.site.index, gate.site.path
        node = cell.body[index].value
        for position in path:
            node = node.args[position]
        body = replace_at(cell.body, gate.site, _with_bias(node, bias))
    else:
        body = tuple(
            Assign(s.target, _with_bias(s.value, bias)) if s.target == gate.name else s
            for s in cell.body
        )
    return rebuild(cell, body, name=_name(f"{cell.name}_{gate.name}_bias{bias:g}"))


def ablations(cell: Cell) -> dict[str, Cell]:
    """Every single-gate removal, and the bias-1 variant of each forget-like gate.

    A removal that leaves no valid cell (the gate held the only read of the
    input, say) is left out: there is no such architecture to train.
    """
    variants: dict[str, Cell] = {}
    for gate in find_gates(cell):
        with contextlib.suppress(CellError):
            variants[f"no {gate.name}"] = remove_gate(cell, gate)
        if gate.forget_like:
            variants[f"{gate.name} bias 1"] = forget_bias(cell, gate)
    return variants


def _substitute(expr: Expr, name: str, new: Expr) -> Expr:
    if isinstance(expr, Ref) and expr.name == name and expr.kind == "local":
        return new
    if isinstance(expr, Call):
        return Call(expr.fn, tuple(_substitute(a, name, new) for a in expr.args), expr.bias)
    return expr


def _with_bias(expr: Expr, bias: float) -> Expr:
    if isinstance(expr, Call):
        args = tuple(_with_bias(a, bias) for a in expr.args)
        return Call(expr.fn, args, bias if expr.fn == "linear" else expr.bias)
    return expr


def _name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in text)
