"""A tiny search run as a separate process (killed and resumed by the tests)."""

import sys

from archsearch.driver import SearchConfig, run_search

TINY = {
    "train_steps": 4,
    "eval_every": 2,
    "hidden_size": 8,
    "n_train": 64,
    "n_valid": 32,
    "n_test": 32,
    "eval_batches": 1,
}


def config(storage: str, evaluations: int, **extra) -> SearchConfig:
    return SearchConfig(
        name="job",
        searcher="jozefowicz",
        tasks=("arith", "xml"),
        preset="smoke",
        trials=1,
        max_evaluations=evaluations,
        max_seconds=None,
        storage=storage,
        overrides=TINY,
        # No re-evaluation here, so every (cell, task) must appear once.
        searcher_options={"threshold": 0.0, "reeval_probability": 0.0},
        **extra,
    )


if __name__ == "__main__":
    run_search(config(sys.argv[1], int(sys.argv[2])))
