"""A fidelity measurement as Markdown, JSON and a scatter plot (cheap value against reference)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from archsearch.fidelity.measures import Agreement
from archsearch.fidelity.run import FidelityResult, SignalAgreement
from archsearch.fidelity.signals import SIGNALS


def summary_lines(result: FidelityResult) -> list[str]:
    """The figures, a line each, for a terminal or a report."""
    cost = result.cpu_per_trial
    lines = [
        f"fidelity of {result.budget.describe()} on {result.task} ({result.metric}), "
        f"{len(result.cells)} cells, against {result.reference}",
    ]
    for seed, agreement in zip(result.seeds, result.per_seed, strict=False):  # none: no reference
        lines.append(f"  seed {seed}: {_agreement(agreement)}")
    if result.mean_of_seeds is not None:
        lines.append(f"  mean of {len(result.seeds)} seeds: {_agreement(result.mean_of_seeds)}")
    if len(result.seeds) > 1:
        lines.append(
            f"  seed-to-seed Spearman: {result.seed_to_seed:.2f}; "
            f"a repeat moves the metric by {100 * result.seed_noise:.1f}% (median)"
        )
    if len(result.reference_seeds) > 1:
        lines.append(
            f"  reference seed-to-seed Spearman: {result.reference_seed_to_seed:.2f} "
            "(how far the reference agrees with itself)"
        )
    lines.append(
        f"  CPU-seconds per (cell, trial): median {cost['median']:.0f}, max {cost['max']:.0f}"
    )
    for signal in result.signals:
        lines.append(f"  signal {signal.name}: {_signal_figures(signal, result.seeds)}")
    return lines


def _signal_figures(signal: SignalAgreement, seeds: list[int]) -> str:
    """One signal's Spearman per seed, of the mean over seeds, and seed to seed."""
    if signal.missing:
        return f"not recorded for {len(signal.missing)} cells ({', '.join(signal.missing[:3])}...)"
    parts = [
        f"seed {seed} Spearman {a.spearman:.2f} [{a.spearman_low:.2f}, {a.spearman_high:.2f}]"
        for seed, a in zip(seeds, signal.per_seed, strict=False)
    ]
    if signal.mean_of_seeds is not None:
        parts.append(f"mean of seeds {signal.mean_of_seeds.spearman:.2f}")
    if len(seeds) > 1:
        parts.append(f"seed-to-seed {signal.seed_to_seed:.2f}")
    return "; ".join(parts) or "nothing to compare"


def signal_table(result: FidelityResult) -> list[str]:
    """Markdown: one row per ranking signal, then each cell's signals at the first seed."""
    if not result.signals:
        return []
    rows = [
        "## Ranking signals",
        "",
        f"Each signal read from the same trials as the default (`{result.signals[0].name}`), "
        f"against the reference; top-k and Kendall for seed {result.seeds[0]}.",
        "",
        "| signal | what it is | Spearman, seed "
        f"{result.seeds[0]} [95%] | Kendall | top-k overlap | mean of seeds | seed-to-seed |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for s in result.signals:
        first = s.per_seed[0] if s.per_seed else None
        cells = (
            [
                f"{first.spearman:.2f} [{first.spearman_low:.2f}, {first.spearman_high:.2f}]",
                f"{first.kendall:.2f}",
                f"{first.top_k_overlap:.2f}",
            ]
            if first
            else ["not recorded" if s.missing else "-", "-", "-"]
        )
        mean = "-" if s.mean_of_seeds is None else f"{s.mean_of_seeds.spearman:.2f}"
        spread = "-" if math.isnan(s.seed_to_seed) else f"{s.seed_to_seed:.2f}"
        rows.append(f"| {s.name} | {s.description} | " + " | ".join([*cells, mean, spread]) + " |")
    names = [s.name for s in result.signals if SIGNALS[s.name].shown_per_cell]
    rows += [
        "",
        f"Each cell's signals, seed {result.seeds[0]}:",
        "",
        "| cell | reference | " + " | ".join(names) + " |",
        "|---|" + "---:|" * (1 + len(names)),
    ]
    for cell in result.cells:
        values = [cell.reference] + [cell.signals.get(n, [None])[0] for n in names]
        rows.append(f"| {cell.name} | " + " | ".join(_value(v) for v in values) + " |")
    return ["", *rows]


def _agreement(a: Agreement) -> str:
    return (
        f"Spearman {a.spearman:.2f} [{a.spearman_low:.2f}, {a.spearman_high:.2f}], "
        f"Kendall {a.kendall:.2f} [{a.kendall_low:.2f}, {a.kendall_high:.2f}], "
        f"top-{a.k} overlap {a.top_k_overlap:.2f}"
    )


def write_fidelity_report(result: FidelityResult, folder: str | Path) -> Path:
    """``report.md``, ``fidelity.json`` and ``scatter.png`` in ``folder``; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fidelity.json").write_text(
        json.dumps(_finite(result.to_dict()), indent=2) + "\n", encoding="utf-8"
    )
    if result.per_seed:
        scatter(result, folder / "scatter.png")
    (folder / "report.md").write_text(markdown(result), encoding="utf-8")
    return folder


def markdown(result: FidelityResult) -> str:
    fixed = ", ".join(f"{k}={v}" for k, v in sorted(result.fixed.items())) or "none"
    compared = bool(result.per_seed)  # False: no reference, repeats only
    # each reference seed's values beside their mean, when the reference was repeated
    repeats = result.reference_seeds if len(result.reference_seeds) > 1 else []
    rows = [
        f"# Fidelity: {result.budget.describe()} on {result.task}",
        "",
        *(f"    {line}" for line in summary_lines(result)),
        "",
        f"Hyperparameters: space {result.space}, fixed {fixed}. Intervals are bootstrap 95% "
        "over the panel's cells; a failed or diverged run counts as the panel's worst.",
        "",
        *(["![cheap against reference](scatter.png)", ""] if compared else []),
        "| cell | "
        + "reference | " * compared
        + "".join(f"reference seed {s} | " for s in repeats)
        + " | ".join(f"seed {s}" for s in result.seeds)
        + " |",
        "|---|" + "---:|" * (compared + len(repeats) + len(result.seeds)),
    ]
    for cell in result.cells:
        shown = ([cell.reference] if compared else []) + (cell.reference_by_seed if repeats else [])
        values = [_value(v) for v in shown + cell.cheap]
        rows.append(f"| {cell.name} | " + " | ".join(values) + " |")
    rows += signal_table(result)
    return "\n".join(rows) + "\n"


def scatter(result: FidelityResult, path: Path) -> Path:
    """Cheap value (first seed) against the reference, failed runs marked at the top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    log = result.metric == "perplexity"
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    points = [(c.reference, c.cheap[0]) for c in result.cells if c.reference is not None]
    ok = [(r, v) for r, v in points if v is not None and math.isfinite(v)]
    failed = [r for r, v in points if v is None or not math.isfinite(v)]
    ax.scatter([r for r, _ in ok], [v for _, v in ok], color="tab:blue", label="trained")
    if failed:
        top = max((v for _, v in ok), default=1.0)
        ax.scatter(failed, [top * (1.15 if log else 1.0)] * len(failed), marker="x",
                   color="tab:red", label="failed or diverged")  # fmt: skip
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(f"reference {result.metric}")
    ax.set_ylabel(f"{result.budget.preset} {result.metric} (seed {result.seeds[0]})")
    spearman = result.per_seed[0].spearman
    ax.set_title(f"{result.task}: Spearman {spearman:.2f} over {len(result.cells)} cells")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _value(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "failed"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
