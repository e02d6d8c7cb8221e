"""``git orch sync``: the state travels through any git remote, and no value is lost.

One round: fetch the remote's ``refs/orchestrator/state``, ``live`` and
``refs/notes/orchestrator`` into tracking refs under
``refs/orchestrator/remotes/<remote>/``; merge; push everything in one
atomic push that holds only if the remote is still what was fetched
(``--force-with-lease``), else fetch, merge and try again (bounded).

The merge works on what changed since the real merge base (``git
diff-tree``, never a parse of the whole state): a document changed on one
side takes that side; changed on both merges field by field (set fields
unite, ``status`` goes by a fixed precedence per kind, any other field by
the later logical clock ``(version, updated_at)`` with the document's own
text as the tie-break); a lease, a thread and a current ref are merged
whole, by the same clock. Every losing value is kept in the merge commit's
message (``Orch-Conflicts``), which ``sync --conflicts`` shows. The rules
depend only on the two documents, never on which side syncs, so every
clone that merges the same two states makes the same tree. The merged
``state_version`` is one more than the larger of the two, so versions keep
growing along every history. Notes merge with git's ``cat_sort_uniq``; the
live ref (heartbeats) keeps, per document, the newer one.

Two sessions on two machines may each take a lease on one path before
either syncs. Then the lease already on the remote wins and the other is
revoked (released, with the reason) and its session told. ``--remote``
leases sync at once and count only when their push went through.
"""

from __future__ import annotations

import json

from gitorch.domain import cases, checkouts, entities
from gitorch.domain.context import Context
from gitorch.model.codec import dump_doc, load_doc
from gitorch.model.enums import LockStatus
from gitorch.model.errors import GitorchError, InvalidParams, InvalidState, Unavailable
from gitorch.model.kinds import BY_DIRECTORY, LOCK, SESSION, EntityKind
from gitorch.model.testing import crash_point
from gitorch.store.git import is_ancestor, resolve, run_git
from gitorch.store.live import LiveRef
from gitorch.store.objects import Commit, format_commit, parse_commit
from gitorch.store.repository import LIVE_REF, NOTES_REF, STATE_REF, Repository
from gitorch.store.state import Made, Transaction
from gitorch.store.trees import Path, TreeBuilder

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

MAX_ROUNDS = 8
EMPTY_TREE_ID = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
SET_FIELDS = frozenset({"fixtures", "required_files", "artifacts", "affected_files", "paths"})
WHOLE = frozenset({"lock", "thread", "current_ref"})
ARBITRATED = frozenset({"main_lease"})  # changed on both sides: the remote's stands
# fields that are claims: changed on both sides, the remote's stands (it was pushed first)
CLAIMS = frozenset({("node", "owner_session_id"), ("task", "assignee_session")})
# status precedence per kind, lowest first: when both sides changed it, the higher wins
PRECEDENCE: dict[str, tuple[str, ...]] = {
    "task": ("todo", "in_progress", "blocked", "cancelled", "done"),
    "session": (
        "opened", "active_new", "awaiting_resume", "active_resume", "handoff_attached", "closed",
    ),
    "node": ("todo", "in_progress", "blocked", "in_review", "cancelled", "done"),
    "checklist": ("todo", "blocked", "skipped", "done"),
    "worktree": ("planned", "active", "merged_to_parent", "merged_to_main", "removed"),
    "merge_request": (
        "requested", "in_review", "changes_requested", "approved", "queued", "rejected",
        "cancelled", "merged",
    ),
    "main_merge": ("queued", "running", "failed", "cancelled", "merged"),
}  # fmt: skip
TRACK = "refs/orchestrator/remotes"
REFS = {"state": STATE_REF, "live": LIVE_REF, "notes": NOTES_REF}


def tracking(remote: str, name: str) -> str:
    """The tracking ref of one of the remote's refs."""
    return f"{TRACK}/{remote}/{name}"


# -- the merge of two states -------------------------------------------------------------


def _clock(doc: dict[str, Any]) -> tuple[int, str, str]:
    return (
        int(doc.get("version") or 0),
        str(doc.get("updated_at") or ""),
        json.dumps(doc, sort_keys=True, default=str),
    )


