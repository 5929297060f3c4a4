"""``archsearch tasks``: the tasks, their sizes, and building their corpora.

Generated tasks (arith, xml) are always ready, and so are a user's ``text:`` and
``seq:`` data (converted when the name is first looked up) and plugin tasks.
PTB and the music tasks convert a corpus into the cache folder on first use
(music parses thousands of scores); until then ``archsearch tasks`` shows them
as "not built", and ``archsearch tasks --build [NAME]`` builds them on every
core (``tasks.build``). ``archsearch tasks NAME`` describes one task, e.g.
``text:notes.txt``: its splits, vocabulary, tokens or shapes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.table import Table

from archsearch.cli.common import app, err, fail, out
from archsearch.defaults import DEFAULT_PRESET

SPLITS = ("train", "valid", "test")


def built(name: str) -> bool:
    """Whether task ``name`` can be described without converting a corpus first."""
    import tasks as task_suite
    from tasks import music, ptb
    from tasks.cache import cache_path

    cls, fixed = task_suite.TASKS.get(name)
    if issubclass(cls, ptb.PtbTask):
        return cache_path("ptb", ptb.DATA_VERSION).exists()
    if issubclass(cls, music.MusicTask):
        dataset = fixed["dataset"]
        grid = music.GRIDS[dataset]
        if not cache_path(f"music-{dataset}-g{grid:g}", music.DATA_VERSION).exists():
            return False
        try:
            cached = music.RollCache(dataset, grid).rolls
            return all(piece in cached for piece in music.piece_ids(dataset))
        except ValueError:  # music21 missing: describing it will say so
            return True
    return True


def describe_all(
    preset: str, *, build: bool, say: Callable[[str], None], names: list[str] | None = None
) -> list[dict[str, Any]]:
    """Tasks ``names`` (default: every registered one) at ``preset``: described
    (``"built": True``), or their class facts only; ``build`` converts what is not built."""
    import tasks as task_suite
    from tasks.build import build as build_corpora

    if preset not in task_suite.PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid: {', '.join(task_suite.PRESETS)}")
    names = [task_suite.TASKS.canonical(n) for n in names] if names else task_suite.names()
    ready = {name: built(name) for name in names}
    if build and not all(ready.values()):
        build_corpora([n for n in names if not ready[n]], say=say)
    described = []
    for name in names:
        if not ready[name] and build and not built(name):  # not one tasks.build converts
            say(f"building {name} (converting its corpus once) ...")
        if ready[name] or build:
            described.append({**task_suite.describe(name, preset=preset), "built": True})
            continue
        cls, _ = task_suite.TASKS.get(name)
        facts = {"family": cls.family, "metric": cls.metric}
        described.append(
            {"name": name, **facts, "higher_is_better": cls.direction.maximize, "built": False}
        )
    return described


@app.command("tasks")
def tasks_command(
    name: Annotated[
        str | None, typer.Argument(help="One task: a name, text:PATH, seq:FILE.npz (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    preset: Annotated[str, typer.Option(help="Preset whose sizes to show.")] = DEFAULT_PRESET,
    build: Annotated[
        bool, typer.Option("--build", help="Build the corpora not built yet, on every core.")
    ] = False,
) -> None:
    """List the tasks: family, metric, size of each split ("not built": a corpus to build)."""
    try:
        described = describe_all(
            preset, build=build, say=lambda text: err.print(text, highlight=False),
            names=[name] if name else None,
        )  # fmt: skip
    except ValueError as error:
        raise fail(str(error)) from None
    if as_json:
        print(json.dumps(described, indent=2))
        return
    table = Table(title=f"tasks ({preset} preset): sequences/steps per split")
    longest = max((len(d["name"]) for d in described), default=4)
    table.add_column("name", overflow="fold", min_width=min(longest, 12))  # a path folds
    for column in ("metric", "inputs", "train", "valid", "test"):
        table.add_column(column, no_wrap=True, justify="right")
    unbuilt = False
    for d in described:
        metric = f"{d['metric']} {'↑' if d['higher_is_better'] else '↓'}"
        if not d["built"]:
            unbuilt = True
            table.add_row(d["name"], metric, "", "not built", "", "")
            continue
        table.add_row(d["name"], metric, _inputs(d), *(_size(d["splits"][s]) for s in SPLITS))
    if unbuilt:
        table.caption = "not built: `archsearch tasks --build` converts the corpora once"
    out.print(table)


def _inputs(described: dict) -> str:
    if "vocab" in described:
        return f"vocab {described['vocab']}"
    if "features" in described:
        count = described["features"]
        return f"{count} feature{'s' * (count != 1)}"
    return f"{described.get('keys', '?')} keys"


def _size(split: dict) -> str:
    """Sequences and steps of a split, short: "20k/1.2M"."""
    return f"{_short(split['sequences'])}/{_short(split['tokens'])}"


def _short(number: int) -> str:
    if number >= 1e6:
        return f"{number / 1e6:.1f}M"
    if number >= 1e4:
        return f"{number / 1e3:.0f}k"
    return f"{number:,}"
