"""The main merge queue: main only ever moves to the exact commit that was checked.

A session queues its root worktree's HEAD (exactly that commit lands).
The holder of the one main-merge lease lands the head of the queue:
approval (when a review is named) and other sessions' locks are checked,
the merge is built without a worktree, the check command runs on it, and
the branch moves by compare-and-swap in the same ref transaction that
verifies the state (and so the lease and its epoch) is what was checked.
If the branch moved meanwhile the candidate is rebuilt and checked again,
never forced. A batch stacks N entries, checks the top once, and on red
finds the culprit by bisection (testing the batch without half of the
suspects, so every green run is a landable commit), fails only it, lands
the largest green set and puts the rest back in line.

Every land records its intent first (``running``, with the candidate): a
land killed at any step is repaired by the next call, which finds the
branch at (or past) the candidate and records the entry ``merged``, or
finds it untouched and puts the entry back in line.
"""

from __future__ import annotations

import os
import socket

from gitorch.domain import agents, cases, checkouts, entities, landing, locks, sessions, threads
from gitorch.domain.context import Context
from gitorch.model.clock import format_ts, parse_ts
from gitorch.model.enums import (
    LockStatus,
    MainMergeStatus,
    MergeStatus,
    WorktreeKind,
    WorktreeStatus,
)
from gitorch.model.errors import (
    Conflict,
    Forbidden,
    GitorchError,
    InvalidParams,
    PreconditionFailed,
    Unavailable,
)
from gitorch.model.kinds import MAIN_LEASE, MAIN_MERGE, MERGE_REQUEST, SESSION, WORKTREE
from gitorch.model.testing import crash_point
from gitorch.store.git import is_ancestor
from gitorch.store.state import Snapshot, Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

DEFAULT_TTL = 300
DEFAULT_CHECK_TIMEOUT = 600
MAX_REBUILDS = 3  # the branch moved under a land this many times: give up, nothing forced
MAX_STATE_RETRIES = 50
HISTORY_LIMIT = 50


# -- small pieces ------------------------------------------------------------------------------


def _target(ctx: Context, view: Snapshot, given: str | None) -> str:
    from gitorch.model.config import check_branch_name

    target = given or view.config().get("protected_branch") or ctx.store.default_branch()
    check_branch_name(target, "target_branch")
    return target


def _advance(
    ctx: Context,
    tx: Transaction,
    entry_id: str,
    status: MainMergeStatus,
    note: str,
    values: dict[str, Any],
) -> dict[str, Any]:
    """Move a queue entry to ``status`` with ``values``, noting why in its history."""
    entry = entities.load(tx, MAIN_MERGE, entry_id)
    history = [
        *(entry.get("history") or []),
        {"at": ctx.now(), "status": status.value, "note": note},
    ]
    changes = {**values, "status": status.value, "history": history[-HISTORY_LIMIT:]}
    return entities.change(ctx, tx, MAIN_MERGE, entry, changes)


def _queued(view: Snapshot) -> list[dict[str, Any]]:
    found = [
        e for e in entities.load_all(view, MAIN_MERGE) if e["status"] == MainMergeStatus.QUEUED
    ]
    found.sort(key=lambda e: (e["position"], e["created_at"], e["id"]))
    return found


def _position(view: Snapshot, entry: dict[str, Any]) -> int | None:
    for number, queued in enumerate(_queued(view), 1):
        if queued["id"] == entry["id"]:
            return number
    return None


# -- the lease ---------------------------------------------------------------------------------


def _lease(view: Snapshot) -> dict[str, Any] | None:
    found = entities.load_all(view, MAIN_LEASE)
    found.sort(key=lambda d: (d["created_at"], d["id"]))
    return found[0] if found else None


def _in_force(ctx: Context, lease: dict[str, Any] | None) -> bool:
    return bool(
        lease
        and lease["status"] == LockStatus.ACTIVE
        and lease.get("holder_session")
        and lease.get("expires_at")
        and (parse_ts(lease["expires_at"]) or 0) > ctx.clock.now_ms()
    )


def present_lease(ctx: Context, lease: dict[str, Any] | None) -> dict[str, Any] | None:
    """The lease as methods return it: its effective status, whether it is in force."""
    if lease is None:
        return None
    status = lease["status"]
    if status == LockStatus.ACTIVE and not _in_force(ctx, lease):
        status = LockStatus.EXPIRED.value
    return {**lease, "status": status, "in_force": _in_force(ctx, lease)}


