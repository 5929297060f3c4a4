"""A driver SIGKILLed at a random point, mid-commit included, loses and duplicates nothing."""

from __future__ import annotations

import random
import signal
import time

from archsearch.store import Store
from tests.store.conftest import spawn_driver, trial
from tests.store.driver import TRIALS_PER_EVALUATION


def test_a_driver_killed_while_recording_leaves_a_whole_store_that_resumes(url: str):
    rng = random.Random(20150706)
    committed = 0
    for _ in range(4):
        driver = spawn_driver(url, "r", "record")  # resumes from what is committed
        time.sleep(rng.uniform(0.05, 0.4))
        driver.send_signal(signal.SIGKILL)
        driver.wait()

        store = Store(url)
        assert store.check_integrity() == []
        with store.open_run("r", {}) as run:  # the killed driver's lock is taken at once
            done = run.finished()
        assert [e.key for e in done] == [f"e{i}" for i in range(len(done))]
        assert all(len(e.trials) == TRIALS_PER_EVALUATION for e in done)
        assert len(done) >= committed
        committed = len(done)
        store.close()
    assert committed > 0

    store = Store(url)
    with store.open_run("r", {}) as run:
        assert not run.record("e0", cell="cell-a", task="copy", trials=[trial(0)])
        assert run.record(f"e{committed}", cell="cell-a", task="copy", trials=[trial(0)])
    store.close()
