"""The paper's four findings, checked against a comparison run, with margins and spreads.

Superseded by ``archsearch reproduce`` (``analysis/reproduce.py``): repeated seeds,
paired tests and Holm's correction, so a verdict can say "significant". This module
stays for ``scripts/reproduce_findings.py`` and the committed ``results/findings-quick-adam``.

For each finding the verdict compares the difference that decides it with the
spread between trials (the standard deviation of the validation metric over
a cell's finished trials on a task, as a share of its mean): a difference
smaller than that spread is reported as inconclusive, not as a reproduction.

1. The GRU and the LSTM are among the best architectures.
2. The GRU beats the LSTM on most tasks, language modelling excepted.
3. A forget-gate bias of 1 (LSTM-b) closes the gap between the LSTM and the GRU.
4. In the LSTM, gate importance is forget > input > output (on arith and xml).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from archsearch.analysis.report import Block, write_report
from archsearch.analysis.tables import directions, ranking
from archsearch.store import load_results


def spreads(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (cell name, task): mean, std and std/mean of the finished trials' validation metric."""
    ok = frame[(frame["status"] == "ok") & frame["metric_valid"].notna()]
    stats = ok.groupby(["cell_name", "task"])["metric_valid"].agg(["mean", "std", "count"])
    stats["relative_std"] = stats["std"] / stats["mean"].abs()
    return stats


def verdicts(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(finding, verdict, evidence) for each of the four findings.

    A verdict says whether our numbers point the paper's way (agrees, partly,
    disagrees) and whether the deciding difference is beyond the typical spread
    between a cell's trials on a task (their relative standard deviation; the
    trials differ in hyperparameters, so this spread is a demanding yardstick).
    """
    tasks = list(dict.fromkeys(frame.sort_values("key")["task"]))
    table = ranking(frame, reference="gru", tasks=tasks).set_index("cell_name")
    noise = float(spreads(frame)["relative_std"].median())
    lstm = {t: float(table.loc["lstm", f"rel_{t}"]) for t in tasks}  # < 1: gru better

    def verdict(direction: str, margin: float) -> str:
        if direction == "disagrees":
            return "disagrees"
        side = "beyond" if margin > noise else "within"
        return f"{direction}; margin {margin:.3f} {side} the trial spread {noise:.3f}"

    out = []
    # 1. GRU and LSTM among the best: both in the top half of the ranking.
    order = list(table.index)
    ranks = {name: order.index(name) + 1 for name in ("gru", "lstm")}
    best = float(table["score"].max())
    gaps = {name: best - float(table.loc[name, "score"]) for name in ranks}
    top_half = all(r <= len(order) / 2 for r in ranks.values())
    side = "within" if gaps["lstm"] <= noise else "beyond"
    out.append(
        (
            "1. GRU and LSTM are among the best",
            f"{'agrees' if top_half else 'disagrees'}: ranks {ranks['gru']} and {ranks['lstm']} of "
            f"{len(order)}; the larger gap to the best, {max(gaps.values()):.3f}, is {side} the "
            f"trial spread {noise:.3f}",
            f"best {order[0]} {best:.3f}; gaps to the best: gru {gaps['gru']:.3f}, "
            f"lstm {gaps['lstm']:.3f}",
        )
    )

    # 2. GRU ahead of LSTM on most tasks, language modelling excepted.
    others = [t for t in tasks if t != "ptb"]
    gru_ahead = [t for t in others if lstm[t] < 1]
    lm_ok = "ptb" not in tasks or lstm["ptb"] > 1
    majority = len(gru_ahead) > len(others) / 2
    direction = "agrees" if majority and lm_ok else ("partly" if majority or lm_ok else "disagrees")
    deciding = [abs(1 - lstm[t]) for t in gru_ahead + (["ptb"] if lm_ok and "ptb" in tasks else [])]
    out.append(
        (
            "2. GRU beats LSTM except on language modelling",
            verdict(direction, min(deciding, default=0.0)),
            "lstm relative to gru (below 1: gru better): "
            + ", ".join(f"{t} {lstm[t]:.3f}" for t in tasks),
        )
    )

    # 3. A forget bias of 1 closes the LSTM-GRU gap: lstm_b scores higher than lstm.
    if "lstm_b" in table.index:
        b, plain = float(table.loc["lstm_b", "score"]), float(table.loc["lstm", "score"])
        # It closes the gap when lstm_b reaches the GRU; it only narrows it when it improves
        # on the LSTM without getting there.
        direction = "agrees" if b >= 1 else ("partly: narrows it" if b > plain else "disagrees")
        rel_b = ", ".join(
            f"{t} {lstm[t]:.3f} -> {float(table.loc['lstm_b', f'rel_{t}']):.3f}" for t in tasks
        )
        out.append(
            (
                "3. Forget-gate bias 1 closes the LSTM-GRU gap",
                verdict(direction, b - plain),
                f"scores (relative to gru) lstm {plain:.3f} -> lstm_b {b:.3f}; per task {rel_b}",
            )
        )

    # 4. Gate importance forget > input > output on arith and xml.
    higher = directions(tasks)
    parts, agree, margins, checked = [], 0, [], 0
    for task in [t for t in ("arith", "xml") if t in tasks]:
        metric = {n: table.loc[n, f"best_{task}"] for n in ("lstm", "lstm_f", "lstm_i", "lstm_o")}
        drop = {g: _relative(metric[f"lstm_{g}"], metric["lstm"], higher[task]) for g in "fio"}
        ranked = sorted(drop, key=drop.get)
        checked += 1
        if ranked == ["f", "i", "o"]:
            agree += 1
            margins.append(min(drop["i"] - drop["f"], drop["o"] - drop["i"]))
        parts.append(
            f"{task}: "
            + ", ".join(f"no {g} {drop[g]:.3f}" for g in "fio")
            + f" -> {' > '.join(ranked)}"
        )
    direction = "agrees" if agree == checked else ("partly" if agree else "disagrees")
    out.append(
        (
            "4. Gate importance forget > input > output",
            verdict(direction, min(margins, default=0.0)),
            "; ".join(parts)
            + " (each ablation relative to the full lstm; lowest = most important)",
        )
    )
    return out


def _relative(value: float, full: float, higher_is_better: bool) -> float:
    return value / full if higher_is_better else full / value


def write_findings_report(
    url: str, run: str, *, out: str | Path, command: str, machine: str
) -> Path:
    """The run's report with the findings' verdicts on top.

    The time it took is read from the store (first trial's start to last trial's
    end), so a resumed or re-reported run states it the same way.
    """
    frame = load_results(url, run=run)
    minutes = (frame["finished_at"].max() - frame["started_at"].min()).total_seconds() / 60
    rows = pd.DataFrame(verdicts(frame), columns=["finding", "verdict", "evidence"])
    trials = frame.groupby("key").size().median()
    extra = [
        Block("h2", "The paper's findings at this scale"),
        Block(
            "text",
            f"Command: `{command}`. Took {minutes:.1f} minutes on {machine}. "
            f"{int(trials)} trials per (cell, task), the same hyperparameter settings "
            "for every cell (random search with one seed).",
        ),
        Block("table", rows),
    ]
    return write_report(url, run, out, extra=extra)