def merge_docs(
    kind: EntityKind, base: dict[str, Any] | None, ours: dict[str, Any], theirs: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Two changed versions of one document merged; and every value that lost."""
    later, earlier = (ours, theirs) if _clock(ours) >= _clock(theirs) else (theirs, ours)
    if kind.name in ARBITRATED:
        later, earlier = theirs, ours
    lost: list[dict[str, Any]] = []
    if kind.name in WHOLE or kind.name in ARBITRATED or base is None:
        merged = dict(later)
        if merged != earlier:
            lost.append({"field": "*", "kept": _brief(later), "lost": _brief(earlier)})
    else:
        merged = {}
        for field in sorted(set(ours) | set(theirs)):
            a, b, was = ours.get(field), theirs.get(field), base.get(field)
            if a == b:
                merged[field] = a
            elif a == was:
                merged[field] = b
            elif b == was:
                merged[field] = a
            elif (kind.name, field) in CLAIMS:
                merged[field] = b
                lost.append({"field": field, "kept": b, "lost": a})
            elif field in SET_FIELDS and isinstance(a, list) and isinstance(b, list):
                first, second = (later[field], earlier[field])
                merged[field] = [*first, *(item for item in second if item not in first)]
            elif field == "status" and kind.name in PRECEDENCE:
                order = PRECEDENCE[kind.name]
                rank = {value: n for n, value in enumerate(order)}
                ra, rb = (rank.get(str(a), -1), str(a)), (rank.get(str(b), -1), str(b))
                win, lose = (a, b) if ra >= rb else (b, a)
                merged[field] = win
                lost.append({"field": field, "kept": win, "lost": lose})
            elif field in ("version", "updated_at"):
                merged[field] = max(a, b)  # type: ignore[type-var]
            else:
                merged[field] = later.get(field)
                lost.append({"field": field, "kept": later.get(field), "lost": earlier.get(field)})
    merged["version"] = max(int(ours.get("version") or 0), int(theirs.get("version") or 0)) + 1
    merged["updated_at"] = max(str(ours.get("updated_at", "")), str(theirs.get("updated_at", "")))
    return merged, lost


def _brief(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: doc.get(key) for key in ("version", "updated_at", "status") if key in doc} | {
        "doc": doc
    }


def _changes(repo: Repository, old: str, new: str) -> dict[str, str | None]:
    """Paths whose blob differs between two trees or commits: the new blob (None: removed)."""
    out = run_git(["diff-tree", "-r", "-z", "--no-renames", old, new], repo.path)
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    found: dict[str, str | None] = {}
    i = 0
    while i + 1 < len(fields):
        header, path = fields[i], fields[i + 1]
        i += 2
        if not header.startswith(":"):
            continue
        parts = header[1:].split()
        found[path] = None if parts[4].startswith("D") else parts[3]
    return found


def _doc_at(ctx: Context, blob: str | None, path: str) -> dict[str, Any] | None:
    if blob is None:
        return None
    return load_doc(ctx.store.read_blob(blob), path)


def merge_trees(
    ctx: Context, base: str | None, ours: str, theirs: str
) -> tuple[dict[Path, bytes | None], list[dict[str, Any]]]:
    """What to change in ``ours`` to merge ``theirs`` (since ``base``), and what lost."""
    repo = ctx.store.repo
    start = base or EMPTY_TREE_ID
    mine = _changes(repo, start, ours)
    other = _changes(repo, start, theirs)
    changes: dict[Path, bytes | None] = {}
    conflicts: list[dict[str, Any]] = []
    for path in sorted(other):
        theirs_blob = other[path]
        if path in ("meta.yaml",):
            continue
        if path not in mine:
            changes[tuple(path.split("/"))] = (
                None if theirs_blob is None else ctx.store.read_blob(theirs_blob)
            )
            continue
        ours_blob = mine[path]
        if ours_blob == theirs_blob:
            continue
        if ours_blob is None or theirs_blob is None:  # removed on one side, changed on the other
            kept = ours_blob or theirs_blob
            assert kept is not None
            changes[tuple(path.split("/"))] = ctx.store.read_blob(kept)
            conflicts.append({"path": path, "field": "*", "kept": "changed", "lost": "removed"})
            continue
        was = resolve(repo.path, f"{base}:{path}") if base else None
        kind = BY_DIRECTORY.get(path.split("/", 1)[0])
        a, b = _doc_at(ctx, ours_blob, path), _doc_at(ctx, theirs_blob, path)
        assert a is not None
        assert b is not None
        if kind is None:  # config.yaml and the like: the later text, deterministically
            pick = max(ours_blob, theirs_blob)
            changes[tuple(path.split("/"))] = ctx.store.read_blob(pick)
            conflicts.append(
                {"path": path, "field": "*", "kept": pick, "lost": min(ours_blob, theirs_blob)}
            )
            continue
        merged, lost = merge_docs(kind, _doc_at(ctx, was, path), a, b)
        changes[tuple(path.split("/"))] = dump_doc(merged)
        conflicts += [{"path": path, "id": merged.get("id"), **item} for item in lost]
    return changes, conflicts


def _version_of(ctx: Context, commit: str) -> int:
    return int(ctx.store.snapshot_at(commit).version)


def _merge_commit(ctx: Context, ours: str, theirs: str) -> tuple[str, list[dict[str, Any]]]:
    """Commit the merge of ``theirs`` into ``ours`` (both parents); its conflicts."""
    repo = ctx.store.repo
    try:
        base = run_git(["merge-base", ours, theirs], repo.path).decode("ascii").strip() or None
    except GitorchError:
        base = None  # unrelated histories: everything is new on both sides
    changes, conflicts = merge_trees(ctx, base, ours, theirs)
    version = max(_version_of(ctx, ours), _version_of(ctx, theirs)) + 1
    meta = dict(ctx.store.snapshot_at(ours).meta())
    meta["state_version"] = version
    changes[("meta.yaml",)] = dump_doc(meta)
    head = parse_commit(ctx.store.read_object(ours, "commit")[1])  # type: ignore[index]
    builder = TreeBuilder(ctx.store.tree)
    root = builder.rebuild(ctx.store.tree(head.tree), changes)
    trailer = json.dumps(conflicts, sort_keys=True, default=str, ensure_ascii=False)
    message = (
        f"sync: merge {theirs[:12]} into {ours[:12]} ({len(conflicts)} conflict(s))\n\n"
        f"Orch-Method: sync\nOrch-State-Version: {version}\nOrch-Conflicts: {trailer}\n"
    )
    commit = builder.add(
        "commit",
        format_commit(root, [ours, theirs], ctx.store.ident(), ctx.clock.now_ms() // 1000, message),
    )
    ctx.store.write_objects(builder)
    return commit, conflicts


# -- git plumbing --------------------------------------------------------------------------


def _remote(ctx: Context, given: str | None) -> str:
    repo = ctx.store.repo
    if given:
        name = given
    else:
        branch = checkouts.head(checkouts.main_checkout(repo)).branch
        upstream = checkouts.config_values(repo, f"branch.{branch}.remote") if branch else []
        name = upstream[-1] if upstream else "origin"
    if name.startswith("-") or not checkouts.config_values(repo, f"remote.{name}.url"):
        raise InvalidParams(
            f"remote: no remote called {name!r} (git remote add {name} URL)", {"param": "remote"}
        )
    return name


def _network(args: list[str], repo: Repository, remote: str) -> bytes:
    try:
        return run_git(args, repo.path)
    except GitorchError as exc:
        raise Unavailable(
            f"git {args[0]} {remote} failed: {exc.message}; the local state is untouched",
            {"remote": remote},
        ) from None


def _ls_remote(repo: Repository, remote: str) -> dict[str, str]:
    out = _network(["ls-remote", remote, STATE_REF, LIVE_REF, NOTES_REF], repo, remote)
    found = {}
    for line in out.decode("ascii", "replace").splitlines():
        sha, _, ref = line.partition("\t")
        if ref in REFS.values():
            found[ref] = sha
    return found


def _fetch(repo: Repository, remote: str, present: dict[str, str]) -> dict[str, str | None]:
    """Bring the remote's orchestrator refs into the tracking refs; their values."""
    specs = [f"+{ref}:{tracking(remote, name)}" for name, ref in REFS.items() if ref in present]
    if specs:
        _network(
            ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote, *specs], repo, remote
        )
    out: dict[str, str | None] = {}
    for name, ref in REFS.items():
        if ref in present:  # what was fetched: the remote may have moved since ls-remote
            out[name] = resolve(repo.path, tracking(remote, name))
        else:  # gone on the remote: so is its tracking ref
            out[name] = None
            run_git(["update-ref", "-d", tracking(remote, name)], repo.path, ok_codes=(0, 1))
    return out


