"""Turn a store URL into an engine: SQLite set up for one writer and many readers, or PostgreSQL.

On SQLite every connection gets WAL journaling (readers don't block the
writer), foreign keys (off by default in SQLite) and a busy timeout; and a
transaction started with ``execution_options(write=True)`` begins with
``BEGIN IMMEDIATE``, taking the write lock first so that two writers queue
up instead of failing halfway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from archsearch.store.errors import StoreError

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
        parsed = _sqlite_file(parsed, create=create)
        connect_args["timeout"] = BUSY_TIMEOUT_S
    elif backend == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        engine = create_engine(parsed, connect_args=connect_args)
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
    if backend == "sqlite":
        _set_up_sqlite(engine)
    return engine


def safe(url: URL | str) -> str:
    """The URL with its password hidden, for messages."""
    url = make_url(url) if isinstance(url, str) else url
    return url.render_as_string(hide_password=True)


def _sqlite_file(url: URL, *, create: bool) -> URL:
    """Pin a relative SQLite path to the current directory now, and make its folder."""
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return url
    path = Path(url.database).expanduser().resolve()
    if not create and not path.exists():
        raise StoreError(f"no store at {path}; check the URL, or run a search to create it")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    return url.set(database=str(path))


def _set_up_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
