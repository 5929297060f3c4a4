"""Store faults (issue 13 items 4, 5, 6): a store deleted under a search, in memory, read-only,
stopping mid-search, damaged, or named by a malformed SQLite URL. Each is a clear error or,
for reading, just works; none is a traceback, and none loses results while claiming success."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from archsearch import Resources, launch
from archsearch.cli import app
from archsearch.execute import evaluate_proposal
from archsearch.store import Store, StoreError, load_results
from archsearch.store import engine as store_engine
from archsearch.store.errors import StoreWriteError
from tests.reliability.conftest import one_line_error, read_only, tiny_spec

runner = CliRunner()


def after_first(fault):
    """An evaluation that trains nothing and runs ``fault()`` from the second call on."""
    calls = []

    def evaluate(proposal: dict, options) -> dict:
        calls.append(proposal["key"])
        if len(calls) > 1:
            fault()
        return quick(proposal, options)

    return evaluate


def quick(proposal: dict, options) -> dict:
    """An evaluation that trains nothing: one finished trial."""
    trial = {"params": {}, "status": "ok", "metric_valid": 0.5, "seed": proposal["seed"]}
    return {"trials": [trial], "metric": 0.5, "worker": "here", "seconds": 0.0}


def test_a_store_deleted_during_a_search_fails_loudly(tmp_path):
    path = tmp_path / "s.db"

    with pytest.raises(StoreWriteError, match="deleted or replaced") as raised:
        launch(
            tiny_spec(),
            Resources(storage=f"sqlite:///{path}", in_process=True),
            evaluate=after_first(lambda: path.unlink(missing_ok=True)),
        )
    assert "not saved" in str(raised.value) and not raised.value.resumable


def test_a_store_replaced_by_another_file_is_not_written(tmp_path):
    path = tmp_path / "s.db"
    store = Store(f"sqlite:///{path}")
    run = store.open_run("r", tiny_spec().to_dict())
    path.rename(tmp_path / "old.db")
    Store(f"sqlite:///{path}").close()  # a new, empty store under the same name
    with pytest.raises(StoreWriteError, match="deleted or replaced"):
        run.heartbeat()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
@pytest.mark.parametrize("command", [["search", "--budget", "1"], ["ablate", "lstm"]])
def test_an_in_memory_store_is_refused(url, command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [*command, "--in-process", "--preset", "smoke", "--storage", url]
    one_line_error(runner.invoke(app, args), "in memory")


def test_an_intact_store_in_a_read_only_folder_can_be_read(store_copy, tmp_path):
    url = f"sqlite:///{store_copy}"
    with read_only(store_copy.parent):
        frame = load_results(url, run="tiny")
        assert len(frame) == 4 and set(frame["status"]) == {"ok"}
        assert Store(url, create=False).check_integrity() == []
        for args in (["runs"], ["show", "tiny"], ["export", "lstm", "--run", "tiny"]):
            extra = ["--out", str(tmp_path / "export")] if args[0] == "export" else []
            result = runner.invoke(app, [*args, "--storage", url, *extra])
            assert result.exit_code == 0, result.output
        result = runner.invoke(
            app, ["report", "--storage", url, "--run", "tiny", "--out", str(tmp_path / "rep")]
        )
        assert result.exit_code == 0, result.output
        assert (tmp_path / "rep" / "report.html").is_file()
        # Writing is refused in one line, and the store is left as it was.
        args = ["search", "--in-process", "--preset", "smoke", "--storage", url, "--budget", "1"]
        one_line_error(runner.invoke(app, args), "store")
    assert len(load_results(url)) == 4


def test_a_store_that_stops_mid_search_keeps_its_data_and_says_how_to_resume(tmp_path, monkeypatch):
    """The database refuses the second commit (another holder of its write lock)."""
    monkeypatch.setattr(store_engine, "BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "s.db"
    blocker = {}

    def block() -> None:
        blocker["conn"] = sqlite3.connect(path, isolation_level=None)
        blocker["conn"].execute("BEGIN EXCLUSIVE")

    with pytest.raises(StoreWriteError, match="cannot write") as raised:
        launch(
            tiny_spec(),
            Resources(storage=f"sqlite:///{path}", in_process=True),
            evaluate=after_first(block),
        )
    assert raised.value.resumable and "kept" in str(raised.value)
    blocker["conn"].rollback()
    blocker["conn"].close()
    store = Store(f"sqlite:///{path}")
    assert store.check_integrity() == []
    assert len(load_results(f"sqlite:///{path}", run="tiny")) == 1  # the first commit, whole


def test_the_cli_says_how_to_resume_after_a_failed_write(monkeypatch, tmp_path, capsys):
    import typer

    from archsearch.cli import runs

    def refuse(*args, **kwargs):
        raise StoreWriteError("cannot write to the store at sqlite:///x.db (disk I/O error)")

    monkeypatch.setattr("archsearch.launcher.launch", refuse)
    spec, resources = tiny_spec(), Resources(storage=f"sqlite:///{tmp_path}/x.db", in_process=True)
    with pytest.raises(typer.Exit) as raised:
        runs.run(spec, resources)
    assert raised.value.exit_code == 2
    assert "Resume with the same command" in capsys.readouterr().err


def test_check_integrity_reports_a_zeroed_page(store_copy):
    url = f"sqlite:///{store_copy}"
    conn = sqlite3.connect(store_copy)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    query = "SELECT rootpage FROM sqlite_master WHERE name = 'trials'"
    (page,) = conn.execute(query).fetchone()
    conn.close()
    data = bytearray(store_copy.read_bytes())
    start = (page - 1) * page_size  # the trials table's root page
    data[start : start + page_size] = bytes(page_size)
    store_copy.write_bytes(bytes(data))
    store = Store(url, create=False)
    found = store.check_integrity()
    assert found and all(isinstance(line, str) for line in found), found


@pytest.mark.parametrize(
    "url",
    ["sqlite://user:S3cretPW@host/x.db", "sqlite://host/x.db", "sqlite://:S3cretPW@/x.db"],
)
def test_sqlite_urls_with_a_host_or_credentials_are_one_line_errors(url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="names a file"):
        Store(url)
    args = ["search", "--in-process", "--preset", "smoke", "--storage", url, "--budget", "1"]
    one_line_error(runner.invoke(app, args), "names a file")
    assert not list(tmp_path.iterdir())  # no store made anywhere


def test_a_real_evaluation_still_runs_with_the_checks(tmp_path):
    """The file check costs nothing visible: a normal run commits every evaluation."""
    url = f"sqlite:///{tmp_path}/s.db"
    launch(tiny_spec(), Resources(storage=url, in_process=True), evaluate=evaluate_proposal)
    assert len(load_results(url, run="tiny")) == 4
