"""Progress of a corpus conversion: a bar on a terminal, a line in a log otherwise.

A bar written to a file is a stream of carriage returns (one "line" of hundreds
of redraws), so where stderr is not a terminal the same progress is said as a
plain line every ``LOG_EVERY`` seconds and once at the end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

LOG_EVERY = 15.0  # seconds between progress lines when stderr is not a terminal


def to_stderr(line: str) -> None:
    """Say a line where a search's progress goes (its terminal or its log file)."""
    print(line, file=sys.stderr, flush=True)


class Progress:
    """A bar on a terminal; otherwise a line every ``LOG_EVERY`` seconds and one at the end."""

    def __init__(
        self, total: int, say: Callable[[str], None] = to_stderr, verb: str = "converted"
    ) -> None:
        self.total, self.done, self.say, self.verb = total, 0, say, verb
        self.start = self.last = time.monotonic()
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="piece", desc=verb, leave=False)

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
        elif time.monotonic() - self.last >= LOG_EVERY and self.done < self.total:
            self.last = time.monotonic()
            self.say(self.line())

    def line(self) -> str:
        elapsed = time.monotonic() - self.start
        share = self.done / self.total if self.total else 1.0
        return f"{self.verb} {self.done}/{self.total} ({share:.0%}) in {elapsed:.0f} s"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.say(self.line())
