"""Worktrees: create, spawn a child, merge a child into its parent, list, remove, prune.

Effects on disk follow one order: record the intent, act, record the
outcome. Nothing gitorch removes lies outside its worktree root, and a
worktree is never removed while it holds work: uncommitted changes,
commits no other branch has, a live session, or an agent working in it;
``force`` with a reason overrides the first three (recorded), never the
root. Branches are never deleted. Merging into a parent never moves the
protected branch: that is the merge queue's alone.
"""

from __future__ import annotations

import os

from gitorch.domain import checkouts, entities, liveness, sessions
from gitorch.domain.context import Context
from gitorch.model.enums import SessionStatus, WorktreeKind, WorktreeStatus
from gitorch.model.errors import (
    Conflict,
    Forbidden,
    GitorchError,
    InvalidParams,
    PreconditionFailed,
)
from gitorch.model.kinds import SESSION, TASK, WORKTREE
from gitorch.store.state import Snapshot, Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any


def _record_then_add(
    ctx: Context, values: dict[str, Any], base: str, create_on_disk: bool
) -> dict[str, Any]:
    """Record a planned worktree, add it on disk, record the outcome."""
    planned = ctx.transact(lambda tx: entities.create(ctx, tx, WORKTREE, values))
    if not create_on_disk:
        return planned
    try:
        checkouts.add(ctx.store.repo, planned["path"], planned["branch"], base)
    except PreconditionFailed:
        _set_status(ctx, planned["id"], WorktreeStatus.REMOVED)
        raise
    return _set_status(ctx, planned["id"], WorktreeStatus.ACTIVE)


def _set_status(ctx: Context, worktree_id: str, status: WorktreeStatus) -> dict[str, Any]:
    def apply(tx: Transaction) -> dict[str, Any]:
        doc = entities.load(tx, WORKTREE, worktree_id)
        return entities.change(ctx, tx, WORKTREE, doc, {"status": status.value})

    return ctx.transact(apply)


def _path_for(ctx: Context, path: str | None, name: str) -> str:
    root = checkouts.worktree_root(ctx.store.repo)
    if path is None:
        return os.path.join(root, name)
    chosen = os.path.abspath(path)
    if os.path.exists(chosen) and os.listdir(chosen):
        raise InvalidParams(f"path: {chosen} exists and is not empty", {"param": "path"})
    return chosen


def create(
    ctx: Context,
    *,
    task_id: str,
    branch: str,
    path: str | None = None,
    base_ref: str | None = None,
    create_on_disk: bool = True,
    session_id: str | None = None,
) -> dict[str, Any]:
    """A worktree for a task, on a new branch (from ``base_ref``, default the protected branch)."""
    from gitorch.model.config import check_branch_name

    view = ctx.read()
    task = entities.find(view, TASK, task_id, "task_id")
    owner = (
        sessions.require(view, session_id, ctx.session, "session_id")["id"]
        if (session_id or ctx.session)
        else None
    )
    check_branch_name(branch, "branch")
    base = base_ref or view.config().get("protected_branch") or ctx.store.default_branch()
    values = {
        "task_id": task["id"],
        "session_id": owner,
        "parent_worktree_id": None,
        "kind": WorktreeKind.TASK.value,
        "branch": branch,
        "path": _path_for(ctx, path, checkouts.slug(branch, 40)),
        "base_ref": base,
        "status": WorktreeStatus.PLANNED.value,
    }
    return {"worktree": _record_then_add(ctx, values, base, create_on_disk)}


