"""Padded sets of independent sequences, batched by numpy indexing.

Used by the tasks whose examples are independent (arith, xml, music; the
array tasks of ``tasks.sequences`` share ``Batching``). A set
holds every example of a split pre-made as one array, so making a batch is an
index, a slice and a transpose: no per-character Python on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from tasks.base import Batch, Task


class Batching:
    """Batches by index over a set of examples: ``__len__`` and ``batch(idx)`` make the rest."""

    def __len__(self) -> int:
        raise NotImplementedError

    def batch(self, idx: np.ndarray) -> Batch:
        raise NotImplementedError

    def train_batches(self, batch_size: int, seed: int) -> Iterator[Batch]:
        """Endless batches; a fresh permutation (from ``seed``) each epoch, last partial dropped."""
        rng = np.random.default_rng(seed)
        n = len(self)
        size = min(batch_size, n)
        while True:
            order = rng.permutation(n)
            for start in range(0, n - size + 1, size):
                yield self.batch(order[start : start + size])

    def eval_batches(self, batch_size: int, cap: int | None) -> Iterator[Batch]:
        """One pass in order (the last batch may be smaller), at most ``cap`` batches."""
        starts = range(0, len(self), batch_size)
        if cap is not None:
            starts = starts[:cap]
        for start in starts:
            yield self.batch(np.arange(start, min(start + batch_size, len(self))))


@dataclass
class PaddedSet(Batching):
    """Sequences of one split.

    seqs: [N, L] token ids (uint8/int) or [N, L, K] rolls (uint8 0/1); the model reads
        position t and predicts position t + 1.
    lengths: [N] real positions of each sequence (the rest is padding).
    score: [N, L - 1] bool, target positions that are scored (index t = target seqs[:, t + 1]).
    loss: [N, L - 1] bool, target positions the training loss covers.
    """

    seqs: np.ndarray
    lengths: np.ndarray
    score: np.ndarray
    loss: np.ndarray

    def __len__(self) -> int:
        return len(self.seqs)

    @property
    def tokens(self) -> int:
        """Real positions over all sequences."""
        return int(self.lengths.sum())

    def batch(self, idx: np.ndarray) -> Batch:
        """The examples ``idx`` as one time-major batch, trimmed to its longest member."""
        steps = int(self.lengths[idx].max()) - 1  # T: transitions in the longest sequence
        seqs = self.seqs[idx, : steps + 1]  # (B, T + 1[, K])
        seqs = np.ascontiguousarray(np.swapaxes(seqs, 0, 1))  # (T + 1, B[, K])
        if seqs.ndim == 2:
            data = torch.from_numpy(seqs.astype(np.int64))
        else:
            data = torch.from_numpy(seqs.astype(np.float32))
        return Batch(
            inputs=data[:-1],
            targets=data[1:],
            mask=torch.from_numpy(np.ascontiguousarray(self.score[idx, :steps].T)),
            loss_mask=torch.from_numpy(np.ascontiguousarray(self.loss[idx, :steps].T)),
            reset=True,
        )


def pad_token_rows(rows: list[bytes], width: int, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Byte strings as a [N, width] uint8 array padded with ``pad``, and their lengths."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    if len(rows) and lengths.max() > width:
        raise ValueError(f"a sequence of {lengths.max()} exceeds the width {width}")
    flat = np.frombuffer(b"".join(rows), dtype=np.uint8)
    out = np.full((len(rows), width), pad, dtype=np.uint8)
    cols = np.arange(width)
    out[cols[None, :] < lengths[:, None]] = flat  # row-major fill matches the join order
    return out, lengths


class PaddedTask(Task):
    """A task whose splits are ``PaddedSet``s in ``self.sets`` (arith, xml, music)."""

    sets: dict[str, PaddedSet]

    def train_batches(self, seed: int) -> Iterator[Batch]:
        return self.sets["train"].train_batches(self.config.batch_size, seed)

    def eval_batches(self, split: str) -> Iterator[Batch]:
        self._check_split(split)
        return self.sets[split].eval_batches(self.config.batch_size, self.config.eval_batches)

    def split_sizes(self) -> dict[str, dict[str, int]]:
        return {s: {"sequences": len(p), "tokens": p.tokens} for s, p in self.sets.items()}
