"""Generate the TorchScript-compatible source of a compiled cell: prologue and forward loops.

Everything emitted comes from the analysed graph and from templates (the
function table's, ours): identifiers are generated (``v3``, ``s0``, ``W1``),
numbers are ``repr`` of floats, and no text of the cell is ever pasted in.

The generated module defines:

- ``prologue(x, p)``: from the input ``[T, B, X]`` and the flat parameter list,
  every static value for all steps at once: the input projections of every
  linear (one matrix product per static group, bias included), the static
  values the step reads, and the block weights of the step's matrix products.
- ``loop(T, P, S, W, sc, state)``: the time loop, returning outputs and states.
- ``loop_save``: the same loop, also returning what the generated backward
  pass (``backward.py``) needs.
- ``Layer``: a standalone ``nn.Module`` for saving.
"""

from __future__ import annotations

import math

from archsearch.cell.functions import FUNCTIONS

from .derivatives import has_derivative
from .graph import Graph, Group

HEADER = "import torch\nfrom typing import List, Optional, Tuple\nfrom torch import Tensor\n"


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
            if d < len(self.g.groups):
                items.append(("group", d))
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

    def run_members(self, group: Group, start: int, count: int) -> list[int]:
        """The node each linear of a run yields: its activation for a gate, else itself."""
        lins = group.linears[start : start + count]
        return [self.gate_acts.get(lin, lin) for lin in lins]

    def block_weight(self, group: Group, static: bool) -> str:
        """The block matrix ``[sum of value sizes, n * H]`` of a group, from the flat list ``p``."""
        nodes = self.g.nodes
        rows = []
        for val in group.values:
            size = "x.size(2)" if nodes[val].op == "input" else "H"
            cols = []
            for lin in group.linears:
                idx = self.g.linear_nodes.index(lin)
                ws = [
                    f"p[{self.weights[idx][pos]}].t()"
                    for pos, a in enumerate(nodes[lin].args)
                    if a == val
                ]
                cols.append(" + ".join(ws) if ws else f"p[0].new_zeros([{size}, H])")
            rows.append(cols[0] if len(cols) == 1 else f"torch.cat([{', '.join(cols)}], 1)")
        _ = static
        return rows[0] if len(rows) == 1 else f"torch.cat([{', '.join(rows)}], 0)"


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
    where: dict[int, tuple[int, int]] = {}  # linear -> (static group, position)
    for sg in g.static_groups:
        for pos, lin in enumerate(sg.linears):
            where[lin] = (sg.index, pos)
    max_sdepth = max((n.depth for n in nodes if n.static), default=0)
    for d in range(max_sdepth + 1):
        for n in nodes:
            if not n.static or n.depth != d or n.op == "linear":
                continue
            if n.op == "input":
                lines.append(f"    v{n.id} = x.reshape(T * B, x.size(2))")
            else:
                lines.append(f"    v{n.id} = {elementwise(nm, n.id)[0]}")
        if d < len(g.static_groups):
            sg = g.static_groups[d]
            bias = cat([f"p[{nm.biases[g.linear_nodes.index(lin)]}]" for lin in sg.linears], 0)
            vals = cat([f"v{v}" for v in sg.values], 1)
            lines.append(f"    xp{d} = torch.addmm({bias}, {vals}, {nm.block_weight(sg, True)})")
            for pos, lin in enumerate(sg.linears):
                if nodes[lin].static:
                    lines.append(f"    v{lin} = xp{d}.narrow(1, {pos} * H, H)")
    # the static part of each step group: a slice of one projection, or pieces
    p_parts = []
    for grp in g.groups:
        spots = [where.get(lin) for lin in grp.linears]
        sgs = {s[0] for s in spots if s is not None}
        positions = [s[1] for s in spots if s is not None]
        if (
            None not in spots
            and len(sgs) == 1
            and positions == list(range(positions[0], positions[0] + len(positions)))
        ):
            (k,) = sgs
            width = len(g.static_groups[k].linears)
            part = (
                f"xp{k}"
                if len(positions) == width
                else (f"xp{k}.narrow(1, {positions[0]} * H, {len(positions)} * H)")
            )
        else:
            pieces = []
            for lin, spot in zip(grp.linears, spots, strict=True):
                if spot is None:
                    b = nm.biases[g.linear_nodes.index(lin)]
                    pieces.append(f"p[{b}].expand(T * B, H)")
                else:
                    pieces.append(f"xp{spot[0]}.narrow(1, {spot[1]} * H, H)")
            part = cat(pieces, 1)
        p_parts.append(f"{part}.reshape(T, B, {len(grp.linears)} * H)")
    s_parts = [f"v{s}.reshape(T, B, -1)" for s in nm.step_static]
    w_parts = [nm.block_weight(grp, False) for grp in g.groups]
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


