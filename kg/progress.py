"""Progress of long-running commands on a terminal: stage, items done, rate, elapsed time.

Silent when stderr is not a terminal (pipes, CI, tests), so output stays byte-for-byte the same
there. The build reports through `Progress.stage(...)` / `Progress.advance(...)`; a build given
no Progress uses `Progress.quiet()`.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

_MIN_INTERVAL = 0.1  # seconds between two redraws of the same line


class Progress:
    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = _is_terminal(self.stream) and os.environ.get("KG_PROGRESS", "") != "0"
        self.enabled = enabled
        self._name = ""
        self._unit = ""
        self._total: int | None = None
        self._done = 0
        self._started = 0.0
        self._drawn = 0.0
        self._width = 0

    @classmethod
    def quiet(cls) -> Progress:
        return cls(enabled=False)

    @classmethod
    def auto(cls) -> Progress:
        """On stderr if it is a terminal, else quiet."""
        return cls()

    def stage(self, name: str, total: int | None = None, unit: str = "") -> None:
        """Start a stage (ending the previous one)."""
        self.end()
        self._name, self._total, self._unit = name, total, unit
        self._done = 0
        self._started = time.perf_counter()
        self._drawn = 0.0
        self._draw(force=True)

    def advance(self, n: int = 1) -> None:
        self._done += n
        if self.enabled:
            self._draw()

    def end(self) -> None:
        """Finish the current stage: its final line stays on screen."""
        if self._name and self.enabled:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
        self._name = ""
        self._width = 0

    def _draw(self, force: bool = False) -> None:
        if not self.enabled or not self._name:
            return
        now = time.perf_counter()
        if not force and now - self._drawn < _MIN_INTERVAL:
            return
        self._drawn = now
        elapsed = now - self._started
        parts = [f"kg: {self._name:<9}"]
        if self._total is not None:
            parts.append(f"{self._done:,}/{self._total:,} {self._unit}".rstrip())
        elif self._done:
            parts.append(f"{self._done:,} {self._unit}".rstrip())
        if self._done and elapsed > 0:
            parts.append(f"{self._done / elapsed:,.0f} {self._unit or 'items'}/s")
        parts.append(f"{elapsed:.1f} s")
        line = "  ".join(parts)
        pad = max(self._width - len(line), 0)
        self._width = len(line)
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
