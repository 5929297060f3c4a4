"""Matrix products and activations that the generated code calls, fastest per device.

On an AMD CPU, float32, the products over all steps at once (the input
projections, the weight gradients after the backward loop) go through oneDNN's
matmul (``mkldnn::_linear_pointwise``, the kernel behind PyTorch's own fused
CPU LSTM) instead of ``torch.mm``. Measured on a 2-core AMD EPYC (AVX-512),
one thread: ``[1600, 64] @ [64, 512]`` 0.51 ms against 1.18 ms and
``[128, 1600] @ [1600, 512]`` 1.13 ms against 2.28 ms (MKL does not use
AVX-512 on that CPU); on a Zen 5 EPYC 0.45 against 1.01 ms and 1.04 against
2.19 ms. On an Intel CPU MKL uses AVX-512 and is the faster everywhere:
measured on a 2-core Intel Xeon (Sapphire Rapids, AVX-512), the step product
23 us against 46 us, and ``tanh`` there costs 0.6 ns per element, like
``sigmoid``. So the oneDNN path (``ONEDNN``) is taken on CPUs that are not
Intel's; ``ARCHSEARCH_PRODUCTS=onednn`` or ``=torch`` overrides that. Other
devices and dtypes (CUDA, float64) always use ``torch.mm``.

A step's small product (``[32, 128] @ [128, 512]``, and its backward
``[32, 512] @ [512, 128]``) depends on the CPU's generation (``STEP_ONEDNN``):

- On an earlier 2-core AMD EPYC with AVX-512 (its family was not recorded;
  AVX-512 before Zen 5 makes it a Zen 4, family 25) it is ``torch.mm`` /
  ``torch.addmm``:
  oneDNN's call costs ~13 us whatever the size (a ``[4, 8] @ [8, 8]`` takes
  15 us, 1.6 us in ``torch.mm``), its weight reorder ~350 us a pass, and
  ``addmm`` adds the input projection in the product where oneDNN needs a
  second pass. Measured side by side there, the LSTM's forward + backward
  through the loop was 7.8% slower with oneDNN's step products on the idle
  machine, 6% under load (the GRU 9%, ``greff_vanilla`` 6%, ``mut1`` 18%).
  On a 2-core EPYC of family 25 (model 17) that shows AVX2 and no AVX-512, the
  same: the LSTM through the loop 1.33x ``nn.LSTM`` with oneDNN's step products
  against 1.21x with ``torch.mm`` (``scripts/bench_cells.py --mutants 0 --reps 1``,
  one run each way, idle).
- On a Zen 5 EPYC (CPU family 26) oneDNN's step product takes 31 us against
  43 us in ``torch.mm``, and the loop through it is the faster. Measured with
  ``scripts/bench_cells.py``, two runs each way, idle: the LSTM through the
  loop 1.61x and 1.62x ``nn.LSTM`` against 1.84x and 1.83x with ``torch.mm``
  steps; the GRU 0.75x ``nn.GRU`` both times against 0.80x; the median cell
  0.47 and 0.48 of its eager twin against 0.52 and 0.51.

So a step's product takes oneDNN on AMD CPUs of family 26 and later (and only
where ``ONEDNN`` holds); ``ARCHSEARCH_STEP_PRODUCTS=onednn`` or ``=torch``
overrides that. Only a product of ``ONEDNN_STEP_MACS`` multiply-adds or more
(``B * K * N``): oneDNN's call costs ~11 us however small the product, and on
the Zen 5 it overtakes ``torch.mm`` near a million (``[8, 32] @ [32, 128]``
10.8 us against 2.0, ``[16, 64] @ [64, 256]`` 14.2 against 7.1, ``[20, 128]
@ [128, 384]`` 22.1 against 22.9, ``[16, 128] @ [128, 512]`` 22.8 against
25.4, ``[20, 650] @ [650, 1950]`` 316 against 573).

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


def cpu_field(name: str) -> str:
    """A field of the first CPU in ``/proc/cpuinfo`` (``vendor_id``: ``GenuineIntel``,
    ``AuthenticAMD``; ``cpu family``), "" where it cannot be read."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value.strip()
    except OSError:  # not Linux
        pass
    return ""


def cpu_vendor() -> str:
    return cpu_field("vendor_id")


def cpu_family() -> int:
    """The CPU family number (AMD Zen 4: 25, Zen 5: 26), 0 where it cannot be read."""
    value = cpu_field("cpu family")
    return int(value) if value.isdigit() else 0


def _setting(name: str) -> str:
    """An ``onednn``/``torch`` override from the environment, "" where unset."""
    choice = os.environ.get(name, "")
    if choice not in ("", "onednn", "torch"):
        raise ValueError(f"{name} must be 'onednn' or 'torch', got {choice!r}")
    return choice


def prefers_onednn() -> bool:
    """Whether this machine's float32 CPU products take oneDNN (module docstring)."""
    choice = _setting("ARCHSEARCH_PRODUCTS")
    if choice:
        return choice == "onednn"
    return cpu_vendor() != "GenuineIntel"


ZEN5_FAMILY = 26  # AMD's CPU family number from Zen 5 on
ONEDNN_STEP_MACS = 1 << 20  # the smallest step product (B * K * N) that takes oneDNN


def prefers_onednn_steps() -> bool:
    """Whether a step's own product takes oneDNN too (module docstring)."""
    choice = _setting("ARCHSEARCH_STEP_PRODUCTS")
    if choice:
        return choice == "onednn"
    return cpu_vendor() == "AuthenticAMD" and cpu_family() >= ZEN5_FAMILY


ONEDNN = AVAILABLE and prefers_onednn()
STEP_ONEDNN = prefers_onednn_steps()


def fast(t: Tensor) -> bool:
    """True when products and activations of tensors like ``t`` take the oneDNN path."""
    return ONEDNN and t.device.type == "cpu" and t.dtype == torch.float32


def fast_steps(t: Tensor) -> bool:
    """True when a step's product of tensors like ``t`` takes oneDNN too (``fast`` and
    ``STEP_ONEDNN``)."""
    return STEP_ONEDNN and fast(t)


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
