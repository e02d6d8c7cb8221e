"""Where a repository keeps things: found once, by asking git."""

from __future__ import annotations

import os

from gitorch.model.errors import NotFound
from gitorch.store.git import read_git

STATE_REF = "refs/orchestrator/state"
LIVE_REF = "refs/orchestrator/live"
NOTES_REF = "refs/notes/orchestrator"


class Repository:
    """A git repository seen from ``path`` (any directory inside it, linked worktrees too).

    Nothing runs until a property is asked for, so a read that needs only
    ``git cat-file`` never pays for ``git rev-parse``.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = os.path.abspath(os.fspath(path) if path is not None else os.getcwd())
        if not os.path.isdir(self.path):
            raise NotFound(f"no such directory: {self.path}", {"path": self.path})
        self._common_dir: str | None = None

    @property
    def common_dir(self) -> str:
        """The git directory all worktrees share (objects, refs, our lock)."""
        if self._common_dir is None:
            out = read_git(["rev-parse", "--path-format=absolute", "--git-common-dir"], self.path)
            self._common_dir = out.decode("utf-8").strip()
        return self._common_dir

    @property
    def objects_dir(self) -> str:
        """The object database."""
        return os.path.join(self.common_dir, "objects")

    @property
    def orch_dir(self) -> str:
        """Local, unshared files: the write lock, caches, counters."""
        path = os.path.join(self.common_dir, "orchestrator")
        os.makedirs(path, exist_ok=True)
        return path