def acquire_lock(
    ctx: Context,
    tx: Transaction,
    *,
    session_id: str | None = None,
    ttl_seconds: int = DEFAULT_TTL,
    force: bool = False,
    reason: str | None = None,
    remote: str | None = None,
) -> dict[str, Any]:
    """Take (or, holding it, renew) the main-merge lease; a new holder gets a new epoch."""
    del remote  # published by the API around this transaction (gitorch.domain.sync.publish)
    me = sessions.require(tx, session_id, ctx.session, "session_id")
    lease = _lease(tx)
    expires = format_ts(ctx.clock.now_ms() + ttl_seconds * 1000)
    held = _in_force(ctx, lease)
    if lease is not None and held and lease["holder_session"] == me["id"]:
        lease = entities.change(
            ctx, tx, MAIN_LEASE, lease, {"expires_at": expires, "ttl_seconds": ttl_seconds}
        )
        return {"lock": present_lease(ctx, lease), "acquired": False, "renewed": True}
    if lease is not None and held and not force:
        raise Conflict(
            f"the main-merge lease is held by session {lease['holder_session']} until"
            f" {lease['expires_at']} (epoch {lease['epoch']})",
            {"holder": lease["holder_session"], "expires_at": lease["expires_at"]},
        )
    if held and force and not (reason and reason.strip()):
        raise InvalidParams(
            "reason: taking a held lease with --force needs a reason", {"param": "reason"}
        )
    values = {
        "holder_session": me["id"],
        "ttl_seconds": ttl_seconds,
        "expires_at": expires,
        "status": LockStatus.ACTIVE.value,
        "forced_by": me["id"] if held else None,
        "reason": reason if held else None,
    }
    if lease is None:
        lease = entities.create(ctx, tx, MAIN_LEASE, {**values, "epoch": 1})
    else:
        lease = entities.change(ctx, tx, MAIN_LEASE, lease, {**values, "epoch": lease["epoch"] + 1})
    return {"lock": present_lease(ctx, lease), "acquired": True, "renewed": False}


def release_lock(
    ctx: Context,
    tx: Transaction,
    *,
    session_id: str | None = None,
    force: bool = False,
    reason: str | None = None,
) -> dict[str, Any]:
    """Give the lease back (only its holder, or anyone with --force and a reason)."""
    me = sessions.require(tx, session_id, ctx.session, "session_id")
    lease = _lease(tx)
    if lease is None or lease["status"] != LockStatus.ACTIVE:
        return {"lock": present_lease(ctx, lease), "released": False}
    if lease["holder_session"] != me["id"]:
        if not force:
            raise Forbidden(
                f"the main-merge lease is held by session {lease['holder_session']},"
                f" not {me['id']}",
                {"holder": lease["holder_session"]},
            )
        if not (reason and reason.strip()):
            raise InvalidParams("reason: a forced release needs a reason", {"param": "reason"})
    lease = entities.change(
        ctx,
        tx,
        MAIN_LEASE,
        lease,
        {
            "status": LockStatus.RELEASED.value,
            "forced_by": me["id"] if force and lease["holder_session"] != me["id"] else None,
            "reason": reason,
        },
    )
    return {"lock": present_lease(ctx, lease), "released": True}


def _holder(ctx: Context, view: Snapshot, me: dict[str, Any]) -> dict[str, Any]:
    lease = _lease(view)
    if not _in_force(ctx, lease) or lease is None or lease["holder_session"] != me["id"]:
        holder = lease["holder_session"] if lease and _in_force(ctx, lease) else None
        raise Forbidden(
            f"session {me['id']} does not hold the main-merge lease"
            + (f" (session {holder} does)" if holder else "")
            + "; take it with merge.main.acquire_lock",
            {"holder": holder},
        )
    return lease


# -- queueing ----------------------------------------------------------------------------------