def spawn(
    ctx: Context,
    *,
    parent_worktree_id: str,
    session_id: str | None = None,
    task_id: str | None = None,
    branch: str | None = None,
    path: str | None = None,
    base_ref: str | None = None,
    create_on_disk: bool = True,
) -> dict[str, Any]:
    """A child worktree of one the session owns, branching from the parent's HEAD."""
    from gitorch.model.config import check_branch_name

    view = ctx.read()
    me = sessions.require(view, session_id, ctx.session, "session_id")
    parent = entities.find(view, WORKTREE, parent_worktree_id, "parent_worktree_id")
    sessions.must_own(parent, "session_id", me, "worktree")
    if parent["status"] != WorktreeStatus.ACTIVE:
        raise PreconditionFailed(f"worktree {parent['id']} is {parent['status']}", {})
    task = entities.find(view, TASK, task_id, "task_id") if task_id else None
    label = checkouts.slug(task["title"] if task else "child", 24)
    taken = {doc["branch"] for doc in entities.load_all(view, WORKTREE)}
    chosen = branch or _free_branch(ctx, f"{parent['branch']}--{label}", taken)
    check_branch_name(chosen, "branch")
    base = base_ref or checkouts.head(parent["path"]).commit or parent["branch"]
    values = {
        "task_id": task["id"] if task else None,
        "session_id": me["id"],
        "parent_worktree_id": parent["id"],
        "kind": WorktreeKind.TASK.value,
        "branch": chosen,
        "path": _path_for(ctx, path, _dir_name(chosen)),
        "base_ref": base,
        "status": WorktreeStatus.PLANNED.value,
    }
    return {"worktree": _record_then_add(ctx, values, base, create_on_disk)}


