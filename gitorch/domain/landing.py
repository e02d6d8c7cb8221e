"""The git side of landing: build a merge without a worktree, check it, move the branch.

Nothing here touches a worktree people work in: a candidate is built with
``git merge-tree --write-tree`` and ``git commit-tree``, checked in a
temporary detached worktree that is removed afterwards, and the target
branch moves by compare-and-swap on its old value, in the same ref
transaction that verifies the orchestrator state is still the one the
lease was checked against. A checkout of the target branch follows with
``git read-tree -m -u`` (a two-tree merge: it moves a clean checkout and
refuses to overwrite anything).
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections import namedtuple
from collections.abc import Callable

from gitorch.model.errors import GitorchError, PreconditionFailed
from gitorch.store.git import resolve, run_git
from gitorch.store.repository import STATE_REF, Repository

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import NamedTuple

    class _CheckFields(NamedTuple):
        passed: bool
        exit_code: int | None
        timed_out: bool
        output: str
        seconds: float

else:
    _CheckFields = namedtuple(
        "_CheckFields", ("passed", "exit_code", "timed_out", "output", "seconds")
    )

OUTPUT_TAIL = 4000  # characters of a failed check's output kept with its entry


class CheckResult(_CheckFields):
    """What one run of the check command said."""

    __slots__ = ()


def tip(repo: Repository, branch: str) -> str | None:
    """The commit ``branch`` points at, or None."""
    return resolve(repo.path, f"refs/heads/{branch}^{{commit}}")


def changed_paths(repo: Repository, target: str, head: str) -> list[str]:
    """Every path ``head`` changes since it left ``target`` (both sides of renames)."""
    out = run_git(["diff", "--name-only", "-z", "--no-renames", f"{target}...{head}"], repo.path)
    return [p for p in out.decode("utf-8", "replace").split("\0") if p]


def diff_stat(repo: Repository, target: str, head: str) -> str:
    """``git diff --stat target...head``."""
    out = run_git(["diff", "--stat", "--no-color", f"{target}...{head}"], repo.path)
    return out.decode("utf-8", "replace")


def build(repo: Repository, base: str, head: str, message: str) -> tuple[str | None, list[str]]:
    """The merge commit of ``head`` into ``base``, or None and the conflicting paths."""
    out = run_git(
        ["merge-tree", "--write-tree", "--name-only", "-z", "--no-messages", base, head],
        repo.path,
        ok_codes=(0, 1),
    )
    # -z --name-only --no-messages: the tree, then each conflicted path, NUL-terminated
    tree, *paths = out.decode("utf-8", "surrogateescape").split("\0")
    conflicts = sorted({path for path in paths if path})
    if conflicts or not tree.strip():
        return None, conflicts or ["(merge-tree gave no tree)"]
    commit = run_git(["commit-tree", tree, "-p", base, "-p", head, "-m", message], repo.path)
    return commit.decode("ascii").strip(), []


def move(repo: Repository, branch: str, new: str, old: str, state_tip: str) -> str | None:
    """Move ``branch`` from ``old`` to ``new`` if the state is still at ``state_tip``.

    One ref transaction: both hold, or nothing moves. None when it moved;
    ``"branch"`` or ``"state"`` naming what had moved meanwhile, ``"missing"``
    when the candidate's objects are gone.
    """
    ref = f"refs/heads/{branch}"
    script = (
        f"start\nverify {STATE_REF} {state_tip}\nupdate {ref} {new} {old}\nprepare\ncommit\n"
    ).encode("ascii")
    message = f"git orch merge.main.land: {old[:12]} -> {new[:12]}"
    try:
        run_git(["update-ref", "-m", message, "--stdin"], repo.path, stdin=script)
    except GitorchError as exc:
        text = exc.message + " " + str(exc.details)
        if STATE_REF in text:
            return "state"
        if "nonexistent object" in text or "missing object" in text:
            return "missing"  # a `git gc --prune=now` took the candidate: build it again
        if ref in text:
            return "branch"
        raise
    return None


def checkout_of(repo: Repository, branch: str) -> str | None:
    """The worktree that has ``branch`` checked out, if one has."""
    from gitorch.domain.checkouts import checked_out

    for path, checked in checked_out(repo.path).items():
        if checked == branch and os.path.isdir(path):
            return path
    return None


def follow(path: str, old: str, new: str) -> None:
    """Bring a clean checkout of the branch from ``old`` to ``new`` (refusing to lose anything)."""
    run_git(["read-tree", "-m", "-u", old, new], path)


def run_check(
    repo: Repository,
    commit: str,
    argv: list[str],
    timeout: float,
    *,
    keepalive: Callable[[], None] | None = None,
    every: float = 30.0,
    env: dict[str, str] | None = None,
) -> CheckResult:
    """Run ``argv`` in a temporary detached worktree of ``commit``, removed afterwards."""
    import signal
    import subprocess
    import tempfile

    root = os.path.join(repo.common_dir, "orchestrator", "land")
    os.makedirs(root, exist_ok=True)
    place = tempfile.mkdtemp(prefix="check-", dir=root)
    with open(place + ".pid", "w", encoding="ascii") as handle:
        handle.write(f"{socket.gethostname()} {os.getpid()}\n")
    started = time.monotonic()
    try:
        run_git(["worktree", "add", "--detach", "--force", "-q", place, commit], repo.path)
        log = os.path.join(place + ".out")
        with open(log, "wb") as sink:
            try:
                child = subprocess.Popen(  # an argv list: never a shell
                    argv,
                    cwd=place,
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its whole group is killed on timeout
                    env={**os.environ, "GIT_ORCH_LAND_COMMIT": commit, **(env or {})},
                )
            except OSError as exc:
                return CheckResult(False, None, False, f"{argv[0]}: {exc.strerror}", 0.0)
            timed_out = False
            beat = time.monotonic()
            while True:
                try:
                    code = child.wait(timeout=0.05)
                    break
                except subprocess.TimeoutExpired:
                    now = time.monotonic()
                    if now - started > timeout:
                        timed_out = True
                        _kill_group(child.pid, signal.SIGKILL)
                        code = child.wait()
                        break
                    if keepalive is not None and now - beat > every:
                        keepalive()
                        beat = now
        with open(log, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - OUTPUT_TAIL * 4))
            output = handle.read().decode("utf-8", "replace")[-OUTPUT_TAIL:]
        os.unlink(log)
        if timed_out:
            output += f"\n[git orch: the check ran past {timeout:g} s and was killed]"
        return CheckResult(
            code == 0 and not timed_out, code, timed_out, output, time.monotonic() - started
        )
    finally:
        remove_check_worktree(repo, place)


def _kill_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def remove_check_worktree(repo: Repository, place: str) -> None:
    """Remove the temporary worktree made for one check (ours: made by this call)."""
    try:
        run_git(["worktree", "remove", "--force", "--force", place], repo.path)
    except GitorchError:
        shutil.rmtree(place, ignore_errors=True)
        try:
            run_git(["worktree", "prune"], repo.path)
        except GitorchError:
            pass
    for leftover in (place + ".out", place + ".pid"):
        try:
            os.unlink(leftover)
        except FileNotFoundError:
            pass


def owner_alive(place: str) -> bool:
    """Whether the process that made a check worktree may still use it (unknown: yes)."""
    try:
        with open(place + ".pid", encoding="ascii") as handle:
            host, _, pid = handle.read().strip().partition(" ")
    except OSError:
        return True
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dirty_against(path: str, commit: str) -> list[str]:
    """Paths where a worktree (index or files) differs from ``commit``."""
    out = run_git(["diff", "--name-only", "-z", commit], path)
    staged = run_git(["diff", "--cached", "--name-only", "-z", commit], path)
    return sorted({p for p in (out + staged).decode("utf-8", "replace").split("\0") if p})


def require_clean_checkout(repo: Repository, branch: str) -> str | None:
    """The checkout of ``branch`` when clean; ``precondition_failed`` when it is dirty."""
    path = checkout_of(repo, branch)
    if path is None:
        return None
    from gitorch.domain.checkouts import dirty

    changes = dirty(path)
    if changes:
        raise PreconditionFailed(
            f"{branch} is checked out in {path} with uncommitted changes; nothing was landed."
            " Commit or stash them, then land again",
            {"path": path, "changes": changes[:50]},
        )
    return path
