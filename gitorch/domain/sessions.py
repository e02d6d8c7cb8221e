"""Sessions: open, heartbeat, close, context, and taking over a suspended one.

A session is one agent's stay. ``session.open`` with new work makes the
session's root worktree for real: the intent is recorded first, then
``git worktree add`` runs, then the outcome is recorded, so a failed add
leaves no record claiming a worktree that does not exist. A session is
*suspended* when it is open and has not been seen for longer than its
timeout: derived when read, never stored. Another session may then attach
it: take over its worktree and current ref; the old session is
``handoff_attached`` and its generation grows, and any later call acting
for it is ``forbidden``.
"""

from __future__ import annotations

import os

from gitorch.domain import checkouts, entities, liveness
from gitorch.domain.context import Context
from gitorch.model.enums import SessionIntent, SessionStatus, WorktreeKind, WorktreeStatus
from gitorch.model.errors import Conflict, Forbidden, InvalidParams, PreconditionFailed
from gitorch.model.kinds import CURRENT_REF, SESSION, WORKTREE
from gitorch.store.state import Snapshot, Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

DEFAULT_TIMEOUT = 300
OPEN = (
    SessionStatus.OPENED,
    SessionStatus.ACTIVE_NEW,
    SessionStatus.AWAITING_RESUME,
    SessionStatus.ACTIVE_RESUME,
)


def find_open(view: Snapshot, text: str, param: str = "session_id") -> dict[str, Any]:
    """The session ``text`` names; ``precondition_failed`` when it is closed."""
    doc = entities.find(view, SESSION, text, param)
    if doc["status"] == SessionStatus.CLOSED:
        raise PreconditionFailed(
            f"session {doc['id']} is closed; open a new session", {"session_id": doc["id"]}
        )
    liveness.guard(view, doc["id"])
    return doc


def present(
    ctx: Context, doc: dict[str, Any], live: dict[str, str] | None = None
) -> dict[str, Any]:
    """A session as methods return it: ``last_seen_at`` from its heartbeat, ``suspended``."""
    seen = liveness.seen_at(ctx, doc, live)
    return {**doc, "last_seen_at": seen, "suspended": suspended(ctx, doc, seen)}


def suspended(ctx: Context, doc: dict[str, Any], seen: str, timeout: int | None = None) -> bool:
    """Open and silent for longer than its timeout (or ``timeout``)."""
    limit = timeout if timeout is not None else doc["heartbeat_timeout_seconds"]
    silent_ms = ctx.clock.now_ms() - liveness.ms_of(seen)
    return doc["status"] in OPEN and silent_ms > limit * 1000


