import math

import numpy as np
import pandas as pd
import pytest

from archsearch import zoo
from archsearch.analysis import stats, verdicts
from archsearch.analysis.verdicts import Claim
from archsearch.direction import Direction


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
M = verdicts.DEFAULT_MARGIN


@pytest.mark.parametrize(("task", "better"), CASES)
def test_verdict_flips_with_the_results(task, better):
    claim = [Claim("lstm", "gru", (task,), "better")]
    clear, _ = verdicts.judge_claims(synthetic(better, task), claim, margin=M)
    none, _ = verdicts.judge_claims(synthetic(0.0, task), claim, margin=M)
    opposite, _ = verdicts.judge_claims(synthetic(-better, task), claim, margin=M)
    assert clear.loc[0, "verdict"] == "reproduced"
    assert clear.loc[0, "p_holm"] < 0.05 and clear.loc[0, "low"] > 1
    assert none.loc[0, "verdict"] == "inconclusive"
    assert none.loc[0, "p"] > 0.05
    assert opposite.loc[0, "verdict"] == "contradicted"
    # Expecting the other way round turns each verdict around.
    worse = [Claim("lstm", "gru", (task,), "worse")]
    assert verdicts.judge_claims(synthetic(-better, task), worse, margin=M)[0].loc[
        0, "verdict"
    ] == ("reproduced")
    assert verdicts.judge_claims(synthetic(better, task), worse, margin=M)[0].loc[0, "verdict"] == (
        "contradicted"
    )


@pytest.mark.parametrize(("task", "better"), CASES)
def test_small_effect_is_inconclusive_with_repeats_needed(task, better):
    frame = synthetic(better / 20, task, noise=abs(better) / 8, seeds=2)
    claim = [Claim("lstm", "gru", (task,), "better")]
    table, comparisons = verdicts.judge_claims(frame, claim, margin=M)
    row = table.loc[0]
    assert row["verdict"] == "inconclusive", row.to_dict()
    # Each repeat (run) adds 3 pairs: one per setting.
    assert row["repeats_needed"] == math.ceil(row["pairs_needed"] / 3) > 2
    assert "repeats would detect it at 80% power" in verdicts.sentence(row)
    assert comparisons.loc[0, "n"] == 6


def verdict_of(frame: pd.DataFrame, claim: Claim, margin: float = M) -> pd.Series:
    return verdicts.judge_claims(frame, [claim], margin=margin)[0].loc[0]


@pytest.mark.parametrize(("task", "better"), CASES)
def test_absence_claims_need_the_interval_inside_the_margin(task, better):
    not_better = Claim("lstm", "gru", (task,), "not better")
    not_worse = Claim("lstm", "gru", (task,), "not worse")
    # Equal cells, 12 pairs of little noise: the interval lies well inside 1 ± 3%.
    same = verdict_of(synthetic(0.0, task), not_better)
    assert same["verdict"] == "reproduced" and same["high"] < 1 + M
    assert verdict_of(synthetic(0.0, task), not_worse)["verdict"] == "reproduced"
    # lstm clearly worse: it does not beat gru (upper end below 1), and it is worse.
    assert verdict_of(synthetic(-better, task), not_better)["verdict"] == "reproduced"
    assert verdict_of(synthetic(-better, task), not_worse)["verdict"] == "contradicted"
    assert verdict_of(synthetic(better, task), not_better)["verdict"] == "contradicted"
    # The same equal cells with 6 noisy pairs: nothing significant either way, and the
    # interval reaches past the margin, so not knowing is the verdict (it used to read
    # "reproduced"), with the repeats that would narrow the interval inside it.
    noisy = synthetic(0.0, task, noise={"xml": 0.1, "ptb": 20.0}[task], seeds=2)  # 13-17%
    for claim in (not_better, not_worse):
        row = verdict_of(noisy, claim)
        assert row["p"] > 0.05 and row["low"] < 1 - M and row["high"] > 1 + M, row.to_dict()
        assert row["verdict"] == "inconclusive"
    row = verdict_of(noisy, not_better)
    assert row["repeats_needed"] > 2 and row["margin"] == M
    text = verdicts.sentence(row)
    assert "inconclusive: lstm not better than gru" in text
    assert f"[{row['low']:.3f}, {row['high']:.3f}], margin 1 ± 0.03" in text
    assert "repeats would fit it inside the margin" in text
    # lstm ahead by more than the margin, not significantly: no number of repeats would fit
    # the interval inside the margin unless the estimate moved.
    ahead = verdict_of(
        synthetic(better, task, noise={"xml": 0.1, "ptb": 20.0}[task], seeds=2), not_better
    )
    assert ahead["verdict"] == "inconclusive" and ahead["relative"] > 1 + M
    assert pd.isna(ahead["repeats_needed"])
    assert "its estimate lies outside the margin" in verdicts.sentence(ahead)
    # A margin wide enough for the noisy interval reproduces the claim.
    assert verdict_of(noisy, not_better, margin=0.9)["verdict"] == "reproduced"


def test_an_absence_claim_over_several_tasks_needs_one_task_inside_the_margin():
    noisy_ptb = synthetic(0.0, "ptb", noise=20.0, seeds=2)
    claim = Claim("lstm", "gru", ("xml", "ptb"), "not better")
    row = verdict_of(pd.concat([synthetic(0.0, "xml"), noisy_ptb]), claim)
    assert row["verdict"] == "reproduced" and row["task"] == "xml"  # xml shows it
    alone = verdict_of(noisy_ptb, Claim("lstm", "gru", ("ptb",), "not better"))
    assert alone["verdict"] == "inconclusive"


