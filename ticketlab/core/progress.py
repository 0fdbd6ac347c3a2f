"""Progress reporting: a Rich bar on a terminal, plain log lines otherwise."""
from __future__ import annotations

import sys
import time


class Progress:
    """The interface the loop talks to; the base class reports nothing."""

    def start(self, description: str, total: int, done: int = 0) -> None: ...
    def advance(self, done: int) -> None: ...
    def note(self, message: str) -> None: ...
    def stop(self) -> None: ...


class LineProgress(Progress):
    """One line per note and at most one line every `every_s` seconds of progress."""

    def __init__(self, stream=None, every_s: float = 10.0):
        self.stream = stream or sys.stderr
        self.every_s = every_s

    def start(self, description, total, done=0):
        self.description, self.total = description, total
        self.t0 = self.last = time.monotonic()
        self._print(f"{description}: step {done}/{total}")

    def advance(self, done):
        now = time.monotonic()
        if now - self.last >= self.every_s or done == self.total:
            self.last = now
            self._print(f"{self.description}: step {done}/{self.total} ({now - self.t0:.1f}s)")

    def note(self, message):
        self._print(message)

    def _print(self, text):
        print(text, file=self.stream, flush=True)


class RichProgress(Progress):
    def __init__(self):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)
        from rich.console import Console
        # stderr, so that stdout carries only results (e.g. the --json document).
        self.bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True))
        self.task = None

    def start(self, description, total, done=0):
        self.bar.start()
        self.task = self.bar.add_task(description, total=total, completed=done)

    def advance(self, done):
        self.bar.update(self.task, completed=done)

    def note(self, message):
        self.bar.console.print(message)

    def stop(self):
        self.bar.stop()


def duration_text(seconds: float) -> str:
    """A time for a progress line: 42s, 3m05s, 1h07m."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s" if rest >= 60 else f"{rest}s"


def make_progress(quiet: bool = False) -> Progress:
    if quiet:
        return Progress()
    return RichProgress() if sys.stderr.isatty() else LineProgress()
