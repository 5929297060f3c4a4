"""``text:PATH`` (family "language model"): language modelling on a user's text, metric perplexity.

PATH is a folder holding ``train.txt``, ``valid.txt`` and ``test.txt``, or one
UTF-8 file whose non-blank lines are split in order: the first 90% train, the
next 5% valid, the last 5% test. As with PTB (``tasks.ptb``), the tokens of a
line are its whitespace-separated words and an ``<eos>`` ends every non-blank
line; knob ``level="char"`` reads its characters instead (spaces included).
The vocabulary comes from the training split: its ``vocab_size - 2`` most
frequent tokens, ``<eos>`` and ``<unk>`` (every other token, in any split,
and any ``<unk>`` the text holds itself), ids by descending training frequency
(ties alphabetical), as the adaptive softmax needs.

Files are read as streams, a line at a time: a check pass (UTF-8, line and
token counts, a SHA-256 of the bytes) when the name is first looked up in a
process, then, unless cached, a counting pass over train and an id pass. The
ids are cached (``tasks.cache``) under the content hash, the level and the
vocabulary size, so an edited file is converted again.

The presets are PTB's (``tasks.ptb``) scaled to the corpus: quick trains about
one epoch (200 to 3,000 steps) with 64 units below 100k training tokens and
128 above, and the adaptive head from 200k tokens; the batch shrinks until the
smallest split fills its streams. They are not measured on your data: check a
budget with ``archsearch fidelity`` before trusting a ranking.
"""

from __future__ import annotations

import functools
import hashlib
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tasks.base import SPLITS, TaskError, _check
from tasks.cache import cache_path, load_arrays, save_arrays
from tasks.streams import StreamConfig, StreamTask

DATA_VERSION = 1
EOS, UNK = "<eos>", "<unk>"
LEVELS = ("word", "char")
SHARES = (0.90, 0.95)  # one file: train below 90% of its lines, valid below 95%, test after


@dataclass(frozen=True)
class TextConfig(StreamConfig):
    """StreamConfig plus how the text is read.

    level: "word" (whitespace-separated words) or "char" (characters, spaces included).
    vocab_size: the cap on the vocabulary, ``<eos>`` and ``<unk>`` included.
    """

    level: str = "word"
    vocab_size: int = 10_000

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, "level", self.level in LEVELS, f"one of {LEVELS}")
        _check(self, "vocab_size", self.vocab_size >= 3, "an integer >= 3")


@dataclass(frozen=True)
class TextFacts:
    """What the check pass found: the content hash and, per split, lines and words."""

    digest: str
    files: tuple[tuple[str, str], ...]  # (split, file) in reading order; one file: ("all", file)
    bounds: tuple[int, int]  # one file: the first valid and first test line (non-blank lines)
    lines: dict[str, int]
    words: dict[str, int]  # word tokens, <eos> included


def resolve(rest: str) -> tuple[str, type, dict[str, Any]]:
    """``text:REST`` -> its canonical name (the absolute path), checked; see ``tasks.registry``."""
    if not rest.strip():
        raise TaskError("text: needs a path: text:FOLDER (train/valid/test.txt) or text:FILE")
    path = Path(rest).expanduser().resolve()
    scan(str(path))
    return f"text:{path}", TextTask, {"path": str(path)}


def split_files(path: Path) -> tuple[tuple[str, str], ...]:
    """(split, file) pairs to read: a folder's three files, or ("all", the file)."""
    if path.is_dir():
        missing = [f"{s}.txt" for s in SPLITS if not (path / f"{s}.txt").is_file()]
        if missing:
            raise TaskError(
                f"text:{path}: the folder lacks {', '.join(missing)} "
                f"(it needs train.txt, valid.txt and test.txt)"
            )
        return tuple((s, str(path / f"{s}.txt")) for s in SPLITS)
    if path.is_file():
        return (("all", str(path)),)
    raise TaskError(f"text:{path}: no such file or folder")


