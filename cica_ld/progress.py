"""Progress of long runs: what a command is doing, shown on stderr once it lasts a while.

Library functions that can take seconds (loading files, validating, publishing) accept a
``progress`` object and tell it their stages (:meth:`Progress.stage`) and, where the work is
counted, each step done (:meth:`Progress.advance`). The default, :data:`NO_PROGRESS`, does
nothing. The CLI passes a :class:`StderrProgress`, which stays silent for the first ``after``
seconds (short runs print nothing) and then reports from a background thread, so the progress
keeps coming while pyoxigraph parses or queries without holding the GIL.

On a terminal the progress is one line, rewritten in place and cleared at the end; elsewhere
(CI logs) it is a line per stage and, for counted stages, at most one line every few seconds.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import TextIO


class Progress:
    """Receives the stages of a long run. This base class ignores them."""

    def stage(self, text: str, total: int | None = None) -> None:
        """A new stage begins (``total``: how many steps it has, if counted)."""

    def advance(self, steps: int = 1) -> None:
        """``steps`` more steps of the current stage are done."""


#: The progress object of runs nobody watches.
NO_PROGRESS = Progress()


def file_size(n: int) -> str:
    """A byte count as people read it: ``812 B``, ``54.9 MB``."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


class StderrProgress(Progress):
    """Shows progress on a text stream (stderr) once the run has lasted ``after`` seconds.

    Use it as a context manager: the reporting thread starts on entry and stops on exit (a
    terminal line is cleared). ``live``: rewrite one line in place (for a terminal); otherwise
    print a line per stage and, for counted stages, at most one line per ``log_interval``.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        after: float = 2.0,
        live: bool = False,
        tick: float = 0.2,
        log_interval: float = 5.0,
        prefix: str = "cica-ld: ",
    ) -> None:
        self.stream = stream
        self.after = after
        self.live = live
        self.tick = tick
        self.log_interval = log_interval
        self.prefix = prefix
        self._lock = threading.Lock()
        self._text = ""
        self._total: int | None = None
        self._done = 0
        self._serial = 0  # bumped by each stage
        self._shown_serial = -1
        self._shown_done = -1
        self._shown_at = 0.0
        self._width = 0
        self._start = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what the library calls
    def stage(self, text: str, total: int | None = None) -> None:
        with self._lock:
            self._text, self._total, self._done = text, total, 0
            self._serial += 1

    def advance(self, steps: int = 1) -> None:
        with self._lock:
            self._done += steps

    # -- lifetime
    def __enter__(self) -> StderrProgress:
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if not self.live:  # a log gets the last stage even when the run ended between ticks
            self.show()
        if self.live and self._width:
            self._write("\r" + " " * self._width + "\r")

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            self.show()

    def line(self) -> str:
        """The current progress line (without the prefix)."""
        with self._lock:
            text, total, done = self._text, self._total, self._done
        elapsed = time.monotonic() - self._start
        if total:
            text = f"{text}: {min(done, total)}/{total}"
        return f"{text} ({elapsed:.0f} s)"

    def show(self) -> None:
        """Print the progress if it is due (called by the reporting thread)."""
        now = time.monotonic()
        if now - self._start < self.after:
            return
        with self._lock:
            serial, done, text = self._serial, self._done, self._text
        if not text:
            return
        if self.live:
            line = self.prefix + self.line()
            pad = max(0, self._width - len(line))
            self._write("\r" + line + " " * pad)
            self._width = len(line)
            return
        new_stage = serial != self._shown_serial
        counted_step = (
            done != self._shown_done
            and self._total is not None
            and now - self._shown_at >= self.log_interval
        )
        if new_stage or counted_step:
            self._shown_serial, self._shown_done, self._shown_at = serial, done, now
            self._write(self.prefix + self.line() + "\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr: progress is not worth dying
            self._stop.set()