def main_request(
    ctx: Context,
    *,
    session_id: str | None = None,
    from_worktree_id: str | None = None,
    target_branch: str | None = None,
    merge_request_id: str | None = None,
    auto_review: bool = True,
    reviewer_role: str = "reviewer",
    agent_guide_path: str | None = None,
) -> dict[str, Any]:
    """Queue a session-root worktree's HEAD for the target branch."""
    view = ctx.read()
    me = sessions.require(view, session_id, ctx.session, "session_id")
    worktree = entities.find(
        view, WORKTREE, from_worktree_id or me.get("root_worktree_id") or "", "from_worktree_id"
    )
    sessions.must_own(worktree, "session_id", me, "worktree")
    if worktree["kind"] != WorktreeKind.SESSION_ROOT:
        raise InvalidParams(
            f"from_worktree_id: {worktree['id']} is a {worktree['kind']} worktree; the queue takes"
            " a session root (merge children into it first)",
            {"param": "from_worktree_id"},
        )
    repo = ctx.store.repo
    children = [
        wt["id"]
        for wt in entities.load_all(view, WORKTREE)
        if wt.get("parent_worktree_id") == worktree["id"]
        and wt["status"] in (WorktreeStatus.PLANNED, WorktreeStatus.ACTIVE)
        and (child := landing.tip(repo, wt["branch"])) is not None
        and not is_ancestor(repo.path, child, f"refs/heads/{worktree['branch']}")
    ]
    if children:
        raise PreconditionFailed(
            f"worktree {worktree['id']} has unmerged child worktrees: {', '.join(children)};"
            " merge them (worktree.merge_to_parent) or remove them first",
            {"children": children},
        )
    target = _target(ctx, view, target_branch)
    if os.path.isdir(worktree["path"]):
        changes = checkouts.dirty(worktree["path"])
        if changes:
            raise PreconditionFailed(
                f"{worktree['path']} has uncommitted changes; commit them, then queue",
                {"changes": changes[:50]},
            )
    head = landing.tip(ctx.store.repo, worktree["branch"])
    base = landing.tip(ctx.store.repo, target)
    if head is None:
        raise PreconditionFailed(f"branch {worktree['branch']} does not exist", {})
    if base is None:
        raise PreconditionFailed(f"the target branch {target} does not exist", {"target": target})
    if is_ancestor(ctx.store.repo.path, head, base):
        raise PreconditionFailed(
            f"{worktree['branch']} has nothing that {target} lacks",
            {"head": head, "target": target},
        )
    mr_id = entities.resolve_optional(view, MERGE_REQUEST, merge_request_id, "merge_request_id")

    def record(tx: Transaction) -> dict[str, Any]:
        entries = entities.load_all(tx, MAIN_MERGE)
        for entry in entries:
            if (
                entry["from_worktree_id"] == worktree["id"]
                and entry["status"] == MainMergeStatus.QUEUED
            ):
                values = {"head": head, "merge_request_id": mr_id or entry.get("merge_request_id")}
                note = f"queued again at {head[:12]}"
                return _advance(ctx, tx, entry["id"], MainMergeStatus.QUEUED, note, values)
        position = max((e["position"] for e in entries), default=0) + 1
        return entities.create(
            ctx,
            tx,
            MAIN_MERGE,
            {
                "session_id": me["id"],
                "from_worktree_id": worktree["id"],
                "target_branch": target,
                "merge_request_id": mr_id,
                "status": MainMergeStatus.QUEUED.value,
                "position": position,
                "branch": worktree["branch"],
                "head": head,
                "base": None,
                "candidate": None,
                "landed_commit": None,
                "reason": None,
                "paths": [],
                "check_output": None,
                "history": [
                    {"at": ctx.now(), "status": "queued", "note": f"queued at {head[:12]}"}
                ],
            },
        )

    entry = ctx.transact(record)
    out: dict[str, Any] = {"main_merge_request": entry, "position": _position(ctx.read(), entry)}
    if mr_id and auto_review:
        mr = entities.load(ctx.read(), MERGE_REQUEST, mr_id)
        if mr["status"] not in (MergeStatus.APPROVED, MergeStatus.IN_REVIEW):
            from gitorch.domain import merges

            try:
                out["review_dispatch"] = merges.request_auto(
                    ctx,
                    session_id=me["id"],
                    merge_request_id=mr_id,
                    reviewer_role=reviewer_role,
                    agent_guide_path=agent_guide_path,
                )
            except GitorchError as exc:
                out["review_dispatch_error"] = exc.to_json()["error"]
    return out


def next_entry(ctx: Context, view: Snapshot) -> dict[str, Any]:
    """The head of the queue (FIFO), without taking it."""
    queued = _queued(view)
    return {"main_merge_request": queued[0] if queued else None, "queued": len(queued)}


def main_status(ctx: Context, view: Snapshot, *, request_id: str) -> dict[str, Any]:
    """One queue entry with its position and history, and the lease."""
    entry = entities.find(view, MAIN_MERGE, request_id, "request_id")
    return {
        "main_merge_request": entry,
        "position": _position(view, entry),
        "history": entry.get("history") or [],
        "lock": present_lease(ctx, _lease(view)),
    }