def _check_state(ctx: Context, commit: str, remote: str) -> None:
    """``invalid_state`` unless the remote's state is a gitorch state."""
    try:
        ctx.store.snapshot_at(commit).meta()
    except InvalidState as exc:
        raise InvalidState(
            f"{remote}'s {STATE_REF} is not a gitorch state: {exc.message}; nothing was merged",
            {"remote": remote, "commit": commit},
        ) from None


# -- one sync --------------------------------------------------------------------------------


def sync(
    ctx: Context,
    *,
    remote: str | None = None,
    conflicts: bool = False,
    push: bool = True,
    limit: int = 20,
) -> dict[str, Any]:
    """Exchange state with a remote (see the module's text); ``conflicts``: show past losers."""
    if conflicts:
        return {"remote": remote, "conflicts": recorded_conflicts(ctx, limit)}
    name = _remote(ctx, remote)
    return exchange(ctx, name, push=push)


def exchange(ctx: Context, name: str, *, push: bool = True) -> dict[str, Any]:
    """Rounds of fetch, merge, push until the push holds."""
    repo = ctx.store.repo
    report: dict[str, Any] = {"remote": name, "rounds": 0, "conflicts": [], "revoked": []}
    for _ in range(MAX_ROUNDS):
        report["rounds"] += 1
        present = _ls_remote(repo, name)
        fetched = _fetch(repo, name, present)
        crash_point("sync:fetched")
        outcome, found, revoked = _merge_state(ctx, name, fetched["state"])
        crash_point("sync:merged")
        report["state"] = outcome
        report["conflicts"] += found
        report["revoked"] += revoked
        _merge_notes(ctx, name, fetched["notes"])
        _merge_live(ctx, name, fetched["live"])
        if not push:
            break
        if _push(ctx, name, fetched):
            crash_point("sync:pushed")
            report["pushed"] = True
            break
    else:
        raise Unavailable(
            f"{name} kept moving: {MAX_ROUNDS} rounds of fetch and merge; try again",
            {"remote": name},
        )
    report["state_commit"] = resolve(repo.path, STATE_REF)
    report["state_version"] = ctx.read().version
    return report


