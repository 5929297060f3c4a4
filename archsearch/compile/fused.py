"""Cells that are exactly torch's LSTM run on torch's fused kernel (oneDNN on CPU, cuDNN on CUDA).

A search trains the LSTM (``lstm``, ``lstm_b``, ``greff_np`` and any mutant
that lands on the same structure) more often than any other cell, as the
reference. ``match_lstm`` recognises the structure on the step graph, whatever
the names, the statement order, the operand order of ``+`` and ``*`` and of
``linear(x, h)``, and the biases' initial values:

    c' = sigmoid(Lf) * c + sigmoid(Li) * tanh(Lg)
    h' = sigmoid(Lo) * tanh(c')          (first state h, second c)

with every ``L = W_x x + W_h h + b`` its own ``linear``. Such a layer stacks its
weights in torch's gate order (i, f, g, o) at every call, so they stay the
layer's own parameters in source order, and calls ``torch.lstm``: measured on
the project's CPU, forward+backward at 1.0x ``torch.nn.LSTM`` (it is the same
kernel) against ~1.3-1.5x for the generated loop. ``compile_cell(...,
fused=False)`` keeps the generated loop (the tests run both).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .graph import Graph


@dataclass(frozen=True)
class LstmLayout:
    """Indices into the flat parameter list, per gate in torch's order (i, f, g, o)."""

    w_x: tuple[int, int, int, int]
    w_h: tuple[int, int, int, int]
    bias: tuple[int, int, int, int]


def match_lstm(graph: Graph, weights: list[list[int]], biases: list[int]) -> LstmLayout | None:
    """The layout when ``graph`` is exactly torch's LSTM (see the module docstring), else None.

    ``weights`` and ``biases`` are ``codegen.param_layout``'s, per linear in source order.
    """
    nodes = graph.nodes
    if len(graph.state_values) != 2 or graph.n_scales or graph.n_linears != 4:
        return None
    prev_h, prev_c = graph.prev
    h_new, c_new = graph.state_values

    def op(nid: int, name: str) -> tuple[int, ...] | None:
        return nodes[nid].args if nodes[nid].op == name else None

    def gate(nid: int, act: str) -> int | None:
        """The linear under ``act(...)`` when it reads exactly x and the previous h."""
        args = op(nid, act)
        if args is None or nodes[args[0]].op != "linear":
            return None
        lin = args[0]
        reads = sorted(nodes[a].op for a in nodes[lin].args)
        if reads != ["input", "prev"] or prev_h not in nodes[lin].args:
            return None
        return lin

    def product(nid: int, first: str, second: str | int):
        """(a, b) for ``nid = a * b``: ``a`` of op ``first``, ``b`` of op or node ``second``."""
        args = op(nid, "mul")
        for a, b in (args, args[::-1]) if args else ():
            if nodes[a].op == first and second in (nodes[b].op, b):
                return a, b
        return None

    out = product(h_new, "sigmoid", "tanh")
    if out is None or op(out[1], "tanh") != (c_new,):
        return None
    lo = gate(out[0], "sigmoid")
    terms = op(c_new, "add")
    if terms is None:
        return None
    lf = li = lg = None
    for a, b in (terms, terms[::-1]):
        forget, update = product(a, "sigmoid", prev_c), product(b, "sigmoid", "tanh")
        if forget and update:
            lf, li = gate(forget[0], "sigmoid"), gate(update[0], "sigmoid")
            lg = gate(update[1], "tanh")
            break
    gates = (li, lf, lg, lo)
    if None in gates or len(set(gates)) != 4:
        return None
    index = {lin: i for i, lin in enumerate(graph.linear_nodes)}
    w_x, w_h = [], []
    for lin in gates:
        order = [nodes[a].op for a in nodes[lin].args]  # ["input", "prev"] or the reverse
        ws = weights[index[lin]]
        w_x.append(ws[order.index("input")])
        w_h.append(ws[order.index("prev")])
    return LstmLayout(tuple(w_x), tuple(w_h), tuple(biases[index[lin]] for lin in gates))


def run_lstm(layout: LstmLayout, x: torch.Tensor, state: list, params: list):
    """``(outputs [T, B, H], [h, c])`` through ``torch.lstm`` with the layer's own parameters."""
    w_ih = torch.cat([params[i] for i in layout.w_x], 0)  # [4H, X]
    w_hh = torch.cat([params[i] for i in layout.w_h], 0)  # [4H, H]
    b_ih = torch.cat([params[i] for i in layout.bias], 0)  # [4H]
    b_hh = torch.zeros_like(b_ih)  # one bias per gate: torch's second one stays zero
    hx = (state[0].unsqueeze(0), state[1].unsqueeze(0))
    # train: the kernels keep what their backward reads only in training mode (dropout is 0)
    train = torch.is_grad_enabled()
    out, h, c = torch.lstm(x, hx, [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, train, False, False)
    return out, [h[0], c[0]]
