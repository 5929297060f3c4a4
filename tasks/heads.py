"""Output heads: how a task turns the top cell layer's outputs into a loss and its statistics.

A head owns the output parameters, so a task can choose a cheaper head without
the model or the training loop knowing:

- ``LinearHead``: ``logits = W f + b`` over every output, scored by the task's
  ``loss`` and ``stats`` (a full softmax for token tasks, sigmoids for rolls).
- ``AdaptiveHead``: Grave et al.'s adaptive softmax
  (``torch.nn.AdaptiveLogSoftmaxWithLoss``). Words are split by frequency at
  ``cutoffs``; the head scores the frequent words plus one entry per tail
  cluster, and a tail cluster is scored (in a projection of size
  ``H / div_value^i``) only for the targets that fall in it. It is an exact
  distribution over the whole vocabulary, so perplexity means what it does
  with a full softmax, for a fraction of the cost of a 10,000-way output.
  Requires word ids sorted by descending frequency (ptb's are).

Initialisation follows the model's rule with scale ``s``: weights
~ U(-s/sqrt(fan_in), s/sqrt(fan_in)), biases 0.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class LinearHead(nn.Module):
    """A linear map to the task's outputs, scored by the task itself."""

    def __init__(self, task, in_features: int) -> None:
        super().__init__()
        self.task = task
        self.linear = nn.Linear(in_features, task.n_outputs)

    def reset_parameters(self, s: float) -> None:
        _uniform_(self.linear, s)

    def loss(self, features: torch.Tensor, batch) -> torch.Tensor:
        return self.task.loss(self.linear(features), batch)

    def stats(self, features: torch.Tensor, batch) -> dict[str, float]:
        return self.task.stats(self.linear(features), batch)


class AdaptiveHead(nn.Module):
    """An adaptive softmax over token ids (frequent ids first); mean NLL as the loss."""

    def __init__(self, task, in_features: int, cutoffs: tuple[int, ...], div_value: float = 4.0):
        super().__init__()
        self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(
            in_features, task.n_outputs, list(cutoffs), div_value=div_value
        )

    def reset_parameters(self, s: float) -> None:
        for module in self.adaptive.modules():
            if isinstance(module, nn.Linear):
                _uniform_(module, s)

    def _scored(self, features: torch.Tensor, batch, mask: torch.Tensor):
        return self.adaptive(features[mask], batch.targets[mask])

    def loss(self, features: torch.Tensor, batch) -> torch.Tensor:
        return self._scored(features, batch, batch.loss_mask).loss

    def stats(self, features: torch.Tensor, batch) -> dict[str, float]:
        """The token tasks' sums: correct (argmax hits), count, nll_sum (nats)."""
        with torch.no_grad():
            hidden = features[batch.mask]
            targets = batch.targets[batch.mask]
            target_log_probs = self.adaptive(hidden, targets).output  # (N,)
            correct = (self.adaptive.predict(hidden) == targets).sum()
        return {
            "correct": float(correct),
            "count": float(targets.numel()),
            "nll_sum": float(-target_log_probs.sum()),
        }


def _uniform_(linear: nn.Linear, s: float) -> None:
    with torch.no_grad():
        bound = s / math.sqrt(linear.in_features)
        linear.weight.uniform_(-bound, bound)
        if linear.bias is not None:
            linear.bias.zero_()
