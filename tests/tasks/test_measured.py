"""The measured budget figures: equal to the committed fidelity reports, and read by the search."""

import json
from pathlib import Path

import pytest

from archsearch.search.jozefowicz import JozefowiczSearch
from archsearch.spec import DEFAULT_PRESET, DEFAULT_TASKS
from tasks import measured as figures

REPORTS = Path(__file__).resolve().parents[2] / "results" / "fidelity"


@pytest.mark.parametrize("key", sorted(figures.MEASURED))
def test_each_figure_is_the_one_its_report_measured(key):
    entry = figures.MEASURED[key]
    data = json.loads((REPORTS.parent.parent / entry.report / "fidelity.json").read_text())
    assert (data["task"], data["budget"]["preset"]) == key and not data["budget"]["overrides"]
    spearman = data["per_seed"][0]["spearman"] if data["per_seed"] else None
    pairs = [
        (entry.cpu_seconds, data["cpu_per_trial"]["median"], 0.5),
        (entry.seed_to_seed, data["seed_to_seed"], 0.005),
        (entry.seed_noise, data.get("seed_noise"), 0.0005),
        (entry.spearman, spearman, 0.005),
    ]
    for ours, theirs, tolerance in pairs:  # None (not measured) on both sides, or equal
        assert ours == theirs if theirs is None else ours == pytest.approx(theirs, abs=tolerance)


def test_the_default_tasks_are_met_cheapest_first_by_measured_cost():
    assert list(DEFAULT_TASKS) == figures.cheapest_first(DEFAULT_TASKS, DEFAULT_PRESET)


def test_the_filter_threshold_makes_room_for_a_repeats_noise(monkeypatch):
    noisy = figures.Measured(10.0, 0.9, 0.05, 0.9, "test", "results/fidelity/x")
    monkeypatch.setitem(figures.MEASURED, ("arith", "smoke"), noisy)
    searcher = JozefowiczSearch(tasks=["arith", "xml"], trials=1, preset="smoke", threshold=0.9)
    assert searcher.thresholds == {"arith": pytest.approx(0.9 * 0.95), "xml": 0.9}
    assert figures.cheapest_first(["xml", "arith", "ptb"], "smoke") == ["arith", "xml", "ptb"]
