"""``music-jsb``, ``music-muse``, ``music-folk`` (family "audio"): polyphonic piano rolls.

Each piece of music21's bundled corpus becomes a piano roll over the 88 piano
keys (MIDI 21..108, notes outside are dropped): row t holds the keys sounding
at grid point ``t * grid`` (a note sounds at points ``offset <= t*grid <
offset + duration``, in quarter lengths; repeats are not expanded). The model
reads row t and predicts row t + 1, each key an independent Bernoulli.

- ``jsb``: the Bach chorales (``corpus.chorales.Iterator``, 350 unique
  names), quarter-note grid (1.0): about 4 notes a step. This is the classic
  JSB construction, not the published pieces or split.
- ``muse``: Palestrina's masses (1,318 kern files, 3-8 voices), half-note grid
  (2.0), since the music moves in halves and wholes.
- ``folk``: the ABC tune collections ``oneills1850``, ``ryansMammoth``,
  ``airdsAirs``, ``miscFolk``, ``nottingham-dataset`` (about 4,400 tunes;
  the Essen collection is left out, being German song rather than dance
  tunes and twice the parsing), eighth-note grid (0.5): about 1 note a step.

Split by piece: a hash of the piece's id (corpus path, ``#X`` for ABC tunes)
sends 80% to train, 10% to valid, 10% to test, and orders each split;
identical rolls are kept once (test first, then valid, then train). Caps
``n_train``/``n_valid``/``n_test`` take the first pieces of a split in hash
order, parsing only those: the smoke preset parses a few dozen pieces.
Parsed rolls are cached per (dataset, grid) and grow as more pieces are asked
for (``tasks.cache``); pieces that fail to parse are logged, skipped and
remembered. Pieces are cut into windows of ``seq_len`` transitions (a window
overlaps the next by one step, so every transition is scored once); ``mask``
covers the real steps.

Metric: ``nll``, the negative log-likelihood per time step, i.e. the sum of
the 88 keys' binary cross-entropies averaged over scored steps (nats).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tasks.base import SPLITS, TaskConfig, TaskError, _check
from tasks.cache import cache_path, load_arrays, save_arrays
from tasks.kern import Unsupported, kern_notes
from tasks.padded import PaddedSet, PaddedTask
from tasks.progress import Progress
from tasks.scoring import BernoulliSteps

log = logging.getLogger(__name__)
DATA_VERSION = 1
KEYS, LOWEST = 88, 21  # piano keys: MIDI 21 (A0) .. 108 (C8)
GRIDS = {"jsb": 1.0, "muse": 2.0, "folk": 0.5}
FOLK_DIRS = ("oneills1850", "ryansMammoth", "airdsAirs", "miscFolk", "nottingham-dataset")
INSTALL = "pip install music21"


@dataclass(frozen=True)
class MusicConfig(TaskConfig):
    """TaskConfig plus the sampling grid in quarter lengths (1.0 = a quarter note)."""

    grid: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, "grid", 0 < self.grid <= 8, "in (0, 8] quarter lengths")


# Presets. smoke: ~24 pieces, seconds (tests). quick: every piece, a 128-unit model for
# 1000 steps of 16 windows of 64 steps. paper: larger model and budget for the held-out
# tables (the study's music sizes are not published; these are our choices).
BASE = {
    "smoke": dict(
        seq_len=32, batch_size=8, hidden_size=32, train_steps=60, eval_every=30, patience=2,
        n_train=16, n_valid=4, n_test=4, eval_batches=4,
    ),
    "quick": dict(
        seq_len=64, batch_size=16, hidden_size=128, train_steps=1000, eval_every=200,
        patience=3, n_train=None, n_valid=None, n_test=None, eval_batches=20,
    ),
    "paper": dict(
        seq_len=128, batch_size=32, hidden_size=300, train_steps=20000, eval_every=500,
        patience=10, dropout=0.3, n_train=None, n_valid=None, n_test=None, eval_batches=None,
    ),
}  # fmt: skip


def _corpus_root() -> Path:
    try:
        import music21
    except ImportError as exc:
        raise TaskError(f"the music tasks need music21: {INSTALL}") from exc
    return Path(music21.__file__).parent / "corpus"


def piece_ids(dataset: str) -> list[str]:
    """Ids of the dataset's pieces: corpus-relative paths, ``path#X`` for ABC tunes."""
    root = _corpus_root()
    if dataset == "jsb":
        from music21 import corpus

        paths = set()
        for name in dict.fromkeys(corpus.chorales.Iterator(returnType="filename")):
            found = corpus.getWork(name)  # a path, or a list when several files match
            found = (
                sorted(found, key=lambda p: not str(p).endswith(".mxl"))[0]
                if isinstance(found, list)
                else found
            )
            paths.add(str(Path(found).relative_to(root)))
        return sorted(paths)
    if dataset == "muse":
        return sorted(str(p.relative_to(root)) for p in (root / "palestrina").glob("*.krn"))
    ids = []
    for folder in FOLK_DIRS:
        for path in sorted((root / folder).glob("*.abc")):
            text = path.read_text(encoding="utf-8", errors="replace")
            numbers = dict.fromkeys(re.findall(r"^X:\s*(\d+)", text, flags=re.M))
            ids += [f"{path.relative_to(root)}#{int(x)}" for x in numbers]
    return ids


