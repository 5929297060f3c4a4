"""Verdicts: whether paired comparisons over repeated seeds decide a claim, or cannot.

A ``Claim`` says how cell ``a`` should compare with cell ``b`` on some tasks:

- ``better`` / ``worse`` (positive claims): a beats b (or loses to it) on every one of the tasks;
- ``not better`` / ``not worse`` (absence claims): a does not beat b (or lose to it) on every
  one of the tasks, such as Greff et al.'s "no variant beats the vanilla LSTM".

Each (a, b, task) is compared over matched (seed, setting) pairs (``stats.compare_cells``),
giving the relative performance ``rel`` of a to b (above 1: a better, in the task's direction)
with a bootstrap 95% interval ``[low, high]``, and Wilcoxon's p. A claim's p is the largest
of its tasks' (intersection-union: every task must point the claim's way), and the claims of
one finding are Holm-adjusted together. With a declared ``margin``:

- a positive claim is ``reproduced`` when every task favours its side and the Holm-adjusted
  p is below ``ALPHA``;
- an absence claim is ``reproduced`` only when some task's interval lies inside the margin
  on the side the claim rules out: ``high < 1 + margin`` for ``not better`` (non-superiority),
  ``low > 1 - margin`` for ``not worse`` (non-inferiority), over at least as many pairs as a
  signed-rank test needs to reach ``ALPHA`` (6 at 0.05). A p above ``ALPHA`` alone is not
  evidence of absence;
- either kind is ``contradicted`` when every task favours the other side, significantly after
  Holm;
- otherwise it is ``inconclusive``, with the pairs and repeats that would decide it;
- ``no data``: some task of the claim has no matched pair (its runs failed or never ran).

A paired (cell, baseline, task) comparison has a verdict of its own (``paired_verdict``):
``better``, ``worse``, ``equivalent`` or ``inconclusive``, by the same rules.
"Better" follows each task's metric (``tasks.direction``): higher accuracy, lower perplexity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from archsearch import spec
from archsearch.analysis.stats import (
    ALPHA,
    Comparison,
    Interval,
    compare_cells,
    holm,
    pairs_for_holm,
    pairs_for_signed_rank,
)
from archsearch.store.frame import reference_hash
from tasks import direction

# The equivalence margin on relative performance, 1 ± 3%: the run spec owns the default (a
# quick repeat moves arith and xml accuracy by about 3%); the findings declare it too.
DEFAULT_MARGIN = spec.DEFAULT_MARGIN

# A paired (cell, baseline, task) verdict (``paired_verdict``).
BETTER = "better"
WORSE = "worse"
EQUIVALENT = "equivalent"
INCONCLUSIVE = "inconclusive"

EXPECTATIONS = ("better", "worse", "not better", "not worse")
ABSENCE = ("not better", "not worse")
REPRODUCED = "reproduced"
CONTRADICTED = "contradicted"
# INCONCLUSIVE (above): neither reproduced nor contradicted, with what would decide it
NO_DATA = "no data"  # a task of the claim has no matched pair (every run failed, or none ran)
PARTLY = "partly reproduced"  # a finding some of whose claims are reproduced


@dataclass(frozen=True)
class Claim:
    """``a`` compared with ``b`` on ``tasks``: ``expect`` is one of ``EXPECTATIONS``."""

    a: str  # a zoo name, a cell name in the results, or a hash
    b: str
    tasks: tuple[str, ...]
    expect: str
    label: str = ""

    def __post_init__(self) -> None:
        if self.expect not in EXPECTATIONS:
            raise ValueError(
                f"expect must be one of {', '.join(EXPECTATIONS)}, not {self.expect!r}"
            )
        if not self.tasks:
            raise ValueError("a claim needs at least one task")

    def describe(self) -> str:
        if self.label:
            return self.label
        return f"{self.a} {self.expect} than {self.b} on {', '.join(self.tasks)}"


def paired_verdict(
    comparison: Comparison, p_adjusted: float, *, margin: float, alpha: float = ALPHA
) -> str:
    """``better``, ``worse``, ``equivalent`` or ``inconclusive`` for cell ``a`` against ``b``.

    - ``better`` / ``worse``: the Holm-adjusted p is below ``alpha`` and the mean oriented
      difference favours ``a`` / ``b`` (``comparison.relative`` is already oriented in the
      task's direction, so this holds for accuracy and perplexity alike);
    - ``equivalent``: not significant, and the relative performance's bootstrap 95% interval
      lies inside ``[1 - margin, 1 + margin]`` (over 6 pairs or more: ``inside_margin``);
    - ``inconclusive``: neither; ``comparison.pairs_needed`` says how many pairs 80% power
      would need at the measured effect.
    """
    check_margin(margin)
    significant = not math.isnan(p_adjusted) and p_adjusted < alpha
    if significant and comparison.better in ("a", "b"):
        return BETTER if comparison.better == "a" else WORSE
    if inside_margin(comparison.relative, margin, alpha=alpha):
        return EQUIVALENT
    return INCONCLUSIVE


def check_margin(margin: float) -> None:
    """Refuse a margin that is not a fraction of the reference, in one line."""
    if not 0 < margin < 1:
        raise ValueError(f"margin must be between 0 and 1 (a fraction such as 0.03), not {margin}")


def inside_margin(
    relative: Interval,
    margin: float,
    *,
    low: bool = True,
    high: bool = True,
    alpha: float = ALPHA,
) -> bool:
    """Whether the interval of a relative performance lies inside ``[1 - margin, 1 + margin]``
    (only the ends asked for: ``high`` alone is non-superiority, ``low`` alone non-inferiority).

    An interval over fewer pairs than a signed-rank test needs to reach ``alpha`` at all
    (``pairs_for_holm``: 6 at 0.05) lies inside nothing: it stands in for that test, and a
    bootstrap over so few pairs has too few distinct resamples (35 for 4 pairs) to cover 95%.
    """
    if relative.n < pairs_for_holm(1, alpha) or math.isnan(relative.low + relative.high):
        return False
    return (not low or relative.low >= 1 - margin) and (not high or relative.high <= 1 + margin)


def judge(
    expect: str,
    comparisons: Sequence[Comparison],
    p_adjusted: float,
    *,
    margin: float,
    alpha: float = ALPHA,
) -> tuple[str, Comparison | None]:
    """A claim's verdict from its tasks' comparisons and its Holm-adjusted p (the module's
    rules), and the comparison the verdict rests on (None: no data)."""
    usable = [c for c in comparisons if c.n > 0]
    if not usable or len(usable) < len(comparisons):
        return NO_DATA, None
    sides = {c.better for c in usable}
    favours = sides.pop() if len(sides) == 1 else "mixed"
    significant = not math.isnan(p_adjusted) and p_adjusted < alpha
    weakest = _weakest(usable)  # the largest p: it decides an intersection-union test
    if expect in ABSENCE:
        ruled_out = "a" if expect == "not better" else "b"
        if significant and favours == ruled_out:
            return CONTRADICTED, weakest
        upper = expect == "not better"
        # The task whose interval comes closest to showing the absence decides it.
        closest = min(usable, key=lambda c: _bound(c.relative, upper))
        reproduced = inside_margin(closest.relative, margin, low=not upper, high=upper, alpha=alpha)
        return (REPRODUCED if reproduced else INCONCLUSIVE), closest
    want = "a" if expect == "better" else "b"
    if significant and favours in ("a", "b"):
        return (REPRODUCED if favours == want else CONTRADICTED), weakest
    return INCONCLUSIVE, weakest


def compare_claims(
    frame: pd.DataFrame, claims: Sequence[Claim], *, seed: int = 0
) -> dict[tuple[str, str, str], Comparison]:
    """Every (a, b, task) comparison the claims need, keyed by the names the claims use."""
    tasks = sorted({t for c in claims for t in c.tasks})
    direction_of = {task: direction(task) for task in tasks}
    out = {}
    for claim in claims:
        ha, hb = reference_hash(frame, claim.a), reference_hash(frame, claim.b)
        for task in claim.tasks:
            if (claim.a, claim.b, task) not in out:
                out[(claim.a, claim.b, task)] = compare_cells(
                    frame,
                    ha,
                    hb,
                    task,
                    direction=direction_of[task],
                    seed=seed,
                    names={ha: claim.a, hb: claim.b},
                )
    return out


def judge_claims(
    frame: pd.DataFrame,
    claims: Sequence[Claim],
    *,
    margin: float,
    alpha: float = ALPHA,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(claims table, comparisons table) for one family of claims (one finding).

    The claims table has a row per claim: its verdict, the task it rests on with the relative
    performance and its interval (``low``, ``high``), p and Holm-adjusted p, and what would
    decide it: for a positive claim the pairs 80% power needs at ``alpha / m`` (Holm's
    strictest step over the ``m`` claims), for an absence claim the pairs that would shrink
    its interval inside the margin (``pairs_for_margin``); and the repeats giving those pairs.
    """
    check_margin(margin)
    comparisons = compare_claims(frame, claims, seed=seed)
    mine = [[comparisons[(c.a, c.b, t)] for t in c.tasks] for c in claims]
    claim_p = [_claim_p(found) for found in mine]
    table = []
    for claim, found, p_holm in zip(claims, mine, holm(claim_p), strict=True):
        verdict, c = judge(claim.expect, found, p_holm, margin=margin, alpha=alpha)
        if c is None:
            pairs = None
        elif claim.expect in ABSENCE:
            upper = claim.expect == "not better"
            pairs = pairs_for_margin(c.relative, margin, upper=upper, alpha=alpha)
        else:  # and never fewer than Holm's smallest p over the m claims allows
            pairs = pairs_for_signed_rank(c.d_z, alpha=alpha / len(claims))
            pairs = None if pairs is None else max(pairs, pairs_for_holm(len(claims), alpha))
        settings = _settings(frame, claim.a, c.task) if c else 1
        table.append(
            {
                "claim": claim.describe(),
                "verdict": verdict,
                "task": c.task if c else "-",
                "n": c.n if c else 0,
                "difference": c.difference.format(4) if c else "-",
                "relative": c.relative.estimate if c else math.nan,
                "low": c.relative.low if c else math.nan,
                "high": c.relative.high if c else math.nan,
                "margin": margin if claim.expect in ABSENCE else math.nan,
                "d_z": c.d_z if c else math.nan,
                "p": c.p_value if c else math.nan,
                "p_holm": p_holm,
                "pairs_needed": pairs,
                "repeats_needed": None if pairs is None else math.ceil(pairs / max(1, settings)),
                "note": c.note if c else "no comparison",
            }
        )
    table = pd.DataFrame(table)
    for column in ("pairs_needed", "repeats_needed"):
        table[column] = table[column].astype("Int64")
    return table, comparisons_table(comparisons.values())


def pairs_for_margin(
    relative: Interval, margin: float, *, upper: bool, alpha: float = ALPHA
) -> int | None:
    """About how many pairs would bring the interval's ``upper`` (else lower) end inside
    ``1 ± margin``, if the estimate stayed and the interval narrowed as ``1 / sqrt(n)``:

        n' = n * ((end - rel) / (1 ± margin - rel))**2

    and never fewer than an interval needs to count at all (``inside_margin``). None when
    the estimate itself lies outside the margin (no number of pairs would do) or there is
    no interval.
    """
    end, bound = (relative.high, 1 + margin) if upper else (relative.low, 1 - margin)
    room = bound - relative.estimate if upper else relative.estimate - bound
    if math.isnan(end) or math.isnan(room) or room <= 0:
        return None
    reach = abs(end - relative.estimate)
    fewest = max(relative.n, pairs_for_holm(1, alpha))
    return max(fewest, math.ceil(relative.n * (reach / room) ** 2))


def comparisons_table(comparisons) -> pd.DataFrame:
    """One row per comparison: cells, task, pairs, means, effect and relative with intervals."""
    return pd.DataFrame(
        [
            {
                "a": c.a,
                "b": c.b,
                "task": c.task,
                "n": c.n,
                "mean_a": c.mean_a,
                "mean_b": c.mean_b,
                "difference": c.difference.format(4),
                "relative": c.relative.format(3),
                "d_z": c.d_z,
                "p": c.p_value,
                "better": {"a": c.a, "b": c.b}.get(c.better, "-"),
                "dropped": c.n_dropped,
            }
            for c in comparisons
        ]
    )


def sentence(row: pd.Series) -> str:
    """One line for a claim's row: the verdict, the relative performance with its interval
    (and the margin for an absence claim), p before and after Holm, and what would decide it."""
    if row["verdict"] == NO_DATA:
        return f"{NO_DATA}: {row['claim']} ({row['note']})"
    interval = f"relative {row['relative']:.3f} [{_f(row['low'])}, {_f(row['high'])}]"
    if pd.notna(row["margin"]):
        interval += f", margin 1 ± {row['margin']:g}"
    p = f"p = {_p(row['p'])}, Holm {_p(row['p_holm'])}, n = {row['n']} pairs"
    text = f"{row['verdict']}: {row['claim']} (on {row['task']}: {interval}; {p})"
    if row["verdict"] == INCONCLUSIVE:
        if pd.isna(row["repeats_needed"]) and pd.notna(row["margin"]):
            text += "; its estimate lies outside the margin: more repeats would not fit it"
        elif pd.isna(row["repeats_needed"]):
            text += "; no difference to detect at this estimate"
        elif pd.notna(row["margin"]):
            text += f"; about {row['repeats_needed']} repeats would fit it inside the margin"
        else:
            text += f"; about {row['repeats_needed']} repeats would detect it at 80% power"
    return text


def overall(verdicts: Sequence[str]) -> str:
    """A finding's verdict from its claims': contradicted if any is; reproduced if all are;
    otherwise partly reproduced (some) or inconclusive (none); no data if none has any."""
    if CONTRADICTED in verdicts:
        return CONTRADICTED
    if verdicts and all(v == NO_DATA for v in verdicts):
        return NO_DATA
    if all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    return PARTLY if REPRODUCED in verdicts else INCONCLUSIVE


def _claim_p(comparisons: list[Comparison]) -> float:
    """The claim's p for Holm: its weakest task's (NaN when a task has no pair)."""
    if any(c.n == 0 for c in comparisons):
        return math.nan
    return _weakest(comparisons).p_value


def _weakest(comparisons: Sequence[Comparison]) -> Comparison:
    return max(comparisons, key=lambda c: -math.inf if math.isnan(c.p_value) else c.p_value)


def _bound(relative: Interval, upper: bool) -> float:
    """How far an interval is from showing an absence: its upper end (lower end, negated);
    no interval is farthest."""
    end = relative.high if upper else -relative.low
    return math.inf if math.isnan(end) else end


def _settings(frame: pd.DataFrame, cell: str, task: str) -> int:
    """Pairs one repeat adds: the trials (settings) per evaluation of ``cell`` on ``task``."""
    digest = reference_hash(frame, cell)
    mine = frame[(frame["cell"] == digest) & (frame["task"] == task)]
    keys = [c for c in ("run", "key") if c in frame.columns]
    if mine.empty or not keys:
        return 1
    return max(1, int(mine.groupby(keys).size().median()))


def _p(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3g}"


def _f(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"
