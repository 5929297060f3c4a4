"""What the forward loop saves for the backward pass through time: the buffers' layout.

``loop_save`` (``forward.py``) fills these buffers and ``loop_back``
(``backward.py``) reads them, in this order; both take the layout from here.
"""

from __future__ import annotations

from .codegen import Names
from .derivatives import ACTIVATION_JACOBIANS


def needs(nm: Names) -> list[int]:
    """Step nodes whose values the backward pass reads and that no run stack holds."""
    g, nodes = nm.g, nm.g.nodes
    want: list[int] = []
    for n in nodes:
        if n.static or n.op in ("input", "prev", "const", "linear"):
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
        if not nodes[a].static
        and nodes[a].op not in ("prev", "const")
        and a not in nm.produced
        and a not in g.state_values
    ]


def buffer_layout(nm: Names) -> list[tuple[str, object, str, str]]:
    """(buffer, what it holds, shape of a step, slot at step t) of every saved value, in
    ``saved`` order.

    States first (``ST{i}[t + 1]`` is the new value, ``ST{i}[t]`` the previous
    one), then each run of a step product (its activations' outputs; gate-major
    ``[count, B, H]`` per step where ``Names.gate_major``), the concatenated
    input of a product with several values, and the value of every other step
    node the backward pass reads (``needs``).
    """
    out = [(f"ST{i}", v, "B, H", "t + 1") for i, v in enumerate(nm.g.state_values)]
    for grp in nm.g.groups:
        for r, (kind, _, count) in enumerate(nm.runs(grp)):
            shape = f"{count}, B, H" if nm.gate_major(kind, count) else f"B, {count} * H"
            out.append((f"R{grp.index}_{r}", ("run", grp.index, r), shape, "t"))
        if len(grp.values) > 1:
            out.append((f"U{grp.index}", ("u", grp.index), f"B, {len(grp.values)} * H", "t"))
    out += [(f"N{nid}", nid, "B, H", "t") for nid in needs(nm)]
    return out
