"""The write lock every state change holds, shared by all worktrees of a repository.

``filelock`` polls; its default 50 ms interval makes waiting writers
unfair (p99 wait 0.5 to 1.9 s with 8 writers, see DESIGN.md), so a short
interval is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from filelock import FileLock, Timeout

from gitorch.model.errors import Unavailable

POLL_SECONDS = 0.002
WAIT_SECONDS = 60.0


@contextmanager
def write_lock(
    orch_dir: str, name: str = "write.lock", wait: float = WAIT_SECONDS
) -> Iterator[None]:
    """Hold ``<orch_dir>/<name>``; ``unavailable`` when another writer keeps it for ``wait`` s."""
    lock = FileLock(os.path.join(orch_dir, name), thread_local=False)
    try:
        lock.acquire(timeout=wait, poll_interval=POLL_SECONDS)
    except Timeout:
        raise Unavailable(
            f"another gitorch writer held {name} for more than {wait:g} s",
            {"lock": os.path.join(orch_dir, name)},
        ) from None
    try:
        yield
    finally:
        lock.release()


def try_lock(orch_dir: str, name: str) -> FileLock | None:
    """Take ``name`` without waiting; None when someone else holds it."""
    lock = FileLock(os.path.join(orch_dir, name), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return lock