def open_session(
    ctx: Context,
    *,
    agent_role: str | None = None,
    owner: str | None = None,
    terminal_fingerprint: str | None = None,
    intent: SessionIntent = SessionIntent.AUTO,
    heartbeat_timeout_seconds: int | None = None,
) -> dict[str, Any]:
    """Open a session; with new work, make its root worktree on a new branch."""
    resume = intent == SessionIntent.RESUME_WORK
    repo = ctx.store.repo
    root = None if resume else checkouts.worktree_root(repo)

    def record(tx: Transaction) -> tuple[dict[str, Any], dict[str, Any] | None]:
        now = ctx.now()
        timeout = heartbeat_timeout_seconds or tx.config().get(
            "heartbeat_timeout_seconds", DEFAULT_TIMEOUT
        )
        session = entities.create(
            ctx,
            tx,
            SESSION,
            {
                "agent_role": agent_role,
                "owner": owner,
                "terminal_fingerprint": terminal_fingerprint,
                "intent": intent.value,
                "status": (SessionStatus.AWAITING_RESUME if resume else SessionStatus.OPENED).value,
                "heartbeat_timeout_seconds": timeout,
                "last_seen_at": now,
                "generation": 1,
            },
        )
        if resume:
            return session, None
        assert root is not None
        base = tx.config().get("protected_branch") or ctx.store.default_branch()
        taken = frozenset(
            value
            for doc in entities.load_all(tx, WORKTREE)
            if doc["status"] != WorktreeStatus.REMOVED
            for value in (doc["branch"], doc["path"])
        )
        base_name = checkouts.slug(agent_role or "agent") + "-" + session["id"][4:8]
        name = checkouts.free_name(repo, root, base_name, taken)
        worktree = entities.create(
            ctx,
            tx,
            WORKTREE,
            {
                "task_id": None,
                "session_id": session["id"],
                "parent_worktree_id": None,
                "kind": WorktreeKind.SESSION_ROOT.value,
                "branch": f"orch/{name}",
                "path": os.path.join(root, name),
                "base_ref": base,
                "status": WorktreeStatus.PLANNED.value,
            },
        )
        session = entities.change(ctx, tx, SESSION, session, {"root_worktree_id": worktree["id"]})
        return session, worktree

    session, worktree = ctx.transact(record)
    if worktree is None:
        candidates = list_candidates(ctx, ctx.read(), requester_session_id=session["id"])
        return {
            "session": present(ctx, session),
            "worktree": None,
            "action_required": "select_resume_candidate",
            "candidates": candidates["candidates"],
        }
    planned: dict[str, Any] = worktree
    checkouts.keep_notes_on_rewrite(repo)
    try:
        checkouts.add(repo, planned["path"], planned["branch"], planned["base_ref"])
    except PreconditionFailed as failure:
        # The add failed: record it, so nothing claims a worktree that is not there.
        def failed(tx: Transaction) -> None:
            wt = entities.load(tx, WORKTREE, planned["id"])
            entities.change(ctx, tx, WORKTREE, wt, {"status": WorktreeStatus.REMOVED.value})
            doc = entities.load(tx, SESSION, session["id"])
            entities.change(ctx, tx, SESSION, doc, {"status": SessionStatus.CLOSED.value})

        ctx.transact(failed)
        raise failure

    def done(tx: Transaction) -> tuple[dict[str, Any], dict[str, Any]]:
        wt = entities.load(tx, WORKTREE, planned["id"])
        wt = entities.change(ctx, tx, WORKTREE, wt, {"status": WorktreeStatus.ACTIVE.value})
        doc = entities.load(tx, SESSION, session["id"])
        doc = entities.change(ctx, tx, SESSION, doc, {"status": SessionStatus.ACTIVE_NEW.value})
        return doc, wt

    session, worktree = ctx.transact(done)
    return {"session": present(ctx, session), "worktree": worktree, "action_required": None}


def heartbeat(ctx: Context, *, session_id: str | None = None) -> dict[str, Any]:
    """Say the session is alive: on the live ref, never a state commit."""
    doc = require(ctx.read(), session_id, ctx.session, "session_id")
    seen = liveness.beat(ctx, doc["id"])
    return {"session": {**doc, "last_seen_at": seen, "suspended": False}}


def close(ctx: Context, tx: Transaction, *, session_id: str | None = None) -> dict[str, Any]:
    """Close a session; its worktrees are kept (their work is never lost)."""
    doc = entities.find(tx, SESSION, _named(session_id, ctx.session), "session_id")
    if doc["status"] == SessionStatus.HANDOFF_ATTACHED:
        liveness.guard(tx, doc["id"])
    doc = entities.change(ctx, tx, SESSION, doc, {"status": SessionStatus.CLOSED.value})
    from gitorch.domain import locks

    released = locks.release_all(ctx, tx, doc["id"], "session closed")
    return {"session": present(ctx, doc), "released_locks": released}


def context(ctx: Context, view: Snapshot, *, session_id: str | None = None) -> dict[str, Any]:
    """A session with the main worktree, its root worktree and its current ref."""
    doc = entities.find(view, SESSION, _named(session_id, ctx.session), "session_id")
    repo = ctx.store.repo
    main = checkouts.head(checkouts.main_checkout(repo))
    root = None
    if doc.get("root_worktree_id"):
        root = entities.load(view, WORKTREE, doc["root_worktree_id"])
    ref = None
    if doc.get("current_ref_id"):
        ref = entities.load(view, CURRENT_REF, doc["current_ref_id"])
    return {
        "session": present(ctx, doc),
        "main_worktree": {
            "kind": "main",
            "path": main.path,
            "branch": main.branch,
            "head": main.commit,
        },
        "session_root_worktree": root,
        "current_ref": ref,
    }


def list_candidates(
    ctx: Context,
    view: Snapshot,
    *,
    requester_session_id: str,
    heartbeat_timeout_seconds: int | None = None,
) -> dict[str, Any]:
    """Open sessions other than the requester, silent past their timeout, with a current ref."""
    requester = entities.find(view, SESSION, requester_session_id, "requester_session_id")
    live = liveness.last_seen(ctx)
    found = []
    for doc in entities.load_all(view, SESSION):
        if doc["id"] == requester["id"] or not doc.get("current_ref_id"):
            continue
        seen = liveness.seen_at(ctx, doc, live)
        if suspended(ctx, doc, seen, heartbeat_timeout_seconds):
            found.append({**doc, "last_seen_at": seen, "suspended": True})
    found.sort(key=lambda doc: (doc["last_seen_at"], doc["id"]))
    return {"candidates": found}


