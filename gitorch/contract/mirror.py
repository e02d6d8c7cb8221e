"""Declarations of the Markdown mirror methods."""

from __future__ import annotations

from gitorch.contract.method import EFFECTS, READ, Method
from gitorch.contract.params import Param, Text

_PATH = Text(4096)
_MORE = (
    ("md_version", {"type": ["integer", "null"], "description": "The version the page shows."}),
    ("outdated", {"type": "boolean"}),
    ("md_path", {"type": "string"}),
)

METHODS = (
    Method(
        "mirror.status",
        "Whether the Markdown mirror shows the current state: db_version, md_version, path.",
        (Param("target_path", _PATH, "The page (default: config mirror_path)."),),
        "db_version",
        {"type": "integer", "description": "The state version now."},
        "gitorch.domain.mirror:status",
        access=READ,
        more_results=_MORE,
    ),
    Method(
        "mirror.refresh",
        "Render the Markdown mirror (doc-mirror-manager only): the same state, the same bytes.",
        (
            Param("requester_role", Text(100), "Must be doc-mirror-manager.", True),
            Param("target_path", _PATH, "Where, inside the repository (default: config)."),
        ),
        "db_version",
        {"type": "integer", "description": "The state version rendered."},
        "gitorch.domain.mirror:refresh",
        access=EFFECTS,
        more_results=_MORE,
    ),
)
