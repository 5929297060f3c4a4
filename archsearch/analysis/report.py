"""The report: a folder with a Markdown page, an HTML page and PNG plots, from a store.

The content is built once as a list of blocks (heading, text, table, image,
code) and rendered twice, so the two pages always say the same thing.
"""

from __future__ import annotations

import html
import math
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from archsearch.analysis import plots
from archsearch.analysis.importance import hyperparameter_importance
from archsearch.analysis.tables import (
    gate_importance,
    gate_intervals,
    has_repeats,
    importance_order,
    ranking,
)
from archsearch.cell import parse_cell
from archsearch.scoring import score
from archsearch.space import ablations
from archsearch.spec import check_name
from archsearch.store import Store, load_results
from archsearch.store.engine import safe
from archsearch.store.frame import reference_hash
from tasks import direction


@dataclass
class Block:
    kind: str  # "h1", "h2", "text", "table", "image", "code"
    content: object
    caption: str = ""


def score_curve(frame: pd.DataFrame, *, reference: str, tasks: list[str]) -> pd.DataFrame:
    """After each committed evaluation (in key order): the best score of any cell, and of
    any cell but the reference (which scores 1 by definition)."""
    ref = reference_hash(frame, reference)
    direction_of = {task: direction(task) for task in tasks}
    best: dict[tuple[str, str], float] = {}
    ok = frame[(frame["status"] == "ok") & frame["metric_valid"].notna()]
    rows = []
    for evaluation, (_, group) in enumerate(frame.groupby("key", sort=True), start=1):
        cell, task = group["cell"].iloc[0], group["task"].iloc[0]
        metrics = ok.loc[group.index.intersection(ok.index), "metric_valid"]
        if len(metrics) and task in direction_of:
            value = direction_of[task].best(metrics)
            if direction_of[task].better(value, best.get((cell, task))):
                best[(cell, task)] = float(value)
        scores = {}
        for candidate in {c for c, _ in best}:
            rel = {
                t: direction_of[t].relative(best.get((candidate, t)), best.get((ref, t)))
                for t in tasks
            }
            scores[candidate] = score(rel)
        finite = {c: v for c, v in scores.items() if not math.isnan(v)}
        rows.append(
            {
                "evaluation": evaluation,
                "best_score": max(finite.values(), default=math.nan),
                "best_other": max((v for c, v in finite.items() if c != ref), default=math.nan),
            }
        )
    return pd.DataFrame(rows)


def gate_variants(frame: pd.DataFrame, store: Store) -> dict[str, tuple[str, dict[str, str]]]:
    """Per cell of the run whose ablations were trained too: (its hash, label -> variant hash)."""
    present = set(frame["cell"])
    found = {}
    for digest in frame["cell"].unique():
        stored = store.cell(digest)
        if stored is None:
            continue
        variants = {
            label: v.canonical_hash()
            for label, v in ablations(parse_cell(stored["text"])).items()
            if v.canonical_hash() in present and v.canonical_hash() != digest
        }
        if len(variants) >= 2:  # one stray match is no ablation study
            found[stored["name"] or digest[:10]] = (digest, variants)
    return found


def gate_studies(frame: pd.DataFrame, store: Store, tasks: list[str]) -> dict[str, pd.DataFrame]:
    """Gate-importance tables for every cell of the run whose ablations were trained too."""
    return {
        name: gate_importance(frame, digest, variants, tasks)
        for name, (digest, variants) in gate_variants(frame, store).items()
    }


