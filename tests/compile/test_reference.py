"""Compiled zoo lstm / gru equal torch.nn.LSTM / GRU with the weights copied across."""

from __future__ import annotations

import pytest
import torch

from archsearch import zoo
from archsearch.compile import BACKENDS, compile_cell

T, B, X, H = 6, 3, 5, 4


def copy_lstm(ref: torch.nn.LSTM, layer) -> None:
    """torch's gate order is i, f, g, o, which is the zoo lstm's statement order."""
    w_ih = ref.weight_ih_l0.chunk(4)
    w_hh = ref.weight_hh_l0.chunk(4)
    bias = (ref.bias_ih_l0 + ref.bias_hh_l0).chunk(4)
    with torch.no_grad():
        for lin, wi, wh, b in zip(layer.linears, w_ih, w_hh, bias, strict=True):
            lin.weights[0].copy_(wi)  # linear(x, h): x first
            lin.weights[1].copy_(wh)
            lin.bias.copy_(b)


def copy_gru(ref: torch.nn.GRU, layer) -> None:
    """torch: r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""
    w_ir, w_iz, w_in = ref.weight_ih_l0.chunk(3)
    w_hr, w_hz, w_hn = ref.weight_hh_l0.chunk(3)
    b_ir, b_iz, b_in = ref.bias_ih_l0.chunk(3)
    b_hr, b_hz, b_hn = ref.bias_hh_l0.chunk(3)
    r, z, nx, nh = layer.linears  # source order: r, z, then linear(x) and linear(h) of n
    with torch.no_grad():
        for lin, wi, wh, b in ((r, w_ir, w_hr, b_ir + b_hr), (z, w_iz, w_hz, b_iz + b_hz)):
            lin.weights[0].copy_(wi)
            lin.weights[1].copy_(wh)
            lin.bias.copy_(b)
        nx.weights[0].copy_(w_in)
        nx.bias.copy_(b_in)
        nh.weights[0].copy_(w_hn)
        nh.bias.copy_(b_hn)


CASES = {"lstm": (torch.nn.LSTM, copy_lstm), "gru": (torch.nn.GRU, copy_gru)}


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("name", list(CASES))
def test_equals_torch(name, backend, with_state, fused, gru_kernel_on_cpu):
    """Torch's kernel (the GRU's too, which CPU layers otherwise leave for the generated
    loop), the loop and eager all equal torch's own layer."""
    torch.manual_seed(0)
    ref_cls, copy = CASES[name]
    ref = ref_cls(X, H).double()
    layer = compile_cell(zoo.get(name), X, H, backend=backend, fused=fused).double()
    assert layer.fused == (fused and backend == "torchscript")
    copy(ref, layer)
    x = torch.randn(T, B, X, dtype=torch.float64, requires_grad=True)
    n_states = 2 if name == "lstm" else 1
    state = None
    if with_state:
        state = tuple(
            torch.randn(B, H, dtype=torch.float64, requires_grad=True) for _ in range(n_states)
        )
    weights = torch.randn(T, B, H, dtype=torch.float64)

    out, fin = layer(x, state)
    ref_state = None
    if state is not None:
        ref_state = state[0][None] if name == "gru" else (state[0][None], state[1][None])
    ref_out, ref_fin = ref(x, ref_state)
    ref_fin = (ref_fin[0][0], ref_fin[1][0]) if name == "lstm" else (ref_fin[0],)
    torch.testing.assert_close(out, ref_out, rtol=0, atol=1e-10)
    for a, b in zip(fin, ref_fin, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)

    inputs = [x, *(state or ())]
    mine = torch.autograd.grad((out * weights).sum() + sum(f.sum() for f in fin), inputs)
    theirs = torch.autograd.grad((ref_out * weights).sum() + sum(f.sum() for f in ref_fin), inputs)
    for a, b in zip(mine, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)
