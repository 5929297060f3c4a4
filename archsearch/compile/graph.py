"""The step graph a compiler schedules: a cell's body as a DAG of numbered nodes.

Names are gone: every read resolves to a node, identical sub-expressions are
one node (``tanh(h)`` read by two linears is computed once), and each node knows
whether it is *static* (a function of the input only, so it is computed for all
time steps at once before the loop) or *dynamic* (computed inside the step).

Dynamic nodes have a *depth*: previous states are depth 0, an element-wise
function has the largest depth of its arguments, and a ``linear`` whose dynamic
arguments reach depth ``k`` has depth ``k + 1``. Linears whose dynamic arguments
reach depth ``k`` and are the same set of values form one matrix-product
**group**, one matrix product per step (groups of depth 0 read only values known
when the step starts). Static linears are grouped the same way by static depth
and value set; at depth 0 those are the input projections for all steps. One
product per set of values, not per depth: one product over the union would
multiply zero blocks wherever a linear does not read a value (``linear(x, h)``
beside ``linear(x, tanh(h))`` made ``[B, 2H] @ [2H, 2H]`` per step, two of its four
blocks zero, where two ``[B, H] @ [H, H]`` do the work). This module is pure
data: no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archsearch.cell.functions import FUNCTIONS
from archsearch.cell.nodes import Call, Cell, Const, Expr, Ref

from .derivatives import ACTIVATION_JACOBIANS


@dataclass
class Node:
    """One value of the step. ``op`` is "input", "prev", "const" or a function name."""

    id: int
    op: str
    args: tuple[int, ...] = ()
    value: float = 0.0  # const
    state: int = -1  # prev: which state
    param: int = -1  # linear / scale: index in source order
    bias: float = 0.0  # linear
    static: bool = False
    depth: int = 0  # dynamic: see module docstring; static: static depth
    materialize: bool = False  # const that must be a tensor (not a float literal)


@dataclass
class Group:
    """Linears computed by one matrix product: ``values`` (node ids) times a block weight."""

    index: int
    depth: int = 0  # that its arguments reach: the product runs once that depth is known
    values: list[int] = field(default_factory=list)
    linears: list[int] = field(default_factory=list)  # node ids, in layout order
    kinds: list[str] = field(default_factory=list)  # gate activation per linear, "" for none


@dataclass
class Graph:
    """The analysed cell, ready for code generation."""

    cell: Cell
    nodes: list[Node]
    state_values: list[int]  # node id of each state's new value
    prev: list[int]  # node id of each state's previous value
    n_linears: int
    n_scales: int
    linear_nodes: list[int]  # node id of each linear, in source order
    scale_nodes: list[int]
    static_groups: list[Group]
    groups: list[Group]  # dynamic groups by depth
    gate_of: dict[int, int]  # activation node id -> the linear node it activates
    consumers: dict[int, int]
    input_outside_linear: bool

    def linear_args(self, lin: int, static: bool) -> list[tuple[int, int]]:
        """(argument position, node id) of the static or dynamic arguments of a linear node."""
        node = self.nodes[lin]
        return [(i, a) for i, a in enumerate(node.args) if self.nodes[a].static == static]


def build_graph(cell: Cell) -> Graph:
    """Resolve a cell into a scheduled DAG (see the module docstring)."""
    nodes, prev, state_values, counts = _resolve(cell)
    consumers = _count_consumers(nodes, state_values)
    _materialize_constants(nodes, state_values)
    _place(nodes)
    linear_nodes = sorted((n for n in nodes if n.op == "linear"), key=lambda n: n.param)
    scale_nodes = sorted((n for n in nodes if n.op == "scale"), key=lambda n: n.param)
    gate_of = _gates(nodes, consumers)
    groups, static_groups = _schedule_products(nodes, linear_nodes, gate_of)
    input_outside_linear = any(
        n.op != "linear" and any(nodes[a].op == "input" for a in n.args) for n in nodes
    ) or any(nodes[v].op == "input" for v in state_values)
    return Graph(
        cell=cell,
        nodes=nodes,
        state_values=state_values,
        prev=prev,
        n_linears=counts["linear"],
        n_scales=counts["scale"],
        linear_nodes=[n.id for n in linear_nodes],
        scale_nodes=[n.id for n in scale_nodes],
        static_groups=static_groups,
        groups=groups,
        gate_of=gate_of,
        consumers=consumers,
        input_outside_linear=input_outside_linear,
    )


def _resolve(cell: Cell) -> tuple[list[Node], list[int], list[int], dict[str, int]]:
    """(nodes, previous-state nodes, new-state nodes, parametric calls per function).

    Every read becomes a node id; identical sub-expressions share one node.
    """
    nodes: list[Node] = []
    keys: dict[tuple, int] = {}
    counts = {"linear": 0, "scale": 0}

    def add(key: tuple, **kw) -> int:
        if key in keys:
            return keys[key]
        node = Node(id=len(nodes), **kw)
        nodes.append(node)
        keys[key] = node.id
        return node.id

    state_index = {s: i for i, s in enumerate(cell.states)}
    prev = [add(("prev", i), op="prev", state=i) for i in range(len(cell.states))]
    local: dict[str, int] = {}
    new: dict[str, int] = {}

    def visit(e: Expr) -> int:
        if isinstance(e, Const):
            return add(("const", float(e.value)), op="const", value=float(e.value))
        if isinstance(e, Ref):
            if e.kind == "input":
                return add(("input",), op="input", static=True)
            if e.kind == "prev":
                return prev[state_index[e.name]]
            return (local if e.kind == "local" else new)[e.name]
        assert isinstance(e, Call)
        param = -1
        if FUNCTIONS[e.fn].parametric:  # pre-order numbering: the call before its arguments
            param = counts[e.fn]
            counts[e.fn] += 1
        args = tuple(visit(a) for a in e.args)
        return add((e.fn, args, param), op=e.fn, args=args, param=param, bias=float(e.bias))

    for stmt in cell.body:
        nid = visit(stmt.value)
        (new if stmt.target in state_index else local)[stmt.target] = nid
    return nodes, prev, [new[s] for s in cell.states], counts


def _count_consumers(nodes: list[Node], state_values: list[int]) -> dict[int, int]:
    """How many reads each node has (a new state's value counts as one)."""
    consumers = {n.id: 0 for n in nodes}
    for n in nodes:
        for a in n.args:
            consumers[a] += 1
    for v in state_values:
        consumers[v] += 1
    return consumers


def _materialize_constants(nodes: list[Node], state_values: list[int]) -> None:
    """Constants stay float literals inside element-wise templates, unless a tensor is needed."""
    for n in nodes:
        if n.op in ("input", "prev", "const"):
            continue
        all_const = all(nodes[a].op == "const" for a in n.args)
        if FUNCTIONS[n.op].parametric or all_const:
            for a in n.args:
                if nodes[a].op == "const":
                    nodes[a].materialize = True
    for v in state_values:
        if nodes[v].op == "const":
            nodes[v].materialize = True


def _place(nodes: list[Node]) -> None:
    """Static or dynamic, and depths (see the module docstring; ids are a topological order)."""
    for n in nodes:
        if n.op in ("input", "prev", "const"):
            continue
        tensor_args = [nodes[a] for a in n.args if nodes[a].op != "const" or nodes[a].materialize]
        n.static = bool(tensor_args) and all(a.static for a in tensor_args)
        depths = [a.depth for a in tensor_args if a.static == n.static]
        n.depth = max(depths, default=0) + (1 if n.op == "linear" else 0)


def _gates(nodes: list[Node], consumers: dict[int, int]) -> dict[int, int]:
    """Activation node -> the step linear it alone reads (computed right after the product)."""
    gate_of: dict[int, int] = {}
    for n in nodes:
        if n.op in ACTIVATION_JACOBIANS and n.op != "identity" and not n.static:
            (a,) = n.args
            if nodes[a].op == "linear" and not nodes[a].static and consumers[a] == 1:
                gate_of[n.id] = a
    return gate_of


def _schedule_products(
    nodes: list[Node], linear_nodes: list[Node], gate_of: dict[int, int]
) -> tuple[list[Group], list[Group]]:
    """(step groups, static groups): the linears of each matrix product, laid out."""
    kind_of = {lin: nodes[act].op for act, lin in gate_of.items()}
    groups = _group_linears(nodes, linear_nodes, static=False)
    for g in groups:  # gates with one activation side by side: one call per run of them
        g.linears.sort(key=lambda lin: kind_of.get(lin, "~"))
        g.kinds = [kind_of.get(lin, "") for lin in g.linears]
    static_groups = _group_linears(nodes, linear_nodes, static=True)
    # Lay out the input projection like the step's groups so a group's slice is contiguous.
    order = {lin: i for i, lin in enumerate(lin for g in groups for lin in g.linears)}
    for g in static_groups:
        g.linears.sort(key=lambda lin: order.get(lin, len(order) + nodes[lin].param))
    return groups, static_groups


def _group_linears(nodes: list[Node], linear_nodes: list[Node], static: bool) -> list[Group]:
    """Linears by the depth and the set of their static (or dynamic) arguments: one group
    each, by depth then by first linear in source order (see the module docstring)."""
    groups: dict[tuple[int, frozenset[int]], Group] = {}
    for lin in linear_nodes:
        args = [a for a in lin.args if nodes[a].static == static]
        if not args:
            continue
        k = max(nodes[a].depth for a in args)
        values = list(dict.fromkeys(args))  # the group's order: its first linear's
        g = groups.setdefault((k, frozenset(values)), Group(index=0, depth=k, values=values))
        g.linears.append(lin.id)
    out = sorted(groups.values(), key=lambda g: g.depth)  # stable: source order within a depth
    for i, g in enumerate(out):
        g.index = i
    return out
