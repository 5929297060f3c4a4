"""Verdicts: whether paired comparisons over repeated seeds reproduce a claim of the study.

A ``Claim`` says how cell ``a`` should compare with cell ``b`` on some tasks:

- ``better`` / ``worse``: a beats b (or loses to it) on every one of the tasks;
- ``not better`` / ``not worse``: a does not beat b (or lose to it) on every one of the tasks:
  an absence of difference, such as Greff et al.'s "no variant beats the vanilla LSTM".

Each (a, b, task) is compared over matched (seed, setting) pairs (``stats.compare_cells``).
A claim over several tasks is an intersection-union test: its evidence points one way when
every task points that way, and its p-value is the largest of the tasks' (the deciding task).
The claims of one finding form one family: their p-values are Holm-adjusted together, and

- ``reproduced``: the expected direction, significant at ``ALPHA`` after Holm (for an absence
  claim: no significant difference the wrong way; its power is the caveat);
- ``same direction, not significant``: with the pairs and repeats 80% power would need;
- ``opposite direction, not significant``, or ``not significant`` when the tasks disagree;
- ``contradicted``: the opposite direction, significant after Holm;
- ``no data``: some task of the claim has no matched pair (its runs failed or never ran).

"Better" follows each task's metric (``tasks.directions``): higher accuracy, lower perplexity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from archsearch.analysis.stats import (
    ALPHA,
    Comparison,
    Interval,
    compare_cells,
    holm,
    pairs_for_power,
)
from archsearch.analysis.tables import reference_hash
from tasks import directions

# The equivalence margin on relative performance: 1 ± 3%. One repeat at the quick preset
# moves arith and xml accuracy by about 3%, so a smaller difference is not one a single
# evaluation can tell apart from seed noise.
DEFAULT_MARGIN = 0.03

# A paired (cell, baseline, task) verdict (``paired_verdict``).
BETTER = "better"
WORSE = "worse"
EQUIVALENT = "equivalent"
INCONCLUSIVE = "inconclusive"

EXPECTATIONS = ("better", "worse", "not better", "not worse")
REPRODUCED = "reproduced"
NOT_SIGNIFICANT = "same direction, not significant"
OPPOSITE = "opposite direction, not significant"
MIXED = "not significant"
CONTRADICTED = "contradicted"
NO_DATA = "no data"  # a task of the claim has no matched pair (every run failed, or none ran)


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
      lies inside ``[1 - margin, 1 + margin]``;
    - ``inconclusive``: neither; ``comparison.pairs_needed`` says how many pairs 80% power
      would need at the measured effect.
    """
    if not 0 < margin < 1:
        raise ValueError(f"margin must be between 0 and 1 (a fraction such as 0.03), not {margin}")
    significant = not math.isnan(p_adjusted) and p_adjusted < alpha
    if significant and comparison.better in ("a", "b"):
        return BETTER if comparison.better == "a" else WORSE
    if inside_margin(comparison.relative, margin):
        return EQUIVALENT
    return INCONCLUSIVE


def inside_margin(
    relative: Interval, margin: float, *, low: bool = True, high: bool = True
) -> bool:
    """Whether the interval of a relative performance lies inside ``[1 - margin, 1 + margin]``
    (only the ends asked for: ``high`` alone is non-superiority, ``low`` alone non-inferiority).
    An interval without bounds (fewer than two pairs) lies inside nothing."""
    if math.isnan(relative.low) or math.isnan(relative.high):
        return False
    return (not low or relative.low >= 1 - margin) and (not high or relative.high <= 1 + margin)


