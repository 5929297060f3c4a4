"""Scoring rules a task can take instead of the base class's softmax over tokens.

- ``BernoulliSteps``: each of K outputs an independent Bernoulli (piano keys,
  per-step labels); the NLL per step is the sum of the K binary
  cross-entropies, averaged over scored steps: ``nll = -(1/S) sum_s sum_k
  [y log p + (1 - y) log(1 - p)]`` with ``p = sigmoid(logit)`` (nats).
- ``SquaredError``: regression, ``mse = (1/(S D)) sum_s sum_d (logit - y)^2``
  over the S scored positions' D outputs.

Each is a mixin placed before the task's base class; ``loss`` is the training
objective over ``batch.loss_mask``, ``stats`` the sums over ``batch.mask`` that
``summarize`` turns into the metric.
"""

from __future__ import annotations

import torch
from torch.nn import functional

from archsearch.direction import MINIMIZE
from tasks.base import Batch


class BernoulliSteps:
    """Independent Bernoulli outputs; metric ``nll`` per scored step."""

    metric = "nll"
    direction = MINIMIZE

    def loss(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Summed-over-outputs binary cross-entropy, averaged over ``loss_mask`` steps."""
        nll = functional.binary_cross_entropy_with_logits(
            logits[batch.loss_mask], batch.targets[batch.loss_mask], reduction="sum"
        )
        return nll / batch.loss_mask.sum().clamp(min=1)

    def stats(self, logits: torch.Tensor, batch: Batch) -> dict[str, float]:
        """nll_sum (nats, summed over outputs and scored steps), count (scored steps)."""
        with torch.no_grad():
            nll = functional.binary_cross_entropy_with_logits(
                logits[batch.mask].float(), batch.targets[batch.mask], reduction="sum"
            )
        return {"nll_sum": float(nll), "count": float(batch.mask.sum())}

    def summarize(self, stats: dict[str, float]) -> dict[str, float]:
        return {"nll": stats["nll_sum"] / max(stats["count"], 1.0)}


class SquaredError:
    """Real-valued outputs; metric ``mse`` per output value."""

    metric = "mse"
    direction = MINIMIZE

    def loss(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        return functional.mse_loss(logits[batch.loss_mask], batch.targets[batch.loss_mask])

    def stats(self, logits: torch.Tensor, batch: Batch) -> dict[str, float]:
        """sq_sum (squared errors summed over outputs and scored positions), count (values)."""
        with torch.no_grad():
            error = logits[batch.mask].float() - batch.targets[batch.mask]
        return {"sq_sum": float((error**2).sum()), "count": float(error.numel())}

    def summarize(self, stats: dict[str, float]) -> dict[str, float]:
        return {"mse": stats["sq_sum"] / max(stats["count"], 1.0)}
