"""The generated backward pass (torchscript backend) against autograd (eager backend), float64."""

from __future__ import annotations

import pytest
import torch

from archsearch import zoo
from archsearch.cell import parse_cell
from archsearch.compile import compile_cell
from archsearch.compile.backward import CHUNK

from .conftest import EVERY, run

T, B, H = 5, 3, 4

EDGE_CELLS = {
    # a state assigned another state's previous value, and its own
    "swap": "cell swap(x; h, c):\n    h = tanh(linear(x, c))\n    c = h\n",
    # a constant-only call, and a linear of a constant
    "consts": "cell consts(x; h):\n    h = tanh(linear(x, h, 1.0)) * sigmoid(0.5)\n",
    # the same sub-expression read twice, a linear read by the state directly
    "shared": "cell shared(x; h):\n    a = tanh(h)\n    h = linear(a, x) + linear(tanh(h)) * a\n",
}


def cells():
    out = [(name, zoo.get(name)) for name in zoo.names()]
    out.append(("every", parse_cell(EVERY)))
    out += [(name, parse_cell(text)) for name, text in EDGE_CELLS.items()]
    return out


def pair(cell, X):
    torch.manual_seed(1)
    fast = compile_cell(cell, X, H, init_scale=2.0, fused=False).double()  # the generated loop
    slow = compile_cell(cell, X, H, backend="eager").double()
    slow.load_state_dict(fast.state_dict())
    with torch.no_grad():  # biases off zero so every path is exercised
        for p in fast.parameters():
            p.add_(0.1 * torch.randn_like(p))
        slow.load_state_dict(fast.state_dict())
    return fast, slow


# the backward pass walks the steps in chunks of CHUNK: one step, one partial chunk, and several
STEPS = [1, T, 2 * CHUNK + 3]


@pytest.mark.parametrize("steps", STEPS)
@pytest.mark.parametrize("name,cell", cells(), ids=[n for n, _ in cells()])
def test_custom_backward_matches_autograd(name, cell, steps):
    X = H  # every cell compiles there; lstm-like cells also with X != H below
    fast, slow = pair(cell, X)
    assert fast.program.custom_backward, "every function has a derivative row"
    # half-size inputs: at full size a long run of the every-function cell overflows
    x = (0.5 * torch.randn(steps, B, X, dtype=torch.float64)).requires_grad_()
    state = tuple(torch.randn(B, H, dtype=torch.float64, requires_grad=True) for _ in cell.states)
    for st in (None, state):
        a, b = run(fast, x, st), run(slow, x, st)
        torch.testing.assert_close(a[0], b[0], rtol=0, atol=1e-12)
        for ga, gb in zip(a[2], b[2], strict=True):
            assert torch.isfinite(gb).all()
            torch.testing.assert_close(ga, gb, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["lstm", "gru", "greff_vanilla", "mut3"])
def test_gradcheck(name):
    """Finite differences on the torchscript layer (x, the state and the parameters)."""
    cell = zoo.get(name)
    X = 3 if name in ("lstm", "gru", "greff_vanilla") else H
    layer = compile_cell(cell, X, H, fused=False).double()
    x = torch.randn(3, 2, X, dtype=torch.float64, requires_grad=True)
    state = [torch.randn(2, H, dtype=torch.float64, requires_grad=True) for _ in cell.states]
    params = list(layer.parameters())

    def f(x, *st):
        out, fin = layer(x, tuple(st))
        return out, *fin

    torch.autograd.gradcheck(f, (x, *state))
    # parameters: central differences on one random entry of each
    grads = torch.autograd.grad(layer(x, tuple(state))[0].sum(), params)
    eps = 1e-6
    for p, g in zip(params, grads, strict=True):
        with torch.no_grad():
            idx = torch.randint(p.numel(), ())
            p.view(-1)[idx] += eps
            up = layer(x, tuple(state))[0].sum()
            p.view(-1)[idx] -= 2 * eps
            down = layer(x, tuple(state))[0].sum()
            p.view(-1)[idx] += eps
        assert abs((up - down).item() / (2 * eps) - g.reshape(-1)[idx].item()) < 1e-6


def test_fallback_without_generated_backward(monkeypatch):
    """A function without a derivative row falls back to autograd through the scripted loop."""
    from archsearch.compile import derivatives

    monkeypatch.delitem(derivatives.ARGUMENT_FACTORS, "blend")
    cell = parse_cell(EVERY.replace("cell every", "cell every_fallback"))
    fast, slow = pair(cell, H)
    assert not fast.program.custom_backward
    x = torch.randn(T, B, H, dtype=torch.float64, requires_grad=True)
    a, b = run(fast, x), run(slow, x)
    for ga, gb in zip(a[2], b[2], strict=True):
        torch.testing.assert_close(ga, gb, rtol=1e-9, atol=1e-12)
