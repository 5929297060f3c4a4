"""The cache writes atomically and treats an unreadable file as missing."""

from __future__ import annotations

import numpy as np
import pytest

from tasks import cache


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSEARCH_CACHE", str(tmp_path))
    return tmp_path


def test_round_trip(tmp_cache):
    path = cache.cache_path("thing", 3)
    assert path.parent == tmp_cache and path.name == "thing-v3.npz"
    cache.save_arrays(path, {"a": np.arange(5), "s": np.array(["x", "yz"])})
    loaded = cache.load_arrays(path)
    assert loaded["a"].tolist() == list(range(5)) and loaded["s"].tolist() == ["x", "yz"]
    assert [p.name for p in tmp_cache.iterdir()] == ["thing-v3.npz"]


def test_a_crash_mid_write_leaves_nothing(tmp_cache, monkeypatch):
    path = cache.cache_path("thing", 1)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", crash)
    with pytest.raises(KeyboardInterrupt):
        cache.save_arrays(path, {"a": np.arange(5)})
    assert list(tmp_cache.iterdir()) == []


def test_an_unreadable_file_counts_as_missing(tmp_cache):
    path = cache.cache_path("thing", 1)
    path.write_bytes(b"not a zip")
    assert cache.load_arrays(path) is None
    assert cache.load_arrays(cache.cache_path("absent", 1)) is None
