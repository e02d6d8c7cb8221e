"""The registry: every method, declared once, and lookup by name."""

from __future__ import annotations

from gitorch.contract import (
    cases,
    config,
    graph,
    hooks,
    locks,
    merge,
    mirror,
    sessions,
    status,
    sync,
    tasks,
    threads,
    worktrees,
)
from gitorch.contract.method import Method
from gitorch.model.errors import UsageError

METHODS: dict[str, Method] = {
    method.name: method
    for module in (
        sessions,
        tasks,
        cases,
        graph,
        worktrees,
        locks,
        threads,
        merge,
        hooks,
        mirror,
        config,
        status,
        sync,
    )
    for method in module.METHODS
}


def lookup(name: str) -> Method:
    """The method called ``name``; a usage error (exit 2) naming close matches otherwise."""
    method = METHODS.get(name)
    if method is None:
        close = sorted(known for known in METHODS if known.split(".")[0] == name.split(".")[0])
        raise UsageError(
            f"unknown method {name!r}" + (f"; did you mean {', '.join(close)}?" if close else ""),
            {"method": name, "close": close},
            code="not_found",
        )
    return method
