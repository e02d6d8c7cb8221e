"""The one home of "a call carrying a session id is that session's heartbeat".

The registry names the parameters that carry the acting session
(``session_id``, ``owner_session``, ``requester_session_id``,
``owner_session_id``); the API asks here which session a call acts for,
refuses a session that was handed off, and tells here when the call is
done. Heartbeats live on ``refs/orchestrator/live`` (one parentless commit,
replaced in place, under its own lock): never a commit on the state ref,
never the state write lock. A write refreshes the session right away; a
read at most once per 30 s.
"""

from __future__ import annotations

from gitorch.model.clock import parse_ts
from gitorch.model.enums import SessionStatus
from gitorch.model.errors import Forbidden, GitorchError
from gitorch.model.ids import is_id
from gitorch.model.kinds import SESSION

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

    from gitorch.domain.context import Context
    from gitorch.store.state import Snapshot


READ_REFRESH_MS = 30_000
WRITE_REFRESH_MS = 1_000  # a heartbeat just written is not written again


def _path(session_id: str) -> str:
    return f"sessions/{session_id}.yaml"


def acting_session(ctx: Context, text: str | None, view: Snapshot | None = None) -> str | None:
    """The full id of the session a call acts for, when its parameters name one.

    A prefix is resolved against the tip; a text that names no session is
    left to the method, which answers ``not_found`` for it. A session that
    another took over is refused here, for every method: ``forbidden``.
    ``view`` is the snapshot the call reads, when it already has one.
    """
    if text is None:
        return None
    text = text.strip().lower()
    from gitorch.domain.entities import resolve_id

    view = view or ctx.read()
    try:
        session_id = text if is_id(text) else resolve_id(view, SESSION, text, "session_id")
    except GitorchError:
        return None
    guard(view, session_id)
    return session_id


def guard(view: Snapshot, session_id: str) -> None:
    """Refuse a session that was handed off: its old agent must open a new session."""
    doc = view.read(SESSION, session_id)
    if doc is not None and doc.get("status") == SessionStatus.HANDOFF_ATTACHED:
        raise Forbidden(
            f"session {session_id} was taken over by {doc.get('attached_by')} at "
            f"{doc.get('attached_at')}; open a new session (git orch session.open)",
            {
                "session_id": session_id,
                "attached_by": doc.get("attached_by"),
                "attached_at": doc.get("attached_at"),
            },
        )


def live_values(ctx: Context, directory: str, field: str) -> dict[str, str]:
    """``field`` of every live document under ``directory/``, by entity id."""
    from gitorch.store.live import LiveRef

    out = {}
    for path, doc in LiveRef(ctx.store).read_all(directory).items():
        if isinstance(doc.get(field), str):
            out[path[len(directory) + 1 : -len(".yaml")]] = doc[field]
    return out


def last_seen(ctx: Context) -> dict[str, str]:
    """When each session was last seen, by id, as the live ref has it."""
    return live_values(ctx, "sessions", "last_seen_at")


def seen_at(ctx: Context, session: dict[str, Any], live: dict[str, str] | None = None) -> str:
    """The latest moment a session was seen: its document or its heartbeat."""
    stored: str = session["last_seen_at"]
    heartbeat = (live if live is not None else last_seen(ctx)).get(session["id"], "")
    return max(stored, heartbeat)


def beat(ctx: Context, session_id: str) -> str:
    """Record that ``session_id`` is alive now; the time recorded."""
    from gitorch.store.live import LiveRef

    now = ctx.now()
    LiveRef(ctx.store).put({_path(session_id): {"last_seen_at": now}}, "heartbeat " + session_id)
    return now


def touch(ctx: Context, *, wrote: bool, view: Snapshot | None = None) -> None:
    """Count a finished call as the acting session's heartbeat (best effort).

    A read passes the snapshot it read (nothing it did could change it).
    """
    session_id = ctx.session
    if session_id is None:
        return
    try:
        doc = (view if view is not None and not wrote else ctx.read()).read(SESSION, session_id)
        if doc is None or doc.get("status") in (
            SessionStatus.CLOSED,
            SessionStatus.HANDOFF_ATTACHED,
        ):
            return
        seen = seen_at(ctx, doc)
        fresh = WRITE_REFRESH_MS if wrote else READ_REFRESH_MS
        if ctx.clock.now_ms() - ms_of(seen) < fresh:
            return
        beat(ctx, session_id)
    except GitorchError:
        pass  # the call itself is done; a missed heartbeat is caught up by the next


def ms_of(stamp: str) -> int:
    """Milliseconds since the epoch of a stamp gitorch wrote (0 if unreadable: never seen)."""
    return parse_ts(stamp) or 0
