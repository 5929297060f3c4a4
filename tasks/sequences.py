"""``seq:FILE.npz`` and array tasks (family "sequences"): a user's sequences given as arrays.

The archive holds ``x``, ``y`` and optionally ``split`` (``tasks.arrays`` says
what each may be and how ``y`` decides the task). The model reads the F
features of each step through a linear layer (``input_kind`` "rolls", as music
does) and its head reads the top cell's output:

- ``classify``: the class at the sequence's last real step; metric accuracy.
- ``regress``: the D values at the last real step; metric MSE (lower is better).
- ``labels``: the K labels at every real step; metric NLL per step, as music.

Without ``split`` the examples are split 80/10/10 by a permutation with a fixed
seed (the same split in every run). Converted arrays are cached
(``tasks.cache``) under the archive's SHA-256 (read in chunks), so an edited
file is converted again. Object arrays (sequences of different lengths) can
only be stored with pickle: they are read with ``allow_pickle=True``, so give
only archives you trust.

A package can add a task of this family in a few lines (``tasks.registry``
loads it): subclass ``ClassifyArrays``, ``RegressArrays`` or ``LabelArrays``
and return the arrays from ``arrays(seed)``; the README shows one.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from archsearch.direction import MAXIMIZE
from tasks.arrays import Checked, check_arrays
from tasks.base import SPLITS, Batch, TaskConfig, TaskError
from tasks.cache import cache_path, load_arrays, save_arrays
from tasks.padded import Batching, PaddedTask
from tasks.scoring import BernoulliSteps, SquaredError

DATA_VERSION = 1
CHUNK = 1 << 20  # bytes hashed at a time


class ArraySet(Batching):
    """Sequences of one split: x [N, T, F], lengths [N], targets as ``tasks.arrays`` checks."""

    def __init__(self, checked: Checked, indices: np.ndarray) -> None:
        self.x = checked.x[indices]
        self.lengths = checked.lengths[indices]
        self.y = checked.y[indices]
        self.kind = checked.kind

    def __len__(self) -> int:
        return len(self.x)

    @property
    def tokens(self) -> int:
        return int(self.lengths.sum())

    def batch(self, idx: np.ndarray) -> Batch:
        """The examples ``idx`` time-major, trimmed to the longest; scored where the kind says."""
        lengths = self.lengths[idx]
        steps = int(lengths.max())
        inputs = torch.from_numpy(np.ascontiguousarray(self.x[idx, :steps].swapaxes(0, 1)))
        real = np.arange(steps)[:, None] < lengths[None, :]  # (T, B)
        if self.kind == "labels":
            labels = self.y[idx, :steps].swapaxes(0, 1).astype(np.float32)  # (T, B, K)
            targets, scored = torch.from_numpy(labels), real
        else:  # one target per sequence, read at its last real step
            scored = np.arange(steps)[:, None] == lengths[None, :] - 1
            wanted = self.y[idx]  # (B,) classes or (B, D) values
            targets = torch.from_numpy(np.broadcast_to(wanted, (steps, *wanted.shape)).copy())
        mask = torch.from_numpy(scored)
        return Batch(inputs, targets, mask, mask, reset=True)


# Presets, scaled to the number of training sequences n (see ``array_presets``): smoke, a
# few dozen steps on a slice; quick, about ten epochs (300 to 3,000 steps); paper, fifty.
def array_presets(n_train: int, n_valid: int, steps: int) -> dict[str, dict]:
    """Presets for ``n_train`` training sequences of up to ``steps`` steps."""

    def budget(epochs: int, batch: int, low: int, high: int) -> int:
        return int(min(high, max(low, epochs * n_train // batch)))

    batch = max(1, min(32, n_train))
    quick, paper = budget(10, batch, 300, 3000), budget(50, batch, 2000, 20_000)
    return {
        "smoke": dict(
            seq_len=steps, batch_size=min(8, batch), hidden_size=32, train_steps=50,
            eval_every=25, patience=2, n_train=256, n_valid=64, n_test=64, eval_batches=4,
        ),
        "quick": dict(
            seq_len=steps, batch_size=batch, hidden_size=64 if n_train < 5000 else 128,
            train_steps=quick, eval_every=max(1, quick // 5), patience=3,
            lr_schedule="linear", warmup_steps=min(100, quick // 10),
        ),
        "paper": dict(
            seq_len=steps, batch_size=batch, hidden_size=256, train_steps=paper,
            eval_every=max(1, paper // 20), patience=10, dropout=0.2,
        ),
    }  # fmt: skip


class ArrayTask(PaddedTask):
    """Sequences from arrays (``seq_len`` is unused: the sequences are as long as given).

    A subclass sets ``kind`` (through the three classes below) and ``arrays(seed)``;
    ``PRESETS`` may be overridden (the default suits a few thousand sequences).
    """

    family = "sequences"
    input_kind = "rolls"  # F floats a step, read through a linear layer
    kind: ClassVar[str]
    PRESETS: ClassVar[dict[str, dict]] = array_presets(2000, 250, 64)

    def arrays(self, seed: int) -> dict[str, Any]:
        """``{"x": ..., "y": ..., "split": ... (optional)}``; the data of ``seed``."""
        raise NotImplementedError

    def checked(self, seed: int) -> Checked:
        data = self.arrays(seed)
        for key in ("x", "y"):
            if key not in data:
                raise TaskError(f"{self.name}: arrays() gave no {key!r}")
        return check_arrays(data["x"], data["y"], data.get("split"), where=self.name)

    def __init__(self, name: str, config: TaskConfig, *, seed: int = 0, **fixed: Any) -> None:
        super().__init__(name, config, seed=seed)
        self.fixed = fixed
        checked = self.checked(seed)
        if checked.kind != self.kind:
            raise TaskError(f"{name}: its y makes a {checked.kind!r} task, not {self.kind!r}")
        self.n_inputs, self.n_outputs = checked.features, checked.outputs
        caps = {"train": config.n_train, "valid": config.n_valid, "test": config.n_test}
        indices = checked.split_indices()
        self.sets = {s: ArraySet(checked, indices[s][: caps[s]]) for s in SPLITS}

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.pop("keys", None)
        steps = max(int(s.lengths.max()) for s in self.sets.values())
        return {**out, "kind": self.kind, "features": self.n_inputs, "max_steps": steps,
                **self.fixed}  # fmt: skip


class ClassifyArrays(ArrayTask):
    """y: int [N] classes, read at each sequence's last step; metric accuracy."""

    kind = "classify"
    metric = "accuracy"
    direction = MAXIMIZE