def read_lines(file: str, digest=None) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line, decoded strictly as UTF-8, a line at a time."""
    with open(file, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            if digest is not None:
                digest.update(raw)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise TaskError(
                    f"text:{file}: line {number} is not UTF-8 text ({error.reason} at byte "
                    f"{error.start} of the line)"
                ) from None
            if line.strip():
                yield number, line.rstrip("\r\n")


def scan(path: str) -> TextFacts:
    """Check the text at ``path`` and count it (once per process and file version)."""
    files = split_files(Path(path))
    try:
        stamps = tuple((f, Path(f).stat().st_size, Path(f).stat().st_mtime_ns) for _, f in files)
        return _scan(path, stamps)
    except OSError as error:  # unreadable: no permission, a broken disk
        raise TaskError(f"text:{path}: cannot read {error.filename}: {error.strerror}") from None


@functools.lru_cache(maxsize=64)
def _scan(path: str, stamps: tuple) -> TextFacts:
    files = split_files(Path(path))
    digest = hashlib.sha256()
    per_line = array("I")  # words of each non-blank line, <eos> included
    first_line: dict[str, int] = {}
    types: set[str] = set()  # word types of train, until two (a vocabulary of one fails)
    for split, file in files:
        digest.update(f"{split}\0".encode())
        first_line[split] = len(per_line)
        for _, line in read_lines(file, digest):
            words = line.split()
            per_line.append(len(words) + 1)
            if len(types) < 2 and split in ("train", "all"):
                types.update(words)
    total = len(per_line)
    if files[0][0] == "all":
        bounds = (int(total * SHARES[0]), int(total * SHARES[1]))
        starts = {"train": 0, "valid": bounds[0], "test": bounds[1]}
    else:
        bounds = (first_line["valid"], first_line["test"])
        starts = {s: first_line[s] for s in SPLITS}
    ends = {"train": starts["valid"], "valid": starts["test"], "test": total}
    counts = np.concatenate([[0], np.cumsum(np.frombuffer(per_line, dtype=np.uint32))])
    lines = {s: ends[s] - starts[s] for s in SPLITS}
    words = {s: int(counts[ends[s]] - counts[starts[s]]) for s in SPLITS}
    for split in SPLITS:
        if lines[split] == 0:
            how = (
                f"{total} non-blank lines split 90/5/5 leave it empty; give 20 or more, or a "
                f"folder with train.txt, valid.txt and test.txt"
                if files[0][0] == "all"
                else f"{split}.txt has no non-blank line"
            )
            raise TaskError(f"text:{path}: the {split} split is empty ({how})")
    if len(types) < 2:
        raise TaskError(
            f"text:{path}: the training text has a vocabulary of one token "
            f"({next(iter(types), '')!r}): there is nothing to predict"
        )
    return TextFacts(digest.hexdigest(), files, bounds, lines, words)


def split_lines(facts: TextFacts, only: str | None = None) -> Iterator[tuple[str, str]]:
    """(split, line) of every non-blank line in order (``only``: that split's lines)."""
    for split, file in facts.files:
        if only is not None and split not in (only, "all"):
            continue
        for index, (_, line) in enumerate(read_lines(file)):
            named = split if split != "all" else SPLITS[sum(index >= b for b in facts.bounds)]
            if only is not None and named != only:
                if SPLITS.index(named) > SPLITS.index(only):
                    break  # one file's splits follow each other
                continue
            yield named, line


def tokens(line: str, level: str) -> list[str]:
    return line.split() if level == "word" else list(line)


def convert(facts: TextFacts, level: str, vocab_size: int, name: str) -> dict[str, np.ndarray]:
    """Token ids per split and the vocabulary (two streamed passes over the text)."""
    counts: Counter[str] = Counter()
    for _, line in split_lines(facts, only="train"):
        counts.update(tokens(line, level))
    counts[EOS] += facts.lines["train"]
    kept = sorted((t for t in counts if t not in (EOS, UNK)), key=lambda t: (-counts[t], t))
    if len(kept) < 2:
        only = kept[0] if kept else ""
        raise TaskError(f"{name}: at level {level!r} the training text has a vocabulary of one "
                        f"token ({only!r}): there is nothing to predict")  # fmt: skip
    dropped = kept[vocab_size - 2 :]
    frequency = {t: counts[t] for t in kept[: vocab_size - 2]}
    frequency[EOS] = counts[EOS]
    frequency[UNK] = counts[UNK] + sum(counts[t] for t in dropped)
    vocab = sorted(frequency, key=lambda t: (-frequency[t], t))
    index = {t: i for i, t in enumerate(vocab)}
    unk, eos = index[UNK], index[EOS]
    ids = {s: array("i") for s in SPLITS}
    for split, line in split_lines(facts):
        ids[split].extend(index.get(t, unk) for t in tokens(line, level))
        ids[split].append(eos)
    arrays = {s: np.frombuffer(ids[s], dtype=np.int32).copy() for s in SPLITS}
    arrays["vocab"] = np.array(vocab)
    return arrays


def load_text(path: str, level: str, vocab_size: int, name: str) -> dict[str, np.ndarray]:
    """The cached ids of the text at ``path`` (converted on first use)."""
    facts = scan(path)
    file = cache_path(f"text-{facts.digest[:24]}-{level}-{vocab_size}", DATA_VERSION)
    arrays = load_arrays(file)
    if arrays is None or set(arrays) != {*SPLITS, "vocab"}:
        arrays = convert(facts, level, vocab_size, name)
        save_arrays(file, arrays)
    return arrays


def text_presets(facts: TextFacts) -> dict[str, dict]:
    """PTB's presets scaled to the corpus's training words and its smallest split."""
    train, smallest = facts.words["train"], min(facts.words.values())

    def steps(epochs: float, seq_len: int, batch: int, low: int, high: int) -> int:
        return int(min(high, max(low, epochs * train // (seq_len * batch))))

    quick_batch = max(1, min(20, smallest // 70))
    quick = steps(1, 35, quick_batch, 200, 3000)
    paper_batch = quick_batch
    paper = steps(20, 35, paper_batch, 1000, 40_000)
    return {
        "smoke": dict(
            seq_len=20, batch_size=max(1, min(8, min(smallest, 4000) // 40)), hidden_size=32,
            train_steps=50, eval_every=25, patience=2, n_train=20_000, n_valid=4_000,
            n_test=4_000, eval_batches=5,
        ),
        "quick": dict(
            seq_len=35, batch_size=quick_batch, hidden_size=128 if train >= 100_000 else 64,
            train_steps=quick, eval_every=max(1, quick // 2), patience=3,
            head="adaptive" if train >= 200_000 else "full", lr_schedule="linear",
            warmup_steps=min(100, quick // 10), activation_reg=2.0, temporal_reg=1.0,
            eval_carry=False, diverged_retry=3.0, weight_drop=0.25,
        ),
        "paper": dict(
            seq_len=35, batch_size=paper_batch, hidden_size=650 if train >= 1_000_000 else 256,
            train_steps=paper, eval_every=max(100, min(2000, paper // 20)), patience=5,
            dropout=0.5,
        ),
    }  # fmt: skip


class TextTask(StreamTask):
    """Language modelling on the text at ``path``, with state carried across batches."""

    config_class = TextConfig

    @classmethod
    def presets_for(cls, *, path: str) -> dict[str, dict]:
        return text_presets(scan(path))

    def __init__(self, name: str, config: TextConfig, *, seed: int = 0, path: str) -> None:
        super().__init__(name, config, seed=seed)
        self.path = path
        arrays = load_text(path, config.level, config.vocab_size, name)
        self.use_corpus(arrays["vocab"].tolist(), {s: arrays[s] for s in SPLITS}, EOS)

    def adaptive_cutoffs(self) -> tuple[int, ...]:
        """A tenth and two fifths of the vocabulary, as PTB's 1,000 and 4,000 of 10,000."""
        size = len(self.vocab)
        return (size // 10, 2 * size // 5) if size >= 100 else ()

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "path": self.path}