def build(
    url: str | None,
    run: str | None,
    out: Path,
    *,
    reference: str = "gru",
    evaluator: str = "fanova",
    top: int = 15,
) -> list[Block]:
    """Compute every table and plot of the report; return the page's blocks."""
    frame = load_results(url, run=run)
    if frame.empty:
        raise ValueError(
            f"no results in {safe(url) if url else 'the default store'}"
            + (f" for run {run!r}" if run else "")
        )
    store = Store(url, create=False)
    tasks = [t for t in dict.fromkeys(frame.sort_values("key")["task"])]
    table = ranking_by_rung(frame, reference=reference, tasks=tasks)
    blocks = [
        Block("h1", f"archsearch report: {run or 'all runs'}"),
        Block(
            "text",
            f"{frame['key'].nunique()} evaluations of {frame['cell'].nunique()} cells "
            f"on {', '.join(tasks)}; {len(frame)} training runs "
            f"({(frame['status'] == 'ok').sum()} finished, "
            f"{(frame['status'] == 'diverged').sum()} diverged, "
            f"{(frame['status'].isin(['failed', 'timeout'])).sum()} failed or timed out)."
            f" Store: `{safe(store.url)}`.",
        ),
        *_confirmation_blocks(store, run),
        Block("h2", "Ranking"),
        Block(
            "text",
            f"Score = minimum over tasks of the performance relative to {reference} "
            f"(accuracy: cell / {reference}; perplexity and NLL: {reference} / cell), "
            f"so above 1 beats {reference} everywhere. `best_*` is the best validation "
            "metric over the cell's trials.",
        ),
        Block("table", _rounded(table[_plain_columns(table)].head(top))),
    ]
    repeated = has_repeats(frame)
    if repeated:
        blocks += [
            Block(
                "text",
                f"With repeats: each cell against {reference} over matched (seed, setting) "
                "pairs, the mean relative performance with a paired bootstrap 95% interval "
                "(± half its width); * marks a difference significant at 0.05 (Wilcoxon "
                "signed-rank, Holm-adjusted over this table).",
            ),
            Block(
                "table",
                table[["cell_name", *(f"ci_{t}" for t in tasks)]]
                .head(top)
                .rename(columns={f"ci_{t}": t for t in tasks}),
            ),
        ]
    curve = score_curve(frame, reference=reference, tasks=tasks)
    blocks.append(
        Block(
            "image",
            plots.best_score_curve(curve, out / "best_score.png", reference=reference),
            "Best score so far against evaluations committed.",
        )
    )
    scored = table.dropna(subset=["score"])
    if not scored.empty:
        blocks.append(
            Block(
                "image",
                plots.relative_bars(scored, tasks, out / "relative.png", reference=reference),
                "Relative performance of the top cells on each task.",
            )
        )
    studies = gate_variants(frame, store)
    for cell, gates in gate_studies(frame, store, tasks).items():
        order = importance_order(gates)
        blocks += [
            Block("h2", f"Gate importance: {cell}"),
            Block(
                "text",
                "Each row is the cell with one change (a gate replaced by 1, or a "
                "forget-like gate's bias set to 1), relative to the full cell on each task."
                " Order of importance (most important first): "
                + "; ".join(f"{t}: {' > '.join(o) or '-'}" for t, o in order.items()),
            ),
            Block("table", _rounded(gates.reset_index())),
            *(
                [
                    Block(
                        "text",
                        "Over matched (seed, setting) pairs, with 95% intervals "
                        "(* significant after Holm):",
                    ),
                    Block("table", gate_intervals(frame, *studies[cell], tasks).reset_index()),
                ]
                if repeated
                else []
            ),
            Block("image", plots.gate_heatmap(gates, out / f"gates_{_slug(cell)}.png", cell=cell)),
        ]
    importance = hyperparameter_importance(frame, evaluator=evaluator)
    blocks.append(Block("h2", "Hyperparameter importance"))
    if importance.empty:
        blocks.append(Block("text", "Too few finished trials per task to measure it."))
    else:
        blocks += [
            Block(
                "text",
                f"Evaluator: {importance.attrs['evaluator']}, over every finished trial "
                "of every cell on each task.",
            ),
            Block("table", _rounded(importance.reset_index())),
            Block("image", plots.importance_bars(importance, out / "hyperparameters.png")),
        ]
    blocks.append(Block("h2", "Cells"))
    for _, row in table.head(top).iterrows():
        stored = store.cell(row["cell"])
        if stored is not None:
            blocks.append(Block("code", stored["text"].rstrip()))
    return blocks


def ranking_by_rung(frame: pd.DataFrame, *, reference: str, tasks: Sequence[str]) -> pd.DataFrame:
    """The ranking as the search reads it (``search/standings.py``): each cell against the
    reference at the same rung, the highest rung where both have a score; the highest rung
    first, then the score there; cells with no score at any rung last, at their highest
    rung. Column ``rung``: where the score was measured. (A cheap rung's score against the
    reference's at the top rung would compare budgets, not cells.)"""
    if "rung" not in frame or frame.empty:
        return ranking(frame, reference=reference, tasks=tasks)
    placed: set[str] = set()
    parts = []
    for rung in sorted(frame["rung"].dropna().unique(), reverse=True):
        table = ranking(frame[frame["rung"] == rung], reference=reference, tasks=tasks)
        if table.empty:
            continue
        table = table[table["score"].notna() & ~table["cell"].isin(placed)]
        placed.update(table["cell"])
        parts.append(table.assign(rung=int(rung)))
    rest = ranking(highest_rungs(frame), reference=reference, tasks=tasks)
    if not rest.empty:
        rest = rest[~rest["cell"].isin(placed)]
        parts.append(rest.assign(rung=rest["cell"].map(frame.groupby("cell")["rung"].max())))
    table = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    columns = list(table.columns)
    columns.insert(columns.index("score") + 1, columns.pop(columns.index("rung")))
    return table[columns]


