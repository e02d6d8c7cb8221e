"""Real temporary git repositories for tests, and ``git orch`` as agents run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple


def git(repo: Path | str, *args: str, input: bytes | None = None) -> str:
    """Run git in ``repo``; fail the test with git's stderr if it fails."""
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], input=input, capture_output=True, check=False
    )
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr.decode()}"
    return proc.stdout.decode()


def wait_for(what: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll, boundedly, for the effect of a real process (tmux, an agent, a check).

    Returns the first truthy value of ``what()``, or its last value once
    ``timeout`` seconds have passed. Time the code under test reads comes
    from the injected clock; this waits only on other processes.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def make_repo(path: Path, branch: str = "main") -> Path:
    """A repository with one commit on ``branch``."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    (path / "README.md").write_text("hello\n")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "initial")
    return path


class Result(NamedTuple):
    """What one ``git orch`` process did."""

    code: int
    out: dict[str, Any]
    stdout: str
    stderr: str


def orch(
    repo: Path | str,
    *args: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """Run ``git orch ARGS`` in ``repo`` (or ``cwd``) as a subprocess, the way agents do."""
    return command(["git", "orch", *args], cwd or repo, stdin=stdin, env=env)


def sh(repo: Path | str, script: str, env: dict[str, str] | None = None) -> Result:
    """Run a shell script in ``repo`` (for redirections a test needs, such as ``>&-``)."""
    return command(["sh", "-c", script], repo, env=env)


def command(
    argv: list[str], cwd: Path | str, *, stdin: str | None = None, env: dict[str, str] | None = None
) -> Result:
    """Run ``argv`` in ``cwd``; its exit code, its stdout as JSON when it is JSON, both streams."""
    proc = subprocess.run(
        argv,
        cwd=str(cwd),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env} if env else None,
    )
    try:
        out = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        out = {}
    return Result(proc.returncode, out, proc.stdout, proc.stderr)


def loose_objects(repo: Path) -> int:
    """How many loose objects the repository holds."""
    counts = dict(
        line.split(": ") for line in git(repo, "count-objects", "-v").splitlines() if ": " in line
    )
    return int(counts["count"])


def fsck(repo: Path) -> str:
    """``git fsck --strict`` output; fails the test on any error or warning."""
    proc = subprocess.run(
        ["git", "-C", str(repo), "fsck", "--strict", "--no-dangling"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    bad = [
        line
        for line in (proc.stdout + proc.stderr).splitlines()
        if line and not line.startswith(("Checking", "notice"))
    ]
    assert not bad, "\n".join(bad)
    return proc.stdout


def python_bin() -> str:
    """The interpreter the tests run under (its ``git-orch`` script sits beside it)."""
    return sys.executable


def bin_dir() -> str:
    """Where ``git-orch`` was installed."""
    return os.path.dirname(sys.executable)


STATE_REF = "refs/orchestrator/state"


def edit_state(repo: Path, changes: dict[str, bytes | None], message: str = "hand edit") -> str:
    """Commit ``changes`` (path -> content, None removes) on the state ref by hand.

    As a person (or a foreign tool) might: plain git plumbing, no gitorch.
    Returns the new commit.
    """
    index = repo / ".git" / "hand-edit.index"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}

    def plumbing(*args: str, input: bytes | None = None) -> str:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args], input=input, capture_output=True, env=env, check=False
        )
        assert proc.returncode == 0, proc.stderr.decode()
        return proc.stdout.decode().strip()

    try:
        plumbing("read-tree", STATE_REF)
        for path, content in changes.items():
            if content is None:
                plumbing("update-index", "--force-remove", path)
            else:
                blob = plumbing("hash-object", "-w", "--stdin", input=content)
                plumbing("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
        tree = plumbing("write-tree")
    finally:
        index.unlink(missing_ok=True)
    tip = plumbing("rev-parse", STATE_REF)
    commit = plumbing("commit-tree", tree, "-p", tip, "-m", message)
    plumbing("update-ref", STATE_REF, commit, tip)
    return commit
