"""Declarations of the session, resume and current-ref methods."""

from __future__ import annotations

from gitorch.contract.method import EFFECTS, READ, WRITE, Method
from gitorch.contract.params import Choice, Integer, Param, Text, TextList
from gitorch.contract.schema import entity_schema, list_schema
from gitorch.model.enums import RefMode, SessionIntent
from gitorch.model.kinds import CURRENT_REF, SESSION, WORKTREE

_ID = Text(200)
_SESSION = entity_schema(SESSION)
_SESSION["properties"]["suspended"] = {
    "type": "boolean",
    "description": "Open and not seen for longer than its heartbeat timeout (derived).",
}
_WORKTREE = entity_schema(WORKTREE)
_REF = entity_schema(CURRENT_REF)
_COMPACT_REF = {
    "type": "object",
    "description": "What an agent needs to resume, at most 2 KB: worktree path/branch/HEAD, "
    "case, last step, next action, files to read first, locks held.",
}
_TIMEOUT = Integer(1, 7 * 24 * 3600)
_ACTING = "Acting session; default GIT_ORCH_SESSION."
_S = "gitorch.domain.sessions"

METHODS = (
    Method(
        "session.open",
        "Open a session; new work (or auto) also makes its root worktree on a new branch.",
        (
            Param("agent_role", Text(200), "The agent's role, e.g. worker, reviewer."),
            Param("owner", Text(200), "Who runs the agent (a person, a machine)."),
            Param("terminal_fingerprint", Text(500), "Where the agent runs (tty, tmux pane)."),
            Param(
                "intent", Choice(SessionIntent), "new_work, resume_work or auto.", default="auto"
            ),
            Param("heartbeat_timeout_seconds", _TIMEOUT, "Silence after which it is suspended."),
        ),
        SESSION.key,
        _SESSION,
        f"{_S}:open_session",
        access=EFFECTS,
        more_results=(
            ("worktree", {**_WORKTREE, "type": ["object", "null"]}),
            ("action_required", {"type": ["string", "null"]}),
            ("candidates", list_schema(_SESSION)),
        ),
    ),
    Method(
        "session.heartbeat",
        "Say the session is alive (on refs/orchestrator/live, never a state commit).",
        (Param("session_id", _ID, _ACTING),),
        SESSION.key,
        _SESSION,
        f"{_S}:heartbeat",
        access=EFFECTS,
    ),
    Method(
        "session.close",
        "Close a session: its locks are released; its worktrees are kept.",
        (Param("session_id", _ID, _ACTING),),
        SESSION.key,
        _SESSION,
        f"{_S}:close",
        access=WRITE,
        more_results=(("released_locks", {"type": "array", "items": {"type": "string"}}),),
    ),
    Method(
        "session.context",
        "A session with the main worktree, its root worktree and its current ref.",
        (Param("session_id", _ID, _ACTING),),
        SESSION.key,
        _SESSION,
        f"{_S}:context",
        access=READ,
        more_results=(
            ("main_worktree", {"type": "object"}),
            ("session_root_worktree", {**_WORKTREE, "type": ["object", "null"]}),
            ("current_ref", {**_REF, "type": ["object", "null"]}),
        ),
    ),
    Method(
        "resume.candidates.list",
        "Suspended sessions with a current ref that the requester could take over, oldest first.",
        (
            Param("requester_session_id", _ID, "The session asking.", True),
            Param("heartbeat_timeout_seconds", _TIMEOUT, "Silence that counts as suspended."),
        ),
        "candidates",
        list_schema(_SESSION),
        f"{_S}:list_candidates",
        access=READ,
    ),
    Method(
        "resume.candidates.attach",
        "Take over a suspended session: its root worktree and current ref.",
        (
            Param("requester_session_id", _ID, "The session taking over.", True),
            Param("target_session_id", _ID, "The suspended session.", True),
        ),
        SESSION.key,
        _SESSION,
        f"{_S}:attach",
        access=WRITE,
        more_results=(
            ("attached", _SESSION),
            (
                "locks",
                {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Locks re-issued to the requester, new epochs.",
                },
            ),
        ),
    ),
    Method(
        "work.current_ref",
        "The smallest JSON to resume work after a compacted context (at most 2 KB).",
        (
            Param("session_id", _ID, _ACTING),
            Param("mode", Choice(RefMode), "compact, resume or handoff."),
            Param("required_files", TextList(1000, 200), "Files to read first."),
        ),
        "ref",
        _COMPACT_REF,
        "gitorch.domain.currentref:current_ref",
        access=EFFECTS,
    ),
    Method(
        "work.current_ref.ack",
        "Mark the session's current ref as read.",
        (
            Param("session_id", _ID, _ACTING),
            Param("ref_id", _ID, "The current ref (id or unique prefix).", True),
        ),
        "ref",
        _REF,
        "gitorch.domain.currentref:ack",
        access=WRITE,
    ),
)
