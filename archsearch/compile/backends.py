"""How a compiled layer runs its program: a small registry of backends.

- ``torchscript`` (default): the time loop runs as TorchScript; when every
  function of the cell has a derivative in ``derivatives.py`` the backward pass
  is the generated BPTT loop (``backward.py``) behind a ``torch.autograd.Function``,
  else plain autograd through the scripted loop.
- ``eager``: the same generated source as plain Python under plain autograd,
  for debugging (set a breakpoint in it, print inside the step).

A backend is an object with ``run(program, x, state, params) -> (outputs, finals)``.
"""

from __future__ import annotations

from typing import Protocol

import torch

from . import kernels
from .program import Program


class Backend(Protocol):
    def run(
        self, program: Program, x: torch.Tensor, state: list[torch.Tensor], params: list
    ) -> tuple[torch.Tensor, list[torch.Tensor]]: ...


class EagerBackend:
    """The generated Python, run op by op under autograd."""

    def run(self, program, x, state, params):
        py = program.python
        P, S, W, sc = py["prologue"](x, params)
        return py["loop"](x.size(0), P, S, W, sc, state, False, False)


class _Loop(torch.autograd.Function):
    """Forward: the scripted loop, saving what BPTT reads. Backward: the generated BPTT loop."""

    @staticmethod
    def forward(ctx, program, T, counts, fast, steps, *tensors):
        P, S, W, sc, state = _split(tensors, counts)
        out, finals, saved = program.run("loop_save", T, P, S, W, sc, state, fast, steps)
        ctx.program, ctx.counts, ctx.fast, ctx.steps = program, counts, fast, steps
        ctx.save_for_backward(*saved, *S, *W, *sc)
        ctx.n_saved = len(saved)
        return (out, *finals)

    @staticmethod
    def backward(ctx, dout, *dfinal):
        _, n_s, n_w, _, _ = ctx.counts
        tensors = ctx.saved_tensors
        saved = list(tensors[: ctx.n_saved])
        rest = tensors[ctx.n_saved :]
        S, W, sc = list(rest[:n_s]), list(rest[n_s : n_s + n_w]), list(rest[n_s + n_w :])
        first = saved[0]  # a state's stack [T + 1, B, H]
        if dout is None:
            dout = first.new_zeros(first.size(0) - 1, *first.shape[1:])
        dfin = [d if d is not None else first.new_zeros(first.shape[1:]) for d in dfinal]
        dP, dS, dst, dW, dsc = ctx.program.run(
            "loop_back", dout.contiguous(), dfin, saved, S, W, sc, ctx.fast, ctx.steps
        )
        return (None, None, None, None, None, *dP, *dS, *dW, *dsc, *dst)


def _split(tensors, counts):
    out, i = [], 0
    for n in counts:
        out.append(list(tensors[i : i + n]))
        i += n
    return out


class TorchScriptBackend:
    """The loop as TorchScript; a generated backward pass when the cell allows."""

    def run(self, program, x, state, params):
        fast, steps = kernels.fast(x), kernels.fast_steps(x)
        P, S, W, sc = (program.fast_prologue if fast else program.python["prologue"])(x, params)
        if not program.custom_backward or not torch.is_grad_enabled():
            if torch.is_grad_enabled():  # autograd through the scripted loop knows no oneDNN op
                fast = steps = False
            return program.run("loop", x.size(0), P, S, W, sc, state, fast, steps)
        counts = (len(P), len(S), len(W), len(sc), len(state))
        res = _Loop.apply(program, x.size(0), counts, fast, steps, *P, *S, *W, *sc, *state)
        return res[0], list(res[1:])


BACKENDS: dict[str, Backend] = {
    "torchscript": TorchScriptBackend(),
    "eager": EagerBackend(),
}
