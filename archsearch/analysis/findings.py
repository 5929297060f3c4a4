"""The paper's four findings, checked against a comparison run, with margins and spreads.

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
    """(finding, verdict, evidence) for each of the four findings."""
    tasks = list(dict.fromkeys(frame.sort_values("key")["task"]))
    table = ranking(frame, reference="gru", tasks=tasks).set_index("cell_name")
    spread = spreads(frame)
    noise = float(spread["relative_std"].median())
    rel = {t: table[f"rel_{t}"] for t in tasks}
    out = []

    # 1. GRU and LSTM among the best.
    order = list(table.index)
    ranks = {name: order.index(name) + 1 for name in ("gru", "lstm") if name in order}
    best = table["score"].max()
    gap = {name: best - table.loc[name, "score"] for name in ranks}
    among = all(r <= max(3, len(order) // 3) for r in ranks.values())
    verdict = "reproduced" if among else "not reproduced"
    if not among and all(g <= noise for g in gap.values()):
        verdict = "inconclusive"
    out.append(
        (
            "1. GRU and LSTM are among the best",
            verdict,
            f"ranks by score among {len(order)} cells: gru {ranks.get('gru')}, lstm "
            f"{ranks.get('lstm')}; best score {best:.3f} ({order[0]}); gaps to the best: "
            + ", ".join(f"{n} {g:.3f}" for n, g in gap.items())
            + f"; typical trial spread {noise:.3f}",
        )
    )

    # 2. GRU ahead of LSTM except on language modelling.
    lm = [t for t in tasks if t == "ptb"]
    others = [t for t in tasks if t not in lm]
    lstm = {t: float(rel[t]["lstm"]) for t in tasks}  # lstm relative to gru: < 1, gru better
    gru_wins = [t for t in others if lstm[t] < 1 - noise]
    lstm_wins = [t for t in others if lstm[t] > 1 + noise]
    lm_ok = all(lstm[t] > 1 for t in lm)
    if len(gru_wins) > len(others) / 2 and lm_ok:
        verdict = "reproduced"
    elif len(gru_wins) + len(lstm_wins) == 0:
        verdict = "inconclusive"
    else:
        verdict = "not reproduced" if len(gru_wins) <= len(others) / 2 else "partly reproduced"
    out.append(
        (
            "2. GRU beats LSTM except on language modelling",
            verdict,
            "lstm relative to gru (below 1: gru better): "
            + ", ".join(f"{t} {lstm[t]:.3f}" for t in tasks)
            + f"; differences within the trial spread ({noise:.3f}) count for neither",
        )
    )

    # 3. Forget bias 1 closes the gap.
    if "lstm_b" in table.index:
        closer = [
            t
            for t in tasks
            if abs(1 - float(rel[t]["lstm_b"])) < abs(1 - lstm[t]) - noise
            or (float(rel[t]["lstm_b"]) >= 1 > lstm[t])
        ]
        gap_lstm = float(table.loc["lstm", "score"])
        gap_b = float(table.loc["lstm_b", "score"])
        verdict = (
            "reproduced"
            if gap_b >= min(1.0, gap_lstm) + noise or len(closer) > len(tasks) / 2
            else ("inconclusive" if abs(gap_b - gap_lstm) <= noise else "not reproduced")
        )
        out.append(
            (
                "3. Forget-gate bias 1 closes the LSTM-GRU gap",
                verdict,
                "relative to gru, lstm -> lstm_b: "
                + ", ".join(f"{t} {lstm[t]:.3f} -> {float(rel[t]['lstm_b']):.3f}" for t in tasks)
                + f"; scores lstm {gap_lstm:.3f}, lstm_b {gap_b:.3f}",
            )
        )

    # 4. forget > input > output on arith and xml.
    higher = directions(tasks)
    parts, agree, total = [], 0, 0
    for task in [t for t in ("arith", "xml") if t in tasks]:
        metric = {n: table.loc[n, f"best_{task}"] for n in ("lstm", "lstm_f", "lstm_i", "lstm_o")}
        drop = {g: _relative(metric[f"lstm_{g}"], metric["lstm"], higher[task]) for g in "fio"}
        order = sorted(drop, key=drop.get)
        total += 1
        agree += order == ["f", "i", "o"]
        parts.append(
            f"{task}: "
            + ", ".join(f"no {g} {drop[g]:.3f}" for g in "fio")
            + f" -> order {' > '.join(order)}"
        )
    verdict = (
        "reproduced"
        if total and agree == total
        else ("partly reproduced" if agree else "not reproduced")
    )
    out.append(
        (
            "4. Gate importance forget > input > output",
            verdict,
            "; ".join(parts)
            + " (each ablation relative to the full lstm; lowest = most important)",
        )
    )
    return out


def _relative(value: float, full: float, higher_is_better: bool) -> float:
    return value / full if higher_is_better else full / value


def write_findings_report(
    url: str, run: str, *, out: str | Path, command: str, minutes: float, machine: str
) -> Path:
    """The run's report with the findings' verdicts on top."""
    frame = load_results(url, run=run)
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
