"""Progress of long work (load, build, audit, dashboards build, generate), shown on stderr.

The code that does the work reports to `current()`: the step it is on, the rows it read from a file, the
dbt nodes done out of the total with the one running. By default nobody listens (a silent reporter), so a
library call or a test prints nothing. The CLI installs a reporter for the length of a command with
`reporting(...)`: on a terminal a rich progress bar with the elapsed time; when stderr is piped or in CI, one
plain timestamped line per event, such as `[00:12] 构建 dbt 12/87 stg_applications`. `--quiet` installs the
silent one. Standard output is left alone: it carries the results that scripts read.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import TextIO


class Reporter:
    """Listens to progress and shows nothing (the default; `--quiet`)."""

    def step(self, name: str) -> None:
        """A new step of the command begins (e.g. 读取原始文件 read raw files)."""

    def rows(self, file: str, n: int) -> None:
        """`n` rows were read from `file` (the whole file, or the lines appended since the last build)."""

    def nodes(self, done: int, total: int, current: str, running: bool = False) -> None:
        """`done` of `total` dbt nodes have finished; `current` is the one that just finished, or with
        `running` the one that just started."""

    def close(self, finished: bool = True) -> None:
        """The command is over (`finished`: it did its work; else an error follows, which says why)."""


def elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f} 行/秒 rows/s" if seconds > 0.001 else "—"


class LineReporter(Reporter):
    """One timestamped line per event, for logs and CI: `[mm:ss] step …`. dbt nodes are shown as each one
    finishes, at most one line a second apart from the last node, so a 1M build stays a readable log."""

    def __init__(self, stream: TextIO, command: str) -> None:
        self.stream = stream
        self.command = command
        self.started = time.perf_counter()
        self.step_started = self.started
        self.last_nodes_line = -1.0

    def line(self, text: str) -> None:
        self.stream.write(f"[{elapsed(time.perf_counter() - self.started)}] {self.command} {text}\n")
        self.stream.flush()

    def step(self, name: str) -> None:
        self.step_started = time.perf_counter()
        self.line(name)

    def rows(self, file: str, n: int) -> None:
        self.line(f"{file}: {n:,} 行 rows ({rate(n, time.perf_counter() - self.step_started)})")
        self.step_started = time.perf_counter()

    def nodes(self, done: int, total: int, current: str, running: bool = False) -> None:
        now = time.perf_counter()
        first_or_last = done == 0 if running else done in (1, total)
        if first_or_last or now - self.last_nodes_line >= 1.0:
            self.last_nodes_line = now
            self.line(f"dbt {done}/{total} {'→ ' if running else ''}{current}")

    def close(self, finished: bool = True) -> None:
        if finished:
            self.line(f"结束 finished after {elapsed(time.perf_counter() - self.started)}")


class BarReporter(Reporter):
    """A rich progress bar on a terminal: the step, a bar of dbt nodes, rows with their rate, elapsed time."""

    def __init__(self, stream: TextIO, command: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn(f"{command} [bold]{{task.description}}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task("", total=None, detail="")
        self.step_started = time.perf_counter()

    def step(self, name: str) -> None:
        self.step_started = time.perf_counter()
        self.progress.update(self.task, description=name, total=None, completed=0, detail="")

    def rows(self, file: str, n: int) -> None:
        seconds = time.perf_counter() - self.step_started
        self.progress.console.print(f"  {file}: {n:,} 行 rows ({rate(n, seconds)})")
        self.step_started = time.perf_counter()

    def nodes(self, done: int, total: int, current: str, running: bool = False) -> None:
        self.progress.update(self.task, total=total, completed=done, detail=f"→ {current}" if running else current)

    def close(self, finished: bool = True) -> None:
        self.progress.stop()


_current: Reporter = Reporter()


def current() -> Reporter:
    """The reporter of the command running (silent outside one)."""
    return _current


def make_reporter(command: str, quiet: bool, stream: TextIO | None = None) -> Reporter:
    """Silent with `quiet`; a bar when `stream` (stderr) is a terminal and not in CI; else plain lines."""
    stream = stream if stream is not None else sys.stderr
    if quiet:
        return Reporter()
    if stream.isatty() and not os.environ.get("CI"):
        return BarReporter(stream, command)
    return LineReporter(stream, command)


@contextlib.contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Make `reporter` the current one for the block, and close it after."""
    global _current
    previous, _current = _current, reporter
    finished = False
    try:
        yield reporter
        finished = True
    finally:
        _current = previous
        reporter.close(finished)
