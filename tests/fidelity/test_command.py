"""``archsearch fidelity`` end to end on tiny panels at ``smoke``, in this process."""

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archsearch.cli import app
from tests.fidelity.test_panel import LOGS

runner = CliRunner()


def _run(tmp_path, *args):
    return runner.invoke(
        app,
        [
            "fidelity", *args, "--in-process", "--seeds", "0,1",
            "--set", "lr=0.003", "--set", "layers=1", "--json",
            "--storage", f"sqlite:///{tmp_path / 'store.db'}", "--out", str(tmp_path / "report"),
        ],
    )  # fmt: skip


def test_a_zoo_panel_against_a_longer_budget_writes_its_report(tmp_path):
    result = _run(
        tmp_path, "tanh", "lstm", "gru", "--task", "xml", "--preset", "smoke",
        "--reference-knob", "train_steps=60",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert [c["name"] for c in data["cells"]] == ["tanh", "lstm", "gru"]
    assert data["reference"].startswith("smoke (train_steps=60)")
    assert len(data["per_seed"]) == 2
    # At smoke two cells may tie (no order: NaN, written as null); otherwise a correlation.
    assert data["seed_to_seed"] is None or -1 <= data["seed_to_seed"] <= 1
    for cell in data["cells"]:  # every cell trained at both seeds and at the reference budget
        assert all(v is not None for v in [cell["reference"], *cell["cheap"]])
        assert all(s > 0 for s in cell["cpu_seconds"])
    for name in ("report.md", "scatter.png", "fidelity.json"):
        assert (tmp_path / "report" / name).stat().st_size > 0
    # One row per ranking signal, the default first and equal to the panel's own figures.
    signals = {row["name"]: row for row in data["signals"]}
    assert list(signals)[0] == "final" and {"train_tail", "extrapolated", "state_growth"} <= set(
        signals
    )
    assert signals["final"]["per_seed"] == data["per_seed"]
    for row in signals.values():
        assert row["missing"] == [] and len(row["per_seed"]) == 2
    assert all(len(c["signals"]["train_tail"]) == 2 for c in data["cells"])
    report = (tmp_path / "report" / "report.md").read_text()
    assert "## Ranking signals" in report and "| extrapolated |" in report
    # Nothing is trained twice: the same command reads the same runs back.
    again = _run(
        tmp_path, "tanh", "lstm", "gru", "--task", "xml", "--preset", "smoke",
        "--reference-knob", "train_steps=60",
    )  # fmt: skip
    assert json.loads(again.stdout.strip().splitlines()[-1])["cells"] == data["cells"]


def test_a_repeated_reference_is_their_mean_and_says_how_well_it_agrees_with_itself(tmp_path):
    result = _run(
        tmp_path, "tanh", "lstm", "gru", "--task", "xml", "--preset", "smoke",
        "--reference-knob", "train_steps=60", "--reference-seeds", "0,1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["reference_seeds"] == [0, 1] and "seeds 0, 1, their mean" in data["reference"]
    for cell in data["cells"]:
        first, second = cell["reference_by_seed"]
        assert cell["reference"] == pytest.approx((first + second) / 2)
    assert any(c["reference_by_seed"][0] != c["reference_by_seed"][1] for c in data["cells"])
    ordered = [c["reference_by_seed"] for c in data["cells"]]
    assert data["reference_seed_to_seed"] is None or -1 <= data["reference_seed_to_seed"] <= 1
    if len({a for a, _ in ordered}) == len({b for _, b in ordered}) == len(ordered):
        assert data["reference_seed_to_seed"] is not None  # no ties: a correlation
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| reference seed 0 | reference seed 1 |" in report
    assert "reference seed-to-seed Spearman" in report


@pytest.mark.skipif(not LOGS.exists(), reason="the shared NAS-Bench-NLP logs are not here")
def test_a_nasbench_panel_is_compared_with_its_final_perplexities(tmp_path):
    result = _run(tmp_path, str(LOGS), "--size", "3", "--task", "ptb", "--preset", "smoke")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    references = [c["reference"] for c in data["cells"]]
    assert references == sorted(references) and references[0] < 100 < 1000 < references[-1]
    assert data["metric"] == "perplexity" and data["higher_is_better"] is False
    assert math.isfinite(data["per_seed"][0]["spearman"])
    assert "Spearman" in Path(tmp_path / "report" / "report.md").read_text()


def test_without_a_reference_two_seeds_measure_the_repeats_agreement_alone(tmp_path):
    result = _run(tmp_path, "lstm", "gru", "tanh", "--task", "xml", "--preset", "smoke")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["per_seed"] == [] and data["reference"] == "no reference (repeats only)"
    assert all(None not in c["cheap"] for c in data["cells"])
    assert not (tmp_path / "report" / "scatter.png").exists()


def test_bad_input_is_one_line_before_anything_trains(tmp_path):
    store = f"sqlite:///{tmp_path / 'store.db'}"
    one_seed = runner.invoke(app, ["fidelity", "lstm", "gru", "--seeds", "0", "--storage", store])
    assert one_seed.exit_code == 2 and "reference" in one_seed.output
    bad_seeds = runner.invoke(app, ["fidelity", "lstm", "--seeds", "-1", "--in-process"])
    assert bad_seeds.exit_code == 2 and "--seeds" in bad_seeds.output
    held_out = runner.invoke(app, ["fidelity", "lstm", "gru", "--held-out", "--storage", store])
    assert held_out.exit_code == 2 and "--held-out" in held_out.output
    unused = runner.invoke(
        app, ["fidelity", "lstm", "gru", "--reference-seeds", "0,1", "--storage", store]
    )
    assert unused.exit_code == 2 and "reference" in unused.output
    repeated = runner.invoke(
        app,
        ["fidelity", "lstm", "--reference-seeds", "1,1", "--reference-knob", "train_steps=60",
         "--storage", store],
    )  # fmt: skip
    assert repeated.exit_code == 2 and "--reference-seeds" in repeated.output
    assert not (tmp_path / "store.db").exists()
