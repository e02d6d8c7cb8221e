"""What every domain function receives: the store, the clock, ids, the caller."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from gitorch.model.clock import Clock, format_ts
from gitorch.model.ids import Kind, is_id, new_id
from gitorch.store.state import Snapshot, Store, Transaction

T = TypeVar("T")


class Context:
    """One caller's view of one repository's state.

    ``random`` makes ids deterministic in tests; ``session`` is the session
    the caller acts for when a method's parameters name none (from
    ``GIT_ORCH_SESSION`` by default).
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        random: Callable[[], bytes] | None = None,
        session: str | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self._random = random
        env_session = os.environ.get("GIT_ORCH_SESSION", "").strip().lower()
        self.session = session or (env_session if is_id(env_session) else None)

    def now(self) -> str:
        """The current time, RFC 3339 UTC with milliseconds."""
        return format_ts(self.clock.now_ms())

    def new_id(self, view: Snapshot, kind: Kind) -> str:
        """A fresh id of ``kind`` that ``view`` does not hold yet."""
        while True:
            entity_id = new_id(kind, self._random() if self._random else None)
            if view.read(kind, entity_id) is None:
                return entity_id

    def read(self) -> Snapshot:
        """The state as it is now (no lock)."""
        return self.store.snapshot()

    def transact(self, method: str, apply: Callable[[Transaction], T]) -> T:
        """Apply a change atomically; the commit names this caller's session."""
        return self.store.transact(method, apply, session=self.session)