def main_list(
    ctx: Context, view: Snapshot, *, status: MainMergeStatus | None = None
) -> dict[str, Any]:
    """The queue: waiting entries in order, then the rest, newest first."""
    entries = entities.load_all(view, MAIN_MERGE)
    waiting = _queued(view)
    rest = [e for e in entries if e["status"] != MainMergeStatus.QUEUED]
    rest.sort(key=lambda e: (e["updated_at"], e["id"]), reverse=True)
    found = [e for e in (*waiting, *rest) if status is None or e["status"] == status]
    return {"main_merges": found, "lock": present_lease(ctx, _lease(view))}


# -- landing -----------------------------------------------------------------------------------


def _check_argv(ctx: Context, given: str | list[str] | None) -> list[str] | None:
    """The check command: the call's, else local git config ``orch.land.check``; never state."""
    import shutil

    if given is not None:
        argv, source = agents.split_command(given, "check_command"), "check_command"
    else:
        configured = checkouts.config_values(ctx.store.repo, "orch.land.check")
        if not configured:
            return None
        source = "git config orch.land.check"
        argv = agents.split_command(configured[-1], source)
    # a missing program is the lander's mistake: no entry fails for it (a path runs in the tree)
    if "/" not in argv[0] and shutil.which(argv[0]) is None:
        raise InvalidParams(
            f"{source}: {argv[0]!r} is not a program on PATH; nothing was landed",
            {"param": "check_command", "program": argv[0]},
        )
    return argv


def _check_timeout(ctx: Context, given: int | None) -> int:
    if given is not None:
        return given
    configured = checkouts.config_values(ctx.store.repo, "orch.land.checkTimeout")
    if configured and configured[-1].strip().isdigit():
        return int(configured[-1].strip())
    return DEFAULT_CHECK_TIMEOUT


def _blocked(
    ctx: Context, view: Snapshot, index: locks.PathIndex, entry: dict[str, Any], base: str
) -> tuple[str, list[str]] | None:
    """Why ``entry`` cannot land now (its approval, other sessions' locks), or None."""
    if entry.get("merge_request_id"):
        mr = view.read(MERGE_REQUEST, entry["merge_request_id"])
        if mr is None or mr["status"] not in (MergeStatus.APPROVED, MergeStatus.MERGED):
            state = mr["status"] if mr else "missing"
            return (
                f"its review is not approved"
                f" (merge request {entry['merge_request_id']} is {state})",
                [],
            )
    held = []
    for path in landing.changed_paths(ctx.store.repo, base, entry["head"]):
        for lock in locks.blocking(index, entry["session_id"], path):
            held.append(
                f"{path} (lock {lock['id']} of session {lock['owner_session']},"
                f" epoch {lock['epoch']})"
            )
    if held:
        return "paths it changes are locked by another session: " + "; ".join(held[:10]), [
            h.split(" (")[0] for h in held
        ]
    return None


def repair(ctx: Context) -> list[dict[str, Any]]:
    """Finish or roll back every land that was interrupted (entries left ``running``)."""
    view = ctx.read()
    running = [
        e for e in entities.load_all(view, MAIN_MERGE) if e["status"] == MainMergeStatus.RUNNING
    ]
    repo = ctx.store.repo
    outcomes: dict[str, tuple[str, str | None]] = {}
    for entry in running:
        tip = landing.tip(repo, entry["target_branch"])
        candidate = entry.get("candidate")
        if candidate and tip and (tip == candidate or is_ancestor(repo.path, candidate, tip)):
            outcomes[entry["id"]] = ("merged", candidate)
        elif tip and is_ancestor(repo.path, entry["head"], tip):
            outcomes[entry["id"]] = ("merged", tip)  # its work is on the branch: it landed
            path = landing.checkout_of(repo, entry["target_branch"])
            if path and entry.get("base") and not landing.dirty_against(path, entry["base"]):
                landing.follow(path, entry["base"], tip)
        else:
            outcomes[entry["id"]] = ("queued", None)
    if not outcomes:
        _sweep_checks(ctx)
        return _catch_up(ctx, view)

    def record(tx: Transaction) -> list[dict[str, Any]]:
        done = []
        for entry_id, (status, landed) in outcomes.items():
            entry = entities.load(tx, MAIN_MERGE, entry_id)
            if entry["status"] != MainMergeStatus.RUNNING:
                continue
            if status == "merged":
                note = "merged: found on the branch after an interrupted land"
                done.append(
                    _advance(
                        ctx, tx, entry_id, MainMergeStatus.MERGED, note, {"landed_commit": landed}
                    )
                )
                _merge_request_merged(ctx, tx, entry)
            else:
                note = "back in line: an interrupted land moved nothing"
                done.append(
                    _advance(ctx, tx, entry_id, MainMergeStatus.QUEUED, note, {"candidate": None})
                )
        return done

    repaired = ctx.transact(record)
    _sweep_checks(ctx)
    return repaired + _catch_up(ctx, ctx.read())


