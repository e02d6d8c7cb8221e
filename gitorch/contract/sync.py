"""Declaration of ``sync``: the state through any git remote."""

from __future__ import annotations

from gitorch.contract.method import EFFECTS, Method
from gitorch.contract.params import Boolean, Integer, Param, Text

METHODS = (
    Method(
        "sync",
        "Exchange state with a remote: fetch, merge entity by entity, one atomic push (retried).",
        (
            Param("remote", Text(255), "The remote (default: the upstream remote, else origin)."),
            Param("conflicts", Boolean(), "Show the values that lost in recent merges instead."),
            Param(
                "push",
                Boolean(),
                "Push the result (--no-push: fetch and merge only).",
                default=True,
            ),
            Param("limit", Integer(1, 1000), "How many merges --conflicts reads.", default=20),
        ),
        "remote",
        {"type": ["string", "null"]},
        "gitorch.domain.sync:sync",
        access=EFFECTS,
        more_results=(
            ("state", {"type": "string", "description": "adopted, fast_forward, merged, ..."}),
            ("conflicts", {"type": "array", "items": {"type": "object"}}),
            ("revoked", {"type": "array", "items": {"type": "string"}}),
            ("rounds", {"type": "integer"}),
            ("state_version", {"type": "integer"}),
        ),
    ),
)