# music21 by default pickles each parsed file into its scratch folder and reads the pickle
# back (a third of a cold build's time: profiled in tasks/build.py's docstring); later builds
# read our cache instead, so parse from the source and store nothing.
SOURCE = {"forceSource": True, "storePickle": False}


def _parse(path: str, number: str = ""):
    from music21 import converter, stream

    kwargs = {"number": int(number)} if number else {}
    score = converter.parse(str(_corpus_root() / path), **kwargs, **SOURCE)
    return score.scores[0] if isinstance(score, stream.Opus) else score


@functools.lru_cache(maxsize=1)
def _tunes(path: str) -> dict:
    """{X number: score} of an ABC file, parsed once for all its tunes (the last file kept)."""
    from music21 import converter, stream

    parsed = converter.parse(str(_corpus_root() / path), **SOURCE)
    scores = parsed.scores if isinstance(parsed, stream.Opus) else [parsed]
    tunes: dict = {}
    for score in scores:
        if str(score.metadata.number).isdigit():
            tunes.setdefault(str(int(score.metadata.number)), score)
    return tunes


def parse_roll(piece: str, grid: float, *, whole_file: bool = False) -> np.ndarray:
    """[T, 88] uint8 roll of one piece sampled every ``grid`` quarter lengths.

    ``whole_file``: parse the piece's ABC file once for all its tunes (cached), which is
    quicker when many of its tunes are wanted; otherwise only the one tune is parsed.
    A plain kern file is read by ``tasks.kern`` (the same notes, without music21's score).
    """
    path, _, number = piece.partition("#")
    if path.endswith(".krn"):
        try:
            notes = kern_notes(str(_corpus_root() / path))
            return roll_of_notes(((float(on), float(on + ql), (midi,)) for on, ql, midi in notes),
                                 grid)  # fmt: skip
        except Unsupported:
            pass
    return roll_of(_tunes(path)[number] if number and whole_file else _parse(path, number), grid)


def roll_of(score, grid: float) -> np.ndarray:
    """[T, 88] uint8 roll of a parsed music21 score sampled every ``grid`` quarter lengths."""
    notes = (
        (
            float(n.offset),
            float(n.offset + n.quarterLength),
            [p.midi for p in getattr(n, "pitches", ())],
        )
        for n in score.flatten().notes
    )
    return roll_of_notes(notes, grid)


def roll_of_notes(notes, grid: float) -> np.ndarray:
    """[T, 88] uint8 roll of (start, end, MIDI pitches) notes sampled every ``grid``: a note
    sounds at the points ``start <= t * grid < end``."""
    spans = []  # (first step, end step, key)
    for start, end, pitches in notes:
        first, stop = int(np.ceil(start / grid - 1e-6)), int(np.ceil(end / grid - 1e-6))
        for midi in pitches:
            if stop > first and LOWEST <= midi < LOWEST + KEYS:
                spans.append((first, stop, midi - LOWEST))
    if not spans:
        raise ValueError("no notes on the piano keys")
    roll = np.zeros((max(s[1] for s in spans), KEYS), dtype=np.uint8)
    for first, stop, key in spans:
        roll[first:stop, key] = 1
    return roll


def whole_files(pieces: list[str]) -> set[str]:
    """The ABC files holding 5 or more of ``pieces``: parsed once for all their tunes."""
    per_file = Counter(p.partition("#")[0] for p in pieces if "#" in p)
    return {path for path, count in per_file.items() if count >= 5}


def try_roll(piece: str, grid: float, whole: set[str]) -> np.ndarray | None:
    """The piece's roll, or None if it fails to parse (logged, skipped, remembered)."""
    try:
        return parse_roll(piece, grid, whole_file=piece.partition("#")[0] in whole)
    except Exception as exc:  # music21 raises many kinds; a bad piece is skipped
        log.debug("skipping %s: %s", piece, exc)
        return None


