"""Moving a ref by compare-and-swap, the way git itself does it.

``git update-ref --stdin`` with ``start``, ``update <ref> <new> <old>``,
``prepare`` and ``commit``: git checks that the new object exists, honours
``reference-transaction`` hooks, packed refs and reftable, and writes the
reflog line only for a move that happens.

git guards the ref with ``<ref>.lock``. If the ``git update-ref`` that we
started is killed while it holds that file, the file stays and git refuses
every later update. Such a file is removed only when it is provably ours:
we record the pid, host, start time and new value of every
``git update-ref`` we start in ``<orch_dir>/ref-writer`` and strike it out
once we see it exit. A later writer removes the lock file only when a line
left there names a process of this host that is gone, and the lock file
holds that process's new value (git writes it there at once), or is empty
and was made moments after that process started. Any other lock file belongs to someone else
(a person's ``git update-ref``, ``git pack-refs``): we wait a little, then
answer ``unavailable`` naming it.
"""

from __future__ import annotations

import os
import time
from collections import namedtuple

from gitorch.model.errors import Unavailable
from gitorch.store.git import GitProcess, git_error, resolve
from gitorch.store.processes import alive, this_host

ZERO = "0" * 40
FOREIGN_LOCK_WAIT = 2.0  # seconds a lock file held by someone else may take to go away
_RECORD = "ref-writer"
_RECORD_TO_LOCK_SECONDS = 30.0  # our git takes the lock file moments after we start it
_RECORD_KEEP_SECONDS = 3600.0


_Started = tuple[int, str, float, str]  # pid, host, start time, the new value it writes


TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import NamedTuple

if TYPE_CHECKING:

    class _MovedFields(NamedTuple):
        ok: bool  # the ref now points at the new commit
        missing: bool = False  # git refused: the new object (or one it needs) is missing

else:
    _MovedFields = namedtuple("_MovedFields", ("ok", "missing"), defaults=(False,))


class Moved(_MovedFields):
    """What an attempt to move a ref found."""

    __slots__ = ()


class RefUpdater:
    """Compare-and-swap updates of refs in one repository."""

    def __init__(self, cwd: str, common_dir: str, orch_dir: str) -> None:
        self._cwd = cwd
        self._common_dir = common_dir
        self._record = os.path.join(orch_dir, _RECORD)
        self._host = this_host()

    def swap(self, ref: str, old: str | None, new: str, message: str | None) -> Moved:
        """Point ``ref`` at ``new`` if it still points at ``old`` (None: does not exist).

        ``message`` is the reflog line (None: the ref keeps no reflog). Returns
        ``Moved(False)`` when the ref moved meanwhile; raises ``unavailable``
        when someone else holds the ref's lock file past a short wait.
        """
        deadline = time.monotonic() + FOREIGN_LOCK_WAIT
        while True:
            code, err = self._run(ref, old, new, message)
            if code == 0:
                return Moved(True)
            text = err.decode("utf-8", "replace")
            if "nonexistent object" in text or "missing object" in text:
                return Moved(False, missing=True)
            if "but expected" in text or "reference already exists" in text:
                return Moved(False)
            if "Unable to create" in text and ".lock" in text:
                if self._remove_dead_lock(ref):
                    continue
                if time.monotonic() < deadline:
                    time.sleep(0.01)
                    continue
                lock = os.path.join(self._common_dir, ref + ".lock")
                raise Unavailable(
                    f"{lock} is held by another git process; if none is running, remove the file",
                    {"ref": ref, "lock": lock},
                )
            raise git_error(["update-ref", ref], self._cwd, code, err)

    def _run(self, ref: str, old: str | None, new: str, message: str | None) -> tuple[int, bytes]:
        args = ["update-ref"]
        if message is not None:
            args += ["--create-reflog", "-m", message]
        args.append("--stdin")
        child = GitProcess(args, self._cwd, stdin=True)
        started = (child.pid, self._host, round(time.time(), 3), new)
        self._save_record([*self._read_record(), started])
        script = f"start\nupdate {ref} {new} {old or ZERO}\nprepare\ncommit\n".encode("ascii")
        code, _, err = child.communicate(script)
        # We saw it exit: whatever it did, it left no lock file (git removes its
        # own on any exit but a kill).
        self._save_record([line for line in self._read_record() if line != started])
        return code, err

    def _read_record(self) -> list[_Started]:
        """Our ``git update-ref`` processes whose exit nobody saw."""
        try:
            with open(self._record, encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            return []
        out = []
        for line in text.splitlines():
            try:
                pid, host, started, new = line.split()
                out.append((int(pid), host, float(started), new))
            except ValueError:
                continue
        return out

    def _save_record(self, lines: list[_Started]) -> None:
        tmp = f"{self._record}.{os.getpid()}"
        now = time.time()
        # A line whose git is long gone and that no lock file needs is dropped.
        kept = [
            line
            for line in lines
            if now - line[2] < _RECORD_KEEP_SECONDS or (line[1] == self._host and alive(line[0]))
        ]
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.writelines(f"{p} {h} {t:.3f} {n}\n" for p, h, t, n in kept)
            os.replace(tmp, self._record)
        except OSError:
            pass  # without a record a lock file it leaves is never removed: safe

    def _remove_dead_lock(self, ref: str) -> bool:
        """Remove ``<ref>.lock`` if a dead ``git update-ref`` of ours left it; True if gone."""
        lock = os.path.join(self._common_dir, ref + ".lock")
        try:
            lock_mtime = os.stat(lock).st_mtime
        except FileNotFoundError:
            return True  # gone meanwhile: try again at once
        try:
            with open(lock, "rb") as handle:
                content = handle.read(100).decode("ascii", "replace").strip()
        except OSError:
            content = "?"
        lines = self._read_record()
        for line in lines:
            pid, host, started, new = line
            # git writes the new value into its lock file at once: the proof.
            # An empty lock file (killed between create and write) must at least
            # have been made after our git started, within moments.
            made_by_it = content == new or (
                not content and started - 1.0 <= lock_mtime <= started + _RECORD_TO_LOCK_SECONDS
            )
            if host == self._host and made_by_it and not alive(pid):
                try:
                    os.unlink(lock)
                except FileNotFoundError:
                    pass
                self._drop_phantom_line(ref)
                self._save_record([other for other in lines if other != line])
                return True
        return False

    def _drop_phantom_line(self, ref: str) -> None:
        """Remove the reflog line our dead git wrote for a move it never made.

        git appends the reflog line just before it renames the lock file into
        place; killed in between, it leaves a line for a move that did not
        happen. Only the last line can be such a line, and only when it names
        a commit the ref does not point at.
        """
        log_path = os.path.join(self._common_dir, "logs", *ref.split("/"))
        current = resolve(self._cwd, ref)
        if current is None:
            return
        try:
            with open(log_path, "rb+") as log:
                size = log.seek(0, os.SEEK_END)
                log.seek(max(0, size - 4096))
                tail = log.read()
                body = tail[:-1] if tail.endswith(b"\n") else tail
                start = body.rfind(b"\n") + 1
                fields = body[start:].split(b" ", 2)
                if len(fields) < 2 or fields[1].decode("ascii", "replace") == current:
                    return
                log.truncate(size - len(tail) + start)
        except OSError:
            pass
