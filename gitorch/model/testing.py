"""A set clock and seeded ids for ``git orch`` processes under test. Test only.

Tests run ``git orch`` as agents do, as separate processes, and must move
time without sleeping. A process started with ``GIT_ORCH_TESTING=1`` reads
``GIT_ORCH_TEST_NOW`` (milliseconds since the epoch, or RFC 3339 such as
``2026-01-01T00:00:00Z``) as the time, and ``GIT_ORCH_TEST_SEED`` (an
integer) as the seed of its ids. Without ``GIT_ORCH_TESTING=1`` both are
ignored, so a stray variable never changes a real repository.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from gitorch.model.clock import ManualClock, parse_ts
from gitorch.model.errors import InvalidParams


def _enabled() -> bool:
    return os.environ.get("GIT_ORCH_TESTING") == "1"


def _parse_time(text: str) -> int:
    text = text.strip()
    ms = int(text) if text.isdigit() else parse_ts(text)
    if ms is None:
        raise InvalidParams(f"GIT_ORCH_TEST_NOW: {text!r} is neither milliseconds nor RFC 3339", {})
    return ms


def test_clock() -> ManualClock | None:
    """The set clock, when testing and ``GIT_ORCH_TEST_NOW`` is set."""
    text = os.environ.get("GIT_ORCH_TEST_NOW")
    if not _enabled() or not text:
        return None
    return ManualClock(_parse_time(text))


def test_random() -> Callable[[], bytes] | None:
    """Seeded 5-byte values for ids, when testing and ``GIT_ORCH_TEST_SEED`` is set."""
    text = os.environ.get("GIT_ORCH_TEST_SEED")
    if not _enabled() or not text:
        return None
    import random

    try:
        source = random.Random(int(text))  # noqa: S311 - test ids, not secrets
    except ValueError:
        raise InvalidParams(f"GIT_ORCH_TEST_SEED: {text!r} is not an integer", {}) from None
    return lambda: source.randbytes(5)


def crash_point(name: str) -> None:
    """Die here, as SIGKILL would, when testing and ``GIT_ORCH_TEST_CRASH`` names this point.

    The crash tests of the merge queue stop a land at each of its steps
    this way; without ``GIT_ORCH_TESTING=1`` it does nothing.
    """
    if _enabled() and os.environ.get("GIT_ORCH_TEST_CRASH") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
