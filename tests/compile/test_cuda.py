"""On CUDA: the compiled lstm / gru equal torch.nn.LSTM / GRU, and every zoo cell equals CPU eager.

Skipped without a CUDA device (``scripts/gpu_check.py`` runs these on a GPU machine).
"""

from __future__ import annotations

import pytest
import torch

from archsearch import zoo
from archsearch.compile import compile_cell

from .conftest import run
from .test_reference import CASES

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

T, B, X, H = 6, 3, 5, 4
CUDA = torch.device("cuda")


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", list(CASES))
def test_equals_torch_on_cuda(name, dtype, fused):
    torch.manual_seed(0)
    ref_cls, copy = CASES[name]
    ref = ref_cls(X, H).to(CUDA, dtype)
    layer = compile_cell(zoo.get(name), X, H, fused=fused).to(CUDA, dtype)
    copy(ref, layer)
    x = torch.randn(T, B, X, device=CUDA, dtype=dtype, requires_grad=True)
    out, fin = layer(x)
    assert out.device.type == "cuda" and all(f.device.type == "cuda" for f in fin)
    ref_out, ref_fin = ref(x)
    tol = 1e-10 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(out, ref_out, rtol=tol, atol=tol)
    ref_h = ref_fin[0] if name == "lstm" else ref_fin
    torch.testing.assert_close(fin[0], ref_h[0], rtol=tol, atol=tol)
    weights = torch.randn_like(out)
    mine = torch.autograd.grad((out * weights).sum(), [x])
    theirs = torch.autograd.grad((ref_out * weights).sum(), [x])
    torch.testing.assert_close(mine[0], theirs[0], rtol=tol, atol=tol)


@pytest.mark.parametrize("name", zoo.names())
def test_zoo_on_cuda_equals_cpu_eager(name):
    """Outputs, states and gradients of every zoo cell on CUDA equal the CPU eager backend's."""
    cell = zoo.get(name)
    torch.manual_seed(0)
    cpu = compile_cell(cell, H, H, backend="eager").double()
    gpu = compile_cell(cell, H, H).double().to(CUDA)
    gpu.load_state_dict(cpu.state_dict())
    x = torch.randn(T, B, H, dtype=torch.float64, requires_grad=True)
    xg = x.detach().to(CUDA).requires_grad_()
    a, b = run(gpu, xg), run(cpu, x)
    torch.testing.assert_close(a[0].cpu(), b[0], rtol=1e-9, atol=1e-10)
    for u, v in zip(a[2], b[2], strict=True):
        assert u.device.type == "cuda"
        torch.testing.assert_close(u.cpu(), v, rtol=1e-9, atol=1e-10)
