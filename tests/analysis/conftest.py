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
