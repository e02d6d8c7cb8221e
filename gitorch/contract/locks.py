"""Declarations of the path-lock methods."""

from __future__ import annotations

from gitorch.contract.method import EFFECTS, READ, WRITE, Method
from gitorch.contract.params import Boolean, Choice, Integer, Param, Text, TextList
from gitorch.contract.schema import entity_schema, list_schema
from gitorch.model.enums import LockScope
from gitorch.model.kinds import LOCK

_ID = Text(200)
_PATH = Text(4096)
_LOCK = entity_schema(LOCK)
_LOCK["properties"]["in_force"] = {
    "type": "boolean",
    "description": "Active, unexpired, and not superseded by a later epoch: the lock counts.",
}
_TTL = Integer(1, 7 * 24 * 3600)
_L = "gitorch.domain.locks"

METHODS = (
    Method(
        "lock.acquire",
        "Lock a file or a prefix for a session (several with scope_paths: all or nothing).",
        (
            Param("scope_type", Choice(LockScope), "file or prefix.", True),
            Param("scope_path", _PATH, "Repository-relative path; '' or '.' is the whole tree."),
            Param("scope_paths", TextList(4096, 1000), "More paths, granted together."),
            Param("owner_session", _ID, "The session; default GIT_ORCH_SESSION."),
            Param("ttl_seconds", _TTL, "Lifetime before it expires (default config, 600)."),
            Param("remote", Text(255), "Count it only once a push to this remote holds it."),
        ),
        LOCK.key,
        _LOCK,
        f"{_L}:acquire",
        access=WRITE,
        more_results=(("locks", list_schema(_LOCK)),),
        publishes=True,
    ),
    Method(
        "lock.heartbeat",
        "Renew a lock its owner holds in force (no state commit).",
        (
            Param("lock_id", _ID, "The lock (id or unique prefix).", True),
            Param("ttl_seconds", _TTL, "New lifetime from now (default: its own)."),
            Param("session_id", _ID, "The owner; default GIT_ORCH_SESSION."),
        ),
        LOCK.key,
        _LOCK,
        f"{_L}:heartbeat",
        access=EFFECTS,
    ),
    Method(
        "lock.release",
        "Release a lock: by its owner, or by another session with --force and a --reason.",
        (
            Param("lock_id", _ID, "The lock (id or unique prefix).", True),
            Param("session_id", _ID, "The caller; default GIT_ORCH_SESSION."),
            Param("force", Boolean(), "Release another session's lock (recorded)."),
            Param("reason", Text(1000), "Why, for a forced release."),
        ),
        LOCK.key,
        _LOCK,
        f"{_L}:release",
        access=WRITE,
    ),
    Method(
        "lock.list",
        "Locks in force (all with --include-expired); --path: those covering a path.",
        (
            Param("owner_session", _ID, "Only this session's."),
            Param("path", _PATH, "Only locks covering this path."),
            Param("include_expired", Boolean(), "Also expired and released locks."),
        ),
        LOCK.plural,
        list_schema(_LOCK),
        f"{_L}:list_locks",
        access=READ,
        columns=("id", "scope_type", "scope_path", "owner_session", "epoch", "status"),
    ),
)
