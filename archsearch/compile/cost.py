"""The arithmetic a cell's layer does, counted from its step graph (for time per GFLOP).

Conventions (per time step and batch row; ``T * B`` rows in all):

- a ``linear`` of arguments of sizes ``n1 ... nk``: ``2 H (n1 + ... + nk)``
  (a multiply and an add per weight), plus ``H`` for its bias;
- an element-wise node on ``H`` values: ``H`` times its row of ``ELEMENTWISE``
  (``+ - *``, ``neg``, ``scale`` 1; ``blend`` 3; ``relu``, ``leaky_relu`` 1;
  ``tanh``, ``sigmoid`` 4, as an exponential, an add, a divide and a fused
  step); ``identity`` and copies 0; a node computed for all steps at once
  (a function of the input only) is counted once per row like the others;
- the backward pass costs twice the forward (the gradient of both operands
  of every product), so forward + backward is ``3 x`` forward.

These are the cell's own work: what any implementation must compute, not what
ours happens to issue (no copies, no buffer writes).
"""

from __future__ import annotations

from dataclasses import dataclass

from archsearch.cell.nodes import Cell

from .graph import build_graph

ELEMENTWISE = {
    "add": 1,
    "sub": 1,
    "mul": 1,
    "neg": 1,
    "scale": 1,
    "blend": 3,
    "relu": 1,
    "leaky_relu": 1,
    "tanh": 4,
    "sigmoid": 4,
    "identity": 0,
}


@dataclass(frozen=True)
class Flops:
    """Forward FLOPs of one pass over ``[T, B]`` inputs, split by kind."""

    linear: int
    elementwise: int

    @property
    def forward(self) -> int:
        return self.linear + self.elementwise

    @property
    def forward_backward(self) -> int:
        return 3 * self.forward


def cell_flops(cell: Cell, input_size: int, hidden_size: int, steps: int, batch: int) -> Flops:
    """The forward FLOPs of a layer of ``cell`` over ``steps x batch`` inputs."""
    graph = build_graph(cell)
    H, rows = hidden_size, steps * batch
    linear = elementwise = 0
    for node in graph.nodes:
        if node.op == "linear":
            sizes = [input_size if graph.nodes[a].op == "input" else H for a in node.args]
            linear += (2 * H * sum(sizes) + H) * rows
        elif node.op in ELEMENTWISE:
            elementwise += ELEMENTWISE[node.op] * H * rows
    return Flops(linear, elementwise)
