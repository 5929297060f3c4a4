"""Generate the time loops: ``loop`` (plain) and ``loop_save`` (also saves for BPTT).

A step runs the schedule of ``Names.schedule``: element-wise nodes by depth,
and each group's matrix product once its values are known, followed by one
activation call per run of gates with the same activation (in ``loop_save``
written gate-major into its saved buffer, so each gate is a contiguous
``[B, H]``: ``Names.gate_major``).
"""

from __future__ import annotations

from .codegen import OUT_TEMPLATES, Names, cat, elementwise, literal, step_onednn, step_template
from .graph import Group
from .saved import buffer_layout


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
        f"sc: List[Tensor], state: List[Tensor], fast: bool, steps: bool) -> {ret}:",
        "    H = state[0].size(1)",
        "    B = state[0].size(0)",
        "    NEG1 = torch.full([1], -1.0, dtype=state[0].dtype, device=state[0].device)",
    ]
    lines += [f"    P{k} = P[{k}]" for k in range(len(g.groups))]
    lines += [f"    S{j} = S[{j}]" for j in range(len(nm.step_static))]
    # a step's product: torch.addmm(P[t], v, W) with W [K, n * H]; or, where oneDNN
    # takes it (``step_onednn``), its v @ W.t() with W [n * H, K] (the weights' cat), + P[t]
    for k in range(len(g.groups)):
        lines.append(f"    dnn{k} = {step_onednn(k)}")
        lines.append(f"    W{k} = W[{k}].t().contiguous() if dnn{k} else W[{k}].contiguous()")
    lines += [f"    sc{j} = sc[{j}]" for j in range(g.n_scales)]
    lines += [f"    s{i} = state[{i}]" for i in range(n_states)]
    targets: dict[object, list[str]] = {}  # node id or ("run"/"u", ...) -> buffer slots
    buffers = buffer_layout(nm) if save else []
    opts = "dtype=s0.dtype, device=s0.device"
    for buf, key, shape, slot in buffers:
        rows = "T + 1" if buf.startswith("ST") else "T"
        if isinstance(key, tuple) and key[0] == "run" and not nm.runs(g.groups[key[1]])[key[2]][0]:
            # a run without activation is a slice of its product: save the whole product
            k, (_, start, count) = key[1], nm.runs(g.groups[key[1]])[key[2]]
            if ("g", k) not in targets:
                lines.append(
                    f"    G{k} = torch.empty(T, B, {len(g.groups[k].linears)} * H, {opts})"
                )
                targets[("g", k)] = [f"G{k}[t]"]
            lines.append(f"    {buf} = G{k}.narrow(2, {start} * H, {count} * H)")
            continue
        lines.append(f"    {buf} = torch.empty({rows}, {shape}, {opts})")
        targets.setdefault(key, []).append(f"{buf}[{slot}]")
    lines += [f"    ST{i}[0] = s{i}" for i in range(n_states) if save]
    reused = []  # groups whose product goes into one step buffer, its runs' views made once
    for grp in g.groups if save else ():
        if ("g", grp.index) not in targets:  # every run has an activation writing its slot
            reused.append(grp.index)
            k, n = grp.index, len(grp.linears)
            lines.append(f"    g{k} = torch.empty(B, {n} * H, {opts})")
            runs = nm.runs(grp)
            lines += [
                f"    g{k}_{r} = {run_source(nm, grp, r, major=True)}" for r in range(len(runs))
            ]
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
            body += group_forward(nm, g.groups[idx], targets, done, idx in reused)
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


def run_source(nm: Names, grp: Group, r: int, major: bool) -> str:
    """The expression of run ``r``'s slice of the step product ``g{k}``; with ``major``, of
    a run of several gates gate-major, ``[count, B, H]`` (``Names.gate_major``)."""
    k, runs = grp.index, nm.runs(grp)
    kind, start, count = runs[r]
    src = f"g{k}" if len(runs) == 1 else f"g{k}.narrow(1, {start} * H, {count} * H)"
    if major and nm.gate_major(kind, count):
        src = f"{src}.view(B, {count}, H).transpose(0, 1)"
    return src


def group_forward(nm: Names, grp: Group, targets=None, done=None, reused=False) -> list[str]:
    """One step product: ``g = P[t] + values @ W``, then one activation call per run.

    ``reused``: the product goes into the step buffer ``g{k}`` and each run reads its
    view ``g{k}_{r}``, all made before the loop (``loop_save`` only: ``out=`` has no
    autograd, and every run's activation writes its saved slot, so no value of the
    step keeps a view of the buffer into the next step).
    """
    targets = targets or {}
    k = grp.index
    vals = cat([nm.var(v) for v in grp.values], 1)
    lines = []
    if len(grp.values) > 1:
        slot = targets.get(("u", k))
        lines.append(f"u{k} = {vals[:-1]}, out={slot[0]})" if slot else f"u{k} = {vals}")
        vals = f"u{k}"
    whole = targets.get(("g", k))
    out = whole[0] if whole else f"g{k}" if reused else None  # the product's buffer, if any
    onednn = f"torch.add(P{k}[t], onednn_mm({vals}, W{k}){f', out={out}' if out else ''})"
    addmm = f"torch.addmm(P{k}[t], {vals}, W{k}{f', out={out}' if out else ''})"
    assign = "" if reused and not whole else f"g{k} = "
    lines += [f"if dnn{k}:", f"    {assign}{onednn}", "else:", f"    {assign}{addmm}"]
    runs = nm.runs(grp)
    for r, (kind, start, count) in enumerate(runs):
        slot = targets.get(("run", k, r))
        major = slot is not None and nm.gate_major(kind, count)
        src = f"g{k}_{r}" if reused else run_source(nm, grp, r, major)
        if kind and slot and kind in OUT_TEMPLATES:
            lines.append(f"r{k}_{r} = {OUT_TEMPLATES[kind].format(src, out=slot[0])}")
        else:
            lines.append(f"r{k}_{r} = {step_template(kind).format(src) if kind else src}")
            if slot:
                lines.append(f"{slot[0]} = r{k}_{r}")
                if major:
                    lines.append(f"r{k}_{r} = {slot[0]}")
        members = nm.run_members(grp, start, count)
        if count == 1:
            lines.append(f"v{members[0]} = r{k}_{r}")
        else:
            split = "unbind(0)" if major else f"chunk({count}, 1)"
            lines.append(f"{', '.join(f'v{m}' for m in members)} = r{k}_{r}.{split}")
        for m in members:
            for s in targets.get(m, []):  # a run member that is also a state
                lines.append(f"{s} = v{m}")
            if done is not None:
                done.add(m)
    return lines
