"""A bound on the memory of a query: a watchdog that samples a process's resident memory.

A time limit does not bound memory: an ORDER BY over a cross join grows by about 0.5 GB a
second, so Oxigraph reached 8 GB in 16 s, well inside the 30 s limit, and the kernel's OOM
killer then picks a process (maybe the user's browser). An address-space limit (RLIMIT_AS) would
make the Rust engine abort with no message and counts reservations that are never touched;
a cgroup needs privileges. So a thread reads the resident set size (/proc/PID/statm) every
SAMPLE_S seconds and acts once it passes the limit: `kg serve` kills the Oxigraph child (and
restarts it), `kg query` stops with exit 2 and a message. At 0.5 GB/s the overshoot is about
SAMPLE_S * 0.5 GB.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

SAMPLE_S = 0.05
MIB = 1024 * 1024


def total_memory() -> int | None:
    """Physical memory of the machine in bytes, if the system says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError, AttributeError):
        return None


def default_limit_mib() -> int:
    """A quarter of the machine's memory, at least 2 GiB: room for a million-triple graph,
    and far from what would make a laptop swap or kill something else."""
    total = total_memory()
    quarter = total // 4 // MIB if total else 4096
    return max(2048, quarter)


def rss(pid: int | None = None) -> int | None:
    """Resident memory of a process in bytes (this one by default); None once it is gone."""
    try:
        with open(f"/proc/{pid or 'self'}/statm", encoding="ascii") as f:
            resident = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return resident * os.sysconf("SC_PAGE_SIZE")


class Watchdog:
    """Calls `over(used_bytes)` once when the process `pid` (None: this one) uses more than
    `limit` bytes of resident memory; `stop()` ends the watch."""

    def __init__(self, limit: int, over: Callable[[int], None], pid: int | None = None):
        self.limit = limit
        self.pid = pid
        self._over = over
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="kg-memory", daemon=True)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            used = rss(self.pid)
            if used is None:
                return  # the process is gone
            if used > self.limit:
                self._over(used)
                return

    def stop(self) -> None:
        self._stop.set()

    def __enter__(self) -> Watchdog:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def parent_death_signal() -> None:
    """In a child (`preexec_fn`): have the kernel SIGKILL it when its parent dies, so a
    SIGKILLed `kg serve` leaves no Oxigraph serving on a loopback port. Linux only; elsewhere
    nothing happens. The signal comes when the *thread* that started the child ends, so
    children are started by a thread that lives as long as the server (kg.serve's main one)."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
