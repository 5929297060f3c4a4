"""Shared by the reliability tests: a small finished store, and a folder made read-only.

``tiny_store`` trains one fixed-list run once per session (lstm and the gru
reference on arith, a few steps); tests copy it. ``read_only`` makes a folder
and its files unwritable even for root (``chattr +i``; ``chmod`` otherwise),
so that a test of "a store that cannot be written" fails where writes are tried.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from archsearch import Resources, launch
from scripts.fault_drills import tiny_fixed_spec as tiny_spec

PASSWORD = "S3cretPW"


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory) -> Path:
    """A SQLite store holding the finished run 'tiny' (copy it before changing it)."""
    path = tmp_path_factory.mktemp("tiny") / "store.db"
    launch(tiny_spec(), Resources(storage=f"sqlite:///{path}", in_process=True))
    return path


@pytest.fixture
def store_copy(tiny_store, tmp_path) -> Path:
    """A private copy of ``tiny_store`` in its own folder."""
    folder = tmp_path / "copy"
    folder.mkdir()
    shutil.copy(tiny_store, folder / "store.db")
    return folder / "store.db"


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` and the files in it unwritable for the duration (root included)."""
    paths = [folder, *folder.iterdir()]
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"chattr +i is not available here: {done.stderr.decode().strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, paths)], check=True)
        return
    modes = {path: path.stat().st_mode for path in paths}
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def one_line_error(result, *words: str) -> None:
    """A CliRunner result: exit 2, the words in its output, no traceback, no password."""
    output = result.output
    assert result.exit_code == 2, output
    assert "Traceback" not in output and PASSWORD not in output, output
    for word in words:
        assert word in output, (word, output)
