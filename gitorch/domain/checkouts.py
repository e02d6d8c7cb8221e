"""Git worktrees on disk: where they go, how they are made, what they hold.

The outside world of the session and worktree methods, behind small
functions: ``git worktree add``, a worktree's HEAD, the notes rewrite
settings. gitorch's worktrees live under one root that ``git status`` of
the main checkout never shows (``.orch-worktrees/`` beside the main
checkout's files, listed in ``info/exclude``; local git config
``orch.worktreeRoot`` moves it).
"""

from __future__ import annotations

import os
import re
from collections import namedtuple

from gitorch.model.errors import GitorchError, PreconditionFailed
from gitorch.store.git import read_git, resolve, run_git
from gitorch.store.repository import NOTES_REF, Repository

DEFAULT_ROOT = ".orch-worktrees"
_SLUG = re.compile(r"[^a-z0-9]+")


TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import NamedTuple

if TYPE_CHECKING:

    class _HeadFields(NamedTuple):
        path: str
        branch: str | None
        commit: str | None

else:
    _HeadFields = namedtuple("_HeadFields", ("path", "branch", "commit"))


class Head(_HeadFields):
    """What a worktree has checked out."""

    __slots__ = ()


def worktree_root(repo: Repository) -> str:
    """The directory every gitorch worktree lives under (made, and excluded, on first use)."""
    main = main_checkout(repo)
    configured = _config(repo, "orch.worktreeRoot")
    root = os.path.abspath(os.path.join(main, configured or DEFAULT_ROOT))
    if configured is None:
        _exclude(repo, f"/{DEFAULT_ROOT}/")
    return root


def main_checkout(repo: Repository) -> str:
    """The top directory of the main worktree (the one the common dir belongs to)."""
    common = repo.common_dir
    if os.path.basename(common) == ".git":
        return os.path.dirname(common)
    return repo.toplevel()


def inside(root: str, path: str) -> str | None:
    """``path`` (relative to ``root``) with symlinks resolved, if it lies below ``root``.

    None when it leads anywhere else (``..``, an absolute path, a symlink out).
    """
    top = os.path.realpath(root)
    real = os.path.realpath(os.path.join(top, path))
    return real if real.startswith(top + os.sep) else None


def slug(text: str, limit: int = 24) -> str:
    """A short readable name for branches and directories: ``Fix login!`` -> ``fix-login``."""
    out = _SLUG.sub("-", text.lower()).strip("-")[:limit].strip("-")
    return out or "work"


