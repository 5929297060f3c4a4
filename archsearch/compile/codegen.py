"""Generate the TorchScript-compatible source of a compiled cell: prologue and forward loops.

Everything emitted comes from the analysed graph and from templates (the
function table's, ours): identifiers are generated (``v3``, ``s0``, ``W1``),
numbers are ``repr`` of floats, and no text of the cell is ever pasted in.

The generated module defines:

- ``prologue(x, p)``: from the input ``[T, B, X]`` and the flat parameter list,
  every static value for all steps at once: the input projections of every
  linear (one matrix product per static group, bias included), the static
  values the step reads, and the block weights of the step's matrix products.
- ``loop(T, P, S, W, sc, state, fast, steps)``: the time loop, returning outputs
  and states (``fast``: the oneDNN path's activations and all-steps products;
  ``steps``: its step products too, ``kernels.py``), and ``loop_save``, the same
  loop also filling what the generated backward pass (``backward.py``) reads:
  both in ``forward.py``;
- ``Layer``: a standalone ``nn.Module`` for saving.
"""

from __future__ import annotations

import math

from archsearch.cell.functions import FUNCTIONS

from .derivatives import has_derivative
from .graph import Graph, Group
from .kernels import ONEDNN_STEP_MACS

HEADER = """import torch
from typing import List, Optional, Tuple
from torch import Tensor


def _mm_all(a: Tensor, b: Tensor, fast: bool) -> Tensor:
    # a @ b for the all-steps products after the loop: oneDNN on its path (``kernels.py``);
    # a step's product is torch.mm / torch.addmm, written straight in the loops
    if fast:
        return onednn_mm(a, b.t())
    return torch.mm(a, b)


def _tanh(a: Tensor, neg1: Tensor, fast: bool) -> Tensor:
    # tanh(a) = 2 sigmoid(2a) - 1: CPU sigmoid is ~5x cheaper than CPU tanh (``kernels.py``).
    # Tensor operands only (neg1 = [-1.0]): a float operand costs TorchScript a scalar-to-
    # tensor copy per call (measured [32, 128]: 10.0 us with * 2.0, mul_, sub_; 4.7 us so)
    if fast:
        s = torch.sigmoid(a + a)
        return torch.add(neg1, s, alpha=2.0, out=s)
    return torch.tanh(a)


def _tanh_out(a: Tensor, out: Tensor, neg1: Tensor, fast: bool) -> Tensor:
    if fast:
        return torch.add(neg1, torch.sigmoid(a + a, out=out), alpha=2.0, out=out)
    return torch.tanh(a, out=out)
"""


def step_onednn(k: int) -> str:
    """Whether group ``k``'s step product takes oneDNN: on its path (``steps``) and large
    enough (``kernels.ONEDNN_STEP_MACS``); B is the batch, W[k] the block weight."""
    return f"steps and B * W[{k}].size(0) * W[{k}].size(1) >= {ONEDNN_STEP_MACS}"


def literal(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"constant {value!r} is not a finite number")
    return f"({value!r})"


def param_layout(graph: Graph) -> tuple[list[list[int]], list[int], list[int]]:
    """Indices into the flat parameter list: weights per linear, bias per linear, scales.

    The flat list is: for each linear in source order, its weights in argument
    order then its bias; then each scale's weight.
    """
    weights, biases, i = [], [], 0
    for lin in graph.linear_nodes:
        n = len(graph.nodes[lin].args)
        weights.append(list(range(i, i + n)))
        biases.append(i + n)
        i += n + 1
    return weights, biases, list(range(i, i + graph.n_scales))


