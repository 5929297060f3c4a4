"""No password printed (issue 13 item 1): every message, table and report shows the store's
URL masked. On PostgreSQL (ARCHSEARCH_TEST_PG_URL, with a password) a whole search, runs,
show, report and export are checked; without it, the messages that carry the URL and the
error paths of an unreachable server."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from archsearch.cli import app
from archsearch.launcher import resume_hint
from archsearch.store import Store
from tests.reliability.conftest import PASSWORD, tiny_spec

runner = CliRunner()
UNREACHABLE = f"postgresql+psycopg://alice:{PASSWORD}@127.0.0.1:1/db"
PG_URL = os.environ.get("ARCHSEARCH_TEST_PG_URL")


def test_the_resume_hint_masks_the_password():
    hint = resume_hint("r", UNREACHABLE)
    assert PASSWORD not in hint and "alice:***@127.0.0.1:1/db" in hint


@pytest.mark.parametrize(
    "command",
    [
        ["search", "--in-process", "--preset", "smoke", "--budget", "1"],
        ["ablate", "lstm", "--in-process", "--preset", "smoke"],
        ["runs"],
        ["show", "x"],
        ["report", "--run", "x"],
        ["export", "lstm", "--run", "x", "--out", "OUT"],
    ],
)
def test_an_unreachable_server_is_one_line_without_the_password(command, tmp_path):
    pytest.importorskip("psycopg")
    command = [str(tmp_path) if part == "OUT" else part for part in command]
    result = runner.invoke(app, [*command, "--storage", UNREACHABLE])
    assert result.exit_code == 2, result.output
    assert PASSWORD not in result.output and "Traceback" not in result.output
    assert "alice:***@" in result.output or "cannot open" in result.output


@pytest.fixture
def pg_url():
    if not PG_URL or not make_url(PG_URL).password:
        pytest.skip("set ARCHSEARCH_TEST_PG_URL to a PostgreSQL URL with a password")
    return PG_URL


def test_a_search_on_postgresql_prints_no_password(pg_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    secret = make_url(pg_url).password
    name = f"secret-{uuid.uuid4().hex[:8]}"
    spec = tiny_spec(name)
    config = tmp_path / "run.toml"
    config.write_text(spec.to_toml())
    outputs = []
    for args in (
        ["search", "--config", str(config), "--in-process"],
        ["runs"],
        ["show", name],
        ["report", "--run", name, "--out", str(tmp_path / "rep")],
        ["export", "lstm", "--run", name, "--out", str(tmp_path / "exp")],
    ):
        result = runner.invoke(app, [*args, "--storage", pg_url])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    # A run with no results: the report's error names the store.
    Store(pg_url).open_run(f"{name}-empty", spec.to_dict()).close()
    result = runner.invoke(app, ["report", "--run", f"{name}-empty", "--storage", pg_url])
    assert result.exit_code == 2
    outputs.append(result.output)
    written = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    for text in outputs + written:
        assert secret not in text
    assert any("***@" in text for text in outputs)
