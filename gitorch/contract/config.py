"""Declarations of ``config.get`` and ``config.set``."""

from __future__ import annotations

from gitorch.contract.method import WRITE, Method
from gitorch.contract.params import Integer, Param, Text

CONFIG = {
    "type": "object",
    "description": "Settings that travel with the state (config.yaml).",
    "properties": {
        "protected_branch": {"type": "string"},
        "lock_ttl_seconds": {"type": "integer"},
        "heartbeat_timeout_seconds": {"type": "integer"},
        "merge_lock_ttl_seconds": {"type": "integer"},
        "mirror_path": {"type": "string"},
    },
}
_SECONDS = Integer(1, 7 * 24 * 3600)

METHODS = (
    Method(
        "config.get",
        "The settings that travel with the state: protected branch, default TTLs.",
        (),
        "config",
        CONFIG,
        "gitorch.domain.config:get",
    ),
    Method(
        "config.set",
        "Change settings that travel with the state; those not given keep their values.",
        (
            Param("protected_branch", Text(255), "The branch only the merge queue moves."),
            Param("lock_ttl_seconds", _SECONDS, "Default TTL of a path lock."),
            Param(
                "heartbeat_timeout_seconds", _SECONDS, "Silence after which a session is suspended."
            ),
            Param("merge_lock_ttl_seconds", _SECONDS, "TTL of the main-merge lock."),
            Param("mirror_path", Text(4096), "Where mirror.refresh writes the Markdown page."),
        ),
        "config",
        CONFIG,
        "gitorch.domain.config:set_values",
        access=WRITE,
    ),
)
