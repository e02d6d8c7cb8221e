"""Parsed documents, cached in one SQLite file, as a pure function of git ids.

Parsing YAML, and even importing the YAML library, costs more than the
rest of a ``git orch task.get``. An object id names its content, so what
is computed from an object is valid for as long as that object exists:

- ``docs``: a blob id -> the document it parses to;
- ``shards``: a shard tree id -> the documents of that shard, in tree order.

Every row is sealed with a checksum of its key and its body. A row that is
truncated, garbage, of the wrong shape, or moved under another key fails
its seal or its shape check and is deleted and rebuilt, never returned;
a file that is not a database is replaced. The cache lives in
``<common dir>/orchestrator/cache.sqlite`` (WAL mode), is never shared, and
can be deleted at any time. Writing to it is best effort: a busy or full
disk makes the next read parse again, never fail.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterable, Sequence

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

FORMAT = "gitorch-cache-2"
FILE_NAME = "cache.sqlite"
_BATCH = 900  # keys per query, below every SQLite's limit of bound parameters
_TABLES = ("docs", "shards")


def _sqlite() -> Any:
    """The SQLite module: its C core when it can be had alone.

    ``sqlite3`` itself adds date adapters (and the import of ``datetime``)
    that a cache of JSON text never uses; a read pays for every import.
    """
    try:
        import _sqlite3

        return _sqlite3
    except ImportError:  # pragma: no cover - an interpreter without the split module
        import sqlite3

        return sqlite3


def _seal(key: str, body: str) -> int:
    return zlib.crc32(body.encode("utf-8", "surrogatepass"), zlib.crc32(key.encode("ascii")))


class Cache:
    """The cache of one repository; a no-op when ``path`` is None."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._db: Any = None
        self._broken = path is None

    def _connect(self) -> Any:
        if self._db is not None or self._broken:
            return self._db
        sqlite3 = _sqlite()

        assert self.path is not None
        for attempt in range(2):
            try:
                db = sqlite3.connect(self.path, timeout=0.05, isolation_level=None)
                self._prepare(db)
                self._db = db
                return db
            except sqlite3.OperationalError:
                break  # busy (another process is making it), unreadable: go without
            except sqlite3.DatabaseError:
                # Not a database, or a damaged one: it is only a cache.
                self._remove_files()
                if attempt:
                    break
            except sqlite3.Error:
                break
        self._broken = True
        return None

    @staticmethod
    def _prepare(db: Any) -> None:
        # A cache needs no durability: a row lost to a crash is computed again,
        # and a damaged one fails its seal.
        db.execute("PRAGMA synchronous=OFF")
        try:
            found = db.execute("SELECT value FROM format").fetchone()
        except _sqlite().OperationalError:  # no such table: a new file
            found = None
        if found is not None and found[0] == FORMAT:
            return  # a table of ours that is missing fails its query: the file is rebuilt
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("BEGIN IMMEDIATE")
        for table in (*_TABLES, "format"):
            db.execute(f"DROP TABLE IF EXISTS {table}")
        for table in _TABLES:
            db.execute(
                f"CREATE TABLE {table} (key TEXT PRIMARY KEY, body TEXT NOT NULL, "
                "seal INTEGER NOT NULL) WITHOUT ROWID"
            )
        db.execute("CREATE TABLE format (value TEXT NOT NULL)")
        db.execute("INSERT INTO format VALUES (?)", (FORMAT,))
        db.execute("COMMIT")

    def _remove_files(self) -> None:
        assert self.path is not None
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(self.path + suffix)
            except OSError:
                pass

    def _get(self, table: str, keys: Sequence[str]) -> dict[str, Any]:
        db = self._connect()
        if db is None or not keys:
            return {}
        sqlite3 = _sqlite()
        found: dict[str, Any] = {}
        bad: list[str] = []
        try:
            for start in range(0, len(keys), _BATCH):
                batch = keys[start : start + _BATCH]
                marks = ",".join("?" * len(batch))
                for key, body, seal in db.execute(
                    f"SELECT key, body, seal FROM {table} WHERE key IN ({marks})",  # noqa: S608
                    batch,
                ):
                    value = _open(key, body, seal, table)
                    if value is None:
                        bad.append(key)
                    else:
                        found[key] = value
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                self._reset()  # a table of ours went missing: make the file anew next time
            return {}
        except sqlite3.ProgrammingError:
            return {}  # used from another thread: a miss, never a failure
        except sqlite3.DatabaseError:  # damaged under us
            self._reset()
            return {}
        if bad:
            self._delete(table, bad)
        return found

    def _put(self, table: str, items: Iterable[tuple[str, Any]]) -> None:
        db = self._connect()
        if db is None:
            return
        sqlite3 = _sqlite()
        rows = []
        try:
            for key, value in items:
                body = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                rows.append((key, body, _seal(key, body)))
        except (TypeError, ValueError):
            return  # not JSON data: never cached, so never answered from the cache
        if not rows:
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?)", rows)  # noqa: S608
            db.execute("COMMIT")
        except (sqlite3.OperationalError, sqlite3.ProgrammingError):
            _rollback(db)  # busy, full, another thread: the next read computes it again
        except sqlite3.DatabaseError:
            self._reset()

    def _delete(self, table: str, keys: list[str]) -> None:
        db = self._db
        sqlite3 = _sqlite()
        try:
            db.executemany(f"DELETE FROM {table} WHERE key = ?", [(k,) for k in keys])  # noqa: S608
        except sqlite3.Error:
            pass

    def _reset(self) -> None:
        """The file went bad under us: drop it and work without a cache this time."""
        if self._db is not None:
            try:
                self._db.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken database
                pass
        self._db = None
        self._broken = True
        self._remove_files()

    # -- the two kinds of entries ---------------------------------------
    def docs(self, blobs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Cached documents by blob id (those there are)."""
        return self._get("docs", blobs)

    def put_docs(self, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Remember documents by the blob id they were parsed from."""
        self._put("docs", items)

    def shards(self, trees: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Cached shard listings by shard tree id (those there are)."""
        return self._get("shards", trees)

    def put_shards(self, items: Iterable[tuple[str, list[dict[str, Any]]]]) -> None:
        """Remember each shard tree's documents, in tree order."""
        self._put("shards", items)

    def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            self._db.close()
            self._db = None


def _open(key: str, body: Any, seal: Any, table: str) -> Any:
    """A row's value if it is whole and of the right shape, else None."""
    if not isinstance(body, str) or not isinstance(seal, int) or _seal(key, body) != seal:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if table == "docs":
        return value if isinstance(value, dict) else None
    if isinstance(value, list) and all(isinstance(doc, dict) for doc in value):
        return value
    return None


def _rollback(db: Any) -> None:
    try:
        db.execute("ROLLBACK")
    except Exception:  # noqa: BLE001, S110 - no transaction was open
        pass
