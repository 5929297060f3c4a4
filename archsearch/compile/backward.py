"""Generate the backward pass through time (BPTT) of a compiled cell.

The forward loop (``codegen.gen_loop(save=True)``) stacks what this pass reads.
The generated ``loop_back`` walks the steps backwards and, inside a step, the
schedule backwards, accumulating each node's gradient from the templates of
``derivatives.py``. Why it is faster than autograd through the scripted loop:

- the Jacobians of activations depend only on saved outputs, so they are
  computed for all steps in one call before the loop;
- a step's matrix product gets one gradient tensor, written in place into a
  preallocated ``[T, B, n * H]`` buffer, which is also the gradient of the
  input projections; the weight gradients of all steps are then one large
  matrix product after the loop (instead of one small one per step).
"""

from __future__ import annotations

from .codegen import Names, cat, literal
from .derivatives import ACTIVATION_JACOBIANS, ARGUMENT_GRADIENTS


def needs(nm: Names) -> list[int]:
    """Step nodes whose per-step values the backward pass reads and that no run stack holds."""
    g, nodes = nm.g, nm.g.nodes
    want: list[int] = []
    for n in nodes:
        if n.static or n.op in ("input", "prev", "const") or n.op == "linear":
            continue
        if n.op in ("mul", "blend", "scale"):
            want += list(n.args)
        elif ACTIVATION_JACOBIANS.get(n.op) and n.id not in g.gate_of:
            want.append(n.id)
    for grp in g.groups:
        if len(grp.values) == 1:
            want += grp.values
    return [
        a
        for a in dict.fromkeys(want)
        if not nodes[a].static and nodes[a].op not in ("prev", "const") and a not in nm.produced
    ]


class _Back:
    """Emits the body of one backward step and remembers which saved values it reads."""

    def __init__(self, nm: Names) -> None:
        self.nm = nm
        self.g = nm.g
        self.contrib: dict[int, list[str]] = {}
        self.fetch: dict[int, None] = {}
        self.lines: list[str] = []
        self.run_of: dict[int, tuple[int, int, int, int]] = {}  # node -> (group, run, pos, count)
        for grp in self.g.groups:
            for r, (_, start, count) in enumerate(nm.runs(grp)):
                for pos, m in enumerate(nm.run_members(grp, start, count)):
                    self.run_of[m] = (grp.index, r, pos, count)

    def val(self, nid: int) -> str:
        node = self.g.nodes[nid]
        if node.op == "const" and not node.materialize:
            return literal(node.value)
        self.fetch[nid] = None
        return self.nm.var(nid)

    def all_steps(self, nid: int) -> str:
        """The saved value of a node for all steps, ``[T, B, size]``."""
        node = self.g.nodes[nid]
        if node.op == "prev":
            return f"ST{node.state}.narrow(0, 0, T)"
        if node.static:
            return f"S{self.nm.step_static.index(nid)}"
        if node.op == "const":
            return f"torch.full_like(dout, {literal(node.value)})"
        if nid in self.run_of:
            k, r, pos, count = self.run_of[nid]
            return f"R{k}_{r}" if count == 1 else f"R{k}_{r}.narrow(2, {pos} * H, H)"
        return f"N{nid}"

    def add(self, nid: int, expr: str) -> None:
        node = self.g.nodes[nid]
        if node.op == "const":
            return
        self.contrib.setdefault(nid, []).append(expr)

    def adjoint(self, nid: int) -> str | None:
        parts = self.contrib.get(nid)
        if not parts:
            return None
        if len(parts) == 1 and parts[0].isidentifier():
            return parts[0]
        self.lines.append(f"a{nid} = {' + '.join(parts)}")
        return f"a{nid}"

    def group(self, k: int) -> None:
        grp = self.g.groups[k]
        adjs = []
        for _, start, count in self.nm.runs(grp):
            for m in self.nm.run_members(grp, start, count):
                adjs.append(self.adjoint(m) or "torch.zeros_like(dout[0])")
        self.lines.append(f"dg{k} = DG{k}[t]")
        if any(grp.kinds):
            self.lines.append(f"torch.mul({cat(adjs, 1)}, JG{k}[t], out=dg{k})")
        elif len(adjs) == 1:
            self.lines.append(f"dg{k}.copy_({adjs[0]})")
        else:
            self.lines.append(f"torch.cat([{', '.join(adjs)}], 1, out=dg{k})")
        self.lines.append(f"du{k} = torch.mm(dg{k}, W{k}t)")
        if len(grp.values) == 1:
            self.add(grp.values[0], f"du{k}")
        else:
            names = [f"du{k}_{i}" for i in range(len(grp.values))]
            self.lines.append(f"{', '.join(names)} = du{k}.chunk({len(names)}, 1)")
            for v, name in zip(grp.values, names, strict=True):
                self.add(v, name)

    def node(self, nid: int) -> None:
        node = self.g.nodes[nid]
        if node.op == "const":
            return
        adj = self.adjoint(nid)
        if adj is None:
            return
        if node.op == "scale":
            self.lines.append(f"GS{node.param}[t] = {adj}")
            self.add(node.args[0], f"{adj} * sc{node.param}")
        elif node.op in ACTIVATION_JACOBIANS:
            jac = f"{adj} * J{nid}[t]" if ACTIVATION_JACOBIANS[node.op] else adj
            self.add(node.args[0], jac)
        else:
            tmpls = ARGUMENT_GRADIENTS[node.op]
            # fetch only the arguments the templates read (add and sub read none)
            vals = [
                self.val(a) if any(f"{{{i}}}" in t for t in tmpls) else ""
                for i, a in enumerate(node.args)
            ]
            for a, tmpl in zip(node.args, tmpls, strict=True):
                self.add(a, tmpl.format(*vals, g=adj))

    def fetch_lines(self) -> list[str]:
        out, done = [], set()
        for nid in self.fetch:
            node = self.g.nodes[nid]
            if nid in done:
                continue
            if node.op == "prev":
                out.append(f"s{node.state} = ST{node.state}[t]")
            elif node.static:
                out.append(f"v{nid} = S{self.nm.step_static.index(nid)}[t]")
            elif node.op == "const":
                out.append(f"v{nid} = torch.full_like(dout[0], {literal(node.value)})")
            elif nid in self.run_of:
                k, r, _, count = self.run_of[nid]
                grp = self.g.groups[k]
                _, start, _ = self.nm.runs(grp)[r]
                members = self.nm.run_members(grp, start, count)
                done.update(members)
                lhs = ", ".join(f"v{m}" for m in members)
                rhs = f"R{k}_{r}[t]" if count == 1 else f"R{k}_{r}[t].chunk({count}, 1)"
                out.append(f"{lhs} = {rhs}")
            else:
                out.append(f"v{nid} = N{nid}[t]")
        return out


