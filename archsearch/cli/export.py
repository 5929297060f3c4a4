"""``archsearch export CELL --run RUN --out DIR``: a cell of a run, ready to use elsewhere.

Writes ``cell.txt`` (the cell language), ``recipe.json`` (its NAS-Bench-NLP
recipe, when the recipe format can express it), ``layer.pt`` (a standalone
TorchScript layer at the run's sizes: ``torch.jit.load`` runs it, no archsearch
needed) and ``README.md`` with its scores in the run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from archsearch.cli.common import app, fail, fmt, out

Opt = typer.Option


def find_cell(frame, wanted: str) -> str:
    """The hash of the run's cell named ``wanted`` (readable name, zoo name or hash prefix)."""
    names = frame.drop_duplicates("cell").set_index("cell")["cell_name"]
    matches = [h for h, name in names.items() if name == wanted] or [
        h for h in names.index if h.startswith(wanted)
    ]
    if len(matches) != 1:
        known = ", ".join(sorted(str(n) for n in names)[:20])
        what = "names several cells" if matches else "is no cell of this run"
        raise ValueError(f"{wanted!r} {what}; cells: {known}")
    return matches[0]


def hidden_size(config: dict[str, Any]) -> int:
    """The hidden size the run trained at (its first task's, at its preset and knobs)."""
    from tasks import TASKS
    from tasks.base import make_config

    cls, fixed = TASKS.get(config["tasks"][0])
    knobs = dict(config.get("overrides", {}))
    config = make_config(cls.config_class, cls.presets_for(**fixed), config["preset"], knobs)
    return config.hidden_size


def scores_markdown(frame, digest: str) -> list[str]:
    """A Markdown table of the cell's best trial per task."""
    from archsearch.store import best_trials

    best = best_trials(frame[frame["cell"] == digest])
    lines = ["| task | valid | test | better | trials |", "|---|---|---|---|---|"]
    for _, row in best.iterrows():
        trials = int((frame["cell"].eq(digest) & frame["task"].eq(row["task"])).sum())
        better = "higher" if row["higher_is_better"] else "lower"
        valid, test = fmt(row["metric_valid"]), fmt(row["metric_test"])
        lines.append(f"| {row['task']} | {valid} | {test} | {better} | {trials} |")
    return lines if len(lines) > 2 else ["No trial of this cell finished."]


@app.command("export")
def export_command(
    cell: Annotated[str, typer.Argument(help="The cell: its name in the run, or a hash prefix.")],
    run: Annotated[str, Opt(help="The run it was evaluated in.")],
    out_dir: Annotated[str, Opt("--out", help="Folder to write into.")],
    storage: Annotated[str | None, Opt(help="SQLAlchemy URL of the store.")] = None,
) -> None:
    """Export a run's cell: its text, NAS-Bench-NLP recipe, a TorchScript layer and its scores."""
    from archsearch.cell import parse_cell
    from archsearch.store import Store, StoreError, load_results
    from archsearch.store.summary import run_summary

    try:
        frame = load_results(storage, run=run)
        store = Store(storage, create=False)
        try:
            config = run_summary(store, run).config
            digest = find_cell(frame, cell)
            stored = store.cell(digest)
        finally:
            store.close()
        the_cell = parse_cell(stored["text"])
        size = hidden_size(config)
    except (ValueError, StoreError) as error:
        raise fail(str(error)) from None
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise fail(f"cannot write into {folder}: {error.strerror}") from None
    (folder / "cell.txt").write_text(the_cell.to_text(), encoding="utf-8")
    try:
        recipe = json.dumps(the_cell.to_recipe(), indent=2)
        (folder / "recipe.json").write_text(recipe + "\n", encoding="utf-8")
        recipe_note = "`recipe.json`: its NAS-Bench-NLP recipe."
    except ValueError as error:
        extended = json.dumps(the_cell.to_recipe(extended=True), indent=2)
        (folder / "recipe-extended.json").write_text(extended + "\n", encoding="utf-8")
        recipe_note = (
            f"No NAS-Bench-NLP recipe ({error}); `recipe-extended.json` is the recipe "
            "with archsearch's extended ops."
        )
    from archsearch.compile import compile_cell

    compile_cell(the_cell, size, size).save(folder / "layer.pt")
    name = stored["name"] or the_cell.name
    readme = [
        f"# {name}",
        "",
        f"Cell `{digest[:12]}` of run `{run}` ({config.get('searcher')} search, "
        f"{config.get('preset')} preset, {config.get('space', 'adam')} space).",
        "",
        "- `cell.txt`: the cell in archsearch's cell language.",
        f"- {recipe_note}",
        f"- `layer.pt`: a TorchScript layer, input and hidden size {size}, freshly "
        "initialised: `out, state = torch.jit.load('layer.pt')(x)` with x of shape [T, B, "
        f"{size}].",
        "",
        "Best trial per task in the run:",
        "",
        *scores_markdown(frame, digest),
        "",
        "```",
        the_cell.to_text().rstrip(),
        "```",
    ]
    (folder / "README.md").write_text("\n".join(readme) + "\n", encoding="utf-8")
    out.print(f"exported {name} to {folder}/ (cell.txt, recipe, layer.pt, README.md)")
