"""The task model: an input layer, stacked compiled cells, and the task's head.

::

    tokens [T, B]   --embedding-->  [T, B, H]  --cell 1 .. cell L-->  features [T, B, H]
    rolls [T, B, K] --linear----->  [T, B, H]  (dropout between and after; weight_drop
                                                  on each cell's recurrent weights)

``forward`` returns the features; the head (``model.head``, made by the task:
``tasks.heads``) turns them into the loss (``head.loss(features, batch)``) and
the metric's sums (``head.stats``): a linear map scored as a softmax over the
vocabulary or as independent sigmoids per key, or an adaptive softmax. Every
cell layer reads size H, so cells that use their input outside ``linear``
(MUT1's ``tanh(x)``) compile in every layer.

Initialisation (``init``): "scaled" follows the compiler's rule with the same
``init_scale`` ``s``: head and input projection ~ U(-s/sqrt(fan_in),
s/sqrt(fan_in)), biases 0, and the embedding ~ U(-s, s) (its rows are inputs,
not a map, so fan-in is 1). "nasbench" is NAS-Bench-NLP's rule, scaled by ``s``
(theirs at s = 1): every cell parameter ~ U(-s/sqrt(H), s/sqrt(H)),
embedding and head weights ~ U(-0.1 s, 0.1 s), head bias 0.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from archsearch.cell import Cell
from archsearch.compile import compile_cell
from archsearch.defaults import DEFAULT_BACKEND

State = list[tuple[torch.Tensor, ...]]


class TaskModel(nn.Module):
    def __init__(
        self,
        cell: Cell,
        *,
        input_kind: str,
        n_inputs: int,
        head: nn.Module,
        hidden_size: int,
        layers: int = 1,
        dropout: float = 0.0,
        weight_drop: float = 0.0,
        init_scale: float = 1.0,
        init: str = "scaled",
        backend: str = DEFAULT_BACKEND,
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
            compile_cell(
                cell, hidden_size, hidden_size, backend=backend, init_scale=init_scale,
                weight_drop=weight_drop,
            )
            for _ in range(layers)
        )  # fmt: skip
        self.dropout = nn.Dropout(dropout)
        self.head = head  # reads [.., H]; see tasks.heads
        if init == "scaled":
            self._init_io(init_scale)
        elif init == "nasbench":
            self._init_nasbench(hidden_size, init_scale)
        else:
            raise ValueError(f"init must be 'scaled' or 'nasbench', not {init!r}")

    def _init_io(self, s: float) -> None:
        with torch.no_grad():
            if isinstance(self.encoder, nn.Embedding):
                self.encoder.weight.uniform_(-s, s)
            else:
                bound = s / math.sqrt(self.encoder.in_features)
                self.encoder.weight.uniform_(-bound, bound)
                self.encoder.bias.zero_()
        self.head.reset_parameters(s)

    @torch.no_grad()
    def _init_nasbench(self, hidden_size: int, s: float) -> None:
        bound = s / math.sqrt(hidden_size)
        for parameter in self.cells.parameters():
            parameter.uniform_(-bound, bound)
        self.encoder.weight.uniform_(-0.1 * s, 0.1 * s)
        if getattr(self.encoder, "bias", None) is not None:
            self.encoder.bias.zero_()
        self.head.reset_parameters(0.1 * s * math.sqrt(hidden_size))  # U(-0.1 s, 0.1 s) at fan-in H

    def forward(
        self, inputs: torch.Tensor, state: State | None = None
    ) -> tuple[torch.Tensor, State]:
        """``inputs`` [T, B] or [T, B, K] -> features [T, B, H] for the head, and the new state."""
        new_state: State = []
        for index, layer in enumerate(self.cells):
            layer_state = None if state is None else state[index]
            if index == 0 and self.input_kind == "tokens":  # the embedding's rows, looked up
                x, layer_state = layer.forward_rows(inputs, self.encoder.weight, layer_state)
            else:
                x = self.encoder(inputs) if index == 0 else self.dropout(x)  # (T, B, H)
                x, layer_state = layer(x, layer_state)
            new_state.append(tuple(layer_state))
        return self.dropout(x), new_state


def detach_state(state: State | None) -> State | None:
    """Cut the graph between windows (truncated back-propagation), keep the values."""
    if state is None:
        return None
    return [tuple(t.detach() for t in layer) for layer in state]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
