import math

import numpy as np
import pandas as pd
import pytest

from archsearch import zoo
from archsearch.analysis import stats, verdicts
from archsearch.analysis.verdicts import Claim


def synthetic(effect: float, task: str, *, noise: float = 0.002, seeds: int = 4) -> pd.DataFrame:
    """gru and lstm on one task, 4 seeds x 3 settings; lstm = gru + effect (in metric units)."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(seeds):
        for lr in (0.001, 0.003, 0.01):
            base = (0.6 if task == "xml" else 150.0) + 10 * lr + 0.01 * seed
            for name, shift in (("gru", 0.0), ("lstm", effect)):
                rows.append(
                    {
                        "cell": zoo.get(name).canonical_hash(),
                        "cell_name": name,
                        "task": task,
                        "status": "ok",
                        "metric_valid": base + shift + rng.normal(0, noise),
                        "seed": seed,
                        "params_lr": lr,
                        "trial": 0,
                        "run": f"r-s{seed}",  # one run per repeat, as archsearch reproduce does
                        "key": f"{name}-{task}",
                    }
                )
    return pd.DataFrame(rows)


# xml: accuracy (higher better), so lstm better = +effect; ptb: perplexity, lstm better = -effect.
CASES = [("xml", 0.05), ("ptb", -5.0)]


@pytest.mark.parametrize(("task", "better"), CASES)
def test_verdict_flips_with_the_results(task, better):
    claim = [Claim("lstm", "gru", (task,), "better")]
    clear, _ = verdicts.judge_claims(synthetic(better, task), claim)
    none, _ = verdicts.judge_claims(synthetic(0.0, task), claim)
    opposite, _ = verdicts.judge_claims(synthetic(-better, task), claim)
    assert clear.loc[0, "verdict"] == "reproduced"
    assert clear.loc[0, "p_holm"] < 0.05 and clear.loc[0, "relative"].startswith("1.")
    assert "not significant" in none.loc[0, "verdict"]
    assert none.loc[0, "p"] > 0.05
    assert opposite.loc[0, "verdict"] == "contradicted"
    # Expecting the other way round turns each verdict around.
    worse = [Claim("lstm", "gru", (task,), "worse")]
    assert verdicts.judge_claims(synthetic(-better, task), worse)[0].loc[0, "verdict"] == (
        "reproduced"
    )
    assert verdicts.judge_claims(synthetic(better, task), worse)[0].loc[0, "verdict"] == (
        "contradicted"
    )


@pytest.mark.parametrize(("task", "better"), CASES)
def test_small_effect_is_same_direction_not_significant_with_repeats_needed(task, better):
    frame = synthetic(better / 20, task, noise=abs(better) / 8, seeds=2)
    table, comparisons = verdicts.judge_claims(frame, [Claim("lstm", "gru", (task,), "better")])
    row = table.loc[0]
    assert row["verdict"] == "same direction, not significant", row.to_dict()
    # Each repeat (run) adds 3 pairs: one per setting.
    assert row["repeats_needed"] == math.ceil(row["pairs_needed"] / 3) > 2
    assert "repeats would detect it at 80% power" in verdicts.sentence(row)
    assert comparisons.loc[0, "n"] == 6


def test_absence_claims_hold_unless_the_wrong_way_is_significant():
    no_better = [Claim("lstm", "gru", ("xml",), "not better")]
    assert verdicts.judge_claims(synthetic(0.0, "xml"), no_better)[0].loc[0, "verdict"] == (
        "reproduced"
    )
    assert verdicts.judge_claims(synthetic(-0.05, "xml"), no_better)[0].loc[0, "verdict"] == (
        "reproduced"
    )
    assert verdicts.judge_claims(synthetic(0.05, "xml"), no_better)[0].loc[0, "verdict"] == (
        "contradicted"
    )


def test_holm_across_a_finding_can_undo_a_lone_significant_result():
    frame = pd.concat([synthetic(0.05, "xml", seeds=2), synthetic(-5.0, "ptb", seeds=2)])
    one = verdicts.judge_claims(frame, [Claim("lstm", "gru", ("xml",), "better")])[0]
    assert one.loc[0, "verdict"] == "reproduced"  # 6 pairs: p = 2 / 2**6 = 0.031
    two = verdicts.judge_claims(
        frame, [Claim("lstm", "gru", ("xml",), "better"), Claim("lstm", "gru", ("ptb",), "better")]
    )[0]
    assert list(two["p_holm"]) == pytest.approx([0.0625, 0.0625])
    assert set(two["verdict"]) == {"same direction, not significant"}


def test_a_claim_over_several_tasks_needs_every_task_and_the_largest_p_decides():
    frame = pd.concat([synthetic(0.05, "xml"), synthetic(5.0, "ptb")])  # lstm worse on ptb
    both = verdicts.judge_claims(frame, [Claim("lstm", "gru", ("xml", "ptb"), "better")])[0]
    assert both.loc[0, "verdict"] == "not significant"  # the tasks disagree
    agreeing = pd.concat([synthetic(0.05, "xml"), synthetic(-5.0, "ptb")])
    row = verdicts.judge_claims(agreeing, [Claim("lstm", "gru", ("xml", "ptb"), "better")])[0]
    assert row.loc[0, "verdict"] == "reproduced"


def test_overall_verdict_and_bad_claims():
    assert verdicts.overall(["reproduced", "reproduced"]) == "reproduced"
    assert verdicts.overall(["reproduced", "same direction, not significant"]) == (
        "partly reproduced"
    )
    assert verdicts.overall(["reproduced", "contradicted"]) == "contradicted"
    assert verdicts.overall(["same direction, not significant"]) == "not significant"
    with pytest.raises(ValueError, match="expect must be one of"):
        Claim("lstm", "gru", ("xml",), "faster")


def test_a_claim_without_matched_pairs_has_no_data_not_a_verdict():
    frame = synthetic(0.05, "xml")
    frame.loc[frame["cell_name"] == "lstm", "status"] = "diverged"
    for expect in ("better", "not better"):
        table, comparisons = verdicts.judge_claims(frame, [Claim("lstm", "gru", ("xml",), expect)])
        assert table.loc[0, "verdict"] == "no data" and comparisons.loc[0, "dropped"] == 24
    assert verdicts.overall(["no data", "no data"]) == "no data"
    assert verdicts.overall(["no data", "reproduced"]) == "partly reproduced"


# Paired (cell, baseline, task) verdicts, on synthetic pairs. Accuracy (higher better) around
# 0.6, perplexity (lower better) around 150; ``gain`` is how much better cell a is, as a
# fraction of the baseline, in the task's own direction.
DIRECTIONS = [(True, 0.6), (False, 150.0)]


def paired(higher: bool, base: float, gain: float, jitter: list[float]) -> stats.Comparison:
    """Cell a against baseline b over pairs whose b values spread around ``base``; a is
    ``gain`` better plus ``jitter`` (fractions of ``base``) pair by pair."""
    b = base * (1 + 0.02 * np.linspace(-1, 1, len(jitter)))
    shift = base * (gain + np.asarray(jitter))
    a = b + shift if higher else b - shift
    return stats.compare_paired(a, b, higher_is_better=higher, a="cell", b="gru")


NOISE = [0.004, -0.003, 0.002, -0.004, 0.001, 0.003, -0.002, -0.001, 0.004, -0.003, 0.002, 0.0]


@pytest.mark.parametrize(("higher", "base"), DIRECTIONS)
def test_paired_verdict_better_and_worse_need_significance_in_that_direction(higher, base):
    up = paired(higher, base, 0.08, NOISE)
    down = paired(higher, base, -0.08, NOISE)
    assert up.relative.estimate > 1 > down.relative.estimate  # oriented in the task's direction
    assert up.p_value < 0.01 and down.p_value < 0.01
    margin = verdicts.DEFAULT_MARGIN
    assert verdicts.paired_verdict(up, up.p_value, margin=margin) == verdicts.BETTER
    assert verdicts.paired_verdict(down, down.p_value, margin=margin) == verdicts.WORSE
    # The same effect after a Holm adjustment that leaves it not significant: outside the
    # margin, so nothing is known.
    assert verdicts.paired_verdict(up, 0.2, margin=margin) == verdicts.INCONCLUSIVE
    assert verdicts.paired_verdict(down, 0.06, margin=margin) == verdicts.INCONCLUSIVE


@pytest.mark.parametrize(("higher", "base"), DIRECTIONS)
def test_paired_verdict_equivalent_needs_the_whole_interval_inside_the_margin(higher, base):
    same = paired(higher, base, 0.0, NOISE)
    assert same.p_value > 0.05
    assert 1 - 0.03 < same.relative.low < same.relative.high < 1 + 0.03
    assert verdicts.paired_verdict(same, same.p_value, margin=0.03) == verdicts.EQUIVALENT
    # A margin narrower than the interval cannot call it equivalent.
    narrow = (same.relative.high - same.relative.low) / 4
    assert verdicts.paired_verdict(same, same.p_value, margin=narrow) == verdicts.INCONCLUSIVE


@pytest.mark.parametrize(("higher", "base"), DIRECTIONS)
def test_paired_verdict_inconclusive_when_few_noisy_pairs_decide_nothing(higher, base):
    noisy = paired(higher, base, 0.01, [0.09, -0.06, 0.05, -0.04])
    assert noisy.p_value > 0.05
    assert noisy.relative.low < 1 - 0.03 or noisy.relative.high > 1 + 0.03
    assert verdicts.paired_verdict(noisy, noisy.p_value, margin=0.03) == verdicts.INCONCLUSIVE
    assert noisy.pairs_needed is None or noisy.pairs_needed > noisy.n  # more repeats would
    # One pair has no interval: never equivalent, whatever the margin.
    one = paired(higher, base, 0.0, [0.0])
    assert verdicts.paired_verdict(one, one.p_value, margin=0.5) == verdicts.INCONCLUSIVE


def test_paired_verdict_refuses_a_margin_that_is_not_a_fraction():
    same = paired(True, 0.6, 0.0, NOISE)
    for margin in (0.0, 3.0, -0.03):
        with pytest.raises(ValueError, match="margin must be between 0 and 1"):
            verdicts.paired_verdict(same, 0.5, margin=margin)
