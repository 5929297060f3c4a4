"""Generate the backward pass through time (BPTT) of a compiled cell.

The forward loop (``forward.gen_loop(save=True)``) saves what this pass reads, in
the buffers ``saved.py`` lays out.
The generated ``loop_back`` walks the steps backwards and, inside a step, the
schedule backwards. Why it beats autograd through the scripted loop:

- every function is element-wise, so a node's gradient is *a step tensor
  times a product of factors* that depend only on saved values (Jacobians of
  activations, the other operand of a product ...). Gradients stay symbolic
  (``Adj``) while they flow through single-consumer nodes, and each product of
  factors is multiplied out for **a chunk of steps at once** (``CHUNK``) just
  before those steps: inside the loop only the sums where paths meet and the
  matrix products remain;
- a step's matrix product gets one gradient tensor, ``cat(adjoints) * KG[t]``
  (``KG``: each linear's Jacobian times its adjoint's factors, filled in place
  per chunk), written into a preallocated ``[T, B, n * H]`` buffer, which is
  also the gradient of the input projections; the weight gradients of all
  steps are then one large matrix product after the loop (instead of one small
  one per step). Per step only the sums' results and the product's are
  allocated (``[B, H]``, ``[B, K]``: memory glibc keeps, ``kernels.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .codegen import Names, literal, step_onednn
from .derivatives import ACTIVATION_JACOBIANS, ARGUMENT_FACTORS, jacobian
from .saved import buffer_layout

MAX_FACTORS = 4  # past this, a gradient is computed in the step (bounds the preamble's work)
OPTS = "dtype=dout.dtype, device=dout.device"  # of a buffer the backward pass allocates
# Steps per chunk: the backward pass multiplies out its factors (Jacobians, products, KG)
# for one chunk of steps at a time, just before walking those steps, so they are read
# back from the cache rather than from memory. Measured on the LSTM's forward + backward
# (T=50 B=32 X=64 H=128, ratio to nn.LSTM side by side, two runs): chunks of 2 steps 1.41,
# 4 steps 1.39 and 1.36, 8 steps 1.40 and 1.37, 25 steps 1.41, all 50 at once 1.44.
CHUNK = 4


@dataclass(frozen=True, order=True)
class Factor:
    """An all-steps expression; ``per_step``: indexed by ``[t]`` (else a float or ``[H]``)."""

    expr: str
    per_step: bool


@dataclass(frozen=True)
class Adj:
    """A gradient: the step tensor ``var`` times the product of ``factors``."""

    var: str
    factors: tuple[Factor, ...] = ()

    def times(self, f: Factor | None) -> Adj:
        return self if f is None else Adj(self.var, tuple(sorted((*self.factors, f))))


class _Back:
    """Emits the preamble and the body of one backward step."""

    def __init__(self, nm: Names) -> None:
        self.nm, self.g = nm, nm.g
        self.contrib: dict[int, list[Adj]] = {}
        self.pre: dict[str, str] = {}  # preamble: name -> expression (all steps)
        self.pre_fill: list[str] = []  # preamble statements after those: filling KG buffers
        self.products: dict[tuple[Factor, ...], str] = {}
        self.sums: dict[tuple[str, ...], str] = {}  # see merge
        self.lines: list[str] = []
        self.after: dict[int, str] = {}  # scale weight gradients, summed after each chunk
        self.run_of: dict[int, tuple[int, int, int, int]] = {}  # node -> (group, run, pos, count)
        for grp in self.g.groups:
            for r, (_, start, count) in enumerate(nm.runs(grp)):
                for pos, m in enumerate(nm.run_members(grp, start, count)):
                    self.run_of[m] = (grp.index, r, pos, count)

    def all_steps(self, nid: int, chunk: bool = True) -> Factor:
        """A node's saved value for the chunk's steps, ``[TC, B, size]`` (or a float);
        with ``chunk`` False, for all steps, ``[T, B, size]``."""
        node = self.g.nodes[nid]
        c, steps = ("c", "TC") if chunk else ("", "T")
        if node.op == "const":
            if not node.materialize:
                return Factor(literal(node.value), False)
            return Factor(f"torch.full_like(dout{c}, {literal(node.value)})", True)
        if node.op == "prev":
            return Factor(f"ST{c}{node.state}.narrow(0, 0, {steps})", True)
        if node.static:
            return Factor(f"S{c}{self.nm.step_static.index(nid)}", True)
        if nid in self.run_of:
            k, r, pos, count = self.run_of[nid]
            if count == 1:
                return Factor(f"R{c}{k}_{r}", True)
            kind = self.nm.runs(self.g.groups[k])[r][0]
            if self.nm.gate_major(kind, count):  # [T, count, B, H]
                return Factor(f"R{c}{k}_{r}.select(1, {pos})", True)
            return Factor(f"R{c}{k}_{r}.narrow(2, {pos} * H, H)", True)
        if nid in self.g.state_values:
            i = self.g.state_values.index(nid)
            return Factor(f"ST{c}{i}.narrow(0, 1, {steps})", True)
        return Factor(f"N{c}{nid}", True)

    def product(self, factors: tuple[Factor, ...]) -> str:
        """The name of the all-steps product of ``factors`` (multiplied out in the preamble)."""
        if len(factors) == 1 and factors[0].expr.isidentifier():
            return factors[0].expr
        if factors not in self.products:
            name = f"K{len(self.products)}"
            self.products[factors] = name
            self.pre[name] = " * ".join(f.expr for f in factors)
        return self.products[factors]

    def term(self, adj: Adj) -> tuple[str, str | None]:
        """(step tensor, its factor at step t or None)."""
        if not adj.factors:
            return adj.var, None
        name = self.product(adj.factors)
        return adj.var, f"{name}[tc]" if any(f.per_step for f in adj.factors) else name

    def merge(self, parts: list[Adj]) -> list[Adj]:
        """Parts on one step tensor become one: ``v * (K_a + K_b)``, the sum taken before the loop.

        (GRU: the gradient of z is ``a * (h - n)`` in one step op, not two.)
        """
        by_var: dict[str, list[Adj]] = {}
        for part in parts:
            by_var.setdefault(part.var, []).append(part)
        out = []
        for var, same in by_var.items():
            if len(same) == 1:
                out.append(same[0])
                continue
            terms = sorted(self.product(p.factors) if p.factors else "1.0" for p in same)
            per_step = any(f.per_step for p in same for f in p.factors)
            key = ("sum", *terms)
            if key not in self.sums:
                self.sums[key] = f"C{len(self.sums)}"
                self.pre[self.sums[key]] = " + ".join(terms)
            out.append(Adj(var, (Factor(self.sums[key], per_step),)))
        return out

    def materialize(self, parts: list[Adj], name: str, out: str | None = None) -> str:
        """Emit the sum of ``parts`` as ``name`` (or written into the slot ``out``)."""
        parts = sorted(self.merge(parts), key=lambda a: len(a.factors))
        var, k = self.term(parts[0])
        last = None  # (function, arguments) of a final product by a step factor (takes out=)
        acc = var
        if k is not None and k.endswith("[tc]"):
            acc, last = f"{var} * {k}", ("torch.mul", f"{var}, {k}")
        elif k is not None:
            acc = f"{var} * {k}"
        for part in parts[1:]:
            var, k = self.term(part)
            if k is None:
                acc, last = f"{acc} + {var}", None
            elif k.endswith("[tc]"):
                acc, last = (
                    f"torch.addcmul({acc}, {var}, {k})",
                    ("torch.addcmul", f"{acc}, {var}, {k}"),
                )
            else:
                acc, last = f"{acc} + {var} * {k}", None
        if out is not None:
            if last is not None:  # a product with a step factor: written straight into out
                self.lines.append(f"{last[0]}({last[1]}, out={out})")
            else:
                self.lines.append(f"{out} = {acc}")
            return out
        if acc.isidentifier():
            return acc
        self.lines.append(f"{name} = {acc}")
        return name

    def add(self, nid: int, adj: Adj) -> None:
        if self.g.nodes[nid].op != "const":
            self.contrib.setdefault(nid, []).append(adj)

    def adjoint(self, nid: int) -> Adj | None:
        parts = self.contrib.get(nid)
        if not parts:
            return None
        parts = self.merge(parts)
        if len(parts) == 1 and len(parts[0].factors) < MAX_FACTORS:
            return parts[0]
        return Adj(self.materialize(parts, f"a{nid}"))

    def group(self, k: int) -> None:
        """A step product's gradient ``dg = cat(adjoints) * KG[tc]``, where ``KG`` (the chunk's)
        holds each linear's Jacobian times the factors of its adjoint."""
        grp = self.g.groups[k]
        adjs, fill, scaled = [], [], False
        for r, (kind, start, count) in enumerate(self.nm.runs(grp)):
            if kind:  # one Jacobian call per run of gates, written into its slice of KG
                run = f"KG{k}.narrow(2, {start} * H, {count} * H)"
                if self.nm.gate_major(kind, count):  # R is [T, count, B, H]
                    run = f"{run}.view(TC, B, {count}, H).transpose(1, 2)"
                fill.append(jacobian(kind, f"Rc{k}_{r}", out=run))
            for pos, m in enumerate(self.nm.run_members(grp, start, count), start):
                adj = self.adjoint(m) or Adj("torch.zeros_like(dout[0])")
                adjs.append(adj.var)
                slot = f"KG{k}.narrow(2, {pos} * H, H)"
                if not kind:
                    fill.append(f"{slot}.fill_(1.0)")
                fill += [f"{slot}.mul_({f.expr})" for f in adj.factors]
                scaled = scaled or bool(kind or adj.factors)
        self.lines.append(f"dg{k} = DG{k}[t]")
        self.lines.append(
            f"dg{k}.copy_({adjs[0]})"
            if len(adjs) == 1
            else f"torch.cat([{', '.join(adjs)}], 1, out=dg{k})"
        )
        if scaled:  # else every block of KG would be 1
            n = len(grp.linears)
            self.pre_fill += [f"KG{k} = torch.empty(TC, B, {n} * H, {OPTS})", *fill]
            self.lines.append(f"dg{k}.mul_(KG{k}[tc])")
        self.lines.append(f"du{k} = onednn_mm(dg{k}, W{k}t) if dnn{k} else torch.mm(dg{k}, W{k}t)")
        if len(grp.values) == 1:
            self.add(grp.values[0], Adj(f"du{k}"))
        else:
            names = [f"du{k}_{i}" for i in range(len(grp.values))]
            self.lines.append(f"{', '.join(names)} = du{k}.chunk({len(names)}, 1)")
            for v, name in zip(grp.values, names, strict=True):
                self.add(v, Adj(name))

    def node(self, nid: int) -> None:
        node = self.g.nodes[nid]
        adj = None if node.op == "const" else self.adjoint(nid)
        if adj is None:
            return
        if node.op == "scale":
            j = node.param
            # the weight's gradient: sum over steps and batch of (gradient * argument)
            self.lines.append(f"GS{j}[t] = {adj.var}")
            factors = adj.factors + (self.all_steps(node.args[0]),)
            self.after[j] = f"(GSc{j} * {' * '.join(f.expr for f in factors)}).sum([0, 1])"
            self.add(node.args[0], adj.times(Factor(f"sc{j}", False)))
        elif node.op in ACTIVATION_JACOBIANS:
            jac = ACTIVATION_JACOBIANS[node.op]
            if jac:
                self.pre[f"J{nid}"] = jacobian(node.op, self.all_steps(nid).expr)
            self.add(node.args[0], adj.times(Factor(f"J{nid}", True) if jac else None))
        else:
            vals = [self.all_steps(a) for a in node.args]
            for a, tmpl in zip(node.args, ARGUMENT_FACTORS[node.op], strict=True):
                if tmpl == "":
                    factor = None
                elif tmpl == "-1":
                    factor = Factor("(-1.0)", False)
                else:
                    used = [v for i, v in enumerate(vals) if f"{{{i}}}" in tmpl]
                    expr = tmpl.format(*(v.expr for v in vals))
                    factor = Factor(expr, any(v.per_step for v in used))
                self.add(a, adj.times(factor))


