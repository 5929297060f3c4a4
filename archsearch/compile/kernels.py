"""Matrix products and activations that the generated code calls, fastest per device.

On an AMD CPU, float32, the generated loops multiply through oneDNN's matmul
(``mkldnn::_linear_pointwise``, the kernel behind PyTorch's own fused CPU
LSTM) instead of ``torch.mm``. Measured on a 2-core AMD EPYC (AVX-512), one
thread: a step product ``[32, 128] @ [128, 512]`` 36 us against 52 us, the
all-steps products ``[1600, 64] @ [64, 512]`` 0.51 ms against 1.18 ms and
``[128, 1600] @ [1600, 512]`` 1.13 ms against 2.28 ms (MKL does not use
AVX-512 on that CPU). On an Intel CPU MKL does, and ``torch.mm`` with the
weight contiguous ``[K, N]`` (as ``_pack`` lays it out) is the faster:
measured on a 2-core Intel Xeon (Sapphire Rapids, AVX-512), the same step
product 23 us against 46 us (38 us with the weight reordered for oneDNN), and
``tanh`` there costs 0.6 ns per element, like ``sigmoid``. So the oneDNN path
(``ONEDNN``) is taken on CPUs that are not Intel's; ``ARCHSEARCH_PRODUCTS=onednn``
or ``=torch`` overrides that. Other devices and dtypes (CUDA, float64) always
use ``torch.mm``.

The op is private to PyTorch, so it is **probed once** (present, and equal to
``torch.mm`` on a small product); when the probe fails every product falls
back to ``torch.mm`` and nothing else changes. ``fast(t)`` says whether a
tensor's products take the oneDNN path.

Importing this module also asks glibc's ``malloc`` to keep freed memory in
the process (``keep_freed_memory``): glibc hands large freed blocks back to
the kernel, and on this VM touching them again costs ~5 us per 4 KiB page.
Measured: the GRU's forward+backward (T=50, B=32, H=128) took ~4,200 page
faults per pass and 26.8 ms; with the setting 2 faults and 18.8 ms (torch's
own GRU 23.9 ms in the same process). ``ARCHSEARCH_MALLOC=default`` leaves
malloc alone. (The cost: a process keeps its peak heap until it exits, which
a training worker reaches again every step anyway.)

``tanh`` is computed as ``2 * sigmoid(2 a) - 1`` on the same path: on the AMD
CPU, PyTorch's ``tanh`` costs ~3 ns per element, its ``sigmoid`` ~0.6 ns, so a
``[32, 128]`` tanh drops from ~12.5 us to ~7 us. Same value to within a
rounding of 1 (absolute error below 1.2e-7 in float32).
"""

from __future__ import annotations

import ctypes
import os

import torch
from torch import Tensor

# a @ w.t() for a [M, K] and w [N, K]. Written in TorchScript IR: the op's `Scalar?[]`
# argument has no spelling in TorchScript's Python front end.
_ONEDNN_IR = """
graph(%a : Tensor, %w : Tensor):
  %none : NoneType = prim::Constant()
  %attr : str = prim::Constant[value="none"]()
  %alg : str = prim::Constant[value=""]()
  %scalars : Scalar?[] = prim::ListConstruct()
  %y : Tensor = mkldnn::_linear_pointwise(%a, %w, %none, %attr, %scalars, %alg)
  return (%y)
"""


@torch.jit.script
def plain_mm(a: Tensor, w: Tensor) -> Tensor:
    return torch.mm(a, w.t())


@torch.jit.script
def plain_pack(w: Tensor, batch: int) -> Tensor:
    return w


def _pack_onednn():
    @torch.jit.script
    def onednn_pack(w: Tensor, batch: int) -> Tensor:
        return torch.ops.mkldnn._reorder_linear_weight(w, batch)

    return onednn_pack


def _probe():
    """The oneDNN product as a ScriptFunction, or None when this PyTorch lacks or breaks it."""
    try:
        if not torch.backends.mkldnn.is_available():
            return None
        fn = torch._C._create_function_from_graph("onednn_mm", torch._C.parse_ir(_ONEDNN_IR))
        gen = torch.Generator().manual_seed(0)
        a = torch.randn(5, 7, generator=gen)
        w = torch.randn(3, 7, generator=gen)
        strided = torch.randn(7, 9, generator=gen).t()[:3]  # a transposed, sliced view
        pack = _pack_onednn()
        cases = ((a, w), (a, strided), (a.t().contiguous().t(), w), (a, pack(w, 5)))
        for left, right in cases:
            want = left @ (w if right.is_mkldnn else right).t()
            if not torch.allclose(fn(left, right), want, rtol=1e-5, atol=1e-5):
                return None
        return fn, pack
    except Exception:  # a missing or changed private op: fall back, never fail
        return None


_ONEDNN = _probe()
AVAILABLE = _ONEDNN is not None
# onednn_mm(a, w) = a @ w.t(); onednn_pack(w, batch): w laid out once for many products
# (saves ~5 us of a 36 us step product; costs ~100 us), which only onednn_mm reads.
onednn_mm, onednn_pack = _ONEDNN if AVAILABLE else (plain_mm, plain_pack)


def keep_freed_memory() -> bool:
    """glibc only: no mmap below 32 MiB, no trimming below 1 GiB; True when both took."""
    if os.environ.get("ARCHSEARCH_MALLOC", "keep") != "keep":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
        return bool(libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(
            libc.mallopt(m_trim_threshold, 1 << 30)
        )
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to tune
        return False


MALLOC_TUNED = keep_freed_memory()


def cpu_vendor() -> str:
    """The CPU's vendor id (``GenuineIntel``, ``AuthenticAMD``), "" where it cannot be read."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # not Linux
        pass
    return ""


def prefers_onednn() -> bool:
    """Whether this machine's float32 CPU products take oneDNN (module docstring)."""
    choice = os.environ.get("ARCHSEARCH_PRODUCTS", "")
    if choice not in ("", "onednn", "torch"):
        raise ValueError(f"ARCHSEARCH_PRODUCTS must be 'onednn' or 'torch', got {choice!r}")
    if choice:
        return choice == "onednn"
    return cpu_vendor() != "GenuineIntel"


ONEDNN = AVAILABLE and prefers_onednn()


def fast(t: Tensor) -> bool:
    """True when products and activations of tensors like ``t`` take the oneDNN path."""
    return ONEDNN and t.device.type == "cpu" and t.dtype == torch.float32


class FastLinear(torch.autograd.Function):
    """``a @ w.t() + b`` (``a [M, K]``, ``w [N, K]``, ``b [N]``), oneDNN forward and backward."""

    @staticmethod
    def forward(ctx, a, w, b):
        ctx.save_for_backward(a, w)
        return onednn_mm(a, w).add_(b)

    @staticmethod
    def backward(ctx, grad):
        a, w = ctx.saved_tensors
        da = onednn_mm(grad, w.t()) if ctx.needs_input_grad[0] else None
        # (a^T @ grad)^T, not grad^T @ a: oneDNN copies a transposed left operand
        dw = onednn_mm(a.t(), grad.t()).t() if ctx.needs_input_grad[1] else None
        db = grad.sum(0) if ctx.needs_input_grad[2] else None
        return da, dw, db


def linear(a: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """``torch.nn.functional.linear``, through oneDNN where ``fast`` (autograd included)."""
    if fast(a):
        return FastLinear.apply(a, w, b)
    return torch.nn.functional.linear(a, w, b)
