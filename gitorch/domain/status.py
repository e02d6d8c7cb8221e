"""A summary of what the state holds, for people: ``git orch status``."""

from __future__ import annotations

from gitorch.domain.context import Context
from gitorch.model.clock import format_ts
from gitorch.model.errors import GitorchError
from gitorch.model.kinds import BY_DIRECTORY
from gitorch.store.state import Snapshot

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any


def summary(
    ctx: Context,
    view: Snapshot,
    *,
    history: int = 5,
    watch: bool = False,
    interval: int = 2,
) -> dict[str, Any]:
    """Counts by kind and status, the state version, and the latest changes.

    The board's sections too: sessions, threads, leases, the queue, ready
    work, the plans' progress. ``watch``/``interval`` are the command line's
    (it redraws the board until Ctrl-C); a call answers once.
    """
    del watch, interval
    counts: dict[str, dict[str, Any]] = {}
    for directory in view.kinds_present():
        kind = BY_DIRECTORY.get(directory)
        if kind is None:
            continue
        by_status: dict[str, int] = {}
        docs = view.docs(kind)
        for doc in docs:
            key = str(doc.get("status", "-"))
            by_status[key] = by_status.get(key, 0) + 1
        counts[kind.name] = {"total": len(docs), "by_status": dict(sorted(by_status.items()))}
    changes = []
    for commit, head in ctx.store.iter_history(history):
        trailers = dict(
            line.split(": ", 1) for line in head.message.splitlines() if line.startswith("Orch-")
        )
        seconds = head.committer.rsplit(" ", 2)[-2] if head.committer.count(" ") >= 2 else "0"
        changes.append(
            {
                "commit": commit,
                "at": format_ts(int(seconds) * 1000) if seconds.isdigit() else None,
                "subject": head.message.split("\n", 1)[0],
                "method": trailers.get("Orch-Method"),
                "session": trailers.get("Orch-Session"),
            }
        )
    hint = None
    if view.commit is None:
        from gitorch.domain import sync

        hint = sync.remote_hint(ctx)
    board = _board(ctx, view) if view.commit is not None else {}
    return {
        "status": {
            **board,
            "remote_state": hint,
            "state_ref": "refs/orchestrator/state",
            "state_version": view.version,
            "commit": view.commit,
            "counts": counts,
            "recent_changes": changes,
            "rewound": ctx.store.rewound(),
            "protected_branch": view.config().get("protected_branch"),
        }
    }


def _board(ctx: Context, view: Snapshot) -> dict[str, Any]:
    """What a person watching a fleet wants at a glance."""
    from gitorch.domain import entities, graph, liveness, locks, queue, sessions, threads
    from gitorch.model.kinds import NODE, SESSION, THREAD

    live = liveness.last_seen(ctx)
    people = []
    for doc in entities.load_all(view, SESSION):
        if doc["status"] not in sessions.OPEN:
            continue
        shown = sessions.present(ctx, doc, live)
        state = (
            "handed off"
            if doc.get("attached_by")
            else ("suspended" if shown["suspended"] else "live")
        )
        people.append(
            {"id": doc["id"], "role": doc.get("agent_role"), "state": state,
             "last_seen_at": shown["last_seen_at"]}
        )  # fmt: skip
    people.sort(key=lambda row: (row["state"], row["id"]))
    recorded = entities.load_all(view, THREAD)
    try:
        seen_all = threads.observed(ctx, recorded)
    except GitorchError:  # tmux failing: the board shows what was recorded
        seen_all = recorded
    agents = [
        {"id": seen["id"], "session": seen["session_id"], "role": seen["role"],
         "status": seen["status"], "title": seen.get("title")}
        for seen in seen_all
    ]  # fmt: skip
    agents.sort(key=lambda row: (row["session"], row["id"]))
    leases = [
        {"id": lock["id"], "path": lock["scope_path"] or ".", "owner": lock["owner_session"],
         "epoch": lock["epoch"], "expires_at": lock["expires_at"]}
        for lock in locks.view_locks(ctx, view)
        if lock["in_force"]
    ]  # fmt: skip
    listed = queue.main_list(ctx, view)
    line = [
        {"id": e["id"], "status": e["status"], "branch": e["branch"], "session": e["session_id"],
         "reason": e.get("reason")}
        for e in listed["main_merges"]
        if e["status"] in ("queued", "running")
    ]  # fmt: skip
    done = [
        {"id": e["id"], "status": e["status"], "branch": e["branch"], "reason": e.get("reason")}
        for e in listed["main_merges"]
        if e["status"] not in ("queued", "running")
    ][:5]
    ready = [
        {"id": item["id"], "kind": item["kind"], "title": item.get("title")}
        for item in graph.ready_items(ctx, view)[:5]
    ]
    nodes = entities.load_all(view, NODE)
    children: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        if node.get("parent_id"):
            children.setdefault(node["parent_id"], []).append(node)
    plans = []
    for node in nodes:
        if node["node_type"] != "plan":
            continue
        under = children.get(node["id"], [])
        finished = sum(1 for child in under if child["status"] == "done")
        plans.append(
            {"id": node["id"], "title": node["title"], "done": finished, "total": len(under)}
        )
    return {
        "sessions": people,
        "threads": agents,
        "leases": leases,
        "main_lease": listed.get("lock"),
        "queue": line,
        "landed_or_failed": done,
        "ready": ready,
        "plans": sorted(plans, key=lambda row: row["id"]),
    }