def gen_backward(nm: Names) -> list[str]:
    g, nodes = nm.g, nm.g.nodes
    n_states = len(g.cell.states)
    back = _Back(nm)
    for i, v in enumerate(g.state_values):
        back.add(v, Adj(f"d_s{i}"))
    back.add(g.state_values[0], Adj("dout[t]"))
    for kind, idx in reversed(nm.schedule()):
        (back.group if kind == "group" else back.node)(idx)
    for j, s in enumerate(nm.step_static):
        parts = back.contrib.get(s)
        if parts:
            back.materialize(parts, f"a{s}", out=f"dS{j}[t]")
    carries = []
    for i, p in enumerate(g.prev):
        parts = back.contrib.get(p)
        carries.append(back.materialize(parts, f"a{p}") if parts else f"torch.zeros_like(d_s{i})")
    back.lines.append(f"{', '.join(f'd_s{i}' for i in range(n_states))} = {', '.join(carries)}")

    lines = [
        "def loop_back(dout: Tensor, dfinal: List[Tensor], saved: List[Tensor], "
        "S: List[Tensor], W: List[Tensor], sc: List[Tensor], fast: bool, steps: bool) -> "
        "Tuple[List[Tensor], "
        "List[Tensor], List[Tensor], List[Tensor], List[Tensor]]:",
        "    T = dout.size(0)",
        "    B = dout.size(1)",
        "    H = dout.size(2)",
    ]
    names = [buf for buf, _, _, _ in buffer_layout(nm)]
    lines += [f"    {name} = saved[{i}]" for i, name in enumerate(names)]
    lines += [f"    S{j} = S[{j}]" for j in range(len(nm.step_static))]
    # W is [K, n * H] (the forward's right operand), the transposed view of the weights'
    # cat; du = dg @ W^T: torch.mm's right operand W^T is that cat (no copy), oneDNN's
    # (which computes a @ w.t()) W made contiguous
    for k in range(len(g.groups)):
        lines.append(f"    dnn{k} = {step_onednn(k)}")
        lines.append(f"    W{k}t = W[{k}].contiguous() if dnn{k} else W[{k}].t().contiguous()")
    lines += [f"    sc{j} = sc[{j}]" for j in range(g.n_scales)]
    lines.append(f"    ONE = torch.ones([1], {OPTS})")
    for grp in g.groups:
        lines.append(f"    DG{grp.index} = torch.empty(T, B, {len(grp.linears)} * H, {OPTS})")
    for j in range(len(nm.step_static)):
        lines.append(f"    dS{j} = torch.zeros(T, B, S{j}.size(2), {OPTS})")
    for n in g.scale_nodes:
        if not nodes[n].static:
            lines.append(f"    GS{nodes[n].param} = torch.zeros(T, B, H, {OPTS})")
    lines += [f"    DSC{j} = torch.zeros_like(sc{j})" for j in back.after]
    lines += [f"    d_s{i} = dfinal[{i}]" for i in range(n_states)]
    return lines + chunked_loop(nm, back) + results(nm, back)


