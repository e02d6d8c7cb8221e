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
        self._dirs: tuple[str, str, bool] | None = None
        self._toplevel: str | None = None

    def _locate(self) -> tuple[str, str, bool]:
        if self._dirs is None:
            out = read_git(
                [
                    "rev-parse",
                    "--path-format=absolute",
                    "--git-common-dir",
                    "--git-dir",
                    "--is-bare-repository",
                ],
                self.path,
            )
            common, git_dir, bare = out.decode("utf-8").splitlines()
            self._dirs = (common, git_dir, bare == "true")
        return self._dirs

    @property
    def common_dir(self) -> str:
        """The git directory all worktrees share (objects, refs, our lock)."""
        return self._locate()[0]

    @property
    def git_dir(self) -> str:
        """This worktree's own git directory."""
        return self._locate()[1]

    @property
    def is_bare(self) -> bool:
        """Whether the repository has no working tree."""
        return self._locate()[2]

    @property
    def toplevel(self) -> str:
        """The top of the working tree ``path`` is in."""
        if self._toplevel is None:
            if self.is_bare:
                raise NotFound("a bare repository has no working tree", {"path": self.path})
            self._toplevel = read_git(["rev-parse", "--show-toplevel"], self.path).decode().strip()
        return self._toplevel

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
