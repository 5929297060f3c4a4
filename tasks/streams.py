"""Token streams for language modelling: ptb and ``text:`` tasks share them.

A split's token ids are cut into ``batch_size`` parallel streams read in
windows of ``seq_len`` tokens; the target is the next token. The task is
``stateful``: consecutive batches continue the same streams, so the model
carries its state across them and drops it when ``batch.reset`` is True (the
first batch of a pass; each training epoch starts at a random offset below
``seq_len``, drawn from the seed). ``n_train``/``n_valid``/``n_test`` cap a
split's tokens (None = all).

Metric: ``perplexity`` = exp(mean negative log-likelihood per token).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from archsearch.direction import MINIMIZE
from tasks.base import SPLITS, Batch, Task, TaskConfig, TaskError, _check

HEADS = ("full", "adaptive")


@dataclass(frozen=True)
class StreamConfig(TaskConfig):
    """TaskConfig plus the output head: ``full`` softmax or ``adaptive`` (``tasks.heads``)."""

    head: str = "full"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, "head", self.head in HEADS, f"one of {HEADS}")


class StreamTask(Task):
    """Language modelling over token streams, with state carried across batches.

    A subclass loads its corpus and calls ``use_corpus(vocab, ids)``; ids must be
    sorted by descending training frequency for the adaptive head.
    """

    family = "language model"
    metric = "perplexity"
    direction = MINIMIZE
    input_kind = "tokens"
    stateful = True
    config_class = StreamConfig

    def use_corpus(self, vocab: list[str], ids: dict[str, np.ndarray], eos: str) -> None:
        """Take the vocabulary and each split's ids, capped by the config, as streams."""
        config = self.config
        self.vocab = vocab
        self.eos = vocab.index(eos)
        self.n_inputs = self.n_outputs = len(vocab)
        caps = {"train": config.n_train, "valid": config.n_valid, "test": config.n_test}
        self.ids = {s: ids[s][: caps[s]].astype(np.int64) for s in SPLITS}
        self.streams = {s: self._batchify(self.ids[s], s) for s in SPLITS}

    def adaptive_cutoffs(self) -> tuple[int, ...]:
        """Where the adaptive softmax splits the ids (frequent ones first); () = it cannot."""
        return ()

    def _batchify(self, ids: np.ndarray, split: str) -> torch.Tensor:
        """[n, B] tensor: column b is the b-th consecutive slice of ``ids``."""
        size = self.config.batch_size
        steps = len(ids) // size
        if steps < 2:
            raise TaskError(
                f"{self.name}: the {split} split's {len(ids)} tokens cannot fill {size} "
                f"streams; lower batch_size"
            )
        return torch.from_numpy(ids[: steps * size].reshape(size, steps).T.copy())

    def _windows(self, data: torch.Tensor, start: int) -> Iterator[Batch]:
        seq_len = self.config.seq_len
        for i in range(start, len(data) - 1, seq_len):
            steps = min(seq_len, len(data) - 1 - i)
            mask = torch.ones(steps, data.shape[1], dtype=torch.bool)
            yield Batch(data[i : i + steps], data[i + 1 : i + 1 + steps], mask, mask, i == start)

    def train_batches(self, seed: int) -> Iterator[Batch]:
        """Endless passes over the train streams, each from a random offset < seq_len."""
        rng = np.random.default_rng(seed)
        offsets = min(self.config.seq_len, len(self.streams["train"]) - 1)
        while True:
            yield from self._windows(self.streams["train"], int(rng.integers(offsets)))

    def eval_batches(self, split: str) -> Iterator[Batch]:
        self._check_split(split)
        windows = self._windows(self.streams[split], 0)
        cap = self.config.eval_batches
        return windows if cap is None else (b for _, b in zip(range(cap), windows, strict=False))

    def make_head(self, in_features: int) -> torch.nn.Module:
        cutoffs = self.adaptive_cutoffs() if self.config.head == "adaptive" else ()
        if cutoffs:  # a vocabulary too small to cut has none: the full softmax
            from tasks.heads import AdaptiveHead

            return AdaptiveHead(self, in_features, cutoffs)
        return super().make_head(in_features)

    def split_sizes(self) -> dict[str, dict[str, int]]:
        return {
            s: {"sequences": int((self.ids[s] == self.eos).sum()), "tokens": len(self.ids[s])}
            for s in SPLITS
        }

    def summarize(self, stats: dict[str, float]) -> dict[str, float]:
        """Perplexity (primary), mean NLL in nats and next-token accuracy."""
        out = super().summarize(stats)
        out["perplexity"] = math.exp(min(out["nll"], 50.0))
        return out
