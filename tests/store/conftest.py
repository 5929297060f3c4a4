"""Store tests run on SQLite, and on PostgreSQL too when ARCHSEARCH_TEST_PG_URL is set.

    ARCHSEARCH_TEST_PG_URL=postgresql+psycopg://user@localhost/archsearch_test pytest tests/store

The PostgreSQL database is emptied before each test: give it a scratch database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from archsearch.store import Store
from archsearch.store.schema import metadata

PG_URL = os.environ.get("ARCHSEARCH_TEST_PG_URL")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]
DRIVER = Path(__file__).with_name("driver.py")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_engine(PG_URL)
    metadata.drop_all(engine)
    engine.dispose()
    return PG_URL


@pytest.fixture
def store(url: str):
    store = Store(url)
    yield store
    store.close()


def trial(index: int, **fields) -> dict:
    """A finished trial with plausible values; ``fields`` override them."""
    return {"trial": index, "status": "ok", "params": {"lr": 0.1 * (index + 1)}, **fields}


def spawn_driver(url: str, run: str, mode: str) -> subprocess.Popen:
    """Run tests/store/driver.py in a subprocess; it prints "ready" once it holds the run."""
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen(
        [sys.executable, str(DRIVER), url, run, mode],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    line = process.stdout.readline().strip()
    assert line == "ready", f"driver subprocess said {line!r}"
    return process
