"""The one home of "a call carrying a session id is that session's heartbeat".

The registry names the parameters that carry the acting session
(``session_id``, ``owner_session``, ``requester_session_id``,
``owner_session_id``); the API asks here which session a call acts for
and tells here when the call is done. A write refreshes the session in the
same step; a read at most once per 30 s, never under the state write lock.
Sessions are kept on ``refs/orchestrator/live`` (see the sessions methods);
until a session exists, there is nothing to refresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitorch.model.errors import GitorchError
from gitorch.model.ids import is_id
from gitorch.model.kinds import SESSION

if TYPE_CHECKING:
    from gitorch.domain.context import Context

READ_REFRESH_SECONDS = 30


def acting_session(ctx: Context, text: str | None) -> str | None:
    """The full id of the session a call acts for, when its parameters name one.

    A prefix is resolved against the tip; a text that names no session is
    left to the method, which answers ``not_found`` for it.
    """
    if text is None:
        return None
    text = text.strip().lower()
    if is_id(text):
        return text
    from gitorch.domain.entities import resolve_id

    try:
        return resolve_id(ctx.read(), SESSION, text, "session_id")
    except GitorchError:
        return None


def touch(ctx: Context, *, wrote: bool) -> None:
    """Count the call as the acting session's heartbeat (none yet: no sessions exist)."""
    del ctx, wrote
