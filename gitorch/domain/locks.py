"""Path leases with fencing: acquire, renew, release, list.

A lock covers one file or a prefix (itself and everything below; ``""``
is the whole tree). Two locks of different sessions conflict when either
covers the other. Each grant gets an *epoch* from a counter that only
grows; it is the fencing token: of the live locks on a path only the one
with the highest epoch is in force, so a holder paused past its TTL whose
path was granted to another holds nothing, even if it renews meanwhile.
Renewals go to ``refs/orchestrator/live``: no state commit each.
"""

from __future__ import annotations

import bisect

from gitorch.domain import checkouts, entities, sessions
from gitorch.domain.context import Context
from gitorch.domain.liveness import live_values
from gitorch.model.clock import format_ts
from gitorch.model.enums import LockScope, LockStatus
from gitorch.model.errors import Conflict, Forbidden, InvalidParams, PreconditionFailed
from gitorch.model.kinds import LOCK, SESSION
from gitorch.model.paths import covers, normalise, overlap
from gitorch.store.state import Snapshot, Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

DEFAULT_TTL = 600


def view_locks(ctx: Context, view: Snapshot) -> list[dict[str, Any]]:
    """Every lock with its effective expiry and derived status (``expired``, ``superseded``).

    ``in_force`` is true for the locks that count: active, not expired, and
    not overlapped by a live lock of another session with a higher epoch.
    """
    live = live_values(ctx, "locks", "expires_at")
    now = format_ts(ctx.clock.now_ms())  # the stamps share one format: text order is time order
    out = []
    for doc in entities.load_all(view, LOCK):
        expires = max(doc["expires_at"], live.get(doc["id"], ""))
        status = doc["status"]
        if status == LockStatus.ACTIVE and expires <= now:
            status = LockStatus.EXPIRED.value
        out.append({**doc, "expires_at": expires, "status": status, "in_force": False})
    alive = PathIndex([lock for lock in out if lock["status"] == LockStatus.ACTIVE])
    for lock in alive.locks:
        lock["in_force"] = not any(
            other["owner_session"] != lock["owner_session"] and other["epoch"] > lock["epoch"]
            for other in alive.overlapping(lock["scope_type"], lock["scope_path"])
        )
    return out


class PathIndex:
    """Locks by path, so finding those that overlap one costs its depth, not their number."""

    def __init__(self, locks: list[dict[str, Any]]) -> None:
        self.locks = locks
        self._by_path: dict[str, list[dict[str, Any]]] = {}
        for lock in locks:
            self._by_path.setdefault(lock["scope_path"], []).append(lock)
        self._paths = sorted(self._by_path)

    def covering(self, path: str) -> list[dict[str, Any]]:
        """Locks that cover ``path``: prefixes above it, and any lock on it."""
        parts = path.split("/") if path else []
        found = []
        for depth in range(len(parts) + 1):
            at = "/".join(parts[:depth])
            for lock in self._by_path.get(at, ()):
                if covers(lock["scope_type"], lock["scope_path"], path):
                    found.append(lock)
        return found

    def overlapping(self, scope_type: str, path: str) -> list[dict[str, Any]]:
        """Locks that cover ``path`` or, for a prefix, lie below it."""
        found = self.covering(path)
        if scope_type == LockScope.PREFIX:
            start = bisect.bisect_left(self._paths, path + "/" if path else "")
            for at in self._paths[start:]:
                if path and not at.startswith(path + "/"):
                    break
                if at != path:
                    found.extend(self._by_path[at])
        return found


def holding(ctx: Context, view: Snapshot, session_id: str) -> list[dict[str, Any]]:
    """The locks ``session_id`` holds in force."""
    return [
        lock
        for lock in view_locks(ctx, view)
        if lock["in_force"] and lock["owner_session"] == session_id
    ]


def blocking(
    locks: list[dict[str, Any]] | PathIndex, session_id: str | None, path: str
) -> list[dict[str, Any]]:
    """Locks in force of other sessions covering the file ``path``."""
    index = locks if isinstance(locks, PathIndex) else PathIndex(locks)
    return [
        lock
        for lock in index.covering(path)
        if lock["in_force"] and lock["owner_session"] != session_id
    ]


