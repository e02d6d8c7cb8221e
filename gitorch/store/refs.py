"""Moving a ref by compare-and-swap, with a reflog line, through dulwich.

Git guards a ref update with ``<ref>.lock``. A writer killed while holding
it leaves the file behind, and git would refuse every later update. Under
our write lock only a foreign git process (``git update-ref``,
``git pack-refs``) can hold it legitimately, and those hold it for
milliseconds, so a lock file that outlives ``STALE_LOCK_SECONDS`` is taken
as left by a dead writer and removed.
"""

from __future__ import annotations

import os
import time

from dulwich.errors import FileFormatException
from dulwich.file import FileLocked
from dulwich.objects import ObjectID
from dulwich.reflog import format_reflog_line
from dulwich.refs import DiskRefsContainer, Ref

from gitorch.model.errors import Internal, Unavailable

STALE_LOCK_SECONDS = 5.0
ZERO = "0" * 40


class RefUpdater:
    """Compare-and-swap updates of refs in one repository's common directory."""

    def __init__(self, common_dir: str, ident: str, stale_lock_seconds: float = STALE_LOCK_SECONDS):
        self._common_dir = common_dir
        self._ident = ident
        self._stale = stale_lock_seconds
        self._refs = DiskRefsContainer(common_dir, logger=self._log)

    def _log(
        self,
        ref: bytes,
        old: bytes,
        new: bytes,
        committer: bytes | None,
        timestamp: int | None,
        timezone: int | None,
        message: bytes,
    ) -> None:
        path = os.path.join(self._common_dir, "logs", os.fsdecode(ref))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        line = format_reflog_line(
            old, new, committer or self._ident.encode(), timestamp or 0, timezone or 0, message
        )
        with open(path, "ab") as log:
            log.write(line + b"\n")

    def swap(self, ref: str, old: str | None, new: str, message: str | None, seconds: int) -> bool:
        """Point ``ref`` at ``new`` if it still points at ``old`` (None: does not exist).

        Returns False when the ref moved meanwhile. ``message`` None writes no reflog line.
        """
        name = Ref(ref.encode())
        log_message = message.encode("utf-8") if message is not None else None
        deadline = time.monotonic() + self._stale + 1.0
        while True:
            try:
                if old is None:
                    return self._refs.add_if_new(
                        name, ObjectID(new.encode()), timestamp=seconds, message=log_message
                    )
                return self._refs.set_if_equals(
                    name,
                    ObjectID(old.encode()),
                    ObjectID(new.encode()),
                    timestamp=seconds,
                    message=log_message,
                )
            except FileLocked:
                if not self._break_stale_lock(ref) and time.monotonic() > deadline:
                    raise Unavailable(
                        f"{ref}.lock is held by another git process", {"ref": ref}
                    ) from None
                time.sleep(0.01)
            except FileFormatException as exc:
                raise Internal(f"cannot update {ref}: {exc}", {"ref": ref}) from None

    def _break_stale_lock(self, ref: str) -> bool:
        lock = os.path.join(self._common_dir, ref + ".lock")
        try:
            age = time.time() - os.stat(lock).st_mtime
        except FileNotFoundError:
            return True  # gone meanwhile: try again at once
        if age < self._stale:
            return False
        try:
            os.unlink(lock)
        except FileNotFoundError:
            pass
        return True
