"""The data cache: where derived arrays live, and writing them atomically.

The directory is ``$ARCHSEARCH_CACHE`` or, unset, the platform's user cache
(``platformdirs.user_cache_dir("archsearch")``). Files are ``.npz`` archives
named with a data version, so a change of format or content rebuilds them.
Writes go to a temporary file in the same directory, then ``os.replace``: a
crash mid-write never leaves a file that later loads wrong, and a file that
fails to load is treated as missing and rebuilt.
"""

from __future__ import annotations

import logging
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import platformdirs

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """The cache directory (created on demand)."""
    path = Path(os.environ.get("ARCHSEARCH_CACHE") or platformdirs.user_cache_dir("archsearch"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_path(stem: str, version: int) -> Path:
    """The file for ``stem`` at data ``version``, e.g. ``ptb-v1.npz``."""
    return cache_dir() / f"{stem}-v{version}.npz"


def save_arrays(path: Path, arrays: dict[str, np.ndarray], *, compress: bool = True) -> None:
    """Write ``arrays`` to ``path`` atomically (temporary file, then ``os.replace``)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            (np.savez_compressed if compress else np.savez)(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays in ``path``, or None if it is missing or unreadable."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("ignoring unreadable cache file %s (%s); rebuilding", path, exc)
        return None