def test_pairs_for_margin_scales_the_interval_as_one_over_root_n():
    wide = stats.Interval(1.0, 0.94, 1.06, 8)  # half-width 0.06: four times the pairs halve it
    assert verdicts.pairs_for_margin(wide, 0.03, upper=True) == 32
    assert verdicts.pairs_for_margin(wide, 0.03, upper=False) == 32
    assert verdicts.pairs_for_margin(stats.Interval(1.04, 1.0, 1.08, 8), 0.03, upper=True) is None
    assert verdicts.pairs_for_margin(stats.Interval(1.0, 0.99, 1.01, 8), 0.03, upper=True) == 8


def test_holm_across_a_finding_can_undo_a_lone_significant_result():
    frame = pd.concat([synthetic(0.05, "xml", seeds=2), synthetic(-5.0, "ptb", seeds=2)])
    one = verdicts.judge_claims(frame, [Claim("lstm", "gru", ("xml",), "better")], margin=M)[0]
    assert one.loc[0, "verdict"] == "reproduced"  # 6 pairs: p = 2 / 2**6 = 0.031
    two = verdicts.judge_claims(
        frame,
        [Claim("lstm", "gru", ("xml",), "better"), Claim("lstm", "gru", ("ptb",), "better")],
        margin=M,
    )[0]
    assert list(two["p_holm"]) == pytest.approx([0.0625, 0.0625])
    assert set(two["verdict"]) == {"inconclusive"}


def test_a_claim_over_several_tasks_needs_every_task_and_the_largest_p_decides():
    frame = pd.concat([synthetic(0.05, "xml"), synthetic(5.0, "ptb")])  # lstm worse on ptb
    both = verdict_of(frame, Claim("lstm", "gru", ("xml", "ptb"), "better"))
    assert both["verdict"] == "inconclusive"  # the tasks disagree
    agreeing = pd.concat([synthetic(0.05, "xml"), synthetic(-5.0, "ptb")])
    assert verdict_of(agreeing, Claim("lstm", "gru", ("xml", "ptb"), "better"))["verdict"] == (
        "reproduced"
    )


def test_overall_verdict_and_bad_claims():
    assert verdicts.overall(["reproduced", "reproduced"]) == "reproduced"
    assert verdicts.overall(["reproduced", "inconclusive"]) == "partly reproduced"
    assert verdicts.overall(["reproduced", "contradicted"]) == "contradicted"
    assert verdicts.overall(["inconclusive", "no data"]) == "inconclusive"
    with pytest.raises(ValueError, match="expect must be one of"):
        Claim("lstm", "gru", ("xml",), "faster")


def test_a_claim_without_matched_pairs_has_no_data_not_a_verdict():
    frame = synthetic(0.05, "xml")
    frame.loc[frame["cell_name"] == "lstm", "status"] = "diverged"
    for expect in ("better", "not better"):
        claim = [Claim("lstm", "gru", ("xml",), expect)]
        table, comparisons = verdicts.judge_claims(frame, claim, margin=M)
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
    return stats.compare_paired(a, b, direction=Direction(higher), a="cell", b="gru")


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


@pytest.mark.parametrize(("higher", "base"), DIRECTIONS)
def test_too_few_pairs_decide_nothing_however_tight_their_interval(higher, base):
    assert stats.pairs_for_holm() == 6  # 2 / 2**6 < 0.05 <= 2 / 2**5
    four = paired(higher, base, 0.0, NOISE[:4])
    six = paired(higher, base, 0.0, NOISE[:6])
    assert 1 - M < four.relative.low < four.relative.high < 1 + M  # tight, but over 4 pairs
    assert verdicts.paired_verdict(four, four.p_value, margin=M) == verdicts.INCONCLUSIVE
    assert verdicts.paired_verdict(six, six.p_value, margin=M) == verdicts.EQUIVALENT
    assert verdicts.pairs_for_margin(four.relative, M, upper=True) == 6
    # The same rule for an absence claim: 2 seeds x 2 settings is 4 pairs.
    frame = synthetic(0.0, "xml", seeds=2)
    frame = frame[frame["params_lr"] != 0.01]
    row = verdict_of(frame, Claim("lstm", "gru", ("xml",), "not better"))
    assert row["n"] == 4 and row["high"] < 1 + M and row["verdict"] == "inconclusive"


def test_repeats_needed_never_fall_below_what_holm_allows():
    # A large effect over 4 pairs: power alone asks for 2 pairs, but with 4 claims in the
    # family Holm's smallest p needs 8 (4 * 2 / 2**8 < 0.05), that is 4 repeats of 2 settings.
    frame = synthetic(0.05, "xml", seeds=2)
    frame = frame[frame["params_lr"] != 0.01]
    claims = [Claim("lstm", "gru", ("xml",), "better", f"claim {i}") for i in range(4)]
    table, _ = verdicts.judge_claims(frame, claims, margin=M)
    assert set(table["verdict"]) == {"inconclusive"} and set(table["n"]) == {4}
    assert set(table["pairs_needed"]) == {8} and set(table["repeats_needed"]) == {4}