def _catch_up(ctx: Context, view: Snapshot) -> list[dict[str, Any]]:
    """Bring a checkout of a target branch that a land moved (then died) up to the branch.

    Only when the checkout differs from its branch exactly as the land's base
    did: then nothing in it is anyone's work. The entries so finished.
    """
    merged = [
        e for e in entities.load_all(view, MAIN_MERGE) if e["status"] == MainMergeStatus.MERGED
    ]
    merged.sort(key=lambda e: (e["updated_at"], e["id"]), reverse=True)
    done = []
    for target in sorted({e["target_branch"] for e in merged[:20]}):
        path = landing.checkout_of(ctx.store.repo, target)
        tip = landing.tip(ctx.store.repo, target)
        if path is None or tip is None or not checkouts.dirty(path):
            continue
        for entry in merged[:20]:
            base = entry.get("base")
            if entry["target_branch"] == target and base and not landing.dirty_against(path, base):
                landing.follow(path, base, tip)
                done.append(entry)
                break
    return done


def _sweep_checks(ctx: Context) -> None:
    """Remove check worktrees left by a land whose process is gone (provably: its pid is dead)."""
    root = os.path.join(ctx.store.repo.common_dir, "orchestrator", "land")
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return
    for name in names:
        if not name.endswith(".pid"):
            continue
        place = os.path.join(root, name[: -len(".pid")])
        if landing.owner_alive(place):
            continue
        landing.remove_check_worktree(ctx.store.repo, place)


def _merge_request_merged(ctx: Context, tx: Transaction, entry: dict[str, Any]) -> None:
    if entry.get("merge_request_id"):
        mr = tx.read(MERGE_REQUEST, entry["merge_request_id"])
        if mr is not None and mr["status"] != MergeStatus.MERGED:
            entities.change(ctx, tx, MERGE_REQUEST, mr, {"status": MergeStatus.MERGED.value})


def _fail(
    ctx: Context, failures: Sequence[tuple[dict[str, Any], str, list[str], str | None]]
) -> list[dict[str, Any]]:
    """Record entries failed, and tell each one's session why (its current ref, its thread)."""
    if not failures:
        return []

    def record(tx: Transaction) -> list[dict[str, Any]]:
        done = []
        for entry, reason, paths, output in failures:
            values = {"reason": reason, "paths": paths, "check_output": output, "candidate": None}
            done.append(_advance(ctx, tx, entry["id"], MainMergeStatus.FAILED, reason, values))
            session = tx.read(SESSION, entry["session_id"])
            if session is not None and session["status"] in sessions.OPEN:
                action = (
                    f"merge {entry['id']} of {entry['branch']} failed: {reason}. Fix it on"
                    f" {entry['branch']}, commit, and queue again (git orch merge.main.request)"
                )
                cases.point_ref(ctx, tx, session, {"next_action": action[:4000]})
        return done

    failed = ctx.transact(record)
    for entry in failed:
        _tell(ctx, entry)
    return failed


def _tell(ctx: Context, entry: dict[str, Any]) -> None:
    """Send the failure to the session's live root thread, when it has one (best effort)."""
    try:
        view = ctx.read()
        root = threads.root_of(view, entry["session_id"])
        if root is None:
            return
        seen = threads.observed(ctx, [root])[0]
        if seen["alive"]:
            threads.child_send(
                ctx,
                thread_id=root["id"],
                text=f"git orch: merge {entry['id']} failed: {entry['reason']}"[:2000],
            )
    except GitorchError:
        return


