"""Turn a store URL into an engine: SQLite set up for one writer and many readers, or PostgreSQL.

On SQLite every connection gets WAL journaling (readers don't block the
writer), foreign keys (off by default in SQLite) and a busy timeout; and a
transaction started with ``execution_options(write=True)`` begins with
``BEGIN IMMEDIATE``, taking the write lock first so that two writers queue
up instead of failing halfway. A store opened only to be read (``create=False``)
is opened read-only (``mode=ro``; in a folder where SQLite can't make its
shared-memory file, ``immutable=1``), so an intact store in a read-only folder
or file system can still be read; nothing is created or migrated then.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, NoSuchModuleError

from archsearch.store.errors import StoreDamagedError, StoreError

DEFAULT_URL = "sqlite:///results/archsearch.db"
BUSY_TIMEOUT_S = 30  # how long a SQLite writer waits for another one before failing
CONNECT_TIMEOUT_S = 10  # how long to try reaching a PostgreSQL server
EXAMPLES = f"{DEFAULT_URL} or postgresql+psycopg://user:password@host/dbname"


def make_engine(url: str, *, create: bool = True) -> Engine:
    """An engine for ``url``; a SQLite file (and its folder) is made if ``create``."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"malformed store URL {url!r}; give one like {EXAMPLES}") from None
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        _refuse_sqlite_host(parsed)
        parsed = _sqlite_file(parsed, create=create)
        connect_args["timeout"] = BUSY_TIMEOUT_S
    elif backend == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    path = sqlite_path(parsed) if backend == "sqlite" else None
    reader = {} if create or path is None else {"creator": _read_only(path)}
    try:
        engine = create_engine(parsed, connect_args=connect_args, **reader)
    except NoSuchModuleError:
        raise StoreError(
            f"store URL {safe(parsed)!r} names an unknown database {parsed.drivername!r}; "
            f"give one like {EXAMPLES}"
        ) from None
    except ImportError as error:
        raise StoreError(
            f"the database driver for {safe(parsed)!r} is not installed ({error.name}); "
            f"pip install 'archsearch[postgres]' and use postgresql+psycopg://..."
        ) from None
    except ArgumentError as error:
        first = str(error).splitlines()[0]
        raise StoreError(f"bad store URL ({first}); give one like {EXAMPLES}") from None
    if backend == "sqlite":
        _set_up_sqlite(engine, writable=not reader)
    return engine


def safe(url: URL | str) -> str:
    """The URL with its password hidden, for messages."""
    url = make_url(url) if isinstance(url, str) else url
    return url.render_as_string(hide_password=True)


def is_memory(url: str | URL) -> bool:
    """Whether ``url`` is an in-memory SQLite database (gone when the process ends)."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return False
    database = parsed.database or ""
    return parsed.get_backend_name() == "sqlite" and (
        database in ("", ":memory:") or "mode=memory" in database
    )


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL (made absolute); None for another database or in memory."""
    parsed = make_url(url) if isinstance(url, str) else url
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or is_memory(parsed) or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve()


def file_identity(path: str | Path | None) -> tuple[str, int, int] | None:
    """(path, device, inode) of a file, to tell it from a replacement; None if it is gone."""
    if path is None:
        return None
    try:
        status = Path(path).stat()
    except OSError:
        return None
    return str(path), status.st_dev, status.st_ino


def _refuse_sqlite_host(url: URL) -> None:
    """SQLite names a file: a host, port, user or password in its URL is a mistake."""
    if url.host or url.port or url.username or url.password:
        raise StoreError(
            f"a SQLite store URL names a file, not a host or user ({safe(url)!r}); "
            f"give sqlite:///relative/path.db or sqlite:////absolute/path.db"
        )


def _read_only(path: Path):
    """Connect to ``path`` read-only; where SQLite can't make its -shm file (a read-only
    folder, no writer), as immutable."""
    uri = f"file:{quote(str(path))}?mode=ro"

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            connection.execute("PRAGMA schema_version")  # the first read opens the WAL index
            return connection
        except sqlite3.OperationalError:
            connection.close()
        return sqlite3.connect(f"{uri}&immutable=1", uri=True, timeout=BUSY_TIMEOUT_S)

    return connect


def _sqlite_file(url: URL, *, create: bool) -> URL:
    """Pin a relative SQLite path to the current directory now, and make its folder."""
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return url
    path = Path(url.database).expanduser().resolve()
    if not create and not path.exists():
        raise StoreError(f"no store at {path}; check the URL, or run a search to create it")
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            why = error.strerror
            raise StoreError(f"cannot make the store's folder {path.parent}: {why}") from None
    return url.set(database=str(path))


def _set_up_sqlite(engine: Engine, *, writable: bool = True) -> None:
    @event.listens_for(engine, "handle_error")
    def _damaged(context: Any) -> None:
        # "database disk image is malformed", "file is not a database": plain DatabaseError
        # (a stopped or locked database is an OperationalError, handled by the writers).
        if type(context.sqlalchemy_exception) is DatabaseError:
            raise StoreDamagedError(
                f"the store at {safe(engine.url)} is damaged ({context.original_exception}); "
                f"read what is left with sqlite3's .recover, or use another store"
            ) from None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        if writable:  # a reader leaves the journal mode as the writer set it
            _journal_in_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _journal_in_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the file to WAL journaling. Drivers opening a new file together contend for
    it, and SQLite answers "database is locked" at once (or leaves the old mode) without
    waiting on its busy timeout; so try again, up to that timeout, before giving up."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = 0.005
    while True:
        try:
            [mode] = cursor.execute("PRAGMA journal_mode=WAL").fetchone()
            if mode.lower() in ("wal", "memory") or time.monotonic() > deadline:
                return  # a file system without WAL keeps its mode: still a working store
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(2 * pause, 0.25)