class RegressArrays(SquaredError, ArrayTask):
    """y: float [N] or [N, D], read at each sequence's last step; metric MSE."""

    kind = "regress"


class LabelArrays(BernoulliSteps, ArrayTask):
    """y: {0,1} [N, T, K], every step's K labels; metric NLL per step."""

    kind = "labels"


# --- seq:FILE.npz ------------------------------------------------------------------------


def file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def read_npz(path: str) -> dict[str, Any]:
    """x, y and split from the archive; object arrays need pickle (see the module's note)."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise TaskError(f"seq:{path}: not a readable .npz archive ({error})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise TaskError(f"seq:{path}: a single array, not an .npz archive of x and y")
    with archive:
        missing = [key for key in ("x", "y") if key not in archive.files]
        if missing:
            raise TaskError(f"seq:{path}: the archive has no {' or '.join(missing)} "
                            f"(it holds {', '.join(archive.files) or 'nothing'})")  # fmt: skip
        out = {}
        for key in ("x", "y", "split"):
            if key in archive.files:
                try:
                    out[key] = _member(archive, path, key)
                except (OSError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as error:
                    raise TaskError(f"seq:{path}: cannot read its {key} ({error})") from None
    return out


def _member(archive, path: str, key: str) -> np.ndarray:
    try:
        return archive[key]
    except ValueError:  # an object array: stored with pickle
        with np.load(path, allow_pickle=True) as pickled:
            return pickled[key]


@functools.lru_cache(maxsize=16)
def _load(path: str, stamp: tuple) -> Checked:
    digest = file_digest(path)
    file = cache_path(f"seq-{digest[:24]}", DATA_VERSION)
    arrays = load_arrays(file)
    if arrays is None or set(arrays) != {"x", "lengths", "y", "split", "kind"}:
        data = read_npz(path)
        checked = check_arrays(data["x"], data["y"], data.get("split"), where=f"seq:{path}")
        split = checked.split if checked.split is not None else np.zeros(0, np.int8)
        save_arrays(file, {"x": checked.x, "lengths": checked.lengths, "y": checked.y,
                           "split": split, "kind": np.array(checked.kind)})  # fmt: skip
        return checked
    split = arrays["split"] if len(arrays["split"]) else None
    return Checked(arrays["x"], arrays["lengths"], arrays["y"], split, str(arrays["kind"]))


def load_seq(path: str) -> Checked:
    """The checked arrays of ``path`` (converted once per file content, then cached)."""
    try:
        stat = Path(path).stat()
        return _load(path, (stat.st_size, stat.st_mtime_ns))
    except OSError as error:  # missing, no permission, a broken disk
        raise TaskError(f"seq:{path}: cannot read it: {error.strerror}") from None


class SeqFile:
    """An array task whose arrays come from ``seq:FILE.npz`` (mixed before its kind)."""

    @classmethod
    def presets_for(cls, *, path: str) -> dict[str, dict]:
        checked = load_seq(path)
        sizes = {s: len(i) for s, i in checked.split_indices().items()}
        return array_presets(sizes["train"], sizes["valid"], int(checked.lengths.max()))

    def checked(self, seed: int) -> Checked:
        return load_seq(self.fixed["path"])


class SeqClassify(SeqFile, ClassifyArrays):
    pass


class SeqRegress(SeqFile, RegressArrays):
    pass


class SeqLabels(SeqFile, LabelArrays):
    pass


SEQ_CLASSES = {cls.kind: cls for cls in (SeqClassify, SeqRegress, SeqLabels)}


def resolve(rest: str) -> tuple[str, type, dict[str, Any]]:
    """``seq:REST`` -> its canonical name (the absolute path), checked; see ``tasks.registry``."""
    if not rest.strip():
        raise TaskError("seq: needs a path: seq:FILE.npz")
    path = Path(rest).expanduser().resolve()
    if not path.is_file():
        raise TaskError(f"seq:{path}: no such file")
    checked = load_seq(str(path))
    return f"seq:{path}", SEQ_CLASSES[checked.kind], {"path": str(path)}