def chunked_loop(nm: Names, back: _Back) -> list[str]:
    """The steps backwards, a chunk of ``CHUNK`` at a time: the chunk's views of the saved
    buffers, its factors multiplied out, its steps, its scale gradients summed."""
    # Jacobians first: the products (K*) read them; then the KG buffers, which read both
    order = sorted(back.pre, key=lambda n: not n.startswith("J"))
    pre = [f"{name} = {back.pre[name]}" for name in order] + back.pre_fill
    after = [f"DSC{j}.add_({expr})" for j, expr in back.after.items()]
    lines = [
        f"    for c in range((T + {CHUNK} - 1) // {CHUNK} - 1, -1, -1):  # last first",
        f"        t0 = c * {CHUNK}",
        f"        TC = min({CHUNK}, T - t0)",
    ]
    lines += [f"        {view}" for view in chunk_views(nm, "\n".join(pre + back.lines + after))]
    lines += [f"        {line}" for line in pre]
    lines.append("        for tc in range(TC - 1, -1, -1):")
    lines.append("            t = t0 + tc")
    lines += [f"            {line}" for line in back.lines]
    return lines + [f"        {line}" for line in after]


def results(nm: Names, back: _Back) -> list[str]:
    """The return: gradients of P, S, the initial states, W (one product each) and sc."""
    g = nm.g
    dws = []
    for grp in g.groups:
        k = grp.index
        v = back.all_steps(grp.values[0], chunk=False).expr if len(grp.values) == 1 else f"U{k}"
        # dW [K, n * H] = V^T @ DG over all steps: one product after the loop, returned as
        # the transposed view of a contiguous [n * H, K], the layout of the weights it reaches
        # (W is the transposed view of their cat): each weight's gradient is then whole rows
        # (the LSTM's 4 x [128, 128] accumulated in 20 us, 161 us as transposed views)
        dw = f"_mm_all({v}.reshape(T * B, -1).t(), DG{k}.reshape(T * B, -1), fast)"
        dws.append(f"{dw}.t().contiguous().t()")
    dsc = [f"DSC{j}" if j in back.after else f"torch.zeros_like(sc{j})" for j in range(g.n_scales)]
    dp = [f"DG{k}" for k in range(len(g.groups))]
    ds = [f"dS{j}" for j in range(len(nm.step_static))]
    dst = [f"d_s{i}" for i in range(len(g.cell.states))]
    lines = ["    return ("]
    lines += [f"        [{', '.join(part)}]," for part in (dp, ds, dst, dws, dsc)]
    return lines + ["    )"]


def chunk_views(nm: Names, code: str) -> list[str]:
    """The chunk's views (``STc0``, ``Rc0_1``, ``doutc`` ...) of the buffers ``code`` reads:
    steps ``t0 .. t0 + TC - 1`` (and ``t0 + TC`` of a state's stack: its new values)."""
    states = len(nm.g.state_values)
    views = [("doutc", "dout", "TC")]
    views += [(f"STc{i}", f"ST{i}", "TC + 1") for i in range(states)]
    views += [(f"{buf[0]}c{buf[1:]}", buf, "TC") for buf, *_ in buffer_layout(nm)[states:]]
    views += [(f"Sc{j}", f"S{j}", "TC") for j in range(len(nm.step_static))]
    scales = [nm.g.nodes[n] for n in nm.g.scale_nodes]
    views += [(f"GSc{n.param}", f"GS{n.param}", "TC") for n in scales if not n.static]
    return [
        f"{name} = {buf}.narrow(0, t0, {steps})"
        for name, buf, steps in views
        if re.search(rf"\b{name}\b", code)
    ]
