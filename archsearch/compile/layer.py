"""``compile_cell``: a cell becomes a recurrent ``torch.nn.Module`` layer.

Equations are the cell's own; the layer adds the parameters and the time loop:

- ``linear(a1, ..., an, bias=B)``: ``W1 a1 + ... + Wn an + b`` with one weight
  ``Wi: [H, size(ai)]`` per argument and one bias ``b: [H]``;
- ``scale(a)``: ``w * a`` with a weight ``w: [H]`` (peepholes).

Inputs: ``x [T, B, X]`` (time first) and optionally ``state``, a tuple of
``[B, H]`` tensors in the header's state order (zeros when omitted); or, with
``forward_rows(ids, table)``, an embedding's ids and table, ``x = table[ids]``.
Outputs: ``outputs [T, B, H]`` (the first state at every step) and the tuple of
final states.

Initialisation (``reset_parameters(init_scale)``, the knob the paper tunes):
each weight of a linear is drawn from ``U(-s / sqrt(fan_in), s / sqrt(fan_in))``
where ``fan_in`` is the total input size of that linear call (the sum of its
arguments' sizes) and ``s = init_scale``; each bias is the cell's constant
(``bias=`` in the cell text, 0 by default); each scale vector is drawn from
``U(-s / sqrt(H), s / sqrt(H))``.

Weight drop (``weight_drop=p``, DropConnect as AWD-LSTM and NAS-Bench-NLP train
with): in training, each call (one window of ``T`` steps) uses
``Wi' = Mi * Wi / (1 - p)`` with a fresh ``Mi ~ Bernoulli(1 - p)`` drawn per
entry, for every linear weight whose argument depends on a state (the recurrent
path; a weight on the input, or on ``tanh(x)``, is left whole). The same masks
hold at every step of the window; evaluation uses the weights as they are.
At ``p = 0.5`` each masked entry's variance doubles, so a linear recurrence
``h_t = W h_{t-1} + ...`` has its gain scaled by about ``sqrt(2)``: a cell
whose state has no squashing on its recurrent path is pushed over the edge
that a cell of bounded state is not.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from archsearch.cell.nodes import Cell
from archsearch.defaults import DEFAULT_BACKEND

from .backends import BACKENDS, Rows, extent
from .fused import on_torch_kernel, run_fused
from .program import Program, program_for, quiet_jit


class CompileError(ValueError):
    """A cell cannot be compiled as asked (sizes, backend)."""


class LinearParams(nn.Module):
    """Parameters of one ``linear`` call: ``weights[i]: [H, size of argument i]``, ``bias: [H]``;
    ``recurrent[i]``: whether argument i depends on a state (weight drop masks those)."""

    def __init__(
        self, sizes: list[int], hidden_size: int, bias: float, recurrent: list[bool]
    ) -> None:
        super().__init__()
        self.weights = nn.ParameterList([nn.Parameter(torch.empty(hidden_size, n)) for n in sizes])
        self.bias = nn.Parameter(torch.empty(hidden_size))
        self.bias_init = bias
        self.recurrent = recurrent

    def reset_parameters(self, init_scale: float) -> None:
        bound = init_scale / math.sqrt(sum(w.shape[1] for w in self.weights))
        with torch.no_grad():
            for w in self.weights:
                w.uniform_(-bound, bound)
            self.bias.fill_(self.bias_init)


class ScaleParams(nn.Module):
    """The parameter of one ``scale`` call: ``weight: [H]``."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(hidden_size))

    def reset_parameters(self, init_scale: float) -> None:
        bound = init_scale / math.sqrt(self.weight.shape[0])
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)


