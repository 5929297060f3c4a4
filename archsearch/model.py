"""The task model: an input layer, stacked compiled cells, and the task's head.

::

    tokens [T, B]   --embedding-->  [T, B, H]  --cell 1 .. cell L-->  [T, B, H]  --head-->  logits
    rolls [T, B, K] --linear----->  [T, B, H]  (dropout between)                 [T, B, n_outputs]

The head is a linear map to the task's outputs: a softmax over the vocabulary
for token tasks, independent sigmoids per key for piano rolls (the task's loss
decides which). Every cell layer reads size H, so cells that use their input
outside ``linear`` (MUT1's ``tanh(x)``) compile in every layer.

Initialisation follows the compiler's rule with the same ``init_scale`` ``s``:
head and input projection ~ U(-s/sqrt(fan_in), s/sqrt(fan_in)), biases 0, and
the embedding ~ U(-s, s) (its rows are inputs, not a map, so fan-in is 1).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from archsearch.cell import Cell
from archsearch.compile import compile_cell

State = list[tuple[torch.Tensor, ...]]


class TaskModel(nn.Module):
    def __init__(
        self,
        cell: Cell,
        *,
        input_kind: str,
        n_inputs: int,
        n_outputs: int,
        hidden_size: int,
        layers: int = 1,
        dropout: float = 0.0,
        init_scale: float = 1.0,
        backend: str = "torchscript",
    ) -> None:
        super().__init__()
        if input_kind not in ("tokens", "rolls"):
            raise ValueError(f"input_kind must be 'tokens' or 'rolls', not {input_kind!r}")
        self.input_kind = input_kind
        if input_kind == "tokens":
            self.encoder: nn.Module = nn.Embedding(n_inputs, hidden_size)
        else:
            self.encoder = nn.Linear(n_inputs, hidden_size)
        self.cells = nn.ModuleList(
            compile_cell(cell, hidden_size, hidden_size, backend=backend, init_scale=init_scale)
            for _ in range(layers)
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, n_outputs)
        self._init_io(init_scale)

    def _init_io(self, s: float) -> None:
        with torch.no_grad():
            if isinstance(self.encoder, nn.Embedding):
                self.encoder.weight.uniform_(-s, s)
            else:
                bound = s / math.sqrt(self.encoder.in_features)
                self.encoder.weight.uniform_(-bound, bound)
                self.encoder.bias.zero_()
            bound = s / math.sqrt(self.head.in_features)
            self.head.weight.uniform_(-bound, bound)
            self.head.bias.zero_()

    def forward(
        self, inputs: torch.Tensor, state: State | None = None
    ) -> tuple[torch.Tensor, State]:
        """``inputs`` [T, B] or [T, B, K] -> logits [T, B, n_outputs] and the new state."""
        x = self.encoder(inputs)  # (T, B, H)
        new_state: State = []
        for index, layer in enumerate(self.cells):
            if index > 0:
                x = self.dropout(x)
            x, layer_state = layer(x, None if state is None else state[index])
            new_state.append(tuple(layer_state))
        return self.head(self.dropout(x)), new_state


def detach_state(state: State | None) -> State | None:
    """Cut the graph between windows (truncated back-propagation), keep the values."""
    if state is None:
        return None
    return [tuple(t.detach() for t in layer) for layer in state]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
