"""Git hooks that enforce path locks: install, uninstall, status, and the checks they run.

``git orch hooks install`` writes small shims into the hooks directory git
really uses (``git rev-parse --git-path hooks``: the common dir's for linked
worktrees, ``core.hooksPath`` when set). A hook already there is kept and
run first (moved aside to ``<name>.orch-chained``), and put back byte for
byte by ``uninstall``. The shims call ``git orch hook pre-commit|pre-push``.

The checks fail closed: when the state cannot be read, the commit or push
is refused, saying why and how to bypass (``--no-verify``). Local config
``orch.hooks.mode=warn`` turns every refusal into a warning.
"""

from __future__ import annotations

import os
import sys

from gitorch.domain import entities, locks
from gitorch.domain.context import Context
from gitorch.model.enums import WorktreeStatus
from gitorch.model.errors import Conflict, Forbidden, GitorchError
from gitorch.model.kinds import MAIN_MERGE, WORKTREE
from gitorch.store.git import GitProcess, git_error, read_git, run_git

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

HOOKS = ("pre-commit", "pre-push")
MARK = "# gitorch hook shim"
CHAINED = ".orch-chained"
ZERO = "0" * 40


def shim(name: str) -> str:
    """The shim installed as hook ``name`` (its source is also in the project's hooks/)."""
    return f"""#!/bin/sh
{MARK} ({name}): written by `git orch hooks install`, removed by `git orch hooks uninstall`.
# A hook that was here before runs first, with the same arguments and input.
chained="${{0%/*}}/{name}{CHAINED}"
# git-orch itself, not `git orch`: a hook runs often, and git's hop costs a process.
if [ ! -x "$chained" ]; then exec git-orch hook {name} "$@"; fi
input="$(mktemp)" || exit 1
trap 'rm -f "$input"' EXIT
cat > "$input"
"$chained" "$@" < "$input" || exit $?
git-orch hook {name} "$@" < "$input"
"""


def hooks_dir(ctx: Context) -> str:
    """The hooks directory git uses for this repository."""
    out = read_git(
        ["rev-parse", "--path-format=absolute", "--git-path", "hooks"], ctx.store.repo.path
    )
    return out.decode("utf-8", "surrogateescape").strip()


