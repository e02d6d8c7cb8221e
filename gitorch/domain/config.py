"""Settings that travel with the state: ``config.get`` and ``config.set``."""

from __future__ import annotations

from gitorch.domain.context import Context
from gitorch.model.config import check_branch_name
from gitorch.model.paths import normalise
from gitorch.store.state import Snapshot, Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any


def get(ctx: Context, view: Snapshot) -> dict[str, Any]:
    """The settings in force (defaults where the state holds none yet)."""
    return {"config": view.config()}


def set_values(
    ctx: Context,
    tx: Transaction,
    *,
    protected_branch: str | None = None,
    lock_ttl_seconds: int | None = None,
    heartbeat_timeout_seconds: int | None = None,
    merge_lock_ttl_seconds: int | None = None,
    mirror_path: str | None = None,
) -> dict[str, Any]:
    """Change the settings given; the others keep their values."""
    config = dict(tx.config())
    changes: dict[str, Any] = {
        "protected_branch": check_branch_name(protected_branch)
        if protected_branch is not None
        else None,
        "lock_ttl_seconds": lock_ttl_seconds,
        "heartbeat_timeout_seconds": heartbeat_timeout_seconds,
        "merge_lock_ttl_seconds": merge_lock_ttl_seconds,
        "mirror_path": normalise(mirror_path, "mirror_path", prefix=False) if mirror_path else None,
    }
    new = {**config, **{k: v for k, v in changes.items() if v is not None}}
    if new != config:
        tx.set_config(new)
    return {"config": new}