def gen_backward(nm: Names) -> list[str]:
    from .codegen import saved_lists

    g, nodes = nm.g, nm.g.nodes
    n_states = len(g.cell.states)
    lines = [
        "def loop_back(dout: Tensor, dfinal: List[Tensor], saved: List[Tensor], "
        "S: List[Tensor], W: List[Tensor], sc: List[Tensor]) -> Tuple[List[Tensor], "
        "List[Tensor], List[Tensor], List[Tensor], List[Tensor]]:",
        "    T = dout.size(0)",
        "    B = dout.size(1)",
        "    H = dout.size(2)",
    ]
    names = [f"ST{i}" for i in range(n_states)] + [lst for lst, _ in saved_lists(nm)]
    lines += [f"    {name} = saved[{i}]" for i, name in enumerate(names)]
    lines += [f"    S{j} = S[{j}]" for j in range(len(nm.step_static))]
    lines += [f"    W{k}t = W[{k}].t()" for k in range(len(g.groups))]
    lines += [f"    sc{j} = sc[{j}]" for j in range(g.n_scales)]
    opts = "dtype=dout.dtype, device=dout.device"
    for n in needs(nm):  # Jacobians of all steps at once
        jac = ACTIVATION_JACOBIANS.get(nodes[n].op)
        if jac and n not in g.gate_of and nodes[n].op not in ("mul", "blend"):
            lines.append(f"    J{n} = {jac.format(y=f'N{n}')}")
    for grp in g.groups:
        k = grp.index
        if any(grp.kinds):
            parts = []
            for r, (kind, _, _) in enumerate(nm.runs(grp)):
                y = f"R{k}_{r}"
                parts.append(
                    ACTIVATION_JACOBIANS[kind].format(y=y) if kind else f"torch.ones_like({y})"
                )
            lines.append(f"    JG{k} = {cat(parts, 2)}")
        lines.append(f"    DG{k} = torch.empty(T, B, {len(grp.linears)} * H, {opts})")
    for j in range(len(nm.step_static)):
        lines.append(f"    dS{j} = torch.zeros(T, B, S{j}.size(2), {opts})")
    dyn_scales = [n for n in g.scale_nodes if not nodes[n].static]
    for n in dyn_scales:
        lines.append(f"    GS{nodes[n].param} = torch.zeros(T, B, H, {opts})")
    lines += [f"    d_s{i} = dfinal[{i}]" for i in range(n_states)]

    back = _Back(nm)
    for i, v in enumerate(g.state_values):
        back.add(v, f"d_s{i}")
    back.add(g.state_values[0], "dout[t]")
    for kind, idx in reversed(nm.schedule()):
        (back.group if kind == "group" else back.node)(idx)
    for j, s in enumerate(nm.step_static):
        adj = back.adjoint(s)
        if adj is not None:
            back.lines.append(f"dS{j}[t] = {adj}")
    carries = [back.adjoint(p) or f"torch.zeros_like(d_s{i})" for i, p in enumerate(g.prev)]
    back.lines.append(f"{', '.join(f'd_s{i}' for i in range(n_states))} = {', '.join(carries)}")
    lines.append("    for t in range(T - 1, -1, -1):")
    lines += ["        " + line for line in back.fetch_lines() + back.lines]

    dws = []
    for grp in g.groups:
        k = grp.index
        v = back.all_steps(grp.values[0]) if len(grp.values) == 1 else f"U{k}"
        dws.append(f"torch.mm({v}.reshape(T * B, -1).t(), DG{k}.reshape(T * B, -1))")
    dsc = []
    for j, n in enumerate(g.scale_nodes):
        if nodes[n].static:
            dsc.append(f"torch.zeros_like(sc{j})")
        else:
            dsc.append(f"(GS{j} * {back.all_steps(nodes[n].args[0])}).sum([0, 1])")
    dp = [f"DG{k}" for k in range(len(g.groups))]
    ds = [f"dS{j}" for j in range(len(nm.step_static))]
    dst = [f"d_s{i}" for i in range(n_states)]
    lines.append("    return (")
    for part in (dp, ds, dst, dws, dsc):
        lines.append(f"        [{', '.join(part)}],")
    lines.append("    )")
    return lines
