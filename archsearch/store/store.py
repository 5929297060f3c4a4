"""The results store: runs, cells, and each finished evaluation with all its trials.

One driver writes a run: it opens the run (taking its lock), records every
finished evaluation in one transaction each, and on a restart reads them back
in commit order with ``finished()`` (the run's handle: ``store/run.py``). Anyone may
read at any time.

    store = Store()                                  # sqlite:///results/archsearch.db
    with store.open_run("lstm-vs-gru", config) as run:
        for done in run.finished():                  # resume: replay into the searcher
            searcher.tell(done)
        store.put_cell(cell_hash, cell_text)
        run.record("e17", cell=cell_hash, task="ptb", trials=[{"trial": 0, "status": "ok"}])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, func, insert, inspect, select
from sqlalchemy.exc import DatabaseError, DBAPIError, IntegrityError, ProgrammingError

from archsearch.store import integrity, lock, migrate
from archsearch.store import schema as db
from archsearch.store.engine import DEFAULT_URL, file_identity, make_engine, safe, sqlite_path
from archsearch.store.errors import StoreDamagedError, StoreError, StoreWriteError, reason
from archsearch.store.run import RunHandle
from archsearch.store.schema import SCHEMA_VERSION, now


class Store:
    """A results database at ``url`` (``DEFAULT_URL`` if None); made on first use if ``create``,
    else opened read-only (for readers: a store in a read-only folder can still be read).

    Every write checks that a SQLite store's file is still the one opened (same device
    and inode): a store deleted or replaced under a running search fails its next
    commit loudly instead of writing into a file nobody will see.

    ``lease`` is how long, in seconds, a driver's lock outlives its last heartbeat.
    """

    def __init__(
        self, url: str | None = None, *, lease: float = lock.LEASE_S, create: bool = True
    ) -> None:
        self.url = url or DEFAULT_URL
        self.lease = lease
        self.engine = make_engine(self.url, create=create)
        self._file: tuple[str, int, int] | None = None  # SQLite: (path, device, inode) opened
        self._cells: set[str] = set()  # hashes known stored (a cell is never removed)
        try:
            self._prepare(create=create)
            self._file = file_identity(sqlite_path(self.url))
        except DBAPIError as error:
            self.engine.dispose()
            reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
            raise StoreError(
                f"cannot open the store at {safe(self.url)} ({reason}); check that the "
                f"database is up and that the URL's host, port, name and user are right"
            ) from None
        except BaseException:
            self.engine.dispose()
            raise

    def _prepare(self, *, create: bool) -> None:
        version = self._schema_version()
        if create and version is not None:  # a writer: not into a damaged file
            with self.engine.connect() as conn:
                damage = integrity.damage(conn)
            if damage:
                raise StoreError(f"the store at {safe(self.url)} is damaged: {damage[0]}")
        if version is None and create:
            self._create()
            version = self._schema_version()
        if version is None:
            raise StoreError(f"no archsearch store at {safe(self.url)}; check the URL")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the store at {safe(self.url)} was written by a newer archsearch "
                f"(schema {version} > {SCHEMA_VERSION}); upgrade archsearch"
            )
        if version < SCHEMA_VERSION and create and version in migrate.STEPS:
            version = self._upgrade()
        if version < SCHEMA_VERSION and (create or version not in migrate.READABLE):
            raise StoreError(
                f"the store at {safe(self.url)} has an older schema ({version} < "
                f"{SCHEMA_VERSION}) and no migration exists; use the archsearch that wrote it"
            )
        self.schema = version  # what this store holds (a reader may read an older one)

    def _create(self) -> None:
        try:
            with self._write() as conn:
                db.metadata.create_all(conn)
                if _schema_version(conn) is None:
                    conn.execute(
                        insert(db.meta).values(key="schema_version", value=str(SCHEMA_VERSION))
                    )
        except DBAPIError:
            # PostgreSQL: another process created the store at the same moment; ours
            # fails on its tables once it has committed them. Then use its store.
            if self._schema_version() is None:
                raise

    def _upgrade(self) -> int:
        """Upgrade an older store (``migrate``); returns the version it is then at."""
        try:
            with self._write() as conn:
                version = _schema_version(conn)  # again: another writer may have done it
                if version < SCHEMA_VERSION:
                    migrate.upgrade(conn, version)
        except DBAPIError:
            # PostgreSQL: another writer upgraded it at the same moment (as in _create).
            if self._schema_version() != SCHEMA_VERSION:
                raise
        return self._schema_version()

    def _schema_version(self) -> int | None:
        with self.engine.connect() as conn:
            return _schema_version(conn)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction (on SQLite it takes the write lock up front). A database
        that stopped or refused the write raises ``StoreWriteError`` (one line)."""
        self._check_file()
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(write=True)
                with conn.begin():
                    yield conn
                    self._check_file()  # before the commit: not into a deleted file
        except (IntegrityError, ProgrammingError):  # a concurrent writer: the callers handle it
            raise
        except DatabaseError as error:  # stopped, unreachable, read-only, damaged
            raise StoreWriteError(
                f"cannot write to the store at {safe(self.url)} ({reason(error)}); every "
                f"evaluation committed before this is kept"
            ) from None

    def _check_file(self) -> None:
        """Raise ``StoreWriteError`` if the SQLite file opened was deleted or replaced."""
        if self._file is None:
            return
        path = self._file[0]
        if file_identity(path) != self._file:
            raise StoreWriteError(
                f"the store file {path} was deleted or replaced while in use: the results "
                f"committed since then were not saved (they went to the deleted file), and "
                f"nothing more is written; restore the file or start the run again",
                resumable=False,
            )

    def close(self) -> None:
        """Close the store's connections."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({safe(self.url)!r})"

    # -- runs ---------------------------------------------------------------------------------

    def open_run(
        self, name: str, config: Mapping[str, Any], *, owner: str | None = None
    ) -> RunHandle:
        """Create run ``name`` with ``config``, or resume it (keeping its stored config).

        Takes the run's driver lock, or raises ``RunLockedError`` naming the live
        driver that holds it. ``owner`` names this driver (default host:pid:random);
        a lock held under the same owner is taken over at once.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"a run needs a non-empty name, got {name!r}")
        me = lock.Driver.this_process(owner)
        try:
            return self._open_run(name, config, me)
        except IntegrityError:  # PostgreSQL: another driver created the run meanwhile
            return self._open_run(name, config, me)

    def _open_run(self, name: str, config: Mapping[str, Any], me: lock.Driver) -> RunHandle:
        with self._write() as conn:
            query = select(db.runs.c.id, db.runs.c.config).where(db.runs.c.name == name)
            found = conn.execute(query).first()
            if found is None:
                stored = dict(config)
                values = dict(name=name, config=stored, created_at=now())
                run_id = conn.execute(insert(db.runs).values(values)).inserted_primary_key[0]
            else:
                run_id, stored = found
            lock.acquire(conn, run_id, name, me, lease=self.lease)
        return RunHandle(self, run_id, name, stored, me, resumed=found is not None)

    def runs(self) -> list[dict[str, Any]]:
        """Every run: name, created_at, config, n_evaluations, locked_by (owner or None)."""
        count = (
            select(func.count(db.evaluations.c.id))
            .where(db.evaluations.c.run_id == db.runs.c.id)
            .scalar_subquery()
        )
        query = select(
            db.runs.c.name,
            db.runs.c.created_at,
            db.runs.c.config,
            count.label("n_evaluations"),
            db.runs.c.lock_owner.label("locked_by"),
        ).order_by(db.runs.c.id)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def run_id(self, conn: Connection, name: str) -> int:
        """The id of run ``name``; an unknown name raises StoreError listing the runs."""
        found = conn.execute(select(db.runs.c.id).where(db.runs.c.name == name)).scalar()
        if found is None:
            names = conn.execute(select(db.runs.c.name).order_by(db.runs.c.id)).scalars().all()
            raise StoreError(f"no run {name!r} in {self}; runs: {', '.join(names) or 'none'}")
        return found

    # -- cells --------------------------------------------------------------------------------

    def put_cell(
        self,
        hash: str,
        text: str,
        *,
        name: str | None = None,
        parent: str | None = None,
        mutations: Sequence[str] = (),
    ) -> bool:
        """Store a cell under its canonical hash; False if it was stored already."""
        if hash in self._cells:  # a driver puts each cell again for every evaluation of it
            return False
        values = dict(hash=hash, text=text, name=name, parent=parent, mutations=list(mutations))
        try:
            with self._write() as conn:
                query = select(db.cells.c.hash).where(db.cells.c.hash == hash)
                stored = conn.execute(query).first() is not None
                if not stored:
                    conn.execute(insert(db.cells).values(**values, created_at=now()))
        except IntegrityError:  # PostgreSQL: another driver stored it meanwhile
            stored = True
        self._cells.add(hash)
        return not stored

    def cell(self, hash: str) -> dict[str, Any] | None:
        """The stored cell: hash, text, name, parent, mutations, created_at; None if unknown."""
        with self.engine.connect() as conn:
            row = conn.execute(select(db.cells).where(db.cells.c.hash == hash)).first()
        return None if row is None else dict(row._mapping)

    def check_integrity(self, run: str | None = None) -> list[str]:
        """Problems found in the store (or in one run and the store as a whole); [] if none.

        A store SQLite cannot read (a damaged page) is reported, not raised."""
        try:
            with self.engine.connect() as conn:
                run_id = None if run is None else self.run_id(conn, run)
                damage = integrity.damage(conn)
                return damage or integrity.problems(conn, run_id)
        except StoreDamagedError as error:
            return [str(error)]
        except DatabaseError as error:
            return [f"the store at {safe(self.url)} cannot be read: {reason(error)}"]


def _schema_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table("meta"):
        return None
    value = conn.execute(select(db.meta.c.value).where(db.meta.c.key == "schema_version")).scalar()
    return None if value is None else int(value)
