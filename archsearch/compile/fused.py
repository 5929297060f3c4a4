"""Cells that are exactly torch's LSTM or GRU run on torch's fused kernels (oneDNN, cuDNN).

A search trains the reference cells (``lstm``, ``lstm_b``, ``greff_np``,
``gru``, and any mutant that lands on their structure) more often than any
other. ``match`` recognises the two structures on the step graph, whatever the
names, the statement order, the operand order of ``+`` and ``*`` and of
``linear(x, h)``, and the biases' initial values:

    LSTM (states h, c):  c' = sigmoid(Lf) * c + sigmoid(Li) * tanh(Lg)
                         h' = sigmoid(Lo) * tanh(c')
    GRU (state h):       n  = tanh(Lnx + sigmoid(Lr) * Lnh)
                         h' = (1 - sigmoid(Lz)) * n + sigmoid(Lz) * h

with ``L = W_x x + W_h h + b`` each its own ``linear`` (``Lnx`` of x alone,
``Lnh`` of h alone). Such a layer stacks its weights in torch's gate order at
every call, so they stay the layer's own parameters in source order, and calls
``torch.lstm`` / ``torch.gru`` where that kernel is the faster
(``TORCH_KERNEL_FASTER``): the LSTM on every device (oneDNN's fused LSTM on
CPU, cuDNN on CUDA), the GRU on CUDA only (cuDNN). On CPU torch's GRU is a
per-step composite of aten ops under autograd, and the generated loop beats it
at every size measured. Then such a layer runs at ``torch.nn.LSTM``'s /
``torch.nn.GRU``'s speed (the weights' ``cat`` aside; ``scripts/bench_cells.py``
measures it beside torch's and beside the generated loop) and gives their
results: the tests compare it with the eager backend and the generated loop,
forward and gradients, the GRU's kernel included. ``compile_cell(...,
fused=False)`` keeps the generated loop everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .graph import Graph


@dataclass(frozen=True)
class Fused:
    """Indices into the flat parameter list, stacked in torch's gate order.

    ``b_hh`` entries are ``None`` where torch's second bias has no counterpart
    in the cell (it stays zero).
    """

    kind: str  # "lstm" (gates i, f, g, o) or "gru" (r, z, n)
    w_ih: tuple[int, ...]
    w_hh: tuple[int, ...]
    b_ih: tuple[int, ...]
    b_hh: tuple[int | None, ...]


# Device types on which torch's kernel beats the generated loop, per kind. Measured forward +
# backward, one thread, 2-core AMD EPYC (Zen 5), 2026-12-07 (``scripts/bench_cells.py``, two
# runs): the LSTM loop took 1.62x to 1.65x nn.LSTM's time at T=50 B=32 X=64 H=128; the GRU
# loop 0.72x to 0.75x nn.GRU's there, and at the presets' shapes 0.83x to 0.86x (smoke,
# H=32), 0.71x to 0.76x (quick, H=128), 0.50x to 0.55x (paper, H=300 and 650), while the GRU
# on torch's kernel ran at 0.99x to 1.06x (on an earlier AMD EPYC the GRU loop 0.89x-0.91x)
TORCH_KERNEL_FASTER = {"lstm": frozenset({"cpu", "cuda"}), "gru": frozenset({"cuda"})}


def on_torch_kernel(layout: Fused | None, device_type: str) -> bool:
    """Whether a layer of this layout runs on torch's kernel on this device type."""
    return layout is not None and device_type in TORCH_KERNEL_FASTER[layout.kind]


class _Matcher:
    """Structural questions about a step graph's nodes."""

    def __init__(self, graph: Graph, weights: list[list[int]], biases: list[int]) -> None:
        self.g, self.nodes = graph, graph.nodes
        self.weights, self.biases = weights, biases
        self.index = {lin: i for i, lin in enumerate(graph.linear_nodes)}

    def op(self, nid: int, name: str) -> tuple[int, ...] | None:
        return self.nodes[nid].args if self.nodes[nid].op == name else None

    def linear(self, nid: int, reads: tuple[str, ...]) -> int | None:
        """``nid`` when it is a linear of exactly these leaves (sorted: "input", "prev")."""
        args = self.op(nid, "linear")
        if args is None or tuple(sorted(self.nodes[a].op for a in args)) != reads:
            return None
        if "prev" in reads and self.g.prev[0] not in args:
            return None  # the previous h, not another state
        return nid

    def gate(self, nid: int, act: str) -> int | None:
        """The linear of x and h under ``act(...)``."""
        args = self.op(nid, act)
        return None if args is None else self.linear(args[0], ("input", "prev"))

    def product(self, nid: int, first: str, second: str | int):
        """(a, b) for ``nid = a * b``: ``a`` of op ``first``, ``b`` of op or node ``second``."""
        args = self.op(nid, "mul")
        for a, b in (args, args[::-1]) if args else ():
            if self.nodes[a].op == first and second in (self.nodes[b].op, b):
                return a, b
        return None

    def param(self, lin: int, leaf: str) -> int:
        """The flat index of a linear's weight of its ``leaf`` ("input" or "prev") argument."""
        order = [self.nodes[a].op for a in self.nodes[lin].args]
        return self.weights[self.index[lin]][order.index(leaf)]

    def bias(self, lin: int) -> int:
        return self.biases[self.index[lin]]


