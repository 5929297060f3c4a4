"""Small generated corpora and arrays for the tests of a user's own data."""

from __future__ import annotations

import numpy as np
import pytest

WORDS = ("the", "cat", "sat", "on", "a", "mat", "dog", "ran", "to", "red", "house")


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty data cache for this test (a cold machine)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("ARCHSEARCH_CACHE", str(folder))
    return folder


def sentences(count: int, seed: int = 0) -> list[str]:
    """``count`` lines of 3 to 9 words drawn from ``WORDS``."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(3, 10))) for _ in range(count)]


def write_lines(path, lines) -> str:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return str(path)


def features(count: int, steps: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, steps, width)).astype(np.float32)