def _ours(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return MARK in handle.read(4096)
    except OSError:
        return False


def status(ctx: Context) -> dict[str, Any]:
    """Which of gitorch's hooks are installed, and which hooks they chain."""
    where = hooks_dir(ctx)
    out = {}
    for name in HOOKS:
        path = os.path.join(where, name)
        out[name] = {
            "installed": _ours(path),
            "chained": os.path.exists(path + CHAINED),
            "path": path,
        }
    return {"hooks": out, "hooks_dir": where, "mode": _mode(ctx)}


def install(ctx: Context) -> dict[str, Any]:
    """Install the shims; a hook already there is kept and chained."""
    where = hooks_dir(ctx)
    os.makedirs(where, exist_ok=True)
    for name in HOOKS:
        path = os.path.join(where, name)
        if os.path.lexists(path) and not _ours(path):
            if os.path.lexists(path + CHAINED):
                raise Conflict(
                    f"{path} and {path + CHAINED} both exist; move one away first",
                    {"path": path},
                )
            os.replace(path, path + CHAINED)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(shim(name))
        os.chmod(tmp, 0o755)  # noqa: S103 - a hook git must be able to run
        os.replace(tmp, path)
    out = status(ctx)
    out["fetch_refspecs"] = add_fetch_refspecs(ctx)
    return out


def add_fetch_refspecs(ctx: Context) -> list[str]:
    """Make a plain ``git fetch`` bring each remote's state into its tracking refs."""
    from gitorch.domain import checkouts, sync

    repo = ctx.store.repo
    added = []
    for key, _ in checkouts.config_matching(repo, r"^remote\..*\.url$"):
        remote = key[len("remote.") : -len(".url")]
        present = set(checkouts.config_values(repo, f"remote.{remote}.fetch"))
        # patterns, so a fetch does not fail for a ref the remote lacks (yet)
        for spec in (
            f"+refs/orchestrator/*:{sync.tracking(remote, '*')}",
            f"+{sync.REFS['notes']}*:{sync.tracking(remote, 'notes*')}",
        ):
            if spec not in present:
                run_git(["config", "--add", f"remote.{remote}.fetch", spec], repo.path)
                added.append(f"{remote}: {spec}")
    return added


def uninstall(ctx: Context) -> dict[str, Any]:
    """Remove the shims and put chained hooks back as they were."""
    where = hooks_dir(ctx)
    for name in HOOKS:
        path = os.path.join(where, name)
        if _ours(path):
            os.unlink(path)
            if os.path.lexists(path + CHAINED):
                os.replace(path + CHAINED, path)
    return status(ctx)


def _mode(ctx: Context) -> str:
    return _read_mode(
        GitProcess(["config", "--get", "orch.hooks.mode"], ctx.store.repo.path, stdin=False)
    )


def _read_mode(child: GitProcess) -> str:
    code, out, _ = child.communicate()
    return "warn" if code == 0 and out.decode().strip().lower() == "warn" else "enforce"


def _session_here(ctx: Context, view: Any) -> str | None:
    """The session of the worktree the hook runs in (the state says), else GIT_ORCH_SESSION."""
    try:
        top = ctx.store.repo.toplevel()
    except GitorchError:
        top = ""
    here = os.path.realpath(top) if top else ""
    for doc in entities.load_all(view, WORKTREE):
        if doc["status"] == WorktreeStatus.ACTIVE and os.path.realpath(doc["path"]) == here:
            session: str | None = doc["session_id"]
            return session
    return ctx.session


def _split(out: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


def check_paths(
    ctx: Context, hook: str, paths: list[str] | GitProcess, mode_of: GitProcess | None = None
) -> dict[str, Any]:
    """Refuse (``conflict``) paths locked by another session, or warn in warn mode.

    ``paths`` may be a git process still listing them, and ``mode_of`` one
    still reading the mode: they run while the state is read.
    """
    failure: GitorchError | None = None
    session: str | None = None
    held = locks.PathIndex([])
    try:
        view = ctx.read()
        session = _session_here(ctx, view)
        held = locks.PathIndex(locks.view_locks(ctx, view))
    except GitorchError as error:
        failure = error
    mode = _read_mode(mode_of) if mode_of is not None else _mode(ctx)
    if isinstance(paths, GitProcess):
        code, out, err = paths.communicate()
        if code != 0:
            raise git_error(paths.args, ctx.store.repo.path, code, err)
        paths = _split(out)
    if failure is not None:
        message = (
            f"git orch {hook}: the orchestrator state cannot be read, so path locks cannot be "
            f"checked: {failure.message}. Fix the state, or bypass this check once with "
            "--no-verify."
        )
        if mode == "warn":
            sys.stderr.write(f"warning: {message}\n")
            return {"verdict": "warn", "violations": [], "reason": failure.message}
        raise Conflict(message, {"hook": hook, "state_error": failure.to_json()["error"]})
    violations = []
    for path in sorted(set(paths)):
        for lock in locks.blocking(held, session, path):
            violations.append(
                {
                    "path": path,
                    "lock_id": lock["id"],
                    "owner_session": lock["owner_session"],
                    "epoch": lock["epoch"],
                    "expires_at": lock["expires_at"],
                }
            )
    result = {"verdict": "allow", "violations": violations, "session_id": session, "mode": mode}
    if not violations:
        return result
    lines = [
        f"  {v['path']}: locked by session {v['owner_session']} ({v['lock_id']}, epoch "
        f"{v['epoch']}) until {v['expires_at']}"
        for v in violations
    ]
    message = (
        f"git orch {hook}: {len(violations)} path(s) are locked by another session:\n"
        + "\n".join(lines)
        + "\nWait for the lock to be released or to expire (git orch lock.list --path PATH), "
        "ask its owner, or leave these paths out of this commit."
    )
    if mode == "warn":
        sys.stderr.write(f"warning: {message}\n")
        return {**result, "verdict": "warn"}
    raise Conflict(message, {"hook": hook, "violations": violations, "session_id": session})


def pre_commit(ctx: Context) -> dict[str, Any]:
    """The staged paths (both sides of renames, deletions too) against other sessions' locks."""
    repo = ctx.store.repo.path
    staged = GitProcess(
        ["diff", "--cached", "--name-only", "-z", "--no-renames"], repo, stdin=False
    )
    mode = GitProcess(["config", "--get", "orch.hooks.mode"], repo, stdin=False)
    return check_paths(ctx, "pre-commit", staged, mode)


def pre_push(ctx: Context, *, remote: str | None = None, url: str | None = None) -> dict[str, Any]:
    """The paths changed by the commits being pushed (stdin, as git gives it) against locks."""
    del remote, url
    repo = ctx.store.repo.path
    paths: list[str] = []
    lines = [line.split() for line in sys.stdin.read().splitlines()]
    landed = _protected_push(ctx, [fields for fields in lines if len(fields) == 4])
    for fields in lines:
        if len(fields) != 4:
            continue
        _, local_sha, _, remote_sha = fields
        if local_sha in landed:
            continue  # the merge queue checked its paths against the leases when it landed it
        if local_sha == ZERO or not _exists(repo, local_sha):
            continue  # a deletion pushes no content; git pushes no commit it lacks
        bounds = [local_sha]
        if remote_sha != ZERO and _exists(repo, remote_sha):
            bounds.append(f"^{remote_sha}")
        else:
            bounds += ["--not", "--remotes"]
        out = run_git(["log", "--format=", "--name-only", "-z", "--no-renames", *bounds], repo)
        paths += [p.strip("\n") for p in _split(out) if p.strip("\n")]
    return check_paths(ctx, "pre-push", paths)


def _protected_push(ctx: Context, updates: list[list[str]]) -> set[str]:
    """Refuse a push that moves the protected branch to a commit the merge queue did not land.

    The commits the queue landed, which the lease check of the push skips.
    """
    try:
        view = ctx.read()
        protected = view.config().get("protected_branch") or ctx.store.default_branch()
        landed = {
            doc["landed_commit"]
            for doc in entities.load_all(view, MAIN_MERGE)
            if doc.get("landed_commit")
        }
    except GitorchError as error:
        landed, protected = set(), ctx.store.default_branch()
        reason = f"the orchestrator state cannot be read: {error.message}"
    else:
        reason = ""
    refused = []
    for _, local_sha, remote_ref, remote_sha in updates:
        if remote_ref != f"refs/heads/{protected}" or local_sha == remote_sha:
            continue
        if local_sha == ZERO:
            refused.append(f"  deleting {protected} is refused")
        elif local_sha not in landed:
            refused.append(
                f"  {local_sha[:12]} is not a commit git orch merge.main.land recorded"
                + (f" ({reason})" if reason else "")
            )
    if not refused:
        return landed
    message = (
        f"git orch pre-push: {protected} moves only through the merge queue:\n"
        + "\n".join(refused)
        + "\nQueue the work (git orch merge.main.request) and land it (git orch queue run),"
        " then push the landed commit."
    )
    if _mode(ctx) == "warn":
        sys.stderr.write(f"warning: {message}\n")
        return landed
    raise Forbidden(message, {"hook": "pre-push", "branch": protected})


def _exists(repo: str, sha: str) -> bool:
    try:
        read_git(["cat-file", "-e", f"{sha}^{{commit}}"], repo)
    except GitorchError:
        return False
    return True