def highest_rungs(frame: pd.DataFrame) -> pd.DataFrame:
    """Each (cell, task)'s trials at the highest rung it reached: a cell is ranked where the
    search last trained it, as the searcher scores it (archsearch.rungs)."""
    if "rung" not in frame or frame.empty:
        return frame
    top = frame.groupby(["cell", "task"])["rung"].transform("max")
    return frame[frame["rung"] == top]


def _confirmation_blocks(store: Store, run: str | None) -> list[Block]:
    """The answer first: the run's confirmation table, when it has one."""
    from archsearch import confirm

    rows = confirm.stored_table(store, run) if run is not None else None
    if not rows:
        return []
    return [
        Block("h2", "Confirmation: the best cells against the GRU and the LSTM"),
        Block("text", confirm.EXPLAINED),
        Block("table", _rounded(confirm.as_frame(rows))),
    ]


def write_report(
    url: str | None = None,
    run: str | None = None,
    out: str | Path | None = None,
    *,
    reference: str = "gru",
    evaluator: str = "fanova",
    extra: list[Block] | None = None,
) -> Path:
    """Write ``report.md``, ``report.html`` and the PNGs into ``out``; return the folder.

    The report is made in a hidden folder beside ``out`` and moved in when whole, so a
    report that fails leaves nothing behind (no empty folder). A folder that can't be
    written, or a file at ``out``, is a ``ValueError`` saying so.
    """
    if out is None:
        check_name(run or "all")  # the run's name becomes the folder's
    out = Path(out or f"results/report-{run or 'all'}")
    if out.exists() and not out.is_dir():
        raise ValueError(f"report folder {out} is a file; give a folder with --out")
    made = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as error:
        _remove(made)
        raise ValueError(f"cannot write the report into {out}: {error.strerror}") from None
    try:
        blocks = build(url, run, work, reference=reference, evaluator=evaluator)
        blocks[1:1] = extra or []
        (work / "report.md").write_text(render_markdown(blocks, work), encoding="utf-8")
        (work / "report.html").write_text(render_html(blocks, work), encoding="utf-8")
        if out.is_dir():  # an earlier report: replace its files, keep anything else
            for part in work.iterdir():
                part.replace(out / part.name)
            work.rmdir()
        else:
            work.rename(out)
    except OSError as error:
        raise ValueError(f"cannot write the report into {out}: {error.strerror}") from None
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
            _remove(made)
    return out


def _remove(folders: list[Path]) -> None:
    """Remove the folders made for a report that failed (innermost first), if empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def render_markdown(blocks: list[Block], out: Path) -> str:
    parts = []
    for b in blocks:
        if b.kind in ("h1", "h2"):
            parts.append(f"{'#' if b.kind == 'h1' else '##'} {b.content}")
        elif b.kind == "text":
            parts.append(str(b.content))
        elif b.kind == "table":
            parts.append(_markdown_table(b.content))
        elif b.kind == "image":
            parts.append(f"![{b.caption}]({Path(b.content).relative_to(out)})")
        elif b.kind == "code":
            parts.append(f"```\n{b.content}\n```")
    return "\n\n".join(parts) + "\n"


def render_html(blocks: list[Block], out: Path) -> str:
    body = []
    for b in blocks:
        if b.kind in ("h1", "h2"):
            body.append(f"<{b.kind}>{html.escape(str(b.content))}</{b.kind}>")
        elif b.kind == "text":
            body.append(f"<p>{html.escape(str(b.content))}</p>")
        elif b.kind == "table":
            body.append(b.content.to_html(index=False, na_rep="-", border=0))
        elif b.kind == "image":
            src = html.escape(str(Path(b.content).relative_to(out)))
            body.append(
                f'<figure><img src="{src}" alt="{html.escape(b.caption)}">'
                f"<figcaption>{html.escape(b.caption)}</figcaption></figure>"
            )
        elif b.kind == "code":
            body.append(f"<pre>{html.escape(str(b.content))}</pre>")
    style = (
        "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;font-size:.9rem}td,th{padding:.2rem .6rem;"
        "border-bottom:1px solid #ddd;text-align:right}img{max-width:100%}"
        "pre{background:#f5f5f5;padding:.6rem}"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>archsearch report</title>"
        f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _markdown_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = [
        "| " + " | ".join("-" if pd.isna(v) else str(v) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *rows])


def _plain_columns(table: pd.DataFrame) -> list[str]:
    """The ranking's columns but the hash and the interval columns (shown apart)."""
    prefixes = ("mean_rel_", "low_", "high_", "p_", "ci_")
    return [c for c in table.columns if c != "cell" and not c.startswith(prefixes)]


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(lambda c: c.round(4) if pd.api.types.is_float_dtype(c) else c)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)
