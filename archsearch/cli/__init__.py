"""The command line: thin wrappers that parse options, call the library, print.

Every user error (unknown cell, task, preset, knob, hyperparameter; an invalid
cell; a bad store URL) is one line on standard error and exit status 2, never a
traceback. The commands live in ``single.py`` (zoo, eval), ``corpora.py`` (tasks), ``runs.py``
(search, ablate, report), ``browse.py`` (runs, show) and ``export.py`` (export).
"""

from __future__ import annotations

import math
import sys

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Search and benchmark recurrent-cell architectures (Jozefowicz et al., ICML 2015).",
)
out = Console()
err = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print a one-line error and return the exit to raise (status 2)."""
    # The message is text, not markup: "archsearch[postgres]" must print as written.
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def fmt(value: float | None) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"
    )


def finite(value: object) -> object:
    """JSON has no NaN or infinity: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def main() -> None:
    """Entry point of the ``archsearch`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


from archsearch.cli import (  # noqa: E402,F401  (registers commands)
    browse,
    corpora,
    export,
    fidelity,
    reproduce,
    runs,
    single,
)
