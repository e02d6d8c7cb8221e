"""Whether a process named in a lock or record file still runs on this host."""

from __future__ import annotations

import os


def this_host() -> str:
    """The host name written beside a pid, so another machine's pid is never judged here."""
    return os.uname().nodename


def alive(pid: int) -> bool:
    """Whether ``pid`` runs on this host (a process we may not signal runs too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