class Names:
    """Generated identifiers and the schedule shared by the forward and backward generators."""

    def __init__(self, graph: Graph) -> None:
        self.g = graph
        nodes = graph.nodes
        self.weights, self.biases, self.scale_params = param_layout(graph)
        self.gate_acts = {lin: act for act, lin in graph.gate_of.items()}
        # static values the step reads directly (not through a linear)
        used: list[int] = []
        for n in nodes:
            if n.static or n.op in ("prev", "const", "input"):
                continue
            if n.op == "linear":
                continue
            used += [a for a in n.args if nodes[a].static]
        used += [v for v in graph.state_values if nodes[v].static]
        self.step_static = list(dict.fromkeys(used))
        self.group_of = {lin: g for g in graph.groups for lin in g.linears}
        self.produced = set(self.group_of) | set(graph.gate_of)
        self.max_depth = max((n.depth for n in nodes if not n.static), default=0)
        # a + b * c: one addcmul when the product is read only there (and is not saved)
        self.fused: dict[int, int] = {}  # add node -> the mul node it computes
        for n in nodes:
            if n.op != "add" or n.static:
                continue
            for i, m in enumerate(n.args):
                mul, other = nodes[m], nodes[n.args[1 - i]]
                if (
                    mul.op == "mul"
                    and not mul.static
                    and graph.consumers[m] == 1
                    and m not in graph.state_values
                    and self.is_tensor(other.id)
                    and all(self.is_tensor(a) for a in mul.args)
                ):
                    self.fused[n.id] = m
                    break
        self.custom_backward = all(
            has_derivative(n.op) for n in nodes if n.op not in ("input", "prev", "const")
        )

    def is_tensor(self, nid: int) -> bool:
        n = self.g.nodes[nid]
        return n.op != "const" or n.materialize

    def var(self, nid: int) -> str:
        n = self.g.nodes[nid]
        if n.op == "prev":
            return f"s{n.state}"
        if n.op == "const" and not n.materialize:
            return literal(n.value)
        return f"v{nid}"

    def schedule(self) -> list[tuple[str, int]]:
        """The step in order: ("node", id) for element-wise nodes, ("group", k) for products."""
        items: list[tuple[str, int]] = []
        for d in range(self.max_depth + 1):
            for n in self.g.nodes:
                if n.static or n.op in ("prev", "input") or n.id in self.produced:
                    continue
                if n.op == "const" and not n.materialize:
                    continue
                if n.depth == d:
                    items.append(("node", n.id))
            items += [("group", grp.index) for grp in self.g.groups if grp.depth == d]
        return items

    def runs(self, group: Group) -> list[tuple[str, int, int]]:
        """(kind, first position, count) of consecutive linears with one activation."""
        out: list[tuple[str, int, int]] = []
        for i, kind in enumerate(group.kinds):
            if out and out[-1][0] == kind:
                out[-1] = (kind, out[-1][1], out[-1][2] + 1)
            else:
                out.append((kind, i, 1))
        return out

    @staticmethod
    def gate_major(kind: str, count: int) -> bool:
        """Whether a run's saved outputs are laid out ``[count, B, H]`` per step.

        The activation writes them so (it reads the product's slice either way),
        and each gate is then a contiguous ``[B, H]``: element-wise ops on a
        strided ``[B, H]`` slice of a ``[B, n * H]`` row cost ~3x (measured: a
        ``[32, 128]`` product 4.9 us strided against 1.5 us contiguous).
        """
        return bool(kind) and count > 1

    def run_members(self, group: Group, start: int, count: int) -> list[int]:
        """The node each linear of a run yields: its activation for a gate, else itself."""
        lins = group.linears[start : start + count]
        return [self.gate_acts.get(lin, lin) for lin in lins]

    def block_weight(self, group: Group) -> str:
        """The block matrix ``[n * H, sum of value sizes]`` of a group (``linear``'s layout).

        Row block ``i`` is the group's ``i``-th linear, column block ``j`` its
        weight of value ``j`` (summed when it reads value ``j`` twice, zeros when
        it does not read it), built from the flat parameter list ``p``.
        """
        nodes = self.g.nodes
        blocks = []  # [linear][value]
        for lin in group.linears:
            idx = self.g.linear_nodes.index(lin)
            row = []
            for val in group.values:
                size = "x.size(2)" if nodes[val].op == "input" else "H"
                ws = [
                    f"p[{self.weights[idx][pos]}]"
                    for pos, a in enumerate(nodes[lin].args)
                    if a == val
                ]
                row.append(" + ".join(ws) if ws else f"p[0].new_zeros([H, {size}])")
            blocks.append(row)
        return cat([cat(row, 1) for row in blocks], 0)


def cat(parts: list[str], dim: int) -> str:
    return parts[0] if len(parts) == 1 else f"torch.cat([{', '.join(parts)}], {dim})"


def gen_prologue(nm: Names) -> list[str]:
    g, nodes = nm.g, nm.g.nodes
    lines = [
        "def prologue(x: Tensor, p: List[Tensor]) -> "
        "Tuple[List[Tensor], List[Tensor], List[Tensor], List[Tensor]]:",
        "    T = x.size(0)",
        "    B = x.size(1)",
        f"    H = {hidden_expr(nm)}",
    ]
    where: dict[int, tuple[str, int]] = {}  # linear -> (its projection, position in it)
    width: dict[str, int] = {}  # projection -> how many linears it holds
    max_sdepth = max((n.depth for n in nodes if n.static), default=0)
    for d in range(max_sdepth + 1):
        for n in nodes:
            if not n.static or n.depth != d or n.op == "linear":
                continue
            if n.op == "input":
                lines.append(f"    v{n.id} = x.reshape(T * B, x.size(2))")
            else:
                lines.append(f"    v{n.id} = {elementwise(nm, n.id)[0]}")
        for part in (grp for grp in g.static_groups if grp.depth == d):
            name = f"xp{part.index}"
            bias = cat([f"p[{nm.biases[g.linear_nodes.index(lin)]}]" for lin in part.linears], 0)
            vals = cat([f"v{v}" for v in part.values], 1)
            lines.append(f"    {name} = linear({vals}, {nm.block_weight(part)}, {bias})")
            width[name] = len(part.linears)
            for pos, lin in enumerate(part.linears):
                where[lin] = (name, pos)
                if nodes[lin].static:
                    lines.append(f"    v{lin} = {name}.narrow(1, {pos} * H, H)")
    # the static part of each step group: a slice of one projection, or pieces
    p_parts = []
    for grp in g.groups:
        spots = [where.get(lin) for lin in grp.linears]
        names = {s[0] for s in spots if s is not None}
        positions = [s[1] for s in spots if s is not None]
        if (
            None not in spots
            and len(names) == 1
            and positions == list(range(positions[0], positions[0] + len(positions)))
        ):
            (name,) = names
            part = (
                name
                if len(positions) == width[name]
                else (f"{name}.narrow(1, {positions[0]} * H, {len(positions)} * H)")
            )
        else:
            pieces = []
            for lin, spot in zip(grp.linears, spots, strict=True):
                if spot is None:
                    b = nm.biases[g.linear_nodes.index(lin)]
                    pieces.append(f"p[{b}].expand(T * B, H)")
                else:
                    pieces.append(f"{spot[0]}.narrow(1, {spot[1]} * H, H)")
            part = cat(pieces, 1)
        p_parts.append(f"{part}.reshape(T, B, {len(grp.linears)} * H)")
    s_parts = [f"v{s}.reshape(T, B, -1)" for s in nm.step_static]
    # a step product's right operand [K, n * H]: the transposed view of linear's layout, the
    # cat's copy from whole rows (4 x [128, 128]: 27 us, against 95 us from transposed views)
    w_parts = [f"{nm.block_weight(grp)}.t()" for grp in g.groups]
    sc_parts = [f"p[{i}]" for i in nm.scale_params]
    for name, parts in (("P", p_parts), ("S", s_parts), ("W", w_parts), ("sc", sc_parts)):
        lines.append(f"    {name}: List[Tensor] = [{', '.join(parts)}]")
    lines.append("    return P, S, W, sc")
    return lines


