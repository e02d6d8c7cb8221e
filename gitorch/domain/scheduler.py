"""``scheduler.decide_worktree``: whether a piece of work deserves its own worktree.

A pure score, every term explained (CONTRACT.md): changed files, the
estimate in quarter hours, three times the risk, two per extra parallel
worker, two per conflicting path, and three more for each of those paths
another session holds a lock on. Twelve or more: a worktree; less: shared.
"""

from __future__ import annotations

import math

from gitorch.domain import locks
from gitorch.domain.context import Context
from gitorch.model.errors import InvalidParams
from gitorch.model.paths import normalise
from gitorch.store.state import Snapshot

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

THRESHOLD = 12
RISK = {"low": 1, "medium": 2, "high": 3}


def _risk(risk: str | None) -> int:
    if risk is None:
        return 0
    text = risk.strip().lower()
    if text in RISK:
        return RISK[text]
    if text.lstrip("-").isdigit():
        return int(text)
    raise InvalidParams(
        f"risk: {risk!r} is not low, medium, high or an integer", {"param": "risk", "value": risk}
    )


def decide(
    ctx: Context,
    view: Snapshot,
    *,
    changed_files: int = 0,
    estimate_minutes: int = 0,
    risk: str | None = None,
    parallel_workers: int = 1,
    conflicting_paths: list[str] | None = None,
    session_id: str | None = None,
) -> dict[str, Any]:
    """``worktree`` when the score reaches 12, else ``shared``, with every term that counted."""
    paths = [normalise(p, "conflicting_paths", prefix=True) for p in conflicting_paths or []]
    me = session_id or ctx.session
    held = locks.view_locks(ctx, view) if paths else []
    locked = [p for p in paths if locks.blocking(held, me, p)]
    terms = [
        ("changed_files", changed_files, f"{changed_files} changed file(s)"),
        (
            "estimate_minutes",
            math.ceil(estimate_minutes / 15),
            f"about {estimate_minutes} minutes: {math.ceil(estimate_minutes / 15)} quarter hour(s)",
        ),
        ("risk", 3 * _risk(risk), f"risk {risk}: 3 x {_risk(risk)}"),
        (
            "parallel_workers",
            2 * (parallel_workers - 1) if parallel_workers > 1 else 0,
            f"{parallel_workers} parallel workers: 2 per extra worker",
        ),
        ("conflicting_paths", 2 * len(paths), f"{len(paths)} conflicting path(s): 2 each"),
        (
            "locked_paths",
            3 * len(locked),
            f"{len(locked)} of them locked by another session: 3 each ({', '.join(locked)})",
        ),
    ]
    score = sum(points for _, points, _ in terms)
    reasons = [
        {"term": term, "points": points, "why": why} for term, points, why in terms if points
    ]
    mode = "worktree" if score >= THRESHOLD else "shared"
    return {"mode": mode, "score": score, "threshold": THRESHOLD, "reasons": reasons}
