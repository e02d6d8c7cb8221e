"""A property-based walk over acquire, release, renew, expiry and hand-off (hypothesis)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule  # noqa: E402

from gitorch.api import Orchestrator  # noqa: E402
from gitorch.domain import locks  # noqa: E402
from gitorch.model.clock import ManualClock  # noqa: E402
from gitorch.model.errors import GitorchError  # noqa: E402
from gitorch.model.paths import overlap  # noqa: E402
from tests.gitrepo import make_repo  # noqa: E402

PATHS = ["", "a", "a/b", "a/b/c", "d"]


class Leases(RuleBasedStateMachine):
    """Three sessions and a few paths; time moves; sessions are taken over."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory(prefix="gitorch-leases-")
        self.clock = ManualClock(1_893_456_000_000)
        self.orch = Orchestrator(make_repo(Path(self.tmp.name) / "repo"), clock=self.clock)
        self.sessions = [
            self.orch.call(
                "session.open", {"intent": "resume_work", "heartbeat_timeout_seconds": 30}
            )["session"]["id"]
            for _ in range(3)
        ]
        self.top_epoch = 0

    def teardown(self) -> None:
        self.orch.close()
        self.tmp.cleanup()

    def _try(self, method: str, params: dict[str, Any]) -> None:
        code = None
        try:
            self.orch.call(method, params)
        except GitorchError as exc:
            code = exc.code
        assert code in (None, "conflict", "forbidden", "precondition_failed", "not_found")

    @rule(
        who=st.integers(0, 2),
        prefix=st.booleans(),
        path=st.sampled_from(PATHS),
        ttl=st.integers(5, 60),
    )
    def acquire(self, who: int, prefix: bool, path: str, ttl: int) -> None:
        if not prefix and not path:
            return
        params = {
            "scope_type": "prefix" if prefix else "file",
            "scope_path": path,
            "owner_session": self.sessions[who],
            "ttl_seconds": ttl,
        }
        self._try("lock.acquire", params)

    def _some_lock(self, pick: int) -> dict[str, Any] | None:
        all_locks = self.orch.call("lock.list", {"include_expired": True})["locks"]
        return all_locks[pick % len(all_locks)] if all_locks else None

    @rule(who=st.integers(0, 2), pick=st.integers(0, 50))
    def release(self, who: int, pick: int) -> None:
        lock = self._some_lock(pick)
        if lock is not None:
            self._try("lock.release", {"lock_id": lock["id"], "session_id": self.sessions[who]})

    @rule(who=st.integers(0, 2), pick=st.integers(0, 50))
    def renew(self, who: int, pick: int) -> None:
        lock = self._some_lock(pick)
        if lock is not None:
            self._try("lock.heartbeat", {"lock_id": lock["id"], "session_id": self.sessions[who]})

    @rule(seconds=st.integers(1, 40))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @rule(who=st.integers(0, 2), whom=st.integers(0, 2))
    def take_over(self, who: int, whom: int) -> None:
        if who == whom:
            return
        self._try("work.current_ref", {"session_id": self.sessions[whom]})
        self._try(
            "resume.candidates.attach",
            {"requester_session_id": self.sessions[who], "target_session_id": self.sessions[whom]},
        )

    @invariant()
    def never_two_conflicting_locks_in_force(self) -> None:
        view = self.orch.store.snapshot()
        live = [lock for lock in locks.view_locks(self.orch.context, view) if lock["in_force"]]
        for i, a in enumerate(live):
            for b in live[i + 1 :]:
                if a["owner_session"] != b["owner_session"]:
                    assert not overlap(
                        a["scope_type"], a["scope_path"], b["scope_type"], b["scope_path"]
                    ), (a, b)

    @invariant()
    def epochs_only_grow(self) -> None:
        view = self.orch.store.snapshot()
        top = max((lock["epoch"] for lock in locks.view_locks(self.orch.context, view)), default=0)
        assert top >= self.top_epoch
        self.top_epoch = top


Leases.TestCase.settings = settings(max_examples=12, stateful_step_count=15, deadline=None)
test_leases = Leases.TestCase
