"""Settings that travel with the state (``config.yaml``), and their defaults.

Commands are never among them: what runs on a machine comes only from the
call's parameters or that machine's local git config.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
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


_BAD_IN_REFS = frozenset(" ~^:?*[\\\x7f")


def check_branch_name(name: str, param: str = "protected_branch") -> str:
    """``name`` if git accepts it as a branch name (the rules of git check-ref-format)."""
    problem = None
    if not name or name == "@" or name.startswith("-"):
        problem = "is empty, '@', or starts with '-'"
    elif any(ord(c) < 32 or c in _BAD_IN_REFS for c in name):
        problem = "holds a space, a control character, or one of ~^:?*[\\"
    elif ".." in name or "@{" in name or "//" in name:
        problem = "holds '..', '@{' or '//'"
    elif name.startswith("/") or name.endswith(("/", ".", ".lock")):
        problem = "starts with '/' or ends with '/', '.' or '.lock'"
    elif any(part.startswith(".") for part in name.split("/")):
        problem = "has a part that starts with '.'"
    if problem is not None:
        from gitorch.model.errors import InvalidParams

        raise InvalidParams(
            f"{param}: {name!r} is not a valid branch name: it {problem}",
            {"param": param, "value": name},
        )
    return name