def free_name(repo: Repository, root: str, base: str, taken: frozenset[str] = frozenset()) -> str:
    """``base``, or ``base-2``, ``base-3``...: no branch, directory or record of that name yet.

    ``taken`` holds the branches and paths that worktree records already claim
    (a worktree being added by another session is not on disk yet).
    """
    candidate, n = base, 1
    while (
        f"orch/{candidate}" in taken
        or os.path.join(root, candidate) in taken
        or branch_exists(repo, f"orch/{candidate}")
        or os.path.exists(os.path.join(root, candidate))
    ):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def add(repo: Repository, path: str, branch: str, base: str) -> None:
    """``git worktree add -b branch path base``; a failure is ``precondition_failed``."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        run_git(["worktree", "add", "-q", "-b", branch, path, base], repo.path)
    except OSError as exc:
        raise PreconditionFailed(
            f"cannot make {os.path.dirname(path)}: {exc.strerror}", {"path": path}
        ) from None
    except GitorchError as exc:
        stderr = exc.details.get("stderr") or exc.message
        hint = ""
        if "not a valid object name" in stderr or "invalid reference" in stderr:
            hint = (
                f" ({base!r} has no commit here: make a first commit, or set the protected "
                "branch with git orch config.set --protected-branch)"
            )
        raise PreconditionFailed(
            f"git worktree add failed: {stderr}{hint}",
            {"path": path, "branch": branch, "base": base},
        ) from None


def head(path: str) -> Head:
    """The branch and commit checked out at ``path`` (None where there is none)."""
    commit = resolve(path, "HEAD")
    try:
        ref = read_git(["symbolic-ref", "-q", "HEAD"], path).decode().strip()
    except GitorchError:
        ref = ""
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    return Head(path, branch, commit)


def keep_notes_on_rewrite(repo: Repository) -> None:
    """Make ``git commit --amend`` and ``git rebase`` carry the checkpoint notes along."""
    present = config_values(repo, "notes.rewriteRef")
    if NOTES_REF not in present:
        run_git(["config", "--add", "notes.rewriteRef", NOTES_REF], repo.path)


def branch_exists(repo: Repository, branch: str) -> bool:
    """Whether ``refs/heads/<branch>`` exists."""
    return resolve(repo.path, f"refs/heads/{branch}") is not None


def _config(repo: Repository, key: str) -> str | None:
    values = config_values(repo, key)
    return values[-1] if values else None


def config_values(repo: Repository, key: str) -> list[str]:
    """Every value of ``key`` in git config (the machine's, never synced state)."""
    try:
        out = read_git(["config", "--get-all", key], repo.path).decode("utf-8", "replace")
    except GitorchError:
        return []
    return [line for line in out.splitlines() if line]


def config_matching(repo: Repository, pattern: str) -> list[tuple[str, str]]:
    """Every ``(key, value)`` of git config whose key matches the regular expression."""
    try:
        out = read_git(["config", "-z", "--get-regexp", pattern], repo.path)
    except GitorchError:
        return []
    found = []
    for entry in out.decode("utf-8", "replace").split("\0"):
        if entry:
            key, _, value = entry.partition("\n")
            found.append((key, value))
    return found


def _exclude(repo: Repository, pattern: str) -> None:
    path = os.path.join(repo.common_dir, "info", "exclude")
    try:
        with open(path, encoding="utf-8") as handle:
            if pattern in handle.read().splitlines():
                return
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{pattern}\n")


def run_in(path: str, args: list[str], ok_codes: tuple[int, ...] = (0,)) -> str:
    """Run git in the worktree at ``path``; its output as text."""
    return run_git(args, path, ok_codes=ok_codes).decode("utf-8", "surrogateescape")


def checked_out(repo_path: str) -> dict[str, str | None]:
    """Every worktree git knows, by real path: the branch it has checked out (None: detached)."""
    out = run_git(["worktree", "list", "--porcelain", "-z"], repo_path)
    found: dict[str, str | None] = {}
    path = ""
    for field in out.decode("utf-8", "surrogateescape").split("\0"):
        if field.startswith("worktree "):
            path = os.path.realpath(field[len("worktree ") :])
            found[path] = None
        elif field.startswith("branch refs/heads/") and path:
            found[path] = field[len("branch refs/heads/") :]
    return found


def dirty(path: str) -> list[str]:
    """Uncommitted changes of the worktree at ``path`` (``git status --porcelain`` lines)."""
    out = run_in(path, ["status", "--porcelain", "--untracked-files=normal"])
    return [line for line in out.splitlines() if line]


def unmerged_commits(repo: Repository, branch: str) -> list[str]:
    """Commits of ``branch`` that no other branch or remote-tracking branch holds."""
    out = run_git(
        [
            "rev-list",
            f"refs/heads/{branch}",
            "--not",
            f"--exclude={branch}",  # --branches takes names without refs/heads/
            "--branches",
            "--remotes",
        ],
        repo.path,
    ).decode()
    return out.split()


def agents_inside(path: str) -> list[int]:
    """Pids of processes whose working directory is inside ``path`` (Linux ``/proc``)."""
    root = os.path.realpath(path)
    found = []
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []
    for pid in pids:
        if pid == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if cwd == root or cwd.startswith(root + os.sep):
            found.append(pid)
    return found


def remove(repo: Repository, path: str, *, force: bool) -> None:
    """``git worktree remove``; the branch is always kept."""
    args = ["worktree", "remove", *(["--force"] if force else []), path]
    try:
        run_git(args, repo.path)
    except GitorchError as exc:
        raise PreconditionFailed(
            f"git worktree remove failed: {exc.details.get('stderr') or exc.message}",
            {"path": path},
        ) from None