def _merge_state(
    ctx: Context, remote: str, theirs: str | None
) -> tuple[str, list[dict[str, Any]], list[str]]:
    repo = ctx.store.repo
    if theirs is None:
        return "remote_has_none", [], []
    _check_state(ctx, theirs, remote)
    outcome: list[str] = []
    conflicts: list[dict[str, Any]] = []

    def build(current: str | None, head: Commit | None) -> Made | None:
        conflicts.clear()
        if current is None:
            outcome[:] = ["adopted"]
            return Made(theirs, f"sync: adopt {remote}'s state", TreeBuilder(ctx.store.tree))
        if current == theirs or is_ancestor(repo.path, theirs, current):
            outcome[:] = ["up_to_date"]
            return None
        if is_ancestor(repo.path, current, theirs):
            outcome[:] = ["fast_forward"]
            return Made(
                theirs, f"sync: fast-forward to {remote}'s state", TreeBuilder(ctx.store.tree)
            )
        commit, found = _merge_commit(ctx, current, theirs)
        conflicts[:] = found
        outcome[:] = ["merged"]
        return Made(commit, f"sync: merge {remote}'s state", TreeBuilder(ctx.store.tree))

    ctx.store.swap_ref(STATE_REF, build)
    revoked = _revoke_losing_leases(ctx, remote, theirs) if outcome[0] == "merged" else []
    return outcome[0], list(conflicts), revoked


