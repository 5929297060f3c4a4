"""``xml`` (family "document"): next-character prediction on random nested XML.

A document is one root element holding a random walk of tags: at each step a
new tag is opened or the innermost open one is closed (1/2 each; inside the
bare root only opening is allowed, and at ``max_depth`` only closing). Tag
names are random lowercase strings of ``min_name`` to ``max_name`` letters
(shorter near the end, so the tag still fits). When no opening tag fits in
``seq_len + 1`` characters any more (with the closing tags owed), the walk
only closes, and the document ends when the root is reached. Documents are
well-formed XML: ``xml.etree`` parses them.

The model reads the document one character at a time and predicts the next.
Opening names are random, so only closing tags are predictable: the scored
positions (``mask``) are the characters after ``</`` (the name and ``>``), and
the metric is ``accuracy`` on them. The training loss covers every real
character (plain next-character modelling), which also teaches the model the
syntax it needs to know where a closing name starts.

Data are generated once per task from ``seed``; splits share no document.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsearch.direction import MAXIMIZE
from tasks.base import TaskConfig, TaskError, _check
from tasks.padded import PaddedSet, PaddedTask, pad_token_rows

ALPHABET = " <>/abcdefghijklmnopqrstuvwxyz"  # index 0, the space, pads
TO_ID = np.zeros(256, dtype=np.uint8)
TO_ID[np.frombuffer(ALPHABET.encode(), dtype=np.uint8)] = np.arange(len(ALPHABET))
LT, GT, SLASH = (ALPHABET.index(c) for c in "<>/")


@dataclass(frozen=True)
class XmlConfig(TaskConfig):
    """TaskConfig plus tag-name lengths and the deepest nesting allowed (root = 1)."""

    min_name: int = 2
    max_name: int = 10
    max_depth: int = 8

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, "min_name", self.min_name >= 1, ">= 1")
        _check(self, "max_name", self.max_name >= self.min_name, ">= min_name")
        _check(self, "max_depth", self.max_depth >= 1, ">= 1")
        _check(self, "seq_len", self.seq_len + 1 >= 2 * self.max_name + 5, ">= 2 * max_name + 4")


# Presets. smoke: seconds, for tests. quick: documents of <= 64 characters (about 4-6
# tags, nesting to ~3), learnable by a 128-unit LSTM/GRU in ~1000 CPU steps (~30 s). paper: longer
# documents with deeper nesting at GPU sizes (the paper's exact sizes are not published).
PRESETS = {
    "smoke": dict(
        seq_len=40, batch_size=16, hidden_size=32, train_steps=100, eval_every=50, patience=2,
        n_train=2000, n_valid=256, n_test=256, eval_batches=4,
        min_name=2, max_name=3, max_depth=3,  # short names: learning shows within seconds
    ),
    "quick": dict(
        seq_len=64, batch_size=32, hidden_size=128, train_steps=3000, eval_every=200,
        patience=3, n_train=20000, n_valid=1024, n_test=2048, eval_batches=None,
        lr_schedule="linear",  # annealed to zero: repeats agree more (results/fidelity/)
        # 3,000 steps: at 1,000 the gated cells are still learning to close tags and two
        # seeds agree at 0.74; at 3,000, 0.92 (results/fidelity/xml-quick-steps3000).
        # Names of 2-3 letters: with 2-10, a 128-unit LSTM learns only the tag structure in
        # this budget (measured: 0.17 closing-tag accuracy, the same as torch.nn.LSTM).
        min_name=2, max_name=3, max_depth=4,
    ),
    "paper": dict(
        seq_len=256, batch_size=128, hidden_size=512, train_steps=50000, eval_every=1000,
        patience=10, n_train=200000, n_valid=10000, n_test=10000, eval_batches=None,
        min_name=2, max_name=10, max_depth=20,
    ),
}  # fmt: skip


def document(rng: np.random.Generator, cfg: XmlConfig) -> bytes:
    """One random document of at most ``seq_len + 1`` characters."""
    budget = cfg.seq_len + 1
    letters = "abcdefghijklmnopqrstuvwxyz"

    def name(room: int) -> str:  # a name whose <tag></tag> fits in ``room`` characters
        longest = min(cfg.max_name, (room - 5) // 2)
        size = int(rng.integers(cfg.min_name, longest + 1))
        return "".join(letters[i] for i in rng.integers(0, 26, size=size).tolist())

    root = name(budget)
    parts, stack = [f"<{root}>"], [root]
    used, owed = len(root) + 2, len(root) + 3  # written so far, closing tags owed
    while True:
        room = budget - used - owed
        can_open = len(stack) < cfg.max_depth and room >= 2 * cfg.min_name + 5
        if can_open and (len(stack) == 1 or rng.random() < 0.5):
            tag = name(room)
            parts.append(f"<{tag}>")
            stack.append(tag)
            used, owed = used + len(tag) + 2, owed + len(tag) + 3
        elif len(stack) > 1:
            closed = stack.pop()
            parts.append(f"</{closed}>")
            used, owed = used + len(closed) + 3, owed - len(closed) - 3
        else:
            break
    parts.append(f"</{root}>")
    return "".join(parts).encode()


def closing_mask(seqs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """[N, L - 1] bool: target t (character t + 1) lies after a ``</`` up to its ``>``."""
    n, width = seqs.shape
    idx = np.broadcast_to(np.arange(width), (n, width))
    starts = np.zeros_like(seqs, dtype=bool)
    starts[:, 2:] = (seqs[:, :-2] == LT) & (seqs[:, 1:-1] == SLASH)  # first char after </
    last_start = np.maximum.accumulate(np.where(starts, idx, -1), axis=1)
    gts = np.where(seqs == GT, idx, -1)
    last_gt_before = np.full_like(last_start, -1)
    last_gt_before[:, 1:] = np.maximum.accumulate(gts, axis=1)[:, :-1]
    inside = (last_start >= 0) & (last_start > last_gt_before) & (idx < lengths[:, None])
    return inside[:, 1:]


class XmlTask(PaddedTask):
    """Predict the closing tags of random nested XML documents."""

    family = "document"
    metric = "accuracy"
    direction = MAXIMIZE
    input_kind = "tokens"
    config_class = XmlConfig
    PRESETS = PRESETS

    def __init__(self, name: str, config: XmlConfig, *, seed: int = 0) -> None:
        super().__init__(name, config, seed=seed)
        self.n_inputs = self.n_outputs = len(ALPHABET)
        rng = np.random.default_rng([seed, 0x3E1])
        seen: set[bytes] = set()
        self.texts: dict[str, list[bytes]] = {}
        self.sets: dict[str, PaddedSet] = {}
        for split in ("test", "valid", "train"):  # held-out splits first: train yields to them
            size = {"train": config.n_train, "valid": config.n_valid, "test": config.n_test}[split]
            if size is None:
                raise TaskError(f"{name}: n_{split} must be a number of documents, not None")
            docs: list[bytes] = []
            for _ in range(50 * size):
                doc = document(rng, config)
                if doc not in seen:
                    seen.add(doc)
                    docs.append(doc)
                    if len(docs) == size:
                        break
            else:
                raise TaskError(f"{name}: cannot draw {size} distinct documents; raise seq_len")
            self.texts[split] = docs
            raw, lengths = pad_token_rows(docs, config.seq_len + 1, pad=ord(" "))
            seqs = TO_ID[raw]  # (N, L)
            real = np.arange(seqs.shape[1] - 1)[None, :] < lengths[:, None] - 1
            self.sets[split] = PaddedSet(seqs, lengths, closing_mask(seqs, lengths), real)

    def example_keys(self, split: str) -> set:
        return set(self.texts[split])
