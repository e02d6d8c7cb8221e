"""The write lock every state change holds, shared by all worktrees of a repository.

A blocking ``flock`` on ``<orch_dir>/write.lock``: the kernel hands the lock
to a waiter the moment it is released (no polling, so no writer waits a
poll interval it did not need to), and releases it when its holder dies,
so a writer killed by SIGKILL never leaves a lock behind for the next one.
The file is never removed. The holder writes its pid and host into it, for
people who wonder who holds it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from gitorch.model.errors import Unavailable

WAIT_SECONDS = 60.0
_POLL_SECONDS = 0.001  # threads other than the main one cannot be woken by a timer signal


class _TimedOut(Exception):
    pass


def _on_alarm(_signum: int, _frame: object) -> None:
    raise _TimedOut


def _wait_blocking(fd: int, wait: float) -> bool:
    """Block on the lock for at most ``wait`` s (main thread: a timer interrupts the wait)."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    old_timer = signal.setitimer(signal.ITIMER_REAL, max(wait, 0.001))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    except _TimedOut:
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if old_timer[0]:
            signal.setitimer(signal.ITIMER_REAL, *old_timer)


def _wait_polling(fd: int, wait: float) -> bool:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_SECONDS)


def acquire(path: str, wait: float) -> int | None:
    """The open, locked file ``path``; None when another holder kept it for ``wait`` s."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise Unavailable(f"cannot open {path}: {exc.strerror}", {"lock": path}) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP):
            raise Unavailable(
                f"the file system of {path} does not support locks", {"lock": path}
            ) from None
        raise
    usable_timer = wait > 0 and threading.current_thread() is threading.main_thread()
    got = _wait_blocking(fd, wait) if usable_timer else _wait_polling(fd, wait)
    if not got:
        os.close(fd)
        return None
    return fd


def _note_holder(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {os.uname().nodename}\n".encode(), 0)
    except OSError:
        pass  # who holds it is a courtesy; a full disk must not stop the write


@contextmanager
def write_lock(
    orch_dir: str, name: str = "write.lock", wait: float = WAIT_SECONDS
) -> Iterator[None]:
    """Hold ``<orch_dir>/<name>``; ``unavailable`` when another writer keeps it for ``wait`` s."""
    path = os.path.join(orch_dir, name)
    fd = acquire(path, wait)
    if fd is None:
        raise Unavailable(
            f"another gitorch writer held {path} for more than {wait:g} s", {"lock": path}
        )
    _note_holder(fd)
    try:
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def try_lock(orch_dir: str, name: str) -> int | None:
    """Take ``name`` without waiting: the descriptor to close, or None when it is held."""
    return acquire(os.path.join(orch_dir, name), 0)