def _revoke_losing_leases(ctx: Context, remote: str, theirs: str) -> list[str]:
    """Leases the merge left overlapping: the one already on the remote wins."""
    from gitorch.domain import locks

    on_remote = {doc["id"] for doc in entities.load_all(ctx.store.snapshot_at(theirs), LOCK)}

    def apply(tx: Transaction) -> list[str]:
        alive = [lock for lock in locks.view_locks(ctx, tx) if lock["status"] == LockStatus.ACTIVE]
        index = locks.PathIndex(alive)
        revoked = []
        for lock in alive:
            if lock["id"] in on_remote:
                continue
            rivals = [
                other
                for other in index.overlapping(lock["scope_type"], lock["scope_path"])
                if other["id"] in on_remote and other["owner_session"] != lock["owner_session"]
            ]
            if not rivals:
                continue
            winner = min(rivals, key=lambda other: (other["epoch"], other["id"]))
            reason = (
                f"revoked by sync: {winner['id']} of session {winner['owner_session']} reached"
                f" {remote} first for {winner['scope_path']}"
            )
            doc = entities.load(tx, LOCK, lock["id"])
            revoke = {"status": LockStatus.RELEASED.value, "released_by": "sync"}
            entities.change(ctx, tx, LOCK, doc, {**revoke, "release_reason": reason})
            owner = tx.read(SESSION, lock["owner_session"])
            if owner is not None:
                cases.point_ref(ctx, tx, owner, {"next_action": reason})
            revoked.append(lock["id"])
        return revoked

    return ctx.transact(apply)


def _merge_notes(ctx: Context, remote: str, theirs: str | None) -> None:
    repo = ctx.store.repo
    if theirs is None:
        return
    ours = resolve(repo.path, NOTES_REF)
    if ours is None:
        run_git(["update-ref", NOTES_REF, theirs, ""], repo.path)
        return
    if ours == theirs or is_ancestor(repo.path, theirs, ours):
        return
    run_git(
        [
            "notes",
            f"--ref={NOTES_REF}",
            "merge",
            "--quiet",
            "-s",
            "cat_sort_uniq",
            tracking(remote, "notes"),
        ],
        repo.path,
    )


def _merge_live(ctx: Context, remote: str, theirs: str | None) -> None:
    if theirs is None:
        return
    mine = LiveRef(ctx.store).read_all()
    other = LiveRef(ctx.store, tracking(remote, "live")).read_all()
    newer: dict[str, dict[str, Any] | None] = {}
    for path, doc in other.items():
        current = mine.get(path)
        if current is None or _live_key(doc) > _live_key(current):
            newer[path] = doc
    if newer:
        LiveRef(ctx.store).put(newer, subject=f"sync: live from {remote}")


def _live_key(doc: dict[str, Any]) -> tuple[str, str]:
    return (
        str(doc.get("last_seen_at") or doc.get("expires_at") or ""),
        json.dumps(doc, sort_keys=True, default=str),
    )


def _push(ctx: Context, remote: str, fetched: dict[str, str | None]) -> bool:
    """One atomic push of every orchestrator ref, holding only if the remote is as fetched."""
    repo = ctx.store.repo
    args = ["push", "--atomic", "--quiet", "--no-verify", "--porcelain"]
    specs = []
    for name, ref in REFS.items():
        tip = resolve(repo.path, ref)
        if tip is None or tip == fetched[name]:
            continue
        expected = fetched[name] or ""
        args.append(f"--force-with-lease={ref}:{expected}")
        specs.append(f"{ref}:{ref}")  # no "+": it would override the lease
    if not specs:
        return True
    try:
        run_git([*args, remote, *specs], repo.path)
    except GitorchError as exc:
        text = exc.message + str(exc.details)
        if "stale info" in text or "rejected" in text or "fetch first" in text or "atomic" in text:
            return False
        raise Unavailable(f"git push {remote} failed: {exc.message}", {"remote": remote}) from None
    for name, ref in REFS.items():  # the remote now has what we pushed
        tip = resolve(repo.path, ref)
        if tip is not None:
            run_git(["update-ref", tracking(remote, name), tip], repo.path)
    return True


