"""Declaration of ``status``, the board for people."""

from __future__ import annotations

from gitorch.contract.method import EFFECTS, Method
from gitorch.contract.params import Boolean, Integer, Param, Text

STATUS = {
    "type": "object",
    "description": "What the state holds: counts by kind and status, version, recent changes.",
    "properties": {
        "state_ref": {"type": "string"},
        "state_version": {"type": "integer"},
        "commit": {"type": ["string", "null"]},
        "counts": {"type": "object"},
        "recent_changes": {"type": "array", "items": {"type": "object"}},
        "protected_branch": {"type": "string", "description": "The branch only the queue moves."},
        "remote_state": {
            "type": ["string", "null"],
            "description": "Set when this clone has no state and its remote has: how to adopt it.",
        },
        "rewound": {
            "type": ["object", "null"],
            "description": "Set when the state ref was moved back behind versions it held "
            "(tip_version, highest_version); the next change continues after the highest.",
        },
    },
}

METHODS = (
    Method(
        "status",
        "A summary of the state for people (--format json for the object).",
        (
            Param("history", Integer(0, 1000), "How many recent changes to show.", default=5),
            Param("watch", Boolean(), "Redraw the board until Ctrl-C (the command line's)."),
            Param("interval", Integer(1, 3600), "Seconds between redraws.", default=2),
        ),
        "status",
        STATUS,
        "gitorch.domain.status:summary",
        default_format="table",
    ),
    Method(
        "view",
        "A read-only detached worktree of the state, moved to its tip on every call.",
        (Param("path", Text(4096), "Where (default: <worktree root>/orchestrator-state)."),),
        "path",
        {"type": "string"},
        "gitorch.domain.stateview:view",
        access=EFFECTS,
        more_results=(
            ("commit", {"type": "string"}),
            ("state_version", {"type": "integer"}),
            ("readme", {"type": "string"}),
        ),
    ),
)
