"""Cells that are exactly torch's LSTM or GRU run on torch's kernels, and equal our loop
and the eager backend (outputs, final states and every gradient)."""

from __future__ import annotations

import pytest
import torch

from archsearch import zoo
from archsearch.cell import parse_cell
from archsearch.compile import compile_cell
from archsearch.compile import layer as layer_module
from archsearch.compile.fused import run_fused

from .conftest import run

# The LSTM written every way the matcher must see through: names, statement order,
# operand order of * and +, linear(h, x), a bias.
SAME = {
    "renamed_reordered": """
cell a(inp; out, mem):
    og = sigmoid(linear(inp, out))
    fg = sigmoid(linear(out, inp, bias=1.0))
    ig = sigmoid(linear(inp, out))
    cand = tanh(linear(out, inp))
    mem = ig * cand + mem * fg
    out = tanh(mem) * og
""",
    "gru_swapped": """
cell g(inp; out):
    keep = sigmoid(linear(out, inp))
    reset = sigmoid(linear(inp, out, bias=0.5))
    cand = tanh(reset * linear(out) + linear(inp))
    out = keep * out + cand * (1 - keep)
""",
}
# Near misses: one change each, none may take the fused path.
DIFFERENT = {
    "sigmoid_candidate": "cell b(x; h, c):\n    c = sigmoid(linear(x, h)) * c + sigmoid("
    "linear(x, h)) * sigmoid(linear(x, h))\n    h = sigmoid(linear(x, h)) * tanh(c)\n",
    "output_is_c": "cell b(x; c, h):\n    c = sigmoid(linear(x, h)) * c + sigmoid("
    "linear(x, h)) * tanh(linear(x, h))\n    h = sigmoid(linear(x, h)) * tanh(c)\n",
    "gate_reads_c": "cell b(x; h, c):\n    c = sigmoid(linear(x, c)) * c + sigmoid("
    "linear(x, h)) * tanh(linear(x, h))\n    h = sigmoid(linear(x, h)) * tanh(c)\n",
    "one_gate_twice": "cell b(x; h, c):\n    i = sigmoid(linear(x, h))\n    c = i * c + i * "
    "tanh(linear(x, h))\n    h = sigmoid(linear(x, h)) * tanh(c)\n",
    "old_c_in_output": "cell b(x; h, c):\n    h = sigmoid(linear(x, h)) * tanh(c)\n    c = "
    "sigmoid(linear(x, h)) * c + sigmoid(linear(x, h)) * tanh(linear(x, h))\n",
    # GRU with z and 1 - z swapped: torch's update gate is the other one
    "gru_z_swapped": "cell b(x; h):\n    z = sigmoid(linear(x, h))\n    n = tanh(linear(x) + "
    "sigmoid(linear(x, h)) * linear(h))\n    h = z * n + (1 - z) * h\n",
    "gru_reset_outside": "cell b(x; h):\n    z = sigmoid(linear(x, h))\n    n = tanh(sigmoid("
    "linear(x, h)) * linear(x) + linear(h))\n    h = (1 - z) * n + z * h\n",
    "gru_two_z": "cell b(x; h):\n    n = tanh(linear(x) + sigmoid(linear(x, h)) * linear(h))\n"
    "    h = (1 - sigmoid(linear(x, h))) * n + sigmoid(linear(x, h)) * h\n",
}


@pytest.mark.parametrize("name", ["lstm", "lstm_b", "greff_np", "gru"])
def test_zoo_lstms_and_gru_can_run_on_torch_kernels(name):
    assert compile_cell(zoo.get(name), 4, 6).fusable
    assert not compile_cell(zoo.get(name), 4, 6, fused=False).fusable
    assert not compile_cell(zoo.get(name), 4, 6, backend="eager").fusable


def test_other_zoo_cells_cannot():
    fusable = {n for n in zoo.names() if compile_cell(zoo.get(n), 8, 8).fusable}
    assert fusable == {"lstm", "lstm_b", "greff_np", "gru"}


@pytest.mark.parametrize("name", list(DIFFERENT))
def test_near_misses_are_not_fused(name):
    assert not compile_cell(parse_cell(DIFFERENT[name]), 4, 4).fusable


FUSED_TEXTS = [zoo.text(n) for n in ("lstm", "lstm_b", "greff_np", "gru")] + [*SAME.values()]


def assert_same_run(fused, other, cell, dtype):
    """Outputs, states and every gradient of two layers with the same weights, with and
    without a given initial state; and the outputs without autograd."""
    assert fused.fused and not other.fused
    other.load_state_dict(fused.state_dict())
    x = torch.randn(7, 3, 5, dtype=dtype, requires_grad=True)
    state = tuple(torch.randn(3, 6, dtype=dtype, requires_grad=True) for _ in cell.states)
    tol = 1e-10 if dtype == torch.float64 else 1e-5
    for st in (None, state):
        a, b = run(fused, x, st), run(other, x, st)
        for u, v in zip([a[0], *a[1], *a[2]], [b[0], *b[1], *b[2]], strict=True):
            torch.testing.assert_close(u, v, rtol=tol, atol=tol)
    with torch.no_grad():
        torch.testing.assert_close(fused(x)[0], other(x)[0], rtol=tol, atol=tol)


# the two other ways a cell runs: our loop (torchscript, fused=False), plain autograd (eager)
OTHERS = {"generated_loop": {"fused": False}, "eager": {"backend": "eager"}}


@pytest.mark.parametrize("other", list(OTHERS))
@pytest.mark.parametrize("text", FUSED_TEXTS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_fused_equals_loop_and_eager(text, dtype, other, gru_kernel_on_cpu):
    """Through torch's kernel and through our loop or the eager backend, same weights."""
    cell = parse_cell(text)
    torch.manual_seed(1)
    fused = compile_cell(cell, 5, 6, init_scale=1.5).to(dtype)
    with torch.no_grad():  # biases off their initial values, so each one's mapping shows
        for p in fused.parameters():
            p.add_(0.1 * torch.randn_like(p))
    other_layer = compile_cell(cell, 5, 6, **OTHERS[other]).to(dtype)
    assert_same_run(fused, other_layer, cell, dtype)


def calls_to_torch_kernel(layer, monkeypatch) -> int:
    """How many times one forward of ``layer`` called torch's kernel."""
    calls = []
    monkeypatch.setattr(layer_module, "run_fused", lambda *a: calls.append(1) or run_fused(*a))
    layer(torch.randn(3, 2, 4))
    return len(calls)


def test_on_cpu_the_lstm_runs_torch_kernel_and_the_gru_the_generated_loop(monkeypatch):
    """oneDNN's fused LSTM beats the loop on CPU; torch's CPU GRU does not (``fused.py``)."""
    lstm, gru = compile_cell(zoo.get("lstm"), 4, 4), compile_cell(zoo.get("gru"), 4, 4)
    assert lstm.fused and lstm.program.fused.kind == "lstm"
    assert gru.fusable and not gru.fused and gru.program.fused.kind == "gru"
    assert calls_to_torch_kernel(lstm, monkeypatch) == 1
    assert calls_to_torch_kernel(gru, monkeypatch) == 0


def test_the_gru_runs_torch_kernel_where_that_is_the_faster(monkeypatch, gru_kernel_on_cpu):
    gru = compile_cell(zoo.get("gru"), 4, 4)
    assert gru.fused
    assert calls_to_torch_kernel(gru, monkeypatch) == 1
