"""A search driver for the lock and crash tests, run as a subprocess.

    python driver.py URL RUN hold     take the run's lock, then sleep until killed
    python driver.py URL RUN record   take it, then record evaluations e<N>, e<N+1> ... forever

Prints "ready" once it holds the lock.
"""

from __future__ import annotations

import sys
import time

from archsearch.store import Store

TRIALS_PER_EVALUATION = 5


def main(url: str, run_name: str, mode: str) -> None:
    store = Store(url)
    run = store.open_run(run_name, {"searcher": "test"})
    store.put_cell("cell-a", "h = tanh(W x + U h)", name="rnn")
    print("ready", flush=True)
    if mode == "hold":
        time.sleep(600)
        return
    index = len(run.finished())
    while True:
        trials = [
            {"trial": t, "status": "ok", "params": {"lr": 1e-3 * t}, "metric_valid": index + t / 10}
            for t in range(TRIALS_PER_EVALUATION)
        ]
        run.record(f"e{index}", cell="cell-a", task="copy", trials=trials)
        index += 1


if __name__ == "__main__":
    main(*sys.argv[1:])
