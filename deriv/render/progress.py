"""A progress bar for long runs: on stderr, only when stderr is a terminal, and only once a run
has lasted about a second (a short run prints nothing extra; a pipe or CI log never gets one)."""

from __future__ import annotations

import sys
import threading

DELAY = 1.0


class ClaimProgress:
    """`with ClaimProgress(total) as advance:` … `advance(verdict)` after each claim."""

    def __init__(self, total: int, stream=None, delay: float = DELAY, force: bool = False):
        self.total = total
        self.stream = stream or sys.stderr
        self.delay = delay
        self.enabled = total > 0 and (force or self.stream.isatty())
        self.done = 0
        self.last = ""
        self._lock = threading.Lock()
        self._bar = None
        self._task = None
        self._timer: threading.Timer | None = None

    def _show(self):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn)
        with self._lock:
            if self._timer is None:       # already finished
                return
            console = Console(file=self.stream, force_terminal=True if self.enabled else None)
            self._bar = Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("{task.description}"),
                                 console=console, transient=True)
            self._task = self._bar.add_task(self.last, total=self.total, completed=self.done)
            self._bar.start()

    def advance(self, verdict=None):
        with self._lock:
            self.done += 1
            if verdict is not None:
                from deriv.render.safe import clean
                self.last = clean(f"{verdict.problem} {verdict.claim.id}")[:40]
            if self._bar is not None:
                self._bar.update(self._task, completed=self.done, description=self.last)

    def __enter__(self):
        if self.enabled:
            self._timer = threading.Timer(self.delay, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self.advance

    def __exit__(self, *exc):
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._bar is not None:
                self._bar.stop()
                self._bar = None
        return False