def attach(
    ctx: Context, tx: Transaction, *, requester_session_id: str, target_session_id: str
) -> dict[str, Any]:
    """Take over a suspended session: its root worktree and current ref."""
    requester = find_open(tx, requester_session_id, "requester_session_id")
    target = entities.find(tx, SESSION, target_session_id, "target_session_id")
    details = {"requester": requester["id"], "target": target["id"]}
    if requester["id"] == target["id"]:
        raise Conflict("a session cannot attach itself", details)
    if target["status"] == SessionStatus.HANDOFF_ATTACHED:
        raise Conflict(
            f"session {target['id']} was already taken over by {target.get('attached_by')}",
            {**details, "attached_by": target.get("attached_by")},
        )
    seen = liveness.seen_at(ctx, target)
    if not suspended(ctx, target, seen):
        raise Conflict(
            f"session {target['id']} is not suspended (last seen {seen}); only a silent "
            "session can be taken over",
            {**details, "last_seen_at": seen},
        )
    now = ctx.now()
    target = entities.change(
        ctx,
        tx,
        SESSION,
        target,
        {
            "status": SessionStatus.HANDOFF_ATTACHED.value,
            "attached_by": requester["id"],
            "attached_at": now,
            "generation": target["generation"] + 1,
        },
    )
    values: dict[str, Any] = {"status": SessionStatus.ACTIVE_RESUME.value}
    if target.get("root_worktree_id"):
        wt = entities.load(tx, WORKTREE, target["root_worktree_id"])
        entities.change(ctx, tx, WORKTREE, wt, {"session_id": requester["id"]})
        values["root_worktree_id"] = wt["id"]
    if target.get("current_ref_id"):
        ref = entities.load(tx, CURRENT_REF, target["current_ref_id"])
        handed = {"session_id": requester["id"], "mode": "handoff", "acked_at": None}
        entities.change(ctx, tx, CURRENT_REF, ref, handed)
        values["current_ref_id"] = ref["id"]
    requester = entities.change(ctx, tx, SESSION, requester, values)
    from gitorch.domain import locks

    reissued = locks.reissue(ctx, tx, target["id"], requester["id"])
    _hand_over_work(ctx, tx, target["id"], requester["id"])
    return {
        "session": present(ctx, requester),
        "attached": present(ctx, target),
        "locks": reissued,
    }


def _hand_over_work(ctx: Context, tx: Transaction, old: str, new: str) -> None:
    """The open tasks and nodes a taken-over session held are the new session's now."""
    from gitorch.model.kinds import NODE, TASK

    for kind, field, finished in (
        (TASK, "assignee_session", ("done", "cancelled")),
        (NODE, "owner_session_id", ("done", "cancelled")),
    ):
        for doc in entities.load_all(tx, kind):
            if doc.get(field) == old and doc["status"] not in finished:
                entities.change(ctx, tx, kind, doc, {field: new})


def require(view: Snapshot, text: str | None, default: str | None, param: str) -> dict[str, Any]:
    """The open session a call names, else the caller's; ``invalid_params`` when neither."""
    return find_open(view, _named(text, default, param), param)


def find_named(view: Snapshot, text: str | None, default: str | None, param: str) -> dict[str, Any]:
    """The session a call names, else the caller's, open or closed."""
    return entities.find(view, SESSION, _named(text, default, param), param)


def _named(text: str | None, default: str | None, param: str = "session_id") -> str:
    chosen = text or default
    if not chosen:
        raise InvalidParams(
            f"{param}: which session? give --{param.replace('_', '-')} or set GIT_ORCH_SESSION",
            {"param": param},
        )
    return chosen


def must_own(doc: dict[str, Any], field: str, session: dict[str, Any], what: str) -> None:
    """Refuse (``forbidden``) a session acting on something another session owns."""
    if doc.get(field) != session["id"]:
        raise Forbidden(
            f"{what} {doc['id']} belongs to session {doc.get(field)}",
            {"id": doc["id"], "owner": doc.get(field), "session_id": session["id"]},
        )