class _Stack:
    """Entries merged one on another from a base: each entry's candidate, or its conflict."""

    def __init__(self, ctx: Context, base: str, entries: list[dict[str, Any]]) -> None:
        self.commit = base
        self.tops: dict[str, str] = {}
        self.conflicts: dict[str, list[str]] = {}
        for entry in entries:
            message = (
                f"Merge {entry['branch']} into {entry['target_branch']} ({entry['id']}, git orch)"
            )
            made, paths = landing.build(ctx.store.repo, self.commit, entry["head"], message)
            if made is None:
                self.conflicts[entry["id"]] = paths
                continue
            self.commit = made
            self.tops[entry["id"]] = made


def land(
    ctx: Context,
    *,
    session_id: str | None = None,
    batch: int = 1,
    check_command: str | list[str] | None = None,
    check_timeout: int | None = None,
) -> dict[str, Any]:
    """Land the head of the queue (or a batch) on its target branch; see the module's text."""
    out = _land(ctx, session_id, batch, check_command, check_timeout, keepalive=None)
    if batch == 1 and out["failed"] and not out["landed"]:
        raise out.pop("error")
    out.pop("error", None)
    return out


def _land(
    ctx: Context,
    session_id: str | None,
    batch: int,
    check_command: str | list[str] | None,
    check_timeout: int | None,
    *,
    keepalive: Callable[[], None] | None,
) -> dict[str, Any]:
    view = ctx.read()
    me = sessions.require(view, session_id, ctx.session, "session_id")
    lease = _holder(ctx, view, me)
    repaired = repair(ctx)
    argv = _check_argv(ctx, check_command)
    timeout = _check_timeout(ctx, check_timeout)
    view = ctx.read()
    queued = _queued(view)
    if not queued:
        if repaired:  # an interrupted land was finished or rolled back: that is this call's work
            done = [e for e in repaired if e["status"] == MainMergeStatus.MERGED]
            last = done[-1]["landed_commit"] if done else None
            return _answer(ctx, done, [], repaired, 0, None, last)
        raise PreconditionFailed("the main-merge queue is empty", {})
    target = queued[0]["target_branch"]
    entries = [e for e in queued if e["target_branch"] == target][:batch]
    checkout = landing.require_clean_checkout(ctx.store.repo, target)  # before anything moves
    failed: list[dict[str, Any]] = []
    error: GitorchError | None = None
    checks = 0
    for _ in range(MAX_REBUILDS + 1):
        base = landing.tip(ctx.store.repo, target)
        if base is None:
            raise PreconditionFailed(
                f"the target branch {target} does not exist", {"target": target}
            )
        refused = []
        index = locks.PathIndex(locks.view_locks(ctx, view))  # the epochs in force now
        for entry in entries:
            why = _blocked(ctx, view, index, entry, base)
            if why is not None:
                refused.append((entry, why[0], why[1], None))
        stack = _Stack(
            ctx, base, [e for e in entries if e["id"] not in {r[0]["id"] for r in refused}]
        )
        for entry in entries:
            if entry["id"] in stack.conflicts:
                paths = stack.conflicts[entry["id"]]
                refused.append(
                    (
                        entry,
                        f"merging it into {target} conflicts in {', '.join(paths[:20])}",
                        paths,
                        None,
                    )
                )
        failed += _fail(ctx, refused)
        if refused and error is None:
            first = refused[0]
            error = (Conflict if "conflicts" in first[1] else PreconditionFailed)(
                f"{first[0]['id']} failed: {first[1]}",
                {"request_id": first[0]["id"], "paths": first[2]},
            )
        live = [e for e in entries if e["id"] in stack.tops]
        if not live:
            return _answer(ctx, [], failed, repaired, checks, error)
        _mark_running(ctx, base, live, stack.tops)
        crash_point("land:running")
        chosen, culprit, culprit_output, ran = _verify(
            ctx, base, stack.commit, live, argv, timeout, keepalive
        )
        checks += ran
        crash_point("land:checked")
        if culprit is not None:
            reason = "the check failed" + (
                f" (exit {culprit_output[1]})" if culprit_output[1] is not None else ""
            )
            failed += _fail(ctx, [(culprit, reason, [], culprit_output[0])])
            if error is None:
                error = PreconditionFailed(
                    f"{culprit['id']} failed: {reason}",
                    {"request_id": culprit["id"], "output": culprit_output[0][-2000:]},
                )
        if chosen is None:
            _requeue(
                ctx,
                [e for e in live if culprit is None or e["id"] != culprit["id"]],
                "nothing landed",
            )
            return _answer(ctx, [], failed, repaired, checks, error)
        commit, landing_entries = chosen
        if any(stack.tops.get(e["id"]) != commit for e in landing_entries[-1:]):
            _mark_running(ctx, base, landing_entries, {e["id"]: commit for e in landing_entries})
        moved = _fenced_move(ctx, me["id"], lease["epoch"], target, commit, base)
        if moved in ("branch", "missing"):  # main moved, or gc took it: rebuild, check again
            _requeue(ctx, live, f"{target} moved while landing; rebuilt and checked again")
            view = ctx.read()
            entries = [e for e in _queued(view) if e["id"] in {x["id"] for x in entries}]
            if not entries:
                break
            continue
        crash_point("land:moved")
        rest = [
            e
            for e in live
            if e["id"] not in {x["id"] for x in landing_entries}
            and (culprit is None or e["id"] != culprit["id"])
        ]
        landed = _mark_merged(ctx, landing_entries, commit, rest)
        crash_point("land:recorded")
        out = _answer(ctx, landed, failed, repaired, checks, error, commit)
        if checkout is not None:
            try:
                landing.follow(checkout, base, commit)
            except GitorchError as exc:  # landed and recorded: the checkout is behind, no more
                out["checkout_warning"] = (
                    f"{checkout} did not follow {target}: {exc.message}; "
                    f"run git -C {checkout} reset --keep {target}"
                )
        return out
    raise Unavailable(
        f"{target} kept moving while landing ({MAX_REBUILDS + 1} tries); nothing was forced",
        {"target": target},
    )


