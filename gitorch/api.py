"""The Python API: ``Orchestrator(repo_path).call("task.create", {...})``.

Every method of the registry is also a method of ``Orchestrator`` with its
dots turned into underscores: ``orch.task_create(level="case", title="...")``.
The command line, MCP and the Python API all call through ``call_method``,
the one place that binds parameters, opens the transaction a writing method
runs in, and names the session a call acts for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from gitorch.contract.method import EFFECTS, READ, WRITE, Method
from gitorch.contract.registry import METHODS, lookup
from gitorch.domain import liveness
from gitorch.domain.context import Context
from gitorch.model.clock import SystemClock
from gitorch.model.errors import GitorchError, Internal
from gitorch.store.repository import Repository
from gitorch.store.state import Store

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

    from gitorch.model.clock import Clock

_BY_ATTRIBUTE = {name.replace(".", "_"): name for name in METHODS}


class Orchestrator:
    """gitorch on one repository (any directory inside it, linked worktrees too).

    ``clock`` and ``random`` (a function returning 5 random bytes) make
    time and ids deterministic; ``session`` is the session calls act for
    when they name none. ``cache=False`` reads every document from git;
    ``lock_wait`` is how long a writer waits for the write lock. Close it,
    or use it as a context manager, to stop the git process it reads
    through. Without ``clock``/``random``, a process started with
    ``GIT_ORCH_TESTING=1`` takes them from ``GIT_ORCH_TEST_NOW`` and
    ``GIT_ORCH_TEST_SEED`` (for tests only: see gitorch.surfaces.testing).
    """

    def __init__(
        self,
        repo_path: str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        random: Callable[[], bytes] | None = None,
        session: str | None = None,
        pack_threshold: int | None = None,
        cache: bool = True,
        lock_wait: float | None = None,
    ) -> None:
        if clock is None or random is None:
            from gitorch.model.testing import test_clock, test_random

            clock = clock or test_clock() or SystemClock()
            random = random or test_random()
        self.clock = clock
        self.repo = Repository(repo_path)
        self.store = Store(
            self.repo, self.clock, pack_threshold=pack_threshold, cache=cache, lock_wait=lock_wait
        )
        self.context = Context(self.store, self.clock, random=random, session=session)

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Call ``method`` with JSON-valued ``params``; raises ``GitorchError``."""
        return self.call_method(lookup(method), params or {})

    def call_method(
        self, method: Method, params: Mapping[str, Any], *, from_command_line: bool = False
    ) -> dict[str, Any]:
        """Call a declared method; ``from_command_line`` reads values as the CLI gives them."""
        bound = method.bind(params, from_command_line=from_command_line)
        handler = method.handler_function()  # imported before any lock is taken
        # A read resolves its session and answers from one snapshot of the tip.
        view = self.context.read() if method.access == READ else None
        acting = liveness.acting_session(self.context, method.acting_session(bound), view)
        ctx = self.context.for_call(method.name, acting)
        remote = None
        if method.publishes and bound.get("remote"):  # a lease or claim across clones
            from gitorch.domain import sync

            remote = sync.remote_name(ctx, bound["remote"])
            sync.exchange(ctx, remote)  # see the leases the remote holds first
        try:
            if method.access == WRITE:
                result = ctx.transact(lambda tx: handler(ctx, tx, **bound))
                liveness.touch(ctx, wrote=True)
                if remote is not None:
                    result = sync.publish(ctx, remote, result)
            elif method.access == READ:
                assert view is not None
                result = handler(ctx, view, **bound)
                liveness.touch(ctx, wrote=False, view=view)
                if view.commit is None and "remote_state" not in result:
                    # a fresh clone: say where the state is, if its remote has some
                    from gitorch.domain import sync

                    hint = sync.remote_hint(ctx)
                    if hint:
                        result["remote_state"] = hint
            else:
                assert method.access == EFFECTS, method.access
                result = handler(ctx, **bound)
                liveness.touch(ctx, wrote=True)
                if remote is not None:
                    result = sync.publish(ctx, remote, result)
        except GitorchError:
            raise
        except OSError as exc:
            # The outside world failed under us (a disk, a vanished directory): the
            # API raises only GitorchErrors.
            from gitorch.model.errors import Unavailable

            raise Unavailable(
                f"{method.name}: {exc.strerror or exc}"
                + (f": {exc.filename}" if getattr(exc, "filename", None) else ""),
                {"errno": exc.errno},
            ) from None
        if not isinstance(result, dict):
            raise Internal(f"{method.name} returned {type(result).__name__}, not an object")
        return result

    def __getattr__(self, attribute: str) -> Callable[..., dict[str, Any]]:
        name = _BY_ATTRIBUTE.get(attribute)
        if name is None:
            raise AttributeError(attribute)
        method = METHODS[name]

        def call(**params: Any) -> dict[str, Any]:
            return self.call_method(method, params)

        call.__name__ = attribute
        call.__doc__ = method.summary
        return call

    def close(self) -> None:
        """Stop the git processes this orchestrator started."""
        self.store.close()

    def __enter__(self) -> Orchestrator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