def _confined(ctx: Context, path: str, param: str) -> None:
    """Refuse a path that leads out of the repository through a symlink."""
    if path and checkouts.inside(checkouts.main_checkout(ctx.store.repo), path) is None:
        raise InvalidParams(
            f"{param}: {path!r} leads outside the repository (through a symlink)",
            {"param": param, "value": path},
        )


def _epoch(tx: Transaction) -> int:
    return max((doc["epoch"] for doc in entities.load_all(tx, LOCK)), default=0) + 1


def acquire(
    ctx: Context,
    tx: Transaction,
    *,
    scope_type: LockScope,
    scope_path: str | None = None,
    scope_paths: list[str] | None = None,
    owner_session: str | None = None,
    ttl_seconds: int | None = None,
    remote: str | None = None,
) -> dict[str, Any]:
    """Lock one or several paths for a session, all or nothing (``remote``: the API syncs)."""
    del remote  # published by the API around this transaction (gitorch.domain.sync.publish)
    owner = sessions.require(tx, owner_session, ctx.session, "owner_session")
    prefix = scope_type == LockScope.PREFIX
    wanted = [*([scope_path] if scope_path is not None else []), *(scope_paths or [])]
    if not wanted:
        raise InvalidParams("scope_path: name a path (or several with scope_paths)", {})
    paths = []
    for raw in wanted:
        path = normalise(raw, "scope_path", prefix=prefix)
        _confined(ctx, path, "scope_path")
        if path not in paths:
            paths.append(path)
    ttl = ttl_seconds or tx.config().get("lock_ttl_seconds", DEFAULT_TTL)
    expires = format_ts(ctx.clock.now_ms() + ttl * 1000)
    locks = view_locks(ctx, tx)
    granted: list[dict[str, Any]] = []
    plan: list[tuple[str, dict[str, Any] | None]] = []
    for path in paths:
        mine = None
        for lock in locks:
            if lock["status"] != LockStatus.ACTIVE:
                continue
            if lock["owner_session"] == owner["id"]:
                if lock["scope_type"] == scope_type and lock["scope_path"] == path:
                    mine = lock
            elif overlap(lock["scope_type"], lock["scope_path"], scope_type.value, path):
                raise Conflict(
                    f"{path or '(the whole tree)'} is locked by session "
                    f"{lock['owner_session']} ({lock['id']}, {lock['scope_type']} "
                    f"{lock['scope_path'] or '(whole tree)'}, epoch {lock['epoch']}) until "
                    f"{lock['expires_at']}",
                    {"path": path, "lock": _brief(lock)},
                )
        plan.append((path, mine))
    epoch = _epoch(tx)
    for path, mine in plan:
        if mine is not None:
            stored = entities.load(tx, LOCK, mine["id"])
            doc = entities.change(
                ctx, tx, LOCK, stored, {"expires_at": expires, "ttl_seconds": ttl}
            )
        else:
            doc = entities.create(
                ctx,
                tx,
                LOCK,
                {
                    "scope_type": scope_type.value,
                    "scope_path": path,
                    "owner_session": owner["id"],
                    "ttl_seconds": ttl,
                    "expires_at": expires,
                    "epoch": epoch,
                    "status": LockStatus.ACTIVE.value,
                },
            )
            epoch += 1
        granted.append(doc)
    return {"lock": granted[0], "locks": granted}


def _brief(lock: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "scope_type", "scope_path", "owner_session", "epoch", "expires_at", "status")
    return {key: lock.get(key) for key in keys}


