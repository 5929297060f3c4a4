"""The store's two errors: every failure a caller can act on says what to do."""

from __future__ import annotations

from datetime import datetime, timezone


class StoreError(RuntimeError):
    """The store can't be opened or used; the message says what to do about it."""


class RunLockedError(StoreError):
    """Another live driver holds the run's lock (or took it from this one)."""

    def __init__(
        self,
        run: str,
        *,
        owner: str,
        host: str | None,
        pid: int | None,
        since: datetime | None,
        heartbeat: datetime | None,
        lease: float,
        taken: bool = False,
    ) -> None:
        self.run, self.owner, self.host, self.pid = run, owner, host, pid
        self.since, self.heartbeat = since, heartbeat
        now = datetime.now(timezone.utc)
        age = (now - heartbeat).total_seconds() if heartbeat else float("inf")
        holder = f"driver {owner!r} (host {host}, pid {pid}, since {_clock(since)})"
        if taken:
            message = (
                f"run {run!r} was taken over by {holder}: this driver's lock lapsed "
                f"(no heartbeat for over {lease:g} s); stop this driver"
            )
        else:
            wait = max(0.0, lease - age)
            message = (
                f"run {run!r} is locked by {holder}, last heartbeat {age:.0f} s ago; "
                f"stop that driver first, or if it is gone wait {wait:.0f} s for its lease "
                f"to lapse and run again (a driver killed on this host is taken over at once); "
                f"to search separately, use another run name"
            )
        super().__init__(message)


def reason(error: BaseException) -> str:
    """The first line of a database error's own message (SQLAlchemy's ``orig``)."""
    orig = getattr(error, "orig", None) or error
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def _clock(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "?"


class StoreDamagedError(StoreError):
    """SQLite can't read the store's file: a damaged page, or not a database at all."""


class StoreWriteError(StoreError):
    """A write to the store failed: the database stopped, refused the write, or its file went.

    ``resumable``: everything committed before is intact, so the same command resumes.
    """

    def __init__(self, message: str, *, resumable: bool = True) -> None:
        super().__init__(message)
        self.resumable = resumable
