"""Matrix products and activations that the generated code calls, fastest per device.

On an AMD CPU, float32, the products over all steps at once (the input
projections, the weight gradients after the backward loop) go through oneDNN's
matmul (``mkldnn::_linear_pointwise``, the kernel behind PyTorch's own fused
CPU LSTM) instead of ``torch.mm``. Measured on a 2-core AMD EPYC (AVX-512),
one thread: ``[1600, 64] @ [64, 512]`` 0.51 ms against 1.18 ms and
``[128, 1600] @ [1600, 512]`` 1.13 ms against 2.28 ms (MKL does not use
AVX-512 on that CPU). A step's small product (``[32, 128] @ [128, 512]``) is
``torch.mm`` / ``torch.addmm`` on every path: oneDNN's call costs ~13 us
whatever the size (a ``[4, 8] @ [8, 8]`` takes 15 us, 1.6 us in ``torch.mm``),
its weight reorder ~350 us a pass, and ``addmm`` adds the input projection in
the product where oneDNN needs a second pass. Measured side by side on that
CPU with two other jobs on its cores (load 2.2 to 2.5): the LSTM's forward +
backward through the loop 6% faster with ``torch.mm`` steps (4 runs, 0.93 to
0.96), the GRU's 9%, ``greff_vanilla`` 6%, ``mut1`` 18% (an earlier, quieter
measure had oneDNN's step product at 36 us against 52 us). On an Intel CPU MKL
uses AVX-512 and is the faster everywhere: measured on a 2-core Intel Xeon
(Sapphire Rapids, AVX-512), the step product 23 us against 46 us, and ``tanh``
there costs 0.6 ns per element, like ``sigmoid``. So the oneDNN path
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

# a @ w.t() (+ b) for a [M, K], w [N, K] and b [N]. Written in TorchScript IR: the op's
# `Scalar?[]` argument has no spelling in TorchScript's Python front end.
_ONEDNN_IR = """
graph(%a : Tensor, %w : Tensor{bias_arg}):
  %none : NoneType = prim::Constant()
  %attr : str = prim::Constant[value="none"]()
  %alg : str = prim::Constant[value=""]()
  %scalars : Scalar?[] = prim::ListConstruct()
  %y : Tensor = mkldnn::_linear_pointwise(%a, %w, {bias}, %attr, %scalars, %alg)
  return (%y)
"""


@torch.jit.script
def plain_mm(a: Tensor, w: Tensor) -> Tensor:
    return torch.mm(a, w.t())


def _onednn(name: str, bias: bool):
    ir = _ONEDNN_IR.format(bias_arg=", %b : Tensor" if bias else "", bias="%b" if bias else "%none")
    return torch._C._create_function_from_graph(name, torch._C.parse_ir(ir))


def _probe():
    """The oneDNN product and linear as ScriptFunctions, or None when this PyTorch lacks or
    breaks them."""
    try:
        if not torch.backends.mkldnn.is_available():
            return None
        mm, lin = _onednn("onednn_mm", False), _onednn("onednn_linear", True)
        gen = torch.Generator().manual_seed(0)
        a = torch.randn(5, 7, generator=gen)
        w = torch.randn(3, 7, generator=gen)
        b = torch.randn(3, generator=gen)
        strided = torch.randn(7, 9, generator=gen).t()[:3]  # a transposed, sliced view
        for left, right in ((a, w), (a, strided), (a.t().contiguous().t(), w)):
            want = left @ right.t()
            if not torch.allclose(mm(left, right), want, rtol=1e-5, atol=1e-5):
                return None
            if not torch.allclose(lin(left, right, b), want + b, rtol=1e-5, atol=1e-5):
                return None
        return mm, lin
    except Exception:  # a missing or changed private op: fall back, never fail
        return None


_ONEDNN = _probe()
AVAILABLE = _ONEDNN is not None
# onednn_mm(a, w) = a @ w.t(); onednn_linear(a, w, b) = a @ w.t() + b, the bias added by
# the product itself (the input projection [1600, 512]: 1.43 -> 1.25 ms against mm, add_)
onednn_mm, onednn_linear = _ONEDNN if AVAILABLE else (plain_mm, None)


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
        return onednn_linear(a, w, b)

    @staticmethod
    def backward(ctx, grad):
        a, w = ctx.saved_tensors
        da = onednn_mm(grad, w.t()) if ctx.needs_input_grad[0] else None
        # (a^T @ grad)^T, not grad^T @ a: oneDNN copies a transposed left operand; made
        # contiguous, the layout of the weights w was stacked from (their gradients' rows)
        dw = onednn_mm(a.t(), grad.t()).t().contiguous() if ctx.needs_input_grad[1] else None
        db = grad.sum(0) if ctx.needs_input_grad[2] else None
        return da, dw, db


def linear(a: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """``torch.nn.functional.linear``, through oneDNN where ``fast`` (autograd included)."""
    if fast(a):
        return FastLinear.apply(a, w, b)
    return torch.nn.functional.linear(a, w, b)