def _owned(
    ctx: Context, view: Snapshot, lock_id: str, session_id: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    caller = sessions.require(view, session_id, ctx.session, "session_id")
    lock = entities.find(view, LOCK, lock_id, "lock_id")
    return lock, caller


def heartbeat(
    ctx: Context,
    *,
    lock_id: str,
    ttl_seconds: int | None = None,
    session_id: str | None = None,
) -> dict[str, Any]:
    """Renew a lock its owner holds in force (on the live ref: no state commit)."""
    view = ctx.read()
    lock, caller = _owned(ctx, view, lock_id, session_id)
    sessions.must_own(lock, "owner_session", caller, "lock")
    current = next(doc for doc in view_locks(ctx, view) if doc["id"] == lock["id"])
    if current["status"] != LockStatus.ACTIVE or not current["in_force"]:
        why = current["status"] if current["status"] != LockStatus.ACTIVE else "superseded"
        raise PreconditionFailed(
            f"lock {lock['id']} is {why}; an expired or superseded lock cannot be renewed: "
            "acquire the path again",
            {"lock": _brief(current)},
        )
    ttl = ttl_seconds or lock["ttl_seconds"]
    expires = format_ts(ctx.clock.now_ms() + ttl * 1000)
    from gitorch.store.live import LiveRef

    LiveRef(ctx.store).put({f"locks/{lock['id']}.yaml": {"expires_at": expires}}, "lock renewal")
    return {"lock": {**current, "expires_at": expires}}


def release(
    ctx: Context,
    tx: Transaction,
    *,
    lock_id: str,
    session_id: str | None = None,
    force: bool = False,
    reason: str | None = None,
) -> dict[str, Any]:
    """Release a lock: by its owner, or by another session with ``force`` and a reason."""
    lock, caller = _owned(ctx, tx, lock_id, session_id)
    if lock["owner_session"] != caller["id"]:
        if not force:
            raise Forbidden(
                f"lock {lock['id']} belongs to session {lock['owner_session']}; "
                "release it with --force and a --reason",
                {"lock": _brief(lock), "session_id": caller["id"]},
            )
        if not reason or not reason.strip():
            raise InvalidParams("reason: a forced release needs a reason", {"param": "reason"})
    if lock["status"] == LockStatus.RELEASED:
        return {"lock": lock}
    return {"lock": _release(ctx, tx, lock, caller["id"], reason)}


def _release(
    ctx: Context, tx: Transaction, lock: dict[str, Any], by: str, reason: str | None
) -> dict[str, Any]:
    values = {"status": LockStatus.RELEASED.value, "released_by": by, "release_reason": reason}
    return entities.change(ctx, tx, LOCK, lock, values)


def release_all(ctx: Context, tx: Transaction, session_id: str, reason: str) -> list[str]:
    """Release every active lock of a session (closing it); the ids released."""
    out = []
    for lock in entities.load_all(tx, LOCK):
        if lock["owner_session"] == session_id and lock["status"] == LockStatus.ACTIVE:
            _release(ctx, tx, lock, session_id, reason)
            out.append(lock["id"])
    return out


def reissue(ctx: Context, tx: Transaction, old_owner: str, new_owner: str) -> list[str]:
    """Hand a session's live locks to another session, each with a new epoch."""
    epoch = _epoch(tx)
    out = []
    for lock in view_locks(ctx, tx):
        if lock["owner_session"] != old_owner or lock["status"] != LockStatus.ACTIVE:
            continue
        stored = entities.load(tx, LOCK, lock["id"])
        _release(ctx, tx, stored, new_owner, "handed off")
        new = entities.create(
            ctx,
            tx,
            LOCK,
            {
                "scope_type": lock["scope_type"],
                "scope_path": lock["scope_path"],
                "owner_session": new_owner,
                "ttl_seconds": lock["ttl_seconds"],
                "expires_at": format_ts(ctx.clock.now_ms() + lock["ttl_seconds"] * 1000),
                "epoch": epoch,
                "status": LockStatus.ACTIVE.value,
            },
        )
        epoch += 1
        out.append(new["id"])
    return out


def list_locks(
    ctx: Context,
    view: Snapshot,
    *,
    owner_session: str | None = None,
    path: str | None = None,
    include_expired: bool = False,
) -> dict[str, Any]:
    """Locks, active ones by default; with ``path``, those covering it."""
    owner = None
    if owner_session:
        owner = entities.find(view, SESSION, owner_session, "owner_session")["id"]
    where = normalise(path, "path", prefix=True) if path is not None else None
    found = []
    for lock in view_locks(ctx, view):
        if lock["status"] == LockStatus.RELEASED and not include_expired:
            continue
        if lock["status"] == LockStatus.EXPIRED and not include_expired:
            continue
        if owner is not None and lock["owner_session"] != owner:
            continue
        if where is not None and not covers(lock["scope_type"], lock["scope_path"], where):
            continue
        found.append(lock)
    found.sort(key=lambda lock: (lock["scope_path"], lock["epoch"]))
    return {"locks": found}
