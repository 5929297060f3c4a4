import numpy as np
import pytest

from archsearch import zoo
from archsearch.store import Store, load_results

# (cell, task) -> validation metric of each trial. xml is accuracy (higher better),
# ptb perplexity (lower better).
METRICS = {
    ("gru", "xml"): [0.50, 0.80],
    ("gru", "ptb"): [200.0, 150.0],
    ("lstm", "xml"): [0.60, 0.40],
    ("lstm", "ptb"): [120.0, 300.0],
    ("lstm_f", "xml"): [0.20, 0.40],
    ("lstm_f", "ptb"): [130.0, 140.0],
    ("lstm_i", "xml"): [0.48],
    ("lstm_i", "ptb"): [125.0],
    ("lstm_o", "xml"): [0.59],
    ("lstm_o", "ptb"): [121.0],
    ("lstm_b", "xml"): [0.66],
    ("lstm_b", "ptb"): [118.0],
}


@pytest.fixture
def frame(tmp_path):
    url = f"sqlite:///{tmp_path}/a.db"
    store = Store(url)
    for name in {c for c, _ in METRICS}:
        store.put_cell(zoo.get(name).canonical_hash(), zoo.get(name).to_text(), name=name)
    with store.open_run("r", {}) as run:
        for number, ((name, task), values) in enumerate(METRICS.items()):
            trials = [
                {
                    "trial": i,
                    "status": "ok",
                    "metric_valid": v,
                    "metric_test": v + 1,
                    "params": {"lr": 0.1 * (i + 1), "layers": 1 + i},
                    "n_params": 1000,
                }
                for i, v in enumerate(values)
            ]
            trials.append({"trial": len(values), "status": "diverged", "params": {"lr": 5.0}})
            run.record(f"e{number}", cell=zoo.get(name).canonical_hash(), task=task, trials=trials)
    return load_results(url)


# Repeats: every (cell, task) trains 2 settings x 8 seeds, the same for every cell (paired).
# Offsets from the gru in metric units (xml accuracy: + is better; ptb perplexity: - is).
OFFSETS = {
    "gru": (0.0, 0.0),
    "lstm": (-0.05, -4.0),
    "lstm_f": (-0.20, 8.0),
    "lstm_i": (-0.08, 2.0),
    "lstm_o": (0.0, 0.0),  # no difference from the gru
    "lstm_b": (-0.03, -5.0),
}


@pytest.fixture
def repeated(tmp_path):
    url = f"sqlite:///{tmp_path}/r.db"
    store = Store(url)
    for name in OFFSETS:
        store.put_cell(zoo.get(name).canonical_hash(), zoo.get(name).to_text(), name=name)
    with store.open_run("rep", {}) as run:
        number = 0
        for index, (name, (xml, ptb)) in enumerate(OFFSETS.items()):
            rng = np.random.default_rng(index)
            for task, offset, base in (("xml", xml, 0.6), ("ptb", ptb, 150.0)):
                trials = []
                for seed in range(8):
                    for lr in (0.001, 0.01):
                        noise = rng.normal(0, 0.005 if task == "xml" else 0.5)
                        value = base + offset + 10 * lr + seed / 100 + noise
                        trials.append(
                            {
                                "trial": len(trials),
                                "status": "ok",
                                "metric_valid": value,
                                "metric_test": value,
                                "params": {"lr": lr},
                                "seed": 100 + seed,
                                "n_params": 1000,
                            }
                        )
                number += 1
                run.record(
                    f"e{number}", cell=zoo.get(name).canonical_hash(), task=task, trials=trials
                )
    return url
