"""The current ref: the smallest JSON that lets an agent resume after its context was compacted.

It names the session, its worktree (path, branch, HEAD), the case and its
last step, the next action and the files to read first: at most 2 KB, and
never another session's case.
"""

from __future__ import annotations

import json

from gitorch.domain import cases, checkouts, entities, locks, sessions
from gitorch.domain.context import Context
from gitorch.model.enums import RefMode, TaskStatus
from gitorch.model.errors import NotFound
from gitorch.model.kinds import CURRENT_REF, TASK, WORKTREE
from gitorch.store.state import Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

LIMIT_BYTES = 2048


def current_ref(
    ctx: Context,
    *,
    session_id: str | None = None,
    mode: RefMode | None = None,
    required_files: list[str] | None = None,
) -> dict[str, Any]:
    """The session's current ref, refreshed with its worktree's HEAD (made when it has none)."""
    view = ctx.read()
    session = sessions.require(view, session_id, ctx.session, "session_id")
    worktree = None
    here = None
    if session.get("root_worktree_id"):
        worktree = entities.load(view, WORKTREE, session["root_worktree_id"])
        here = checkouts.head(worktree["path"])

    def refresh(tx: Transaction) -> dict[str, Any]:
        me = sessions.require(tx, session["id"], None, "session_id")
        values: dict[str, Any] = {"head": here.commit if here else None}
        if mode is not None:
            values["mode"] = mode.value
        if required_files is not None:
            values["required_files"] = required_files
        if not me.get("current_ref_id"):
            # Built from this session's own state: its case in progress, if any.
            mine = [
                doc
                for doc in entities.load_all(tx, TASK)
                if doc["assignee_session"] == me["id"]
                and doc["level"] == "case"
                and doc["status"] == TaskStatus.IN_PROGRESS
            ]
            mine.sort(key=lambda doc: doc["updated_at"])
            if mine:
                values["case_id"] = mine[-1]["id"]
        return cases.point_ref(ctx, tx, me, values)

    ref = ctx.transact(refresh)
    return {"ref": compact(ctx, ref, worktree, here)}


def compact(
    ctx: Context, ref: dict[str, Any], worktree: dict[str, Any] | None, here: Any
) -> dict[str, Any]:
    """The ref as an agent reads it, cut to fit in 2 KB."""
    view = ctx.read()
    case = None
    if ref.get("case_id"):
        doc = entities.load(view, TASK, ref["case_id"])
        case = {"id": doc["id"], "title": doc["title"], "status": doc["status"]}
    out: dict[str, Any] = {
        "id": ref["id"],
        "version": ref["version"],
        "session_id": ref["session_id"],
        "mode": ref["mode"],
        "worktree": None
        if worktree is None
        else {
            "id": worktree["id"],
            "path": worktree["path"],
            "branch": here.branch if here and here.branch else worktree["branch"],
            "head": here.commit if here else ref.get("head"),
        },
        "case": case,
        "last_step": ref.get("step"),
        "next_action": ref.get("next_action"),
        "required_files": list(ref.get("required_files") or []),
        "locks": [_lock_brief(lock) for lock in locks.holding(ctx, view, ref["session_id"])][:20],
        "acked_at": ref.get("acked_at"),
    }
    return _fit(out)


def _lock_brief(lock: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": lock["id"],
        "path": lock["scope_path"],
        "type": lock["scope_type"],
        "epoch": lock["epoch"],
        "expires_at": lock["expires_at"],
    }


def _fit(out: dict[str, Any]) -> dict[str, Any]:
    """Shorten the free text, then the file list, until the JSON fits in 2 KB."""
    for limit in (400, 200, 80, 40):
        if _size(out) <= LIMIT_BYTES:
            return out
        for key in ("next_action",):
            if isinstance(out.get(key), str) and len(out[key]) > limit:
                out[key] = out[key][: limit - 1] + "…"
        if out.get("case") and len(out["case"]["title"]) > limit:
            out["case"]["title"] = out["case"]["title"][: limit - 1] + "…"
        step = out.get("last_step")
        if (
            isinstance(step, dict)
            and isinstance(step.get("title"), str)
            and len(step["title"]) > limit
        ):
            step["title"] = step["title"][: limit - 1] + "…"
    files = out["required_files"]
    while files and _size(out) > LIMIT_BYTES:
        files.pop()
        out["required_files_truncated"] = True
    return out


def _size(out: dict[str, Any]) -> int:
    return len(json.dumps(out, ensure_ascii=False).encode("utf-8"))


def ack(
    ctx: Context, tx: Transaction, *, ref_id: str, session_id: str | None = None
) -> dict[str, Any]:
    """Mark the current ref acknowledged (the agent has read it)."""
    session = sessions.require(tx, session_id, ctx.session, "session_id")
    ref = entities.find(tx, CURRENT_REF, ref_id, "ref_id")
    if ref["session_id"] != session["id"]:
        raise NotFound(
            f"ref {ref['id']} is not a ref of session {session['id']}",
            {"ref_id": ref["id"], "session_id": session["id"]},
        )
    ref = entities.change(ctx, tx, CURRENT_REF, ref, {"acked_at": ctx.now()})
    return {"ref": ref}
