"""A summary of what the state holds, for people: ``git orch status``."""

from __future__ import annotations

from gitorch.domain.context import Context
from gitorch.model.clock import format_ts
from gitorch.model.kinds import BY_DIRECTORY
from gitorch.store.state import Snapshot

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any


def summary(ctx: Context, view: Snapshot, *, history: int = 5) -> dict[str, Any]:
    """Counts by kind and status, the state version, and the latest changes."""
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
    return {
        "status": {
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