def _answer(
    ctx: Context,
    landed: list[dict[str, Any]],
    failed: list[dict[str, Any]],
    repaired: list[dict[str, Any]],
    checks: int,
    error: GitorchError | None,
    commit: str | None = None,
) -> dict[str, Any]:
    return {
        "main_merge_request": landed[0] if len(landed) == 1 else (landed[-1] if landed else None),
        "landed": landed,
        "failed": failed,
        "repaired": [e["id"] for e in repaired],
        "landed_commit": commit,
        "checks_run": checks,
        "error": error,
    }


def _mark_running(
    ctx: Context, base: str, live: list[dict[str, Any]], candidates: dict[str, str]
) -> None:
    """Record the intent: these entries are landing, each as its candidate commit."""

    def record(tx: Transaction) -> None:
        for entry in live:
            values = {"base": base, "candidate": candidates[entry["id"]]}
            note = f"built on {base[:12]}"
            _advance(ctx, tx, entry["id"], MainMergeStatus.RUNNING, note, values)

    ctx.transact(record)


def _requeue(ctx: Context, entries: list[dict[str, Any]], note: str) -> None:
    if entries:
        ctx.transact(lambda tx: _back_in_line(ctx, tx, entries, note))


def _back_in_line(ctx: Context, tx: Transaction, entries: list[dict[str, Any]], note: str) -> None:
    """Put entries a land was working on back in the queue, in their places."""
    for entry in entries:
        if entities.load(tx, MAIN_MERGE, entry["id"])["status"] == MainMergeStatus.RUNNING:
            _advance(ctx, tx, entry["id"], MainMergeStatus.QUEUED, note, {"candidate": None})


