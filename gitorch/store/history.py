"""The state version's high-water mark, read from the state ref's reflog.

Every state commit carries its version in ``meta.yaml`` and in its reflog
line (``task.create tsk-4k2m9q [v12]``). A foreign ``git update-ref`` that
rewinds the ref leaves the reflog behind, so the next commit continues
from the highest version the reflog has seen: a version number never names
two states, and ``git orch status`` can say that the state was rewound.
"""

from __future__ import annotations

import os
import re

_TAIL_BYTES = 1 << 16
_VERSION = re.compile(rb"\t.*\[v(\d+)\]$", re.MULTILINE)


def reflog_message(subject: str, version: int) -> str:
    """The reflog line of the commit that made state ``version``."""
    return f"{subject} [v{version}]"


def _log_path(common_dir: str, ref: str) -> str:
    return os.path.join(common_dir, "logs", *ref.split("/"))


def highest_version(common_dir: str, ref: str) -> int:
    """The highest state version the reflog's recent lines name (0: none)."""
    try:
        with open(_log_path(common_dir, ref), "rb") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(0, size - _TAIL_BYTES))
            tail = log.read()
    except OSError:
        return 0
    return max((int(found) for found in _VERSION.findall(tail)), default=0)


def previous_tips(common_dir: str, ref: str, limit: int = 5) -> list[str]:
    """The commits the ref pointed at before its latest moves, newest first."""
    try:
        with open(_log_path(common_dir, ref), "rb") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(0, size - _TAIL_BYTES))
            lines = log.read().splitlines()
    except OSError:
        return []
    out: list[str] = []
    for line in reversed(lines):
        old = line.split(b" ", 1)[0].decode("ascii", "replace")
        if len(old) == 40 and old != "0" * 40 and old not in out:
            out.append(old)
        if len(out) >= limit:
            break
    return out