def hidden_expr(nm: Names) -> str:
    if nm.biases:
        return f"p[{nm.biases[0]}].size(0)"
    if nm.scale_params:
        return f"p[{nm.scale_params[0]}].size(0)"
    return "x.size(2)"


# Inside the step, functions with a faster form on the fast path (``kernels.py``).
STEP_TEMPLATES = {"tanh": "_tanh({0}, NEG1, fast)"}


def step_template(fn: str) -> str | None:
    """The template of ``fn`` inside the time loop (the prologue uses ``FUNCTIONS``'s)."""
    return STEP_TEMPLATES.get(fn, FUNCTIONS[fn].template)


# Functions whose result can be written straight into a preallocated buffer.
OUT_TEMPLATES = {
    "tanh": "_tanh_out({0}, {out}, NEG1, fast)",
    "sigmoid": "torch.sigmoid({0}, out={out})",
    "mul": "torch.mul({0}, {1}, out={out})",
    "add": "torch.add({0}, {1}, out={out})",
    "sub": "torch.sub({0}, {1}, out={out})",
}


def elementwise(nm: Names, nid: int, out: str | None = None) -> tuple[str, bool]:
    """The expression of an element-wise or scale node; True when it writes into ``out``."""
    n = nm.g.nodes[nid]
    args = [nm.var(a) for a in n.args]
    if n.op == "scale":
        w = f"p[{nm.scale_params[n.param]}]" if n.static else f"sc{n.param}"
        return f"{w} * {args[0]}", False
    if nid in nm.fused:
        m = nm.fused[nid]
        other = nm.var(n.args[1 - n.args.index(m)])
        a, b = (nm.var(x) for x in nm.g.nodes[m].args)
        if out is not None:
            return f"torch.addcmul({other}, {a}, {b}, out={out})", True
        return f"torch.addcmul({other}, {a}, {b})", False
    if out is not None and n.op in OUT_TEMPLATES and all(nm.is_tensor(a) for a in n.args):
        return OUT_TEMPLATES[n.op].format(*args, out=out), True
    template = step_template(n.op) if not n.static else FUNCTIONS[n.op].template
    assert template is not None, n.op
    return template.format(*args), False


def gen_standalone(nm: Names, n_params: int) -> list[str]:
    """A self-contained module: plain scripted forward, parameters as attributes."""
    n_states = len(nm.g.cell.states)
    st_type = f"Tuple[{', '.join(['Tensor'] * n_states)}]"
    lines = [
        "class Layer(torch.nn.Module):",
        "    def __init__(self, params: List[Tensor]):",
        "        super().__init__()",
    ]
    lines += [f"        self.p{i} = torch.nn.Parameter(params[{i}])" for i in range(n_params)]
    lines += [
        "",
        f"    def forward(self, x: Tensor, state: Optional[{st_type}] = None) -> "
        f"Tuple[Tensor, {st_type}]:",
        f"        p: List[Tensor] = [{', '.join(f'self.p{i}' for i in range(n_params))}]",
        "        P, S, W, sc = prologue(x, p)",
        "        if state is None:",
        f"            H = {hidden_expr(nm)}",
        "            z = torch.zeros(x.size(1), H, dtype=x.dtype, device=x.device)",
        f"            st: List[Tensor] = [{', '.join(['z'] * n_states)}]",
        "        else:",
        f"            st = [{', '.join(f'state[{i}]' for i in range(n_states))}]",
        "        out, fin = loop(x.size(0), P, S, W, sc, st, False, False)",
        f"        return out, ({', '.join(f'fin[{i}]' for i in range(n_states))},)",
    ]
    return lines
