"""Packing as we go, so 10,000 changes do not leave 50,000 loose objects.

Writers count the loose objects they write (under the write lock). Once the
count passes the threshold, the writer that notices runs an incremental
geometric repack after it has released the write lock: it rolls the loose
objects and the small packs into one pack and removes the loose copies.
It never prunes: an object a ref or reflog needs stays, and unreachable
ones are left to ``git gc``.
"""

from __future__ import annotations

import os

from gitorch.store.git import run_git
from gitorch.store.writelock import try_lock, write_lock

_COUNTER = "loose-objects"


def _counter_path(orch_dir: str) -> str:
    return os.path.join(orch_dir, _COUNTER)


def read_count(orch_dir: str) -> int:
    """Loose objects written since the last repack."""
    try:
        with open(_counter_path(orch_dir), encoding="ascii") as handle:
            return int(handle.read().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def add_count(orch_dir: str, written: int) -> int:
    """Add ``written``; call with the write lock held. Returns the new count."""
    count = read_count(orch_dir) + written
    tmp = _counter_path(orch_dir) + ".tmp"
    with open(tmp, "w", encoding="ascii") as handle:
        handle.write(str(count))
    os.replace(tmp, _counter_path(orch_dir))
    return count


def repack(orch_dir: str, cwd: str) -> bool:
    """Roll loose objects into a pack unless another process is doing it. True if it ran."""
    lock = try_lock(orch_dir, "pack.lock")
    if lock is None:
        return False
    try:
        before = read_count(orch_dir)
        run_git(["repack", "-d", "-l", "-q", "--geometric=2"], cwd)
        # Objects written while the repack ran stay counted.
        with write_lock(orch_dir):
            add_count(orch_dir, -before)
        return True
    finally:
        os.close(lock)
