"""Living with ``git gc`` that runs while gitorch writes.

``git gc --prune=now`` walks the refs, then deletes what it did not reach.
A state commit that moved the ref after that walk can lose objects to it
(git documents the race for its own writers too). git records a running
gc in ``gc.pid`` (pid and host); a writer that moved the ref while one ran
waits for it to end, then writes again whatever it took.
"""

from __future__ import annotations

import os
import time

from gitorch.store.processes import alive, this_host

GC_WAIT_SECONDS = 120.0
_POLL_SECONDS = 0.02


def _read_gc_pid(common_dir: str) -> tuple[int, str] | None:
    try:
        with open(os.path.join(common_dir, "gc.pid"), encoding="utf-8") as handle:
            pid_text, host = handle.read().split()[:2]
        return int(pid_text), host
    except (OSError, ValueError):
        return None


def running_gc(common_dir: str) -> int | None:
    """The pid of a ``git gc`` running on this host now, or None."""
    found = _read_gc_pid(common_dir)
    if found is None:
        return None
    pid, host = found
    if host != this_host() or not alive(pid):
        return None
    return pid


def wait_for_gc(common_dir: str, pid: int, wait: float = GC_WAIT_SECONDS) -> None:
    """Return once the ``git gc`` with ``pid`` is over (or ``wait`` s have passed)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and running_gc(common_dir) == pid:
        time.sleep(_POLL_SECONDS)
