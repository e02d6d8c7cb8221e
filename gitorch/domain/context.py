"""What every domain function receives: the store, the clock, ids, the caller."""

from __future__ import annotations

import os
from collections.abc import Callable

from gitorch.model.clock import format_ts
from gitorch.model.ids import is_id, new_id
from gitorch.model.kinds import EntityKind
from gitorch.store.state import Snapshot, Store, Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import TypeVar

    from gitorch.model.clock import Clock

    T = TypeVar("T")


def session_from_env() -> str | None:
    """``GIT_ORCH_SESSION`` when it holds an id; anything else never reaches a commit."""
    text = os.environ.get("GIT_ORCH_SESSION", "").strip().lower()
    return text if is_id(text) else None


class Context:
    """One caller's view of one repository's state, for one call.

    ``random`` makes ids deterministic in tests; ``session`` is the session
    the call acts for (from its parameters, else ``GIT_ORCH_SESSION``);
    ``method`` is the declared name of the method being called, which names
    every commit the call makes.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        random: Callable[[], bytes] | None = None,
        session: str | None = None,
        method: str = "",
    ) -> None:
        self.store = store
        self.clock = clock
        self.random = random
        self.session = session or session_from_env()
        self.method = method

    def for_call(self, method: str, session: str | None) -> Context:
        """This context, for one call of ``method`` acting for ``session``."""
        return Context(
            self.store,
            self.clock,
            random=self.random,
            session=session or self.session,
            method=method,
        )

    def now(self) -> str:
        """The current time, RFC 3339 UTC with milliseconds."""
        return format_ts(self.clock.now_ms())

    def new_id(self, view: Snapshot, kind: EntityKind) -> str:
        """A fresh id of ``kind`` that ``view`` does not hold yet."""
        while True:
            entity_id = new_id(kind, self.random() if self.random else None)
            if view.read(kind, entity_id) is None:
                return entity_id

    def read(self) -> Snapshot:
        """The state as it is now (no lock)."""
        return self.store.snapshot()

    def transact(self, apply: Callable[[Transaction], T]) -> T:
        """Apply a change atomically; the commit names this call's method and session."""
        return self.store.transact(self.method, apply, session=self.session)
