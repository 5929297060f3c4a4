"""Sequences given as arrays: checked, padded, and the task kind read from ``y``.

``check_arrays(x, y, split)`` takes

- ``x``: floats ``[N, T, F]``, or an object array of N arrays ``[T_i, F]``
  (padded here with zeros to the longest; ``lengths`` keeps each T_i);
- ``y``, which decides the kind:

  ========================  ============  =====================================
  ``y``                     kind          what is scored
  ========================  ============  =====================================
  int ``[N]``               ``classify``  the class, read at each sequence's end
  float ``[N]``/``[N, D]``  ``regress``   the D values, read at the end
  {0,1} ``[N, T, K]``       ``labels``    the K labels of every step (object
                                          arrays of ``[T_i, K]`` as for x)
  ========================  ============  =====================================

- ``split`` (optional): int ``[N]``, 0 train, 1 valid, 2 test.

and returns them as plain arrays (``x`` float32 ``[N, T, F]``, ``lengths``,
``y`` int64 / float32 ``[N, D]`` / uint8 ``[N, T, K]``, ``split`` int8 or
None), or raises ``TaskError`` with one line naming what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tasks.base import SPLITS, TaskError

KINDS = ("classify", "regress", "labels")
SHARES = (0.8, 0.9)  # without a split: a seeded permutation, train below 80%, valid below 90%
SPLIT_SEED = 0  # the same split for every run and repeat, as a corpus's own split would be


@dataclass
class Checked:
    x: np.ndarray  # [N, T, F] float32, zero past each length
    lengths: np.ndarray  # [N] int64
    y: np.ndarray
    split: np.ndarray | None  # [N] int8 in {0, 1, 2}
    kind: str

    @property
    def features(self) -> int:
        return self.x.shape[2]

    @property
    def outputs(self) -> int:
        if self.kind == "classify":
            return int(self.y.max()) + 1
        return self.y.shape[-1]

    def split_indices(self) -> dict[str, np.ndarray]:
        """Example indices per split: the given split, or a seeded 80/10/10 permutation."""
        if self.split is not None:
            return {name: np.flatnonzero(self.split == i) for i, name in enumerate(SPLITS)}
        order = np.random.default_rng(SPLIT_SEED).permutation(len(self.x))
        cuts = [int(len(order) * share) for share in SHARES]
        return dict(zip(SPLITS, np.split(order, cuts), strict=True))


def check_arrays(x, y, split=None, *, where: str) -> Checked:
    """``x``, ``y`` and ``split`` checked and padded; ``where`` names them in errors."""
    x, lengths = _sequences(x, "x", where)
    n = len(x)
    if len(y) != n:
        raise TaskError(f"{where}: y has {len(y)} rows but x has {n} sequences")
    y, kind = _targets(y, lengths, where)
    checked = Checked(x, lengths, y, None if split is None else _split(split, n, where), kind)
    for name, indices in checked.split_indices().items():
        if not len(indices):
            how = "" if split is not None else f" ({n} sequences split 80/10/10; give 10 or more)"
            raise TaskError(f"{where}: the {name} split is empty{how}")
    return checked


def _sequences(values, name: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """[N, T, C] float32 zero-padded, and the lengths, from a 3-d array or N 2-d arrays."""
    values = np.asarray(values)
    if values.dtype == object:
        parts = [np.asarray(v) for v in values.reshape(-1)]
        if not parts or any(p.ndim != 2 or p.dtype == object for p in parts):
            raise TaskError(f"{where}: {name} must hold N arrays of shape [T_i, C]")
        widths = {p.shape[1] for p in parts}
        if len(widths) != 1:
            raise TaskError(f"{where}: the arrays of {name} differ in width: {sorted(widths)}")
        lengths = np.array([len(p) for p in parts], dtype=np.int64)
        out = np.zeros((len(parts), int(lengths.max()), widths.pop()), dtype=np.float32)
        for i, part in enumerate(parts):
            out[i, : len(part)] = _numbers(part, name, where)
    elif values.ndim == 3:
        out = _numbers(values, name, where).astype(np.float32)
        lengths = np.full(len(out), out.shape[1], dtype=np.int64)
    else:
        raise TaskError(f"{where}: {name} must be [N, T, C] or an object array of [T_i, C], "
                        f"not of shape {list(values.shape)}")  # fmt: skip
    if not len(out) or lengths.min() < 1:
        raise TaskError(f"{where}: {name} holds no sequence, or an empty one")
    return out, lengths


def _numbers(values: np.ndarray, name: str, where: str) -> np.ndarray:
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == bool):
        raise TaskError(f"{where}: {name} must hold numbers, not {values.dtype}")
    if not np.isfinite(values).all():
        bad = np.argwhere(~np.isfinite(values))[0].tolist()
        raise TaskError(f"{where}: {name} holds NaN or inf (first at index {bad})")
    return values


def _targets(y, lengths: np.ndarray, where: str) -> tuple[np.ndarray, str]:
    y = np.asarray(y)
    if y.dtype == object or y.ndim == 3:
        labels, label_lengths = _sequences(y, "y", where)
        if y.dtype == object:  # one array per sequence: each as long as its x
            same = np.array_equal(label_lengths, lengths)
        else:  # padded like x
            same = labels.shape[1] == lengths.max()
        if not same:
            raise TaskError(f"{where}: per-step labels y must have as many steps as x")
        if not np.isin(labels, (0, 1)).all():
            raise TaskError(f"{where}: per-step labels y must be 0 or 1")
        return labels.astype(np.uint8), "labels"
    if y.ndim == 1 and (np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
        classes = y.astype(np.int64)
        if classes.min() < 0:
            raise TaskError(f"{where}: class labels y must be >= 0, not {classes.min()}")
        if len(np.unique(classes)) < 2:
            raise TaskError(f"{where}: y has one class ({classes[0]}): there is nothing to learn")
        return classes, "classify"
    if y.ndim in (1, 2) and np.issubdtype(y.dtype, np.floating):
        values = _numbers(y, "y", where).astype(np.float32)
        return values.reshape(len(values), -1), "regress"
    raise TaskError(
        f"{where}: y of dtype {y.dtype} and shape {list(y.shape)} is none of int [N] "
        f"(classes), float [N] or [N, D] (regression), {{0,1}} [N, T, K] (per-step labels)"
    )


def _split(split, n: int, where: str) -> np.ndarray:
    split = np.asarray(split)
    if split.shape != (n,) or not np.issubdtype(split.dtype, np.integer):
        raise TaskError(f"{where}: split must be int [N] with N = {n}, not {split.dtype} "
                        f"{list(split.shape)}")  # fmt: skip
    if not np.isin(split, (0, 1, 2)).all():
        raise TaskError(f"{where}: split values must be 0 (train), 1 (valid) or 2 (test)")
    return split.astype(np.int8)
