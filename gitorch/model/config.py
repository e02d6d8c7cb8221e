"""Settings that travel with the state (``config.yaml``), and their defaults.

Commands are never among them: what runs on a machine comes only from the
call's parameters or that machine's local git config.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 1


def default_config(protected_branch: str) -> dict[str, Any]:
    """The ``config.yaml`` a new state starts with."""
    return {
        "protected_branch": protected_branch,
        "lock_ttl_seconds": 600,
        "heartbeat_timeout_seconds": 300,
        "merge_lock_ttl_seconds": 600,
    }


def initial_meta() -> dict[str, Any]:
    """``meta.yaml`` before the first state commit."""
    return {"schema_version": SCHEMA_VERSION, "state_version": 0}
