import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import tasks
from archsearch import zoo
from archsearch.analysis import finding_report, reproduce
from archsearch.cli import app

# Offsets from a base value per task (metric units): accuracy up is better, perplexity and
# NLL down. Finding 2 as the study found it: the gru ahead everywhere but ptb.
BASE = {"arith": 0.5, "xml": 0.6, "ptb": 150.0, "music-jsb": 9.0}
GRU_AHEAD = {"arith": 0.05, "xml": 0.05, "ptb": 0.0, "music-jsb": -0.5}


def frame_for(offsets: dict[str, dict[str, float]], *, seeds: int = 4, settings: int = 2):
    """Trials of each cell on each task, paired over seeds x settings, with a little noise."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(seeds):
        for setting in range(settings):
            for name, per_task in offsets.items():
                for task, offset in per_task.items():
                    scale = 0.002 if tasks.direction(task).maximize else 0.02
                    value = BASE[task] + offset + 0.01 * setting + rng.normal(0, scale)
                    rows.append(
                        {
                            "run": f"reproduce-2-smoke-s{seed}",
                            "key": f"{name}-{task}",
                            "cell": zoo.get(name).canonical_hash(),
                            "cell_name": name,
                            "task": task,
                            "trial": setting,
                            "status": "ok",
                            "metric_valid": value,
                            "seed": 1000 * seed + setting,
                            "params_lr": 0.001 * (setting + 1),
                            "n_params": 1000,
                            "parent": None,
                        }
                    )
    return pd.DataFrame(rows)


def test_default_repeats_give_enough_pairs_to_pass_holm():
    for finding in reproduce.FINDINGS.values():
        n = finding.pairs_needed()
        assert len(finding.claims) * 2 / 2**n < 0.05 <= len(finding.claims) * 2 / 2 ** (n - 1)
        for trials in (1, 2, 3):
            assert finding.default_repeats(trials) * trials >= n


def test_findings_name_only_zoo_cells_and_registered_tasks():
    for finding in reproduce.FINDINGS.values():
        assert set(finding.cells) <= set(zoo.names())
        assert [tasks.direction(t) for t in finding.tasks]  # raises for an unknown task
        for claim in finding.claims:
            assert {claim.a, claim.b} <= set(finding.cells)
            assert set(claim.tasks) <= set(finding.tasks)
        assert finding.reference in finding.cells
        assert 0 < finding.margin < 1
    assert len(reproduce.get("greff").cells) == 9
    with pytest.raises(ValueError, match="choose one of 1, 2, 3, 4, greff, all"):
        reproduce.get("5")


def test_finding_2_report_says_reproduced_with_intervals_and_p(tmp_path):
    frame = frame_for({"gru": GRU_AHEAD, "lstm": {t: 0.0 for t in BASE}})
    folder, verdict, claims = finding_report.write_finding_report(
        reproduce.get("2"), frame, tmp_path / "2", command="archsearch reproduce 2"
    )
    assert verdict == "reproduced", claims.to_dict("records")
    markdown = (folder / "report.md").read_text()
    assert "## Verdict: reproduced" in markdown
    assert "reproduced: gru beats lstm on music-jsb" in markdown
    assert " ± " in markdown and "Holm" in markdown
    # The absence claim prints its interval against the finding's declared margin.
    ptb = claims.set_index("task").loc["ptb"]
    assert ptb["verdict"] == "reproduced" and ptb["high"] < 1 + reproduce.get("2").margin
    interval = f"relative {ptb['relative']:.3f} [{ptb['low']:.3f}, {ptb['high']:.3f}]"
    assert f"{interval}, margin 1 ± 0.03" in markdown
    assert "interval of the relative performance lies inside the margin of 0.03" in markdown
    assert (folder / "relative.png").stat().st_size > 1000
    assert (folder / "report.html").exists()


def test_finding_2_contradicted_when_the_lstm_is_ahead(tmp_path):
    lstm_ahead = {t: -v for t, v in GRU_AHEAD.items()}
    frame = frame_for({"gru": lstm_ahead, "lstm": {t: 0.0 for t in BASE}})
    _, verdict, claims = finding_report.write_finding_report(reproduce.get("2"), frame, tmp_path)
    assert verdict == "contradicted"
    assert set(claims.loc[claims["task"] != "ptb", "verdict"]) == {"contradicted"}


def test_greff_report_names_the_variants(tmp_path):
    vanilla = {t: 0.0 for t in reproduce.GREFF_TASKS}
    offsets = {"greff_vanilla": vanilla}
    offsets.update({cell: dict(vanilla) for cell in reproduce.GREFF.values()})
    offsets["greff_nfg"] = {"arith": -0.1, "music-jsb": 1.0}  # removing f hurts
    greff = reproduce.get("greff")
    assert greff.pairs_needed() == 10  # 16 claims: Holm's smallest p is 16 * 2 / 2**n
    folder, verdict, claims = finding_report.write_finding_report(
        greff, frame_for(offsets, seeds=5), tmp_path
    )
    table = claims.set_index("claim")
    assert table.loc["removing the forget gate hurts on arith", "verdict"] == "reproduced"
    assert table.loc["CIFG is safe on music-jsb", "verdict"] == "reproduced"
    assert verdict == "partly reproduced"  # NOAF is the vanilla here: it does not hurt
    assert "| NFG | 0.8" in (folder / "report.md").read_text()


def test_reproduce_rejects_a_bad_finding_in_one_line():
    result = CliRunner().invoke(app, ["reproduce", "5", "--preset", "smoke"])
    assert result.exit_code == 2
    assert "unknown finding '5'; choose one of 1, 2, 3, 4, greff, all" in result.output
    assert "Traceback" not in result.output
    bad_preset = CliRunner().invoke(app, ["reproduce", "2", "--preset", "huge"])
    assert bad_preset.exit_code == 2 and "unknown preset 'huge'" in bad_preset.output
    bad_repeats = CliRunner().invoke(app, ["reproduce", "2", "--repeats", "0"])
    assert bad_repeats.exit_code == 2


def test_a_finding_trains_the_whole_preset_without_rungs_or_confirmation():
    from archsearch.cli.reproduce import finding_specs

    specs = finding_specs("2", "quick", None, 2, None, 0)
    assert [s.seed for s in specs] == [0, 1, 2, 3]  # the finding's default repeats
    for spec in specs:
        assert spec.rung_plan.count == 1 and spec.rung_plan.fraction(0) == 1
        assert spec.confirm == 0


def test_reproduce_finding_4_end_to_end_at_smoke(tmp_path):
    url = f"sqlite:///{tmp_path}/f.db"
    args = ["reproduce", "4", "--preset", "smoke", "--repeats", "2", "--trials", "1"]
    args += ["--in-process", "--storage", url, "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    # 2 repeats x 1 setting: 2 pairs, whose p cannot go below 0.5; nothing is decided.
    assert "finding 4: inconclusive" in result.output
    assert "inconclusive: removing the forget gate hurts on arith (on arith: relative" in (
        result.output
    )
    report = (tmp_path / "out" / "4" / "report.md").read_text()
    assert "## Verdict: " in report and "removing the forget gate hurts on arith" in report
    assert "2 finished runs over 2 seeds" in report  # 2 repeats x 1 setting per (cell, task)
    from archsearch.store import load_results

    runs = set(load_results(url)["run"])
    assert runs == {"reproduce-4-smoke-s0", "reproduce-4-smoke-s1"}
    assert set(load_results(url)["cell_name"]) == {"lstm", "lstm_f", "lstm_i", "lstm_o"}
    assert "## How well the smoke budget ranks cells" in report
    assert "arith: not measured at smoke" in report
    took = next(line for line in report.splitlines() if line.startswith("Command:"))
    assert "Took " in took
    again = CliRunner().invoke(app, args)  # resumes: nothing trained twice
    assert again.exit_code == 0 and len(load_results(url)) == 16
    assert "16 evaluations trained, 0 copied" in again.output
    # Written again, the report states the same cost: it is read from the store.
    rewritten = (tmp_path / "out" / "4" / "report.md").read_text()
    assert took in rewritten.splitlines()


def test_split_half_agreement_tells_a_ranking_task_from_a_noisy_one(tmp_path):
    names = ["gru", "lstm", "tanh", "lstm_f", "lstm_i", "lstm_o"]
    # xml: the cells 0.05 apart in every repeat; arith: their order flips between repeats.
    ordered = {name: {"xml": 0.05 * i, "arith": 0.05 * i} for i, name in enumerate(names)}
    frame = frame_for(ordered, seeds=4)
    flip = (frame["task"] == "arith") & frame["run"].str.endswith(("s1", "s3"))
    rank = frame["cell_name"].map({name: i for i, name in enumerate(names)})
    frame.loc[flip, "metric_valid"] -= 0.1 * rank[flip]
    table = finding_report.split_half_agreement(frame, ["xml", "arith"]).set_index("task")
    assert table.loc["xml", "rho"] == pytest.approx(1.0) and table.loc["xml", "cells"] == 6
    assert table.loc["arith", "rho"] < 0.5
    tied = frame.assign(metric_valid=frame["metric_valid"].where(frame["task"] != "xml", 0.5))
    assert finding_report.split_half_agreement(tied, ["xml"]).loc[0, "note"] == "the cells tie"
    one_run = frame.assign(run="only")
    assert finding_report.split_half_agreement(one_run, ["xml"])["rho"].isna().all()
    section = finding_report._agreement_section(reproduce.get("1"), frame)
    assert "On arith the cells tie or rho is below 0.5" in section[1].content