def recorded_conflicts(ctx: Context, limit: int) -> list[dict[str, Any]]:
    """The values that lost in the last ``limit`` sync merges, newest first."""
    repo = ctx.store.repo
    if resolve(repo.path, STATE_REF) is None:
        return []
    out = run_git(
        ["log", "--merges", f"-{limit}", "--format=%H%x00%B%x00", STATE_REF], repo.path
    ).decode("utf-8", "replace")
    found = []
    fields = out.split("\0")
    for commit, body in zip(fields[0::2], fields[1::2], strict=False):
        for line in body.splitlines():
            if line.startswith("Orch-Conflicts: "):
                for item in json.loads(line[len("Orch-Conflicts: ") :]):
                    found.append({"commit": commit.strip(), **item})
    return found


def remote_name(ctx: Context, given: str | None) -> str:
    """The remote a call names, else the upstream remote, else ``origin``; it must exist."""
    return _remote(ctx, given)


def _taken(result: dict[str, Any]) -> tuple[EntityKind, str, dict[str, Any]] | None:
    """What a call just took, as (kind, id, the values that make it ours)."""
    from gitorch.model.kinds import MAIN_LEASE, NODE, TASK

    lease = result.get("lock") or {}
    if str(lease.get("id", "")).startswith(MAIN_LEASE.prefix + "-"):
        expected = {"holder_session": lease["holder_session"], "epoch": lease["epoch"]}
        return MAIN_LEASE, lease["id"], expected
    if lease.get("id"):
        return LOCK, lease["id"], {"status": LockStatus.ACTIVE.value}
    claimed = result.get("claimed")
    if claimed:
        field = "owner_session_id" if claimed["kind"] == "node" else "assignee_session"
        return (NODE if claimed["kind"] == "node" else TASK), claimed["id"], {field: claimed[field]}
    return None


def publish(ctx: Context, name: str, result: dict[str, Any]) -> dict[str, Any]:
    """Sync what a ``--remote`` call took; it counts only if still ours once the push held.

    A lease or claim another clone's push reached the remote with first is
    ``conflict`` naming the winner; a lock that could not be published (the
    push failed) is released here, and the call answers ``unavailable``.
    """
    from gitorch.model.errors import Conflict

    taken = _taken(result)
    try:
        report = exchange(ctx, name)
    except GitorchError:
        if taken is not None and taken[0] is LOCK:
            _release(ctx, taken[1], f"not published: the push to {name} failed")
        raise
    brief = {k: report[k] for k in ("remote", "rounds", "state")}
    if taken is None:
        return {**result, "sync": brief}
    kind, entity_id, expected = taken
    now = ctx.read().read(kind, entity_id) or {}
    lost = {field: now.get(field) for field, value in expected.items() if now.get(field) != value}
    if lost:
        reason = now.get("release_reason") or ", ".join(f"{k} is now {v}" for k, v in lost.items())
        raise Conflict(
            f"{kind.name} {entity_id} is not this call's on {name}: {reason}",
            {kind.key: now, "lost": lost, "sync": brief},
        )
    return {**result, "sync": brief}


def _release(ctx: Context, lock_id: str, reason: str) -> None:
    def apply(tx: Transaction) -> None:
        doc = entities.load(tx, LOCK, lock_id)
        revoke = {"status": LockStatus.RELEASED.value, "released_by": "sync"}
        entities.change(ctx, tx, LOCK, doc, {**revoke, "release_reason": reason})

    ctx.transact(apply)


def remote_hint(ctx: Context) -> str | None:
    """For a clone with no state yet: whether its remote has some, and how to get it."""
    try:
        name = _remote(ctx, None)
        present = _ls_remote(ctx.store.repo, name)
    except GitorchError:
        return None
    if STATE_REF not in present:
        return None
    return f"{name} has orchestrator state that this clone lacks: run `git orch sync` to adopt it"
