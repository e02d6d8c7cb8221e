"""Git objects: the three kinds the state uses, written the way git writes them.

Loose objects go to a ``tmp_obj_*`` file that is renamed into place, as git
itself does, so a writer killed at any moment leaves either nothing or a
complete object, and a leftover temporary file is one that ``git fsck``
ignores and ``git gc`` removes. (dulwich's loose writer leaves a ``.lock``
file behind instead, which blocks the next write of the same object.)
A transaction with many objects writes one pack through ``git index-pack``.
"""

from __future__ import annotations

import bisect
import os
import struct
import zlib
from collections import namedtuple
from collections.abc import Iterable, Mapping

from gitorch.model.errors import Unavailable
from gitorch.store.git import run_git

TREE_MODE = "40000"
BLOB_MODE = "100644"
_PACK_TYPES = {"commit": 1, "tree": 2, "blob": 3}
_HOUSEKEEPING_RETRIES = 8


def _unavailable(exc: OSError, path: str) -> Unavailable:
    """A failed object write: the disk, its permissions, or housekeeping racing us."""
    return Unavailable(
        f"cannot write {path}: {exc.strerror or exc}", {"path": path, "errno": exc.errno}
    )


TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import NamedTuple

if TYPE_CHECKING:

    class _EntryFields(NamedTuple):
        mode: str
        sha: str

else:
    _EntryFields = namedtuple("_EntryFields", ("mode", "sha"))


class Entry(_EntryFields):
    """One entry of a tree: its mode and object id."""

    __slots__ = ()


if TYPE_CHECKING:

    class _CommitFields(NamedTuple):
        tree: str
        parents: tuple[str, ...]
        committer: str
        message: str

else:
    _CommitFields = namedtuple("_CommitFields", ("tree", "parents", "committer", "message"))


class Commit(_CommitFields):
    """The parts of a commit the state reads."""

    __slots__ = ()


def object_id(obj_type: str, data: bytes) -> str:
    """The id git gives ``data`` as an object of ``obj_type``."""
    import hashlib  # only writers hash; readers get ids from git

    return hashlib.sha1(b"%s %d\0" % (obj_type.encode(), len(data)) + data).hexdigest()


class Tree:
    """A tree: its entries by name, and its raw records in git's order.

    Keeping the raw records lets a change of a few entries in a large tree
    (the 1,024 shards of a kind) splice them in by bisection, instead of
    encoding and sorting every entry again: the cost of a change stays flat.
    """

    __slots__ = ("entries", "keys", "raws")

    def __init__(self, entries: dict[str, Entry], keys: list[bytes], raws: list[bytes]) -> None:
        self.entries = entries
        self.keys = keys  # git's sort key of each record, ascending
        self.raws = raws  # the raw records, in the same order

    @classmethod
    def parse(cls, data: bytes) -> Tree:
        """A tree from its raw object."""
        entries: dict[str, Entry] = {}
        records: list[tuple[bytes, bytes]] = []
        pos, end = 0, len(data)
        while pos < end:
            space = data.index(b" ", pos)
            nul = data.index(b"\0", space)
            raw_name = data[space + 1 : nul]
            mode = data[pos:space].decode("ascii")
            name = raw_name.decode("utf-8", "surrogateescape")
            entries[name] = Entry(mode, data[nul + 1 : nul + 21].hex())
            records.append((_sort_key(raw_name, mode), data[pos : nul + 21]))
            pos = nul + 21
        records.sort()  # git's order already; sorting keeps a hand-made tree honest
        return cls(entries, [key for key, _ in records], [raw for _, raw in records])

    def changed(self, changes: Mapping[str, Entry | None]) -> Tree:
        """A new tree with ``changes`` applied (None removes an entry)."""
        entries, keys, raws = dict(self.entries), list(self.keys), list(self.raws)
        for name, entry in changes.items():
            raw_name = name.encode("utf-8", "surrogateescape")
            old = entries.pop(name, None)
            if old is not None:
                at = bisect.bisect_left(keys, _sort_key(raw_name, old.mode))
                del keys[at], raws[at]
            if entry is not None:
                entries[name] = entry
                key = _sort_key(raw_name, entry.mode)
                at = bisect.bisect_left(keys, key)
                keys.insert(at, key)
                raws.insert(
                    at, b"%s %s\0%s" % (entry.mode.encode(), raw_name, bytes.fromhex(entry.sha))
                )
        return Tree(entries, keys, raws)

    def raw(self) -> bytes:
        """The raw tree object."""
        return b"".join(self.raws)