def judge(favours: str, p_adjusted: float, expect: str, *, alpha: float = ALPHA) -> str:
    """The verdict from which cell the evidence favours (``a``, ``b``, ``neither``, ``mixed``)
    and the claim's Holm-adjusted p-value."""
    significant = not math.isnan(p_adjusted) and p_adjusted < alpha
    if expect in ("not better", "not worse"):
        against = "a" if expect == "not better" else "b"
        return CONTRADICTED if favours == against and significant else REPRODUCED
    want = "a" if expect == "better" else "b"
    if favours == want:
        return REPRODUCED if significant else NOT_SIGNIFICANT
    if favours in ("neither", "mixed"):
        return MIXED
    return CONTRADICTED if significant else OPPOSITE


def compare_claims(
    frame: pd.DataFrame, claims: Sequence[Claim], *, seed: int = 0
) -> dict[tuple[str, str, str], Comparison]:
    """Every (a, b, task) comparison the claims need, keyed by the names the claims use."""
    tasks = sorted({t for c in claims for t in c.tasks})
    higher = directions(tasks)
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
                    higher_is_better=higher[task],
                    seed=seed,
                    names={ha: claim.a, hb: claim.b},
                )
    return out


def judge_claims(
    frame: pd.DataFrame, claims: Sequence[Claim], *, alpha: float = ALPHA, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(claims table, comparisons table) for one family of claims (one finding).

    The claims table has a row per claim: its verdict, deciding task, effect with its
    interval, p and Holm-adjusted p, and the pairs and repeats 80% power needs at
    ``alpha / m`` (Holm's strictest step over the ``m`` claims: enough at every step).
    """
    comparisons = compare_claims(frame, claims, seed=seed)
    rows = []
    for claim in claims:
        mine = [comparisons[(claim.a, claim.b, t)] for t in claim.tasks]
        favours, deciding = _combine(mine, claim.expect)
        rows.append({"claim": claim, "favours": favours, "deciding": deciding})
    adjusted = holm([r["deciding"].p_value if r["deciding"] else math.nan for r in rows])
    table = []
    for row, p_holm in zip(rows, adjusted, strict=True):
        claim, c = row["claim"], row["deciding"]
        pairs = pairs_for_power(c.d_z, alpha=alpha / len(rows)) if c else None
        settings = _settings(frame, claim.a, c.task) if c else 1
        table.append(
            {
                "claim": claim.describe(),
                "verdict": judge(row["favours"], p_holm, claim.expect, alpha=alpha)
                if c
                else NO_DATA,
                "task": c.task if c else "-",
                "n": c.n if c else 0,
                "difference": c.difference.format(4) if c else "-",
                "relative": c.relative.format(3) if c else "-",
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
    """One line for a claim's row: the verdict, the effect with its interval, p, and power."""
    p = f"p = {_p(row['p'])}, Holm {_p(row['p_holm'])}, n = {row['n']} pairs"
    text = (
        f"{row['verdict']}: {row['claim']} (on {row['task']}: difference {row['difference']}, "
        f"relative {row['relative']}; {p})"
    )
    if row["verdict"] == NOT_SIGNIFICANT and pd.notna(row["repeats_needed"]):
        text += f"; about {row['repeats_needed']} repeats would detect it at 80% power"
    return text


def overall(verdicts: Sequence[str]) -> str:
    """A finding's verdict from its claims': contradicted if any is; reproduced if all are;
    otherwise partly reproduced (some) or not significant (none); no data if none has any."""
    if CONTRADICTED in verdicts:
        return CONTRADICTED
    if verdicts and all(v == NO_DATA for v in verdicts):
        return NO_DATA
    if all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    return "partly reproduced" if REPRODUCED in verdicts else MIXED


def _combine(comparisons: list[Comparison], expect: str) -> tuple[str, Comparison | None]:
    """Which cell every task favours (or ``mixed``), and the deciding comparison (largest p)."""
    usable = [c for c in comparisons if c.n > 0]
    if len(usable) < len(comparisons) or not usable:
        return "neither", None
    sides = {c.better for c in usable}
    favours = sides.pop() if len(sides) == 1 else "mixed"
    deciding = max(usable, key=lambda c: -math.inf if math.isnan(c.p_value) else c.p_value)
    return favours, deciding


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
