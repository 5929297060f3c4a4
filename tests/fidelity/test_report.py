"""A fidelity result from known values: its summary figures, report files and table row."""

import json
import math
import subprocess
import sys

import pytest

from archsearch.direction import MINIMIZE
from archsearch.fidelity import Budget, FidelityResult, agreement, write_fidelity_report
from archsearch.fidelity.report import summary_lines
from archsearch.fidelity.run import CellOutcome


def _result():
    cheap = [[100.0, 110.0], [200.0, 180.0], [None, 400.0], [300.0, 300.0]]
    refs = [90.0, 150.0, 1500.0, 250.0]
    cells = [
        CellOutcome(f"c{i}", ref, values, [50.0, 60.0 + i])
        for i, (ref, values) in enumerate(zip(refs, cheap, strict=True))
    ]
    by_seed = [[c.cheap[s] for c in cells] for s in range(2)]
    return FidelityResult(
        task="ptb", metric="perplexity", direction=MINIMIZE,
        budget=Budget("quick", {"train_steps": 100}), reference="the panel's reference values",
        seeds=[0, 1], space="adam", fixed={"lr": 0.003}, cells=cells,
        per_seed=[agreement(v, refs, direction=MINIMIZE) for v in by_seed],
        mean_of_seeds=agreement([105.0, 190.0, None, 300.0], refs, direction=MINIMIZE),
        seed_to_seed=0.8,
    )  # fmt: skip


def test_seed_noise_is_the_median_relative_move_between_repeats():
    # |110-100|/105, |180-200|/190, 0 (the failed pair is left out): median 0.0952
    assert _result().seed_noise == pytest.approx(10 / 105)
    assert _result().cpu_per_trial == {"median": 60.0, "max": 63.0}


def test_the_report_files_and_the_table_script_carry_the_figures(tmp_path):
    result = _result()
    lines = summary_lines(result)
    assert "quick (train_steps=100)" in lines[0] and "4 cells" in lines[0]
    assert any("seed-to-seed Spearman: 0.80" in line for line in lines)
    folder = write_fidelity_report(result, tmp_path / "ptb-test")
    data = json.loads((folder / "fidelity.json").read_text())
    assert data["per_seed"][0]["spearman"] == pytest.approx(result.per_seed[0].spearman)
    assert data["cells"][2]["cheap"] == [None, 400.0]
    assert "| c2 | 1500.0 | failed | 400.0 |" in (folder / "report.md").read_text()
    assert (folder / "scatter.png").read_bytes()[:4] == b"\x89PNG"
    table = subprocess.run(
        [sys.executable, "scripts/fidelity_table.py", "--folder", str(tmp_path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    row = next(line for line in table.splitlines() if line.startswith("| ptb-test"))
    assert f"{result.per_seed[0].spearman:.2f}" in row and "0.80" in row and "60 / 63" in row
    assert not math.isnan(result.per_seed[0].spearman)


def test_a_report_without_a_reference_has_no_reference_column(tmp_path):
    repeats = _result()
    repeats.per_seed, repeats.mean_of_seeds = [], None
    for cell in repeats.cells:
        cell.reference = None
    text = (write_fidelity_report(repeats, tmp_path / "repeats") / "report.md").read_text()
    assert "| cell | seed 0 | seed 1 |" in text and "| c2 | failed | 400.0 |" in text
    assert "reference |" not in text


def test_the_pool_script_ranks_the_cells_of_several_reports_together(tmp_path):
    result = _result()
    for name in ("a", "b"):
        write_fidelity_report(result, tmp_path / name)
    pool = [sys.executable, "scripts/fidelity_pool.py", "a", "b", "--folder", str(tmp_path)]
    both = subprocess.run([*pool, "--rank", "c2,c0"], capture_output=True, text=True, check=True)
    refs = [c.reference for c in result.cells] * 2
    expected = agreement([c.cheap[0] for c in result.cells] * 2, refs, direction=MINIMIZE)
    assert "8 cells" in both.stdout and f"Spearman {expected.spearman:.2f}" in both.stdout
    assert "c2: 7 of 8 (failed)" in both.stdout and "c0: 1 of 8 (100.0)" in both.stdout
    dropped = subprocess.run([*pool, "--drop", "c2"], capture_output=True, text=True, check=True)
    assert "6 cells" in dropped.stdout and "Spearman 1.00" in dropped.stdout
