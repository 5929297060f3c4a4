import re
from pathlib import Path

from typer.testing import CliRunner

from archsearch.analysis.report import write_report
from archsearch.cli import app


def test_report_writes_pages_whose_images_exist(frame, tmp_path):
    url = f"sqlite:///{tmp_path}/a.db"
    folder = write_report(url, "r", tmp_path / "report")
    html = (folder / "report.html").read_text()
    markdown = (folder / "report.md").read_text()
    images = re.findall(r'<img src="([^"]+)"', html)
    assert {"best_score.png", "relative.png", "gates_lstm.png", "hyperparameters.png"} <= set(
        images
    )
    for image in images:
        assert (folder / image).stat().st_size > 1000
    assert re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown) == images
    assert "Gate importance: lstm" in markdown and "cell lstm(x; h, c):" in markdown
    assert "FanovaImportanceEvaluator" in markdown


def test_report_command_and_its_errors(frame, tmp_path):
    runner = CliRunner()
    url = f"sqlite:///{tmp_path}/a.db"
    result = runner.invoke(
        app, ["report", "--storage", url, "--run", "r", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert Path(tmp_path / "o" / "report.html").exists()
    missing = runner.invoke(app, ["report", "--storage", f"sqlite:///{tmp_path}/none.db"])
    assert missing.exit_code == 2 and "no store" in missing.output
    wrong_run = runner.invoke(app, ["report", "--storage", url, "--run", "nope"])
    assert wrong_run.exit_code == 2 and "runs: r" in wrong_run.output


def test_report_with_repeats_shows_intervals_and_error_bars(repeated, tmp_path):
    folder = write_report(repeated, "rep", tmp_path / "rep")
    markdown = (folder / "report.md").read_text()
    assert "paired bootstrap 95% interval" in markdown
    assert re.search(r"\| lstm_f \| 0\.7\d\d ± 0\.0\d\d\* \|", markdown)
    assert "Over matched (seed, setting) pairs" in markdown  # the gate table's intervals
    assert (folder / "relative.png").stat().st_size > 1000
