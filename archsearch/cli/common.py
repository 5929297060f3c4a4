"""What every command shares: the Typer app, the consoles, and how to fail and format."""

from __future__ import annotations

import math

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


def parse_assignments(pairs: list[str], what: str) -> dict[str, str]:
    """``archsearch.assignments.parse_assignments``; a bad pair is one line and exit 2."""
    from archsearch import assignments

    try:
        return assignments.parse_assignments(pairs, what)
    except ValueError as error:
        raise fail(str(error)) from None
