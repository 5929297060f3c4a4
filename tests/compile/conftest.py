"""Shared cells and helpers for the compiler's tests."""

from __future__ import annotations

import pytest
import torch

from archsearch.cell import parse_cell
from archsearch.compile import fused

# One cell that exercises every function of the language and every scheduling case:
# constants, scale of a step value and of a static one, a static argument and a
# dynamic one in one linear, linear of tanh(h), of a value computed inside the step
# (new c, then d), the input outside linear, a state read after its assignment.
EVERY = """
cell every(x; h, c, m):
    a = tanh(linear(x, h, bias=0.5))
    b = sigmoid(linear(tanh(h), c, x))
    k = relu(linear(x)) - leaky_relu(linear(h, m))
    c = blend(b, a, c) + scale(c) * identity(k)
    d = -linear(c, tanh(x)) + 0.5 * a
    m = sigmoid(x + m) * (1 - d) + scale(tanh(x))
    h = tanh(linear(d, c)) * b - m
"""


@pytest.fixture
def gru_kernel_on_cpu(monkeypatch):
    """An exact GRU on CPU runs torch's GRU kernel, as on CUDA (by default it runs the
    generated loop there, the faster): its dispatch is then tested on this machine."""
    monkeypatch.setitem(fused.TORCH_KERNEL_FASTER, "gru", frozenset({"cpu", "cuda"}))


@pytest.fixture(scope="session")
def every_cell():
    return parse_cell(EVERY)


def run(layer, x, state=None, weights=None):
    """Outputs, final states and gradients (of x, the initial state, the parameters)."""
    out, fin = layer(x, state)
    H = out.shape[-1]
    weights = torch.linspace(-1, 1, H, dtype=out.dtype) if weights is None else weights
    loss = (out * weights).sum() + sum((f * f).sum() for f in fin)
    inputs = [x, *(state or ()), *layer.parameters()]
    grads = torch.autograd.grad(loss, inputs, allow_unused=True, materialize_grads=True)
    return out, fin, grads