def match(graph: Graph, weights: list[list[int]], biases: list[int]) -> Fused | None:
    """The layout when ``graph`` is exactly torch's LSTM or GRU, else None.

    ``weights`` and ``biases`` are ``codegen.param_layout``'s, per linear in source order.
    """
    if graph.n_scales or graph.n_linears != 4 or len(graph.state_values) > 2:
        return None
    m = _Matcher(graph, weights, biases)
    return _lstm(m) if len(graph.state_values) == 2 else _gru(m)


def _lstm(m: _Matcher) -> Fused | None:
    h_new, c_new = m.g.state_values
    out = m.product(h_new, "sigmoid", "tanh")
    terms = m.op(c_new, "add")
    if out is None or m.op(out[1], "tanh") != (c_new,) or terms is None:
        return None
    gates = None
    for a, b in (terms, terms[::-1]):
        forget, update = m.product(a, "sigmoid", m.g.prev[1]), m.product(b, "sigmoid", "tanh")
        if forget and update:
            gates = (
                m.gate(update[0], "sigmoid"),
                m.gate(forget[0], "sigmoid"),
                m.gate(update[1], "tanh"),
                m.gate(out[0], "sigmoid"),
            )
            break
    if gates is None or None in gates or len(set(gates)) != 4:
        return None
    return Fused(
        "lstm",
        tuple(m.param(g, "input") for g in gates),
        tuple(m.param(g, "prev") for g in gates),
        tuple(m.bias(g) for g in gates),
        (None,) * 4,
    )


def _gru(m: _Matcher) -> Fused | None:
    (h_new,), (prev_h,) = m.g.state_values, m.g.prev
    terms = m.op(h_new, "add")
    for a, b in (terms, terms[::-1]) if terms else ():
        keep, update = m.product(b, "sigmoid", prev_h), m.product(a, "sub", "tanh")
        if not keep or not update or m.op(update[0], "sub") != (_one(m), keep[0]):
            continue
        inner = m.op(m.op(update[1], "tanh")[0], "add")
        for u, v in (inner, inner[::-1]) if inner else ():
            reset = m.product(v, "sigmoid", "linear")
            lnx = m.linear(u, ("input",))
            lnh = reset and m.linear(reset[1], ("prev",))
            lr, lz = reset and m.gate(reset[0], "sigmoid"), m.gate(keep[0], "sigmoid")
            gates = (lr, lz, lnx, lnh)
            if None in gates or len(set(gates)) != 4:
                continue
            return Fused(
                "gru",
                (m.param(lr, "input"), m.param(lz, "input"), m.param(lnx, "input")),
                (m.param(lr, "prev"), m.param(lz, "prev"), m.param(lnh, "prev")),
                (m.bias(lr), m.bias(lz), m.bias(lnx)),
                (None, None, m.bias(lnh)),
            )
    return None


def _one(m: _Matcher) -> int | None:
    """The node of the constant 1, if the cell has one."""
    return next((n.id for n in m.nodes if n.op == "const" and n.value == 1.0), None)


def run_fused(layout: Fused, x: torch.Tensor, state: list | None, params: list):
    """``(outputs [T, B, H], final states)`` through torch's kernel, with the layer's parameters.

    ``state`` None: zeros (made here in the kernel's ``[1, B, H]``)."""
    w_ih = torch.cat([params[i] for i in layout.w_ih], 0)  # [G * H, X]
    w_hh = torch.cat([params[i] for i in layout.w_hh], 0)  # [G * H, H]
    b_ih = torch.cat([params[i] for i in layout.b_ih], 0)  # [G * H]
    weights = [w_ih, w_hh, b_ih, _second_bias(layout.b_hh, params, b_ih)]
    if state is None:
        zero = x.new_zeros(1, x.size(1), b_ih.size(0) // len(layout.b_ih))
        hx = [zero] * (2 if layout.kind == "lstm" else 1)
    else:
        hx = [s.unsqueeze(0) for s in state]
    # train: the kernels keep what their backward reads only in training mode (dropout is 0)
    train = torch.is_grad_enabled()
    if layout.kind == "lstm":
        out, h, c = torch.lstm(x, hx, weights, True, 1, 0.0, train, False, False)
        return out, [h[0], c[0]]
    out, h = torch.gru(x, hx[0], weights, True, 1, 0.0, train, False, False)
    return out, [h[0]]


def _second_bias(b_hh: tuple[int | None, ...], params: list, b_ih: torch.Tensor) -> torch.Tensor:
    """torch's ``b_hh``: the cell's biases where it has them, zeros elsewhere (one block of
    zeros per run of gates without: the LSTM's is all zeros, the GRU's ``[0, 0, b_nh]``)."""
    size = b_ih.size(0) // len(b_hh)
    parts: list[torch.Tensor] = []
    zeros = 0  # gates in the current run without a bias
    for i in b_hh:
        if i is None:
            zeros += 1
            continue
        if zeros:
            parts.append(b_ih.new_zeros(zeros * size))
            zeros = 0
        parts.append(params[i])
    if zeros:
        parts.append(b_ih.new_zeros(zeros * size))
    return parts[0] if len(parts) == 1 else torch.cat(parts, 0)
