"""The driver lock of a run: one row's ``lock_*`` columns, taken with one conditional UPDATE.

A driver holds its run's lock while it searches and refreshes its heartbeat
(``RunHandle.heartbeat``, and every ``record``). Another driver may take the
lock only when it is free, or stale:

* its heartbeat is older than the lease (the holder hung, or died elsewhere), or
* its holder ran on this host and its pid is gone (killed: resume at once).

Every write of the holder re-checks that it still owns the lock, in the same
transaction, so a driver whose lock was taken over can't write another row.
Hosts are told apart by hostname, so give machines (and containers) distinct
names; and keep clocks in step (NTP): leases compare the hosts' clocks.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, or_, select, update

from archsearch.store.errors import RunLockedError
from archsearch.store.schema import now, runs

# A holder that hasn't been heard from for this long is taken for dead.
# Drivers should call heartbeat() at least every LEASE_S / 3 (and record() counts).
LEASE_S = 60.0
# A heartbeat this soon after the holder's last renewal writes nothing (RunHandle.heartbeat).
RENEW_S = 1.0


@dataclass(frozen=True)
class Driver:
    """Who asks for a lock: ``owner`` is the lock's token, unique to one open run handle."""

    owner: str
    host: str
    pid: int

    @classmethod
    def this_process(cls, owner: str | None = None) -> Driver:
        host, pid = socket.gethostname(), os.getpid()
        return cls(owner or f"{host}:{pid}:{uuid.uuid4().hex[:8]}", host, pid)


def acquire(conn: Connection, run_id: int, name: str, me: Driver, *, lease: float) -> None:
    """Take the lock of run ``run_id`` for ``me``, or raise ``RunLockedError``."""
    holder = _holder(conn, run_id)
    takeable = or_(
        runs.c.lock_owner.is_(None),
        runs.c.lock_owner == me.owner,  # ours already (an owner given again, e.g. a job id)
        runs.c.lock_heartbeat < now() - timedelta(seconds=lease),
    )
    if holder.lock_owner and holder.lock_host == me.host and not pid_alive(holder.lock_pid):
        # Only the dead holder we saw: if someone took the lock meanwhile, it stays theirs.
        takeable = or_(takeable, runs.c.lock_owner == holder.lock_owner)
    moment = now()
    taken = conn.execute(
        update(runs)
        .where(runs.c.id == run_id, takeable)
        .values(
            lock_owner=me.owner,
            lock_host=me.host,
            lock_pid=me.pid,
            lock_since=moment,
            lock_heartbeat=moment,
        )
    )
    if taken.rowcount != 1:
        raise _locked(conn, run_id, name, lease)


def refresh(conn: Connection, run_id: int, name: str, me: Driver, *, lease: float) -> None:
    """Renew ``me``'s heartbeat, or raise ``RunLockedError`` if the lock is no longer ours."""
    renewed = conn.execute(
        update(runs)
        .where(runs.c.id == run_id, runs.c.lock_owner == me.owner)
        .values(lock_heartbeat=now())
    )
    if renewed.rowcount != 1:
        raise _locked(conn, run_id, name, lease, taken=True)


def release(conn: Connection, run_id: int, me: Driver) -> None:
    """Free the lock if ``me`` still holds it."""
    conn.execute(
        update(runs)
        .where(runs.c.id == run_id, runs.c.lock_owner == me.owner)
        .values(lock_owner=None, lock_host=None, lock_pid=None, lock_since=None)
    )


def pid_alive(pid: int | None) -> bool:
    """Whether process ``pid`` runs on this host (a zombie counts as dead)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:  # Linux: killed but not yet reaped?
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _holder(conn: Connection, run_id: int):
    columns = (runs.c.lock_owner, runs.c.lock_host, runs.c.lock_pid)
    times = (runs.c.lock_since, runs.c.lock_heartbeat)
    return conn.execute(select(*columns, *times).where(runs.c.id == run_id)).one()


def _locked(
    conn: Connection, run_id: int, name: str, lease: float, *, taken: bool = False
) -> RunLockedError:
    holder = _holder(conn, run_id)
    return RunLockedError(
        name,
        owner=holder.lock_owner or "none",
        host=holder.lock_host,
        pid=holder.lock_pid,
        since=holder.lock_since,
        heartbeat=holder.lock_heartbeat,
        lease=lease,
        taken=taken,
    )
