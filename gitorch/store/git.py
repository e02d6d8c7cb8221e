"""Checked calls to the git command line.

Reads go through one long-lived ``git cat-file --batch`` per store, so a
``git orch`` process that only reads never imports ``subprocess``: git
resolves loose and packed objects in C, and a read costs a pipe round trip.
Every git runs under ``LC_ALL=C``, so the messages matched here are git's
English ones whatever the caller's locale.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from gitorch.model.errors import Forbidden, GitorchError, Internal, NotFound, Unavailable

_DISK_FULL = ("No space left on device", "Disk quota exceeded", "Read-only file system")


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment git runs in: the caller's, with git's messages in English."""
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env.pop("LANGUAGE", None)
    env["GIT_TERMINAL_PROMPT"] = "0"  # a remote asking for a password fails; nothing waits
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    if extra:
        env.update(extra)
    return env


class GitProcess:
    """A git process started with ``os.posix_spawnp``, its stdio on pipes.

    The read path avoids ``subprocess``: importing it costs a ``git orch``
    read about as much as the read itself. git's ``-C`` stands in for a cwd.
    """

    def __init__(self, args: Sequence[str], cwd: str, *, stdin: bool) -> None:
        self.args = list(args)
        self.cwd = cwd
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        in_r, in_w = os.pipe() if stdin else (os.open(os.devnull, os.O_RDONLY), -1)
        actions = [
            (os.POSIX_SPAWN_DUP2, in_r, 0),
            (os.POSIX_SPAWN_DUP2, out_w, 1),
            (os.POSIX_SPAWN_DUP2, err_w, 2),
        ]
        try:
            self.pid = os.posix_spawnp(
                "git", ["git", "-C", cwd, *args], git_env(), file_actions=actions
            )
        except OSError as exc:
            for fd in (out_r, out_w, err_r, err_w, in_r, in_w):
                if fd >= 0:
                    os.close(fd)
            raise Unavailable(
                f"cannot run git: {exc.strerror or exc}", {"command": "git"}
            ) from None
        for fd in (in_r, out_w, err_w):
            os.close(fd)
        self.stdin = os.fdopen(in_w, "wb") if stdin else None
        self.stdout = os.fdopen(out_r, "rb")
        self._stderr_fd = err_r

    def finish(self) -> tuple[int, bytes]:
        """Close stdin, wait for the exit, return ``(exit code, stderr)``."""
        if self.stdin is not None:
            try:
                self.stdin.close()
            except BrokenPipeError:
                pass
        self.stdout.close()
        chunks = []
        while chunk := os.read(self._stderr_fd, 65536):
            chunks.append(chunk)
        os.close(self._stderr_fd)
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status), b"".join(chunks)

    def communicate(self, data: bytes | None = None) -> tuple[int, bytes, bytes]:
        """Send ``data`` (small: far below a pipe's buffer), read stdout, wait.

        Returns ``(exit code, stdout, stderr)``.
        """
        if data is not None and self.stdin is not None:
            try:
                self.stdin.write(data)
                self.stdin.flush()
            except BrokenPipeError:
                pass  # git exited early; its stderr says why
            self.stdin.close()
            self.stdin = None
        out = self.stdout.read()
        code, err = self.finish()
        return code, out, err


def run_git(
    args: Sequence[str],
    cwd: str,
    *,
    stdin: bytes | None = None,
    ok_codes: Sequence[int] = (0,),
) -> bytes:
    """Run ``git args`` in ``cwd`` and return stdout; a failure raises with git's stderr.

    ``stdin`` may be large: this path uses ``subprocess``, which feeds it
    while reading the output.
    """
    import subprocess  # write paths only; reads use read_git / CatFile

    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            check=False,
            env=git_env(),
        )
    except OSError as exc:
        raise Unavailable(f"cannot run git: {exc.strerror or exc}", {"command": "git"}) from None
    if proc.returncode not in ok_codes:
        raise git_error(args, cwd, proc.returncode, proc.stderr)
    return proc.stdout


