"""The command line: thin wrappers that parse options, call the library, print.

Every user error (unknown cell, task, preset, knob, hyperparameter; an invalid
cell; a bad store URL) is one line on standard error and exit status 2, never a
traceback. The commands live in ``single.py`` (zoo, eval), ``corpora.py`` (tasks), ``runs.py``
(search, ablate, report), ``browse.py`` (runs, show) and ``export.py`` (export).
"""

from __future__ import annotations

import sys

from archsearch.cli.common import app, err, fail, finite, fmt, out


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

__all__ = ["app", "err", "fail", "finite", "fmt", "main", "out"]