# Functions whose result can be written straight into a preallocated buffer.
OUT_TEMPLATES = {
    "tanh": "torch.tanh({0}, out={out})",
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
    template = FUNCTIONS[n.op].template
    assert template is not None, n.op
    return template.format(*args), False


def gen_loop(nm: Names, save: bool) -> list[str]:
    """The time loop; with ``save`` it also fills the buffers the backward pass reads.

    Saved values are written straight into preallocated ``[T, B, ...]`` buffers
    (``out=``) where the function allows, else copied there: no stacking after.
    """
    g, nodes = nm.g, nm.g.nodes
    n_states = len(g.cell.states)
    name = "loop_save" if save else "loop"
    ret = "Tuple[Tensor, List[Tensor], List[Tensor]]" if save else "Tuple[Tensor, List[Tensor]]"
    lines = [
        f"def {name}(T: int, P: List[Tensor], S: List[Tensor], W: List[Tensor], "
        f"sc: List[Tensor], state: List[Tensor]) -> {ret}:",
        "    H = state[0].size(1)",
        "    B = state[0].size(0)",
    ]
    lines += [f"    P{k} = P[{k}]" for k in range(len(g.groups))]
    lines += [f"    S{j} = S[{j}]" for j in range(len(nm.step_static))]
    lines += [f"    W{k} = W[{k}]" for k in range(len(g.groups))]
    lines += [f"    sc{j} = sc[{j}]" for j in range(g.n_scales)]
    lines += [f"    s{i} = state[{i}]" for i in range(n_states)]
    targets: dict[object, list[str]] = {}  # node id or ("run"/"u", ...) -> buffer slots
    buffers = buffer_layout(nm) if save else []
    opts = "dtype=s0.dtype, device=s0.device"
    for buf, key, width, slot in buffers:
        rows = "T + 1" if buf.startswith("ST") else "T"
        lines.append(f"    {buf} = torch.empty({rows}, B, {width}, {opts})")
        targets.setdefault(key, []).append(f"{buf}[{slot}]")
    lines += [f"    ST{i}[0] = s{i}" for i in range(n_states) if save]
    if not save:
        lines.append("    out: List[Tensor] = []")
    lines.append("    for t in range(T):")
    body = []
    for j, s in enumerate(nm.step_static):
        body.append(f"v{s} = S{j}[t]")
    done: set = set()

    def store(key, var: str, wrote: bool) -> None:
        for slot in targets.get(key, [])[1 if wrote else 0 :]:
            body.append(f"{slot} = {var}")
        done.add(key)

    for kind, idx in nm.schedule():
        if kind == "group":
            body += group_forward(nm, g.groups[idx], targets, done)
            continue
        n = nodes[idx]
        if idx in nm.fused.values():  # computed by the addcmul of its consumer
            continue
        if n.op == "const":
            body.append(f"v{idx} = torch.full_like(s0, {literal(n.value)})")
            store(idx, f"v{idx}", False)
            continue
        slots = targets.get(idx)
        expr, wrote = elementwise(nm, idx, slots[0] if slots else None)
        body.append(f"v{idx} = {expr}")
        store(idx, f"v{idx}", wrote)
    for key in targets:  # states that are previous values or static values
        if key not in done and isinstance(key, int):
            store(key, nm.var(key), False)
    news = [nm.var(v) for v in g.state_values]
    if not save:
        body.append(f"out.append({news[0]})")
    body.append(f"{', '.join(f's{i}' for i in range(n_states))} = {', '.join(news)}")
    lines += ["        " + b for b in body]
    finals = ", ".join(f"s{i}" for i in range(n_states))
    if save:
        lines.append(f"    saved: List[Tensor] = [{', '.join(b[0] for b in buffers)}]")
        lines.append(f"    return ST0[1:], [{finals}], saved")
    else:
        lines.append(f"    return torch.stack(out), [{finals}]")
    return lines


def group_forward(nm: Names, grp: Group, targets=None, done=None) -> list[str]:
    """One step product: ``g = P[t] + values @ W``, then one activation call per run."""
    targets = targets or {}
    k = grp.index
    vals = cat([nm.var(v) for v in grp.values], 1)
    lines = []
    if len(grp.values) > 1:
        slot = targets.get(("u", k))
        lines.append(f"u{k} = {vals[:-1]}, out={slot[0]})" if slot else f"u{k} = {vals}")
        vals = f"u{k}"
    lines.append(f"g{k} = torch.addmm(P{k}[t], {vals}, W{k})")
    runs = nm.runs(grp)
    for r, (kind, start, count) in enumerate(runs):
        src = f"g{k}" if len(runs) == 1 else f"g{k}.narrow(1, {start} * H, {count} * H)"
        slot = targets.get(("run", k, r))
        if kind and slot and kind in OUT_TEMPLATES:
            lines.append(f"r{k}_{r} = {OUT_TEMPLATES[kind].format(src, out=slot[0])}")
        else:
            lines.append(f"r{k}_{r} = {FUNCTIONS[kind].template.format(src) if kind else src}")
            if slot:
                lines.append(f"{slot[0]} = r{k}_{r}")
        members = nm.run_members(grp, start, count)
        if count == 1:
            lines.append(f"v{members[0]} = r{k}_{r}")
        else:
            lines.append(f"{', '.join(f'v{m}' for m in members)} = r{k}_{r}.chunk({count}, 1)")
        for m in members:
            for s in targets.get(m, []):  # a run member that is also a state
                lines.append(f"{s} = v{m}")
            if done is not None:
                done.add(m)
    return lines


def buffer_layout(nm: Names) -> list[tuple[str, object, str, str]]:
    """(buffer, what it holds, width, slot at step t) of every saved value, in ``saved`` order.

    States first (``ST{i}[t + 1]`` is the new value, ``ST{i}[t]`` the previous
    one), then each run of a step product (its activations' outputs), the
    concatenated input of a product with several values, and the value of
    every other step node the backward pass reads (see ``backward.needs``).
    """
    from .backward import needs  # one definition of what the backward pass reads

    out = [(f"ST{i}", v, "H", "t + 1") for i, v in enumerate(nm.g.state_values)]
    for grp in nm.g.groups:
        for r, (_, _, count) in enumerate(nm.runs(grp)):
            out.append((f"R{grp.index}_{r}", ("run", grp.index, r), f"{count} * H", "t"))
        if len(grp.values) > 1:
            out.append((f"U{grp.index}", ("u", grp.index), f"{len(grp.values)} * H", "t"))
    out += [(f"N{nid}", nid, "H", "t") for nid in needs(nm)]
    return out


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
        "        out, fin = loop(x.size(0), P, S, W, sc, st)",
        f"        return out, ({', '.join(f'fin[{i}]' for i in range(n_states))},)",
    ]
    return lines