def _mark_merged(
    ctx: Context, entries: list[dict[str, Any]], commit: str, rest: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    def record(tx: Transaction) -> list[dict[str, Any]]:
        done = []
        for entry in entries:
            values = {"landed_commit": commit, "candidate": commit, "reason": None}
            note = f"landed as {commit[:12]}"
            done.append(_advance(ctx, tx, entry["id"], MainMergeStatus.MERGED, note, values))
            _merge_request_merged(ctx, tx, entry)
        _back_in_line(ctx, tx, rest, "not in the checked set; next batch")
        return done

    return ctx.transact(record)


def _verify(
    ctx: Context,
    base: str,
    top: str,
    live: list[dict[str, Any]],
    argv: list[str] | None,
    timeout: int,
    keepalive: Callable[[], None] | None,
) -> tuple[
    tuple[str, list[dict[str, Any]]] | None,
    dict[str, Any] | None,
    tuple[str, int | None],
    int,
]:
    """The commit to land and its entries, the culprit (with its output), checks run.

    The whole stack is checked once. On red, the suspects are narrowed by
    checking the stack without half of them: green means the culprit is
    among those left out (and that commit may land), red that it is among
    those kept. The last suspect is the culprit; the largest green set lands.
    """
    if argv is None:
        return (top, live), None, ("", None), 0
    runs = 0
    cache: dict[tuple[str, ...], tuple[bool, str, int | None, str | None]] = {}

    def check(members: list[dict[str, Any]]) -> tuple[bool, str, int | None, str | None]:
        nonlocal runs
        key = tuple(e["id"] for e in members)
        if key in cache:
            return cache[key]
        if not members:
            cache[key] = (True, "", 0, base)
            return cache[key]
        stack = _Stack(ctx, base, members)
        if stack.conflicts or not stack.tops:
            cache[key] = (False, "the set does not merge without the entries left out", None, None)
            return cache[key]
        runs += 1
        result = landing.run_check(ctx.store.repo, stack.commit, argv, timeout, keepalive=keepalive)
        cache[key] = (result.passed, result.output, result.exit_code, stack.commit)
        return cache[key]

    whole = check(live)
    if whole[0]:
        return (str(whole[3]), live), None, ("", None), runs
    red = (whole[1], whole[2])  # the output of the last red check, which holds the culprit
    suspects = list(live)
    best: tuple[str, list[dict[str, Any]]] | None = None
    while len(suspects) > 1:
        half = suspects[: len(suspects) // 2]
        left_out = {e["id"] for e in half}
        kept = [e for e in live if e["id"] not in left_out]
        green, output, code, commit = check(kept)
        if green:
            suspects = half
            if best is None or len(kept) > len(best[1]):
                best = (str(commit), kept)
        else:
            suspects = [e for e in suspects if e["id"] not in left_out]
            if commit is not None:
                red = (output, code)
    culprit = suspects[0]
    rest = [e for e in live if e["id"] != culprit["id"]]
    if rest and (best is None or len(best[1]) < len(rest)):
        green, _, _, commit = check(rest)
        if green:
            best = (str(commit), rest)
    return best, culprit, red, runs


def _fenced_move(ctx: Context, me: str, epoch: int, target: str, new: str, old: str) -> str:
    """Move the branch while this session holds the lease at ``epoch``: ``moved`` or ``branch``."""
    for _ in range(MAX_STATE_RETRIES):
        view = ctx.read()
        lease = _lease(view)
        if not (
            _in_force(ctx, lease)
            and lease
            and lease["holder_session"] == me
            and lease["epoch"] == epoch
        ):
            raise Forbidden(
                f"the main-merge lease (epoch {epoch}) is no longer session {me}'s;"
                " nothing was moved",
                {"epoch": epoch, "lease": present_lease(ctx, lease)},
            )
        assert view.commit is not None
        what = landing.move(ctx.store.repo, target, new, old, view.commit)
        if what is None:
            return "moved"
        if what in ("branch", "missing"):
            return what
    raise Unavailable("the state kept changing while landing; nothing was moved", {})


def renew(ctx: Context, session_id: str, ttl_seconds: int) -> Callable[[], None]:
    """A keepalive for long checks: renews the lease while this session holds it."""

    def beat() -> None:
        try:
            ctx.transact(
                lambda tx: acquire_lock(ctx, tx, session_id=session_id, ttl_seconds=ttl_seconds)
            )
        except GitorchError:
            pass

    return beat


def run(
    ctx: Context,
    *,
    session_id: str | None = None,
    once: bool = False,
    batch: int = 1,
    check_command: str | list[str] | None = None,
    check_timeout: int | None = None,
    ttl_seconds: int = DEFAULT_TTL,
) -> dict[str, Any]:
    """Hold the lease and land queue heads until the queue is empty (``once``: one land)."""
    me = sessions.require(ctx.read(), session_id, ctx.session, "session_id")
    ctx.transact(lambda tx: acquire_lock(ctx, tx, session_id=me["id"], ttl_seconds=ttl_seconds))
    landed: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    lands = checks = 0
    keepalive = renew(ctx, me["id"], ttl_seconds)
    try:
        while _queued(ctx.read()):
            out = _land(ctx, me["id"], batch, check_command, check_timeout, keepalive=keepalive)
            lands += 1
            checks += out["checks_run"]
            landed += out["landed"]
            failed += out["failed"]
            if once:
                break
            keepalive()
    finally:
        try:
            ctx.transact(lambda tx: release_lock(ctx, tx, session_id=me["id"]))
        except GitorchError:
            pass
    return {
        "landed": landed,
        "failed": failed,
        "lands": lands,
        "checks_run": checks,
        "queued": len(_queued(ctx.read())),
        "host": socket.gethostname(),
    }
