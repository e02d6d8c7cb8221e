"""``git orch view``: the state as files, in a detached worktree kept current.

Agents that read by checking out (the original design's way) get a
detached worktree of ``refs/orchestrator/state`` (default
``<worktree root>/orchestrator-state``), moved to the tip on every call and
left read-only: edits there are never read back, and the next call puts
the files back as the state has them. ``git worktree add --detach PATH
orchestrator/state`` gives the same files by hand.
"""

from __future__ import annotations

import os
import stat

from gitorch.domain import checkouts
from gitorch.domain.context import Context
from gitorch.model.errors import GitorchError, PreconditionFailed
from gitorch.store.git import run_git
from gitorch.store.repository import STATE_REF

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

DEFAULT_NAME = "orchestrator-state"


def _is_view(repo_path: str, path: str) -> bool:
    """Whether ``path`` is a detached worktree of this repository (ours to move)."""
    listed = checkouts.checked_out(repo_path)
    wanted = os.path.realpath(path)
    return wanted in listed and listed[wanted] is None


def view(ctx: Context, *, path: str | None = None) -> dict[str, Any]:
    """Make or refresh the read-only checkout of the state; where it is, at which version."""
    repo = ctx.store.repo
    snapshot = ctx.read()
    if snapshot.commit is None:
        raise PreconditionFailed(
            "there is no state yet (or run `git orch sync` to adopt a remote's)", {}
        )
    where = (
        os.path.abspath(path) if path else os.path.join(checkouts.worktree_root(repo), DEFAULT_NAME)
    )
    if os.path.exists(where) and os.listdir(where) and not _is_view(repo.path, where):
        raise PreconditionFailed(
            f"{where} exists and is not a detached worktree of this repository;"
            " choose another path",
            {"path": where},
        )
    try:
        if os.path.exists(where) and _is_view(repo.path, where):
            _writable(where, True)
            run_git(["checkout", "-q", "--detach", "--force", snapshot.commit], where)
            run_git(["clean", "-q", "-f", "-d", "-x"], where)
        else:
            run_git(
                ["worktree", "add", "-q", "--detach", "--force", where, snapshot.commit], repo.path
            )
    finally:
        if os.path.isdir(where):
            _writable(where, False)
    return {
        "path": where,
        "commit": snapshot.commit,
        "state_version": snapshot.version,
        "state_ref": STATE_REF,
        "readme": os.path.join(where, "README.md"),
    }


def _writable(root: str, allow: bool) -> None:
    """Files under ``root`` (not .git) made writable again, or read-only."""
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            if name == ".git":
                continue
            full = os.path.join(directory, name)
            try:
                mode = os.stat(full).st_mode
                os.chmod(full, (mode | stat.S_IWUSR) if allow else (mode & ~0o222))
            except (FileNotFoundError, GitorchError):
                continue
