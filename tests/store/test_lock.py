"""The driver lock: one live driver per run; a dead or silent one is taken over."""

from __future__ import annotations

import os
import signal
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from archsearch.store import RunLockedError, Store, lock
from archsearch.store.schema import now, runs
from tests.store.conftest import spawn_driver, trial


def fake_holder(store: Store, run: str, *, host: str, pid: int, age_s: float) -> None:
    """Make run ``run`` look held by another driver, last heard from ``age_s`` seconds ago."""
    heartbeat = now() - timedelta(seconds=age_s)
    with store.engine.begin() as conn:
        conn.execute(
            update(runs)
            .where(runs.c.name == run)
            .values(
                lock_owner="other-driver",
                lock_host=host,
                lock_pid=pid,
                lock_since=heartbeat,
                lock_heartbeat=heartbeat,
            )
        )


@pytest.fixture
def closed_run(store: Store) -> str:
    store.open_run("r", {}).close()
    return "r"


def test_a_run_held_by_a_live_driver_is_refused_then_taken_once_it_is_killed(
    store: Store, url: str
):
    holder = spawn_driver(url, "r", "hold")
    try:
        with pytest.raises(RunLockedError) as refused:
            store.open_run("r", {})
        message = str(refused.value)
        assert f"pid {holder.pid}" in message and f"host {socket.gethostname()}" in message
        assert "since" in message and "another run name" in message
        assert refused.value.pid == holder.pid
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with store.open_run("r", {}) as run:  # same host, pid gone: no need to wait for the lease
        assert run.resumed


@pytest.mark.parametrize(
    "host, pid, age_s, takeable",
    [
        ("elsewhere", 12345, 1, False),  # another host, fresh heartbeat: live
        ("elsewhere", 12345, 120, True),  # another host, silent past the lease: dead
        (socket.gethostname(), os.getpid(), 1, False),  # this host, pid alive
        (socket.gethostname(), 2**22 + 1, 1, True),  # this host, no such pid
    ],
)
def test_a_lock_is_taken_only_when_stale(store: Store, closed_run, host, pid, age_s, takeable):
    fake_holder(store, closed_run, host=host, pid=pid, age_s=age_s)
    if takeable:
        store.open_run(closed_run, {}).close()
    else:
        with pytest.raises(RunLockedError, match="other-driver"):
            store.open_run(closed_run, {})


def test_the_lease_can_be_shortened(url: str, closed_run):
    store = Store(url, lease=5)
    fake_holder(store, closed_run, host="elsewhere", pid=1, age_s=10)
    store.open_run(closed_run, {}).close()
    store.close()


def test_a_driver_whose_lock_was_taken_can_no_longer_write(store: Store, monkeypatch):
    monkeypatch.setattr(lock, "RENEW_S", 0.0)  # each heartbeat renews (and so checks) the lock
    store.put_cell("cell-a", "text")
    run = store.open_run("r", {})
    run.record("e0", cell="cell-a", task="ptb", trials=[trial(0)])
    fake_holder(store, "r", host="elsewhere", pid=1, age_s=0)  # as if it had taken over
    with pytest.raises(RunLockedError, match="taken over"):
        run.heartbeat()
    with pytest.raises(RunLockedError, match="taken over"):
        run.record("e1", cell="cell-a", task="ptb", trials=[trial(0)])
    assert [e.key for e in run.finished()] == ["e0"]
    run.close()  # leaves the other driver's lock alone
    assert store.runs()[0]["locked_by"] == "other-driver"


def test_heartbeat_keeps_the_lock_and_close_frees_it(store: Store):
    run = store.open_run("r", {})
    run.heartbeat()
    assert store.runs()[0]["locked_by"] == run.driver.owner
    with pytest.raises(RunLockedError):
        store.open_run("r", {})
    run.close()
    assert store.runs()[0]["locked_by"] is None
    store.open_run("r", {}).close()


def test_the_same_owner_takes_its_own_lock_again(store: Store):
    store.open_run("r", {}, owner="slurm-job-42")  # e.g. a requeued job, on any host
    with store.open_run("r", {}, owner="slurm-job-42") as run:
        run.heartbeat()


def test_runs_lock_independently(store: Store):
    with store.open_run("a", {}), store.open_run("b", {}), pytest.raises(RunLockedError):
        store.open_run("a", {})


def test_a_heartbeat_just_after_a_renewal_writes_nothing(store: Store):
    store.put_cell("cell-a", "text")
    with store.open_run("r", {}) as run:
        run.record("e0", cell="cell-a", task="ptb", trials=[trial(0)])  # renews the lock
        before = store.runs()[0]
        with store.engine.connect() as conn:
            beat = conn.execute(select(runs.c.lock_heartbeat)).scalar()
        run.heartbeat()
        with store.engine.connect() as conn:
            assert conn.execute(select(runs.c.lock_heartbeat)).scalar() == beat
        assert store.runs()[0]["locked_by"] == before["locked_by"] == run.driver.owner