class RollCache:
    """Parsed rolls of one (dataset, grid), loaded from and saved to the cache directory."""

    def __init__(self, dataset: str, grid: float) -> None:
        self.path = cache_path(f"music-{dataset}-g{grid:g}", DATA_VERSION)
        self.grid = grid
        self.rolls: dict[str, np.ndarray | None] = {}  # None: failed to parse
        arrays = load_arrays(self.path)
        if arrays is not None:
            bits = np.unpackbits(arrays["packed"], axis=1, count=KEYS)
            for i, piece in enumerate(arrays["ids"].tolist()):
                lo, hi = arrays["offsets"][i], arrays["offsets"][i + 1]
                self.rolls[piece] = bits[lo:hi] if arrays["ok"][i] else None

    def missing(self, pieces: list[str]) -> list[str]:
        """The pieces not known yet, sorted (a file's tunes together)."""
        return sorted(p for p in pieces if p not in self.rolls)

    def ensure(self, pieces: list[str]) -> None:
        """Parse here (with a progress bar) and cache every piece not known yet."""
        missing = self.missing(pieces)
        if not missing:
            return
        whole = whole_files(missing)
        progress = Progress(len(missing), verb=f"parsed {self.path.stem}")
        for done, piece in enumerate(missing, 1):
            self.rolls[piece] = try_roll(piece, self.grid, whole)
            progress.advance()
            if done % 250 == 0:  # keep the progress of long builds
                self.save()
        progress.close()
        self.finish()

    def finish(self) -> None:
        """Save, saying how many pieces failed to parse."""
        failed = sum(roll is None for roll in self.rolls.values())
        if failed:
            log.warning("%s: %d of %d pieces failed to parse, skipped", self.path.stem, failed,
                        len(self.rolls))  # fmt: skip
        self.save()

    def save(self) -> None:
        ids = list(self.rolls)
        rolls = [self.rolls[p] if self.rolls[p] is not None else np.zeros((0, KEYS)) for p in ids]
        offsets = np.concatenate([[0], np.cumsum([len(r) for r in rolls])]).astype(np.int64)
        stacked = np.concatenate(rolls).astype(np.uint8) if ids else np.zeros((0, KEYS), np.uint8)
        save_arrays(self.path, {
            "ids": np.array(ids), "ok": np.array([self.rolls[p] is not None for p in ids]),
            "offsets": offsets, "packed": np.packbits(stacked, axis=1),
        })  # fmt: skip


def split_of(piece: str) -> tuple[str, float]:
    """(split, order key) of a piece, from a hash of its id."""
    u = int(hashlib.sha1(piece.encode()).hexdigest()[:12], 16) / 16**12
    return ("train" if u < 0.8 else "valid" if u < 0.9 else "test"), u


def windows(rolls: list[np.ndarray], seq_len: int) -> PaddedSet:
    """Pieces cut into windows of seq_len + 1 steps (overlapping by one), padded."""
    cuts = [r[i : i + seq_len + 1] for r in rolls for i in range(0, len(r) - 1, seq_len)]
    lengths = np.array([len(c) for c in cuts], dtype=np.int64)
    seqs = np.zeros((len(cuts), seq_len + 1, KEYS), dtype=np.uint8)
    for i, cut in enumerate(cuts):
        seqs[i, : len(cut)] = cut
    real = np.arange(seq_len)[None, :] < lengths[:, None] - 1
    return PaddedSet(seqs, lengths, real, real)


class MusicTask(BernoulliSteps, PaddedTask):
    """Next-step prediction of 88-key piano rolls built from music21's corpus."""

    family = "audio"
    input_kind = "rolls"
    config_class = MusicConfig

    @classmethod
    def presets_for(cls, *, dataset: str) -> dict[str, dict]:
        return {name: {**knobs, "grid": GRIDS[dataset]} for name, knobs in BASE.items()}

    def __init__(self, name: str, config: MusicConfig, *, seed: int = 0, dataset: str) -> None:
        super().__init__(name, config, seed=seed)
        self.n_inputs = self.n_outputs = KEYS
        self.dataset = dataset
        ordered: dict[str, list[tuple[float, str]]] = {s: [] for s in SPLITS}
        for piece in piece_ids(dataset):
            split, key = split_of(piece)
            ordered[split].append((key, piece))
        cache = RollCache(dataset, config.grid)
        caps = {"train": config.n_train, "valid": config.n_valid, "test": config.n_test}
        seen: set[bytes] = set()
        self.pieces: dict[str, list[str]] = {}
        self.rolls: dict[str, list[np.ndarray]] = {}
        for split in ("test", "valid", "train"):  # held-out splits first: train yields to them
            queue = [p for _, p in sorted(ordered[split])]
            cap = caps[split] or len(queue)
            self.pieces[split], self.rolls[split] = [], []
            while queue and len(self.pieces[split]) < cap:
                need = cap - len(self.pieces[split])
                chunk, queue = queue[:need], queue[need:]
                cache.ensure(chunk)
                for piece in chunk:
                    roll = cache.rolls[piece]
                    digest = hashlib.sha1(roll.tobytes()).digest() if roll is not None else b""
                    if roll is not None and len(roll) >= 2 and digest not in seen:
                        seen.add(digest)
                        self.pieces[split].append(piece)
                        self.rolls[split].append(roll)
            if not self.pieces[split]:
                raise TaskError(f"{name}: no usable pieces in the {split} split")
        self.sets = {s: windows(self.rolls[s], config.seq_len) for s in SPLITS}

    def example_keys(self, split: str) -> set:
        return set(self.pieces[split])

    def split_sizes(self) -> dict[str, dict[str, int]]:
        return {
            s: {"sequences": len(self.rolls[s]), "tokens": sum(len(r) for r in self.rolls[s])}
            for s in SPLITS
        }
