"""Where a repository keeps things: found once, by asking git."""

from __future__ import annotations

import os

from gitorch.model.errors import GitorchError, NotFound, Unavailable
from gitorch.store.git import read_git

STATE_REF = "refs/orchestrator/state"
LIVE_REF = "refs/orchestrator/live"
NOTES_REF = "refs/notes/orchestrator"

OBJECT_FORMAT = "sha1"  # the ids the state's trees and commits are written with


class Repository:
    """A git repository seen from ``path`` (any directory inside it, linked worktrees too).

    Nothing runs until a property is asked for; then one ``git rev-parse``
    tells the common directory, the object directory (which honours
    ``GIT_OBJECT_DIRECTORY``) and the object format. A repository whose
    objects are not SHA-1 is refused before anything is read or written:
    the state's trees and commits are SHA-1 objects.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = os.path.abspath(os.fspath(path) if path is not None else os.getcwd())
        if not os.path.isdir(self.path):
            raise NotFound(f"no such directory: {self.path}", {"path": self.path})
        self._dirs: tuple[str, str] | None = None
        self._top: str | None = None

    def _discover(self) -> tuple[str, str]:
        if self._dirs is None:
            out = read_git(
                [
                    "rev-parse",
                    "--path-format=absolute",
                    "--git-common-dir",
                    "--git-path",
                    "objects",
                    "--show-object-format",
                    "--is-inside-work-tree",
                    "--show-prefix",
                ],
                self.path,
            )
            lines = out.decode("utf-8", "surrogateescape").split("\n")[:5]
            if len(lines) != 5:
                raise Unavailable(
                    f"git rev-parse gave an unexpected answer in {self.path}: {lines!r}",
                    {"path": self.path},
                )
            common_dir, objects_dir, object_format, inside, prefix = lines
            if object_format != OBJECT_FORMAT:
                raise Unavailable(
                    f"the repository at {self.path} uses {object_format} object ids; "
                    f"gitorch supports only {OBJECT_FORMAT} repositories and wrote nothing",
                    {"path": self.path, "object_format": object_format},
                )
            self._dirs = (common_dir, objects_dir)
            if inside == "true":
                top = self.path
                for _ in [part for part in prefix.split("/") if part]:
                    top = os.path.dirname(top)
                self._top = top
        return self._dirs

    def check(self) -> None:
        """Refuse now, before any read or write, a repository gitorch cannot serve."""
        self._discover()

    @property
    def common_dir(self) -> str:
        """The git directory all worktrees share (refs, our lock)."""
        return self._discover()[0]

    @property
    def objects_dir(self) -> str:
        """The object database git writes to (``GIT_OBJECT_DIRECTORY`` included)."""
        return self._discover()[1]

    @property
    def orch_dir(self) -> str:
        """Local, unshared files: the write lock, caches, logs."""
        path = os.path.join(self.common_dir, "orchestrator")
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as exc:
            raise Unavailable(
                f"cannot create {path}: {exc.strerror or exc}", {"path": path}
            ) from None
        return path

    def toplevel(self) -> str:
        """The top directory of the worktree ``path`` is in (the repository's files)."""
        self._discover()
        if self._top is None:
            raise NotFound(f"no worktree at {self.path} (a bare repository?)", {"path": self.path})
        return self._top

    def default_branch(self) -> str:
        """The branch gitorch protects unless config.yaml says otherwise.

        What the remote calls its default (``origin/HEAD``), else the branch
        the main worktree is on, else ``init.defaultBranch``, else ``main``.
        """
        remote = self._git_line(["symbolic-ref", "-q", "refs/remotes/origin/HEAD"])
        if remote.startswith("refs/remotes/origin/"):
            return remote[len("refs/remotes/origin/") :]
        head = self._main_worktree_branch()
        if head:
            return head
        return self._git_line(["config", "--get", "init.defaultBranch"]) or "main"

    def _git_line(self, args: list[str]) -> str:
        """The first line git prints, or ``""`` when it fails (an unset value)."""
        try:
            out = read_git(args, self.path).decode("utf-8", "replace")
        except GitorchError:
            return ""
        return out.strip().split("\n", 1)[0]

    def _main_worktree_branch(self) -> str:
        """The branch the main worktree's HEAD names, or ``""`` (detached, unreadable)."""
        try:
            with open(os.path.join(self.common_dir, "HEAD"), encoding="utf-8") as handle:
                head = handle.read().strip()
        except OSError:
            return ""
        return head[16:] if head.startswith("ref: refs/heads/") else ""
