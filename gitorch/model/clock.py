"""The clock, behind a small adapter so tests set time instead of sleeping."""

from __future__ import annotations

import time

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Protocol

    class Clock(Protocol):
        """Something that tells the time in milliseconds since the epoch."""

        def now_ms(self) -> int:
            """Milliseconds since 1970-01-01T00:00:00Z."""
            ...


class SystemClock:
    """The real wall clock."""

    def now_ms(self) -> int:
        """Milliseconds since the epoch, from the system."""
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that moves only when told to: for tests and replays."""

    def __init__(self, start_ms: int = 1_767_225_600_000) -> None:
        self.ms = start_ms

    def now_ms(self) -> int:
        """The time this clock was set to."""
        return self.ms

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.ms += int(seconds * 1000)


def format_ts(ms: int) -> str:
    """RFC 3339 UTC with milliseconds and ``Z``: ``2026-01-01T00:00:00.000Z``."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def parse_ts(text: str) -> int | None:
    """Milliseconds since the epoch of an RFC 3339 stamp (as format_ts writes); None if not one."""
    from datetime import datetime  # only sessions, liveness and the test clock read stamps

    try:
        return int(datetime.fromisoformat(text.strip().replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None