def _free_branch(ctx: Context, base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``...: a branch no record claims and git does not have."""
    root = checkouts.worktree_root(ctx.store.repo)
    candidate, n = base, 1
    while (
        candidate in taken
        or checkouts.branch_exists(ctx.store.repo, candidate)
        or os.path.exists(os.path.join(root, _dir_name(candidate)))
    ):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _dir_name(branch: str) -> str:
    return branch.removeprefix("orch/").replace("/", "-")


def merge_to_parent(
    ctx: Context, *, worktree_id: str, session_id: str | None = None
) -> dict[str, Any]:
    """Merge a child's branch into its parent's; a conflict leaves the parent as it was."""
    view = ctx.read()
    me = sessions.require(view, session_id, ctx.session, "session_id")
    child = entities.find(view, WORKTREE, worktree_id, "worktree_id")
    sessions.must_own(child, "session_id", me, "worktree")
    if not child.get("parent_worktree_id"):
        raise PreconditionFailed(
            f"worktree {child['id']} has no parent", {"worktree_id": child["id"]}
        )
    parent = entities.load(view, WORKTREE, child["parent_worktree_id"])
    protected = view.config().get("protected_branch") or ctx.store.default_branch()
    if parent["branch"] == protected:
        raise Forbidden(
            f"the parent is on {protected}, which only the merge queue moves", {"branch": protected}
        )
    changes = checkouts.dirty(parent["path"])
    if changes:
        raise PreconditionFailed(
            f"the parent worktree {parent['path']} has uncommitted changes; commit or stash them",
            {"path": parent["path"], "changes": changes[:50]},
        )
    message = f"Merge {child['branch']} (git orch worktree.merge_to_parent)"
    checkouts.run_in(
        parent["path"], ["merge", "--no-ff", "--no-edit", "-m", message, child["branch"]], (0, 1)
    )
    conflicted = checkouts.run_in(parent["path"], ["diff", "--name-only", "--diff-filter=U"])
    in_merge = checkouts.run_in(
        parent["path"], ["rev-parse", "-q", "--verify", "MERGE_HEAD"], (0, 1)
    ).strip()
    if conflicted.strip() or in_merge:
        checkouts.run_in(parent["path"], ["merge", "--abort"], (0, 128))
        raise Conflict(
            f"merging {child['branch']} into {parent['branch']} conflicts; the parent is as it was",
            {"paths": conflicted.split(), "parent": parent["id"], "child": child["id"]},
        )
    done = _set_status(ctx, child["id"], WorktreeStatus.MERGED_TO_PARENT)
    return {"worktree": done, "parent": parent, "head": checkouts.head(parent["path"]).commit}


def list_worktrees(
    ctx: Context,
    view: Snapshot,
    *,
    session_id: str | None = None,
    status: WorktreeStatus | None = None,
    include_removed: bool = False,
) -> dict[str, Any]:
    """Worktrees gitorch knows, with whether each is on disk."""
    owner = entities.find(view, SESSION, session_id, "session_id")["id"] if session_id else None
    found = []
    for doc in entities.load_all(view, WORKTREE):
        if owner is not None and doc["session_id"] != owner:
            continue
        if status is not None and doc["status"] != status:
            continue
        if doc["status"] == WorktreeStatus.REMOVED and not include_removed and status is None:
            continue
        found.append({**doc, "on_disk": os.path.isdir(doc["path"])})
    found.sort(key=lambda doc: (doc["created_at"], doc["id"]))
    return {"worktrees": found}


def _blockers(ctx: Context, view: Snapshot, doc: dict[str, Any]) -> list[str]:
    """Why removing ``doc`` could cost someone their work (empty: nothing)."""
    why = []
    if os.path.isdir(doc["path"]):
        changes = checkouts.dirty(doc["path"])
        if changes:
            why.append(f"it has {len(changes)} uncommitted change(s)")
    try:
        commits = checkouts.unmerged_commits(ctx.store.repo, doc["branch"])
    except GitorchError:
        commits = []
    if commits:
        why.append(f"its branch {doc['branch']} has {len(commits)} commit(s) no other branch has")
    if doc.get("session_id"):
        owner = view.read(SESSION, doc["session_id"])
        if owner is not None and owner["status"] in sessions.OPEN:
            seen = liveness.seen_at(ctx, owner)
            if not sessions.suspended(ctx, owner, seen):
                why.append(f"it belongs to session {owner['id']}, which is live")
    agents = checkouts.agents_inside(doc["path"]) if os.path.isdir(doc["path"]) else []
    if agents:
        why.append(f"process(es) {', '.join(map(str, agents[:5]))} work inside it")
    return why


def _inside_root(ctx: Context, path: str) -> bool:
    return checkouts.inside(checkouts.worktree_root(ctx.store.repo), path) is not None


def remove(
    ctx: Context,
    *,
    worktree_id: str,
    session_id: str | None = None,
    force: bool = False,
    reason: str | None = None,
) -> dict[str, Any]:
    """Remove a worktree that holds no work (``force`` with a reason to override); branch kept."""
    view = ctx.read()
    doc = entities.find(view, WORKTREE, worktree_id, "worktree_id")
    return {"worktree": _remove(ctx, view, doc, force=force, reason=reason)}


def _remove(
    ctx: Context, view: Snapshot, doc: dict[str, Any], *, force: bool, reason: str | None
) -> dict[str, Any]:
    if doc["status"] == WorktreeStatus.REMOVED:
        return doc
    if not _inside_root(ctx, doc["path"]):
        raise Forbidden(
            f"{doc['path']} is outside gitorch's worktree root; gitorch never removes it",
            {"path": doc["path"]},
        )
    why = _blockers(ctx, view, doc)
    if why and not force:
        raise PreconditionFailed(
            f"worktree {doc['id']} is kept: "
            + "; ".join(why)
            + ". Use --force with a --reason to remove it anyway (the branch is kept).",
            {"worktree_id": doc["id"], "why": why},
        )
    if why and not (reason and reason.strip()):
        raise InvalidParams("reason: a forced removal needs a reason", {"param": "reason"})
    if os.path.isdir(doc["path"]):
        checkouts.remove(ctx.store.repo, doc["path"], force=bool(why))
    return _set_status(ctx, doc["id"], WorktreeStatus.REMOVED)


def prune(ctx: Context, *, apply: bool = False) -> dict[str, Any]:
    """Worktrees of closed sessions whose work is all merged: listed, or with ``apply`` removed."""
    view = ctx.read()
    candidates = []
    for doc in entities.load_all(view, WORKTREE):
        if doc["status"] == WorktreeStatus.REMOVED or not doc.get("session_id"):
            continue
        owner = view.read(SESSION, doc["session_id"])
        if owner is None or owner["status"] != SessionStatus.CLOSED:
            continue
        if not _inside_root(ctx, doc["path"]) or _blockers(ctx, view, doc):
            continue
        candidates.append(doc)
    removed = (
        [_remove(ctx, view, doc, force=False, reason=None) for doc in candidates] if apply else []
    )
    return {
        "worktrees": candidates,
        "removed": [doc["id"] for doc in removed],
        "dry_run": not apply,
    }