EMPTY_TREE = Tree({}, [], [])


def _sort_key(raw_name: bytes, mode: str) -> bytes:
    return raw_name + b"/" if mode == TREE_MODE else raw_name


def parse_commit(data: bytes) -> Commit:
    """Tree, parents, committer and message of a raw commit."""
    head, _, message = data.partition(b"\n\n")
    tree, committer, parents = "", "", []
    for line in head.split(b"\n"):
        field, _, value = line.partition(b" ")
        if field == b"tree":
            tree = value.decode("ascii")
        elif field == b"parent":
            parents.append(value.decode("ascii"))
        elif field == b"committer":
            committer = value.decode("utf-8", "replace")
    return Commit(tree, tuple(parents), committer, message.decode("utf-8", "replace"))


def format_commit(
    tree: str, parents: Iterable[str], ident: str, seconds: int, message: str
) -> bytes:
    """A raw commit object, authored and committed by ``ident`` at ``seconds`` (UTC)."""
    lines = [f"tree {tree}", *(f"parent {parent}" for parent in parents)]
    lines.append(f"author {ident} {seconds} +0000")
    lines.append(f"committer {ident} {seconds} +0000")
    return ("\n".join(lines) + "\n\n" + message).encode("utf-8")


class ObjectWriter:
    """Writes objects into a repository's object database."""

    def __init__(self, objects_dir: str, cwd: str) -> None:
        self.objects_dir = objects_dir
        self._cwd = cwd
        self.written = 0

    def write_loose(self, obj_type: str, data: bytes) -> str:
        """Write one loose object (a no-op, but for freshening, when it exists)."""
        import hashlib

        header = b"%s %d\0" % (obj_type.encode(), len(data))
        sha = hashlib.sha1(header + data).hexdigest()
        directory = os.path.join(self.objects_dir, sha[:2])
        path = os.path.join(directory, sha[2:])
        try:
            os.utime(path)  # as git does: a fresh mtime keeps gc from pruning it
            return sha
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise _unavailable(exc, path) from None
        compressed = zlib.compress(header + data, 1)
        for attempt in range(_HOUSEKEEPING_RETRIES):
            try:
                self._write_file(directory, path, compressed)
                break
            except FileNotFoundError:
                # git prune-packed / repack -d removed the empty directory between
                # makedirs and open: make it again.
                if attempt == _HOUSEKEEPING_RETRIES - 1:
                    raise _unavailable(OSError(2, "directory keeps vanishing"), path) from None
            except OSError as exc:
                raise _unavailable(exc, path) from None
        self.written += 1
        return sha

    @staticmethod
    def _write_file(directory: str, path: str, compressed: bytes) -> None:
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, f"tmp_obj_{os.urandom(6).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            view = memoryview(compressed)
            while view:
                view = view[os.write(fd, view) :]
        except BaseException:
            os.close(fd)
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        os.close(fd)
        os.replace(tmp, path)

    def write_pack(self, objects: list[tuple[str, bytes]]) -> list[str]:
        """Write ``(type, data)`` objects as one pack; return their ids in order."""
        ids = [object_id(obj_type, data) for obj_type, data in objects]
        parts = [b"PACK", struct.pack(">II", 2, len(objects))]
        for obj_type, data in objects:
            size = len(data)
            byte = (_PACK_TYPES[obj_type] << 4) | (size & 0x0F)
            size >>= 4
            header = bytearray()
            while size:
                header.append(byte | 0x80)
                byte, size = size & 0x7F, size >> 7
            header.append(byte)
            parts.append(bytes(header))
            parts.append(zlib.compress(data, 1))
        body = b"".join(parts)
        import hashlib

        run_git(["index-pack", "--stdin"], self._cwd, stdin=body + hashlib.sha1(body).digest())
        return ids