class CompiledLayer(nn.Module):
    """A recurrent layer running one cell (see the module docstring for the contract)."""

    def __init__(
        self,
        cell: Cell,
        program: Program,
        linear_specs,
        n_scales,
        input_size,
        hidden_size,
        backend,
        init_scale,
        fused=True,
        *,
        weight_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0.0 <= weight_drop < 1.0:
            raise CompileError(f"weight_drop must be in [0, 1), got {weight_drop!r}")
        self.cell = cell
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.backend = backend
        self.program = program
        # torch's fused kernel for a cell that is exactly its LSTM or GRU, on the devices
        # where that kernel is the faster (``fused.py``)
        self.fusable = fused and backend == "torchscript" and program.fused is not None
        self.linears = nn.ModuleList(
            [
                LinearParams(sizes, hidden_size, bias, recurrent)
                for sizes, bias, recurrent in linear_specs
            ]
        )
        self.scales = nn.ModuleList([ScaleParams(hidden_size) for _ in range(n_scales)])
        self.weight_drop = weight_drop
        self.reset_parameters(init_scale)

    @property
    def fused(self) -> bool:
        """Whether this layer runs on torch's kernel, on its parameters' device."""
        # (a fusable layer has parameters: the cell has linears)
        return self.fusable and self._on_torch_kernel(next(self.parameters()).device.type)

    def _on_torch_kernel(self, device_type: str) -> bool:
        return self.fusable and on_torch_kernel(self.program.fused, device_type)

    def reset_parameters(self, init_scale: float = 1.0) -> None:
        for m in [*self.linears, *self.scales]:
            m.reset_parameters(init_scale)

    def flat_parameters(self, weight_drop: float = 0.0) -> list[torch.Tensor]:
        """Every parameter in the generated order: per linear its weights, then bias; scales.
        With ``weight_drop``, the recurrent weights under a fresh DropConnect mask."""
        flat = []
        for lin in self.linears:
            # the list's own dict, in index order: its __getitem__ costs ~1.5 us a weight,
            # which a layer on torch's kernel pays every call (``fused.py``)
            weights = lin.weights._parameters.values()
            if weight_drop:
                weights = [
                    F.dropout(w, weight_drop) if recurrent else w
                    for w, recurrent in zip(weights, lin.recurrent, strict=True)
                ]
            flat += weights
            flat.append(lin.bias)
        return flat + [s.weight for s in self.scales]

    def forward(self, x: torch.Tensor, state=None):
        if x.dim() != 3 or x.shape[2] != self.input_size or x.shape[0] == 0:
            raise ValueError(
                f"expected x of shape [T, B, {self.input_size}] with T > 0, got {list(x.shape)}"
            )
        return self._run(x, state, self._on_torch_kernel(x.device.type))

    def forward_rows(self, ids: torch.Tensor, table: torch.Tensor, state=None):
        """``self(F.embedding(ids, table), state)``: the input given as rows of a table.

        ``ids [T, B]``, ``table [V, X]``. Where ``V < T * B`` the generated loop runs,
        the static values computed per row of the table and looked up per step
        (``backends.Rows``), also for a cell that is exactly torch's LSTM, except on
        CUDA; else the rows are gathered first and ``forward`` runs.
        """
        if ids.dim() != 2 or ids.shape[0] == 0 or table.dim() != 2:
            raise ValueError(f"expected ids [T, B] with T > 0, got {list(ids.shape)}")
        if table.shape[1] != self.input_size:
            raise ValueError(f"expected a table [V, {self.input_size}], got {list(table.shape)}")
        device = table.device.type
        # On the CPU the loop on rows beats torch's LSTM kernel on the gathered input
        # (xml's shape, T=64 B=32 V=40 H=128, forward + backward: 22.6 ms against 27.8);
        # on CUDA, not measured, torch's kernel keeps it
        kernel = self._on_torch_kernel(device) and device != "cpu"
        if kernel or table.shape[0] >= ids.numel():
            return self(F.embedding(ids, table), state)
        return self._run(Rows(ids, table), state, kernel=False)

    def _run(self, x, state, kernel: bool):
        """Run on ``x`` (a tensor or ``Rows``): on torch's kernel with ``kernel``, else the loop."""
        n = len(self.cell.states)
        if state is not None and len(state) != n:
            raise ValueError(f"cell {self.cell.name!r} has {n} states, got {len(state)}")
        params = self.flat_parameters(self.weight_drop if self.training else 0.0)
        if kernel:
            out, finals = run_fused(self.program.fused, x, state, params)
        else:
            if state is None:
                _, batch, like = extent(x)
                state = [like.new_zeros(batch, self.hidden_size)] * n
            out, finals = BACKENDS[self.backend].run(self.program, x, list(state), params)
        return out, tuple(finals)

    def save(self, path) -> None:
        """Write a standalone TorchScript file (plain ``torch.jit.load`` runs it)."""
        params = [p.detach().clone() for p in self.flat_parameters()]
        with quiet_jit():
            module = torch.jit.script(self.program.standalone()(params))
            torch.jit.save(module, str(path))

    def extra_repr(self) -> str:
        return (
            f"cell={self.cell.name}, input_size={self.input_size}, "
            f"hidden_size={self.hidden_size}, backend={self.backend!r}, fused={self.fused}"
            + (f", weight_drop={self.weight_drop}" if self.weight_drop else "")
        )


def compile_cell(
    cell: Cell,
    input_size: int,
    hidden_size: int,
    *,
    backend: str = DEFAULT_BACKEND,
    init_scale: float = 1.0,
    fused: bool = True,
    weight_drop: float = 0.0,
) -> CompiledLayer:
    """Compile ``cell`` into a recurrent layer for input size ``X`` and hidden size ``H``.

    ``fused``: a cell that is exactly torch's LSTM or GRU runs on torch's own kernel on the
    torchscript backend, on the devices where that kernel is the faster (``fused.py``: the
    LSTM everywhere, the GRU on CUDA; ``forward_rows`` runs the loop on the CPU);
    False keeps the generated loop.
    ``weight_drop``: DropConnect on the recurrent weights in training (module docstring).
    """
    if backend not in BACKENDS:
        raise CompileError(f"unknown backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
    graph, program = program_for(cell)
    if graph.input_outside_linear and input_size != hidden_size:
        raise CompileError(
            f"cell {cell.name!r} uses its input {cell.input!r} outside linear(), which needs "
            f"input_size == hidden_size; got input_size={input_size}, hidden_size={hidden_size}"
        )
    specs = []
    for lin in graph.linear_nodes:
        args = [graph.nodes[a] for a in graph.nodes[lin].args]
        sizes = [input_size if a.op == "input" else hidden_size for a in args]
        specs.append((sizes, graph.nodes[lin].bias, [not a.static for a in args]))
    return CompiledLayer(
        cell, program, specs, graph.n_scales, input_size, hidden_size, backend, init_scale,
        fused, weight_drop=weight_drop,
    )  # fmt: skip
