"""How a compiled layer runs its program: a small registry of backends.

- ``torchscript`` (default): the time loop runs as TorchScript; when every
  function of the cell has a derivative in ``derivatives.py`` the backward pass
  is the generated BPTT loop (``backward.py``) behind a ``torch.autograd.Function``,
  else plain autograd through the scripted loop.
- ``eager``: the same generated source as plain Python under plain autograd,
  for debugging (set a breakpoint in it, print inside the step).

A backend is an object with ``run(program, x, state, params) -> (outputs, finals)``;
``x`` is the input ``[T, B, X]`` or ``Rows``, inputs given as rows of a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

from . import kernels
from .program import Program


@dataclass(frozen=True)
class Rows:
    """The input ``table[ids]`` (``ids [T, B]``, ``table [V, X]``: an embedding), kept apart.

    Every static value of a step (input projections, ``tanh(x)`` ...) is a function of
    its input row alone, so the prologue computes it once per row of the table and
    each step looks its rows up: ``V`` rows instead of ``T * B`` (xml's characters:
    a few dozen against 2,048), in the forward pass and in the backward.
    """

    ids: Tensor
    table: Tensor


def extent(x: Tensor | Rows) -> tuple[int, int, Tensor]:
    """(steps, batch, a tensor of the input's dtype and device) of ``x``."""
    if isinstance(x, Rows):
        return x.ids.size(0), x.ids.size(1), x.table
    return x.size(0), x.size(1), x


def prologue(fn, x: Tensor | Rows, params: list):
    """(P, S, W, sc) of a program's prologue ``fn`` for the input ``x`` (``codegen``)."""
    if not isinstance(x, Rows):
        return fn(x, params)
    P, S, W, sc = fn(x.table.unsqueeze(1), params)  # T = V steps of one row each

    def look_up(per_row: Tensor) -> Tensor:
        return torch.nn.functional.embedding(x.ids, per_row.squeeze(1))

    return [look_up(t) for t in P], [look_up(t) for t in S], W, sc


class Backend(Protocol):
    def run(
        self, program: Program, x: torch.Tensor, state: list[torch.Tensor], params: list
    ) -> tuple[torch.Tensor, list[torch.Tensor]]: ...


class EagerBackend:
    """The generated Python, run op by op under autograd."""

    def run(self, program, x, state, params):
        py = program.python
        P, S, W, sc = prologue(py["prologue"], x, params)
        return py["loop"](extent(x)[0], P, S, W, sc, state, False, False)


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
        T, _, like = extent(x)
        fast, on_steps = kernels.fast(like), kernels.fast_steps(like)
        fn = program.fast_prologue if fast else program.python["prologue"]
        P, S, W, sc = prologue(fn, x, params)
        if not program.custom_backward or not torch.is_grad_enabled():
            if torch.is_grad_enabled():  # autograd through the scripted loop knows no oneDNN op
                fast = on_steps = False
            return program.run("loop", T, P, S, W, sc, state, fast, on_steps)
        counts = (len(P), len(S), len(W), len(sc), len(state))
        res = _Loop.apply(program, T, counts, fast, on_steps, *P, *S, *W, *sc, *state)
        return res[0], list(res[1:])


BACKENDS: dict[str, Backend] = {
    "torchscript": TorchScriptBackend(),
    "eager": EagerBackend(),
}