def read_git(args: Sequence[str], cwd: str) -> bytes:
    """Run a git command with small output (such as ``rev-parse``) without ``subprocess``."""
    code, out, stderr = GitProcess(args, cwd, stdin=False).communicate()
    if code != 0:
        raise git_error(args, cwd, code, stderr)
    return out


def resolve(cwd: str, rev: str) -> str | None:
    """The object id ``rev`` names (``git rev-parse -q --verify``), or None when it names none."""
    code, out, _ = GitProcess(["rev-parse", "-q", "--verify", rev], cwd, stdin=False).communicate()
    if code != 0:
        return None
    return out.decode("ascii", "replace").strip() or None


def is_ancestor(cwd: str, ancestor: str, descendant: str) -> bool:
    """Whether ``ancestor`` is reachable from ``descendant``."""
    args = ["merge-base", "--is-ancestor", ancestor, descendant]
    return GitProcess(args, cwd, stdin=False).communicate()[0] == 0


def git_error(args: Sequence[str], cwd: str, code: int, raw_stderr: bytes) -> GitorchError:
    """The contract's error for a failed git command."""
    stderr = raw_stderr.decode("utf-8", "replace").strip()
    details = {"command": ["git", *args], "exit_code": code, "stderr": stderr}
    if "not a git repository" in stderr:
        return NotFound(f"not a git repository: {cwd}", {"path": cwd})
    if "cannot change to" in stderr:
        return NotFound(f"no such directory: {cwd}", {"path": cwd})
    for reason in _DISK_FULL:
        if reason in stderr:
            return Unavailable(f"git {args[0]} failed: {reason.lower()} ({cwd})", details)
    if "aborted by hook" in stderr or "reference-transaction hook" in stderr:
        return Forbidden(f"a reference-transaction hook refused the change: {stderr}", details)
    if "dubious ownership" in stderr:
        return Unavailable(f"git refuses the repository at {cwd}: {stderr}", details)
    return Internal(f"git {args[0]} failed: {stderr or f'exit {code}'}", details)


_CHUNK = 128  # requests per write: 128 x 41 bytes, far below a 64 KiB pipe buffer


class CatFile:
    """A ``git cat-file --batch`` process that answers object reads in order."""

    def __init__(self, cwd: str) -> None:
        self._cwd = cwd
        self._child: GitProcess | None = None

    def start(self) -> None:
        """Start git now, so it starts up while the caller does something else."""
        if self._child is None:
            self._child = GitProcess(["cat-file", "--batch"], self._cwd, stdin=True)

    def read(self, name: str) -> tuple[str, str, bytes] | None:
        """``(sha, type, content)`` of the object ``name``, or None when it is missing."""
        return self.read_many([name])[0]

    def read_many(self, names: Sequence[str]) -> list[tuple[str, str, bytes] | None]:
        """Read several objects in one round trip per chunk of requests.

        A chunk's requests stay far below a pipe's buffer, so writing them
        cannot block while git waits for us to read its answers.
        """
        self.start()
        child = self._child
        assert child is not None
        assert child.stdin is not None
        out: list[tuple[str, str, bytes] | None] = []
        for start in range(0, len(names), _CHUNK):
            chunk = names[start : start + _CHUNK]
            try:
                child.stdin.write(b"".join(name.encode("utf-8") + b"\n" for name in chunk))
                child.stdin.flush()
            except BrokenPipeError:
                self._fail()
            for _ in chunk:
                header = child.stdout.readline()
                if not header:
                    self._fail()
                parts = header.split()
                if len(parts) != 3:
                    out.append(None)  # "<name> missing" or "<name> ambiguous"
                    continue
                size = int(parts[2])
                data = child.stdout.read(size + 1)[:size]
                out.append((parts[0].decode("ascii"), parts[1].decode("ascii"), data))
        return out

    def _fail(self) -> None:
        child, self._child = self._child, None
        assert child is not None
        code, stderr = child.finish()
        raise git_error(["cat-file"], self._cwd, code, stderr)

    def close(self) -> None:
        """Stop the process; a later read starts a new one."""
        child, self._child = self._child, None
        if child is not None:
            child.finish()
