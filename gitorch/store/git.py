"""Checked calls to the git command line.

Reads go through one long-lived ``git cat-file --batch`` per store, so a
``git orch`` process that only reads never imports dulwich: git resolves
loose and packed objects in C, and a read costs a pipe round trip.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from gitorch.model.errors import Internal, NotFound, Unavailable


def run_git(
    args: Sequence[str],
    cwd: str,
    *,
    stdin: bytes | None = None,
    ok_codes: Sequence[int] = (0,),
) -> bytes:
    """Run ``git args`` in ``cwd`` and return stdout; a failure raises with git's stderr."""
    import subprocess  # write paths only; reads use read_git / CatFile

    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise Unavailable("git is not installed or not on PATH", {"command": "git"}) from None
    if proc.returncode not in ok_codes:
        _raise(args, cwd, proc.returncode, proc.stderr)
    return proc.stdout


class _Child:
    """A git process started with ``os.posix_spawnp``, its stdio on pipes.

    The read path avoids ``subprocess``: importing it costs a ``git orch``
    read about as much as the read itself. git's ``-C`` stands in for a cwd.
    """

    def __init__(self, args: Sequence[str], cwd: str, *, stdin: bool) -> None:
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
                "git", ["git", "-C", cwd, *args], os.environ, file_actions=actions
            )
        except FileNotFoundError:
            for fd in (out_r, out_w, err_r, err_w, in_r, in_w):
                if fd >= 0:
                    os.close(fd)
            raise Unavailable("git is not installed or not on PATH", {"command": "git"}) from None
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


def read_git(args: Sequence[str], cwd: str) -> bytes:
    """Run a git command with small output (such as ``rev-parse``) without ``subprocess``."""
    child = _Child(args, cwd, stdin=False)
    out = child.stdout.read()
    code, stderr = child.finish()
    if code != 0:
        _raise(args, cwd, code, stderr)
    return out


def _raise(args: Sequence[str], cwd: str, code: int, raw_stderr: bytes) -> None:
    stderr = raw_stderr.decode("utf-8", "replace").strip()
    if "not a git repository" in stderr:
        raise NotFound(f"not a git repository: {cwd}", {"path": cwd})
    if "cannot change to" in stderr:
        raise NotFound(f"no such directory: {cwd}", {"path": cwd})
    raise Internal(
        f"git {args[0]} failed: {stderr or f'exit {code}'}",
        {"command": ["git", *args], "exit_code": code, "stderr": stderr},
    )


_CHUNK = 128  # requests per write: 128 x 41 bytes, far below a 64 KiB pipe buffer


class CatFile:
    """A ``git cat-file --batch`` process that answers object reads in order."""

    def __init__(self, cwd: str) -> None:
        self._cwd = cwd
        self._child: _Child | None = None

    def read(self, name: str) -> tuple[str, str, bytes] | None:
        """``(sha, type, content)`` of the object ``name``, or None when it is missing."""
        return self.read_many([name])[0]

    def read_many(self, names: Sequence[str]) -> list[tuple[str, str, bytes] | None]:
        """Read several objects in one round trip per chunk of requests.

        A chunk's requests stay far below a pipe's buffer, so writing them
        cannot block while git waits for us to read its answers.
        """
        if self._child is None:
            self._child = _Child(["cat-file", "--batch"], self._cwd, stdin=True)
        child = self._child
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
        _raise(["cat-file"], self._cwd, code, stderr)

    def close(self) -> None:
        """Stop the process; a later read starts a new one."""
        child, self._child = self._child, None
        if child is not None:
            child.finish()
