"""How a run shows its progress: a live line on a terminal, plain lines in a log file.

In a log (stdout or stderr not a terminal), ``PlainProgress`` writes one line
per committed evaluation and a heartbeat line whenever nothing was written for
``heartbeat_s`` seconds (from a thread: an evaluation in this process can take
minutes), so a log never goes quiet for more than a minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import Progress, TextColumn, TimeElapsedColumn

from archsearch.display import committed_line, progress_line
from archsearch.driver import Event

HEARTBEAT_S = 60.0  # the longest a log stays silent while a run is going


class PlainProgress:
    """Events as plain lines through ``write``; use as a context manager (the heartbeat)."""

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        heartbeat_s: float = HEARTBEAT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write, self.heartbeat_s, self._clock = write, heartbeat_s, clock
        self._lock = threading.Lock()
        self._last_line = clock()
        self._last_event: Event | None = None
        self._started = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, event: Event) -> None:
        self._last_event = event
        if event.kind in ("start", "phase", "end"):
            self._line(event.message)
        elif event.kind == "commit":
            self._line(committed_line(event))

    def beat(self) -> None:
        """Write the heartbeat line if nothing was written for ``heartbeat_s``."""
        if self._clock() - self._last_line < self.heartbeat_s:
            return
        event = self._last_event
        if event is None or event.kind == "start":
            minutes = (self._clock() - self._started) / 60
            self._line(f"still running ({minutes:.1f} min), no evaluation committed yet")
        else:
            self._line(f"still running: {progress_line(event.progress)}")

    def _line(self, text: str) -> None:
        with self._lock:
            self._write(text)
            self._last_line = self._clock()

    def __enter__(self) -> PlainProgress:
        def loop() -> None:
            while not self._stop.wait(min(self.heartbeat_s, 5.0)):
                self.beat()

        self._thread = threading.Thread(target=loop, name="heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class LiveProgress:
    """Events as one live status line on a terminal (rich), start and end printed above it."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._bar = Progress(TextColumn("{task.description}"), TimeElapsedColumn(), console=console)
        self._line = self._bar.add_task("starting")

    def __call__(self, event: Event) -> None:
        if event.kind in ("start", "phase", "end"):
            self._console.print(event.message, highlight=False, soft_wrap=True)
        else:
            self._bar.update(self._line, description=progress_line(event.progress))

    def __enter__(self) -> LiveProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)


def watcher(console: Console, *, heartbeat_s: float = HEARTBEAT_S) -> PlainProgress | LiveProgress:
    """A live line on a terminal, plain lines to a log file or pipe."""
    if console.is_terminal:
        return LiveProgress(console)
    return PlainProgress(
        lambda text: console.print(text, highlight=False, soft_wrap=True), heartbeat_s=heartbeat_s
    )
