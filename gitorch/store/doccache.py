"""Parsed documents cached as JSON, one file per shard, keyed by blob id.

Parsing YAML, and even importing the YAML library, costs more than the
rest of a ``git orch task.get``. A document's blob id names its content, so
a parsed copy stored under that id is valid for as long as it exists:
writers store the documents they just wrote, readers parse only what is
not stored yet (documents that arrived by sync, or written elsewhere).
A shard file also records the shard tree it is complete for, so listing a
kind reads only the shards whose tree changed. The files live in
``<common dir>/orchestrator/cache/<kind>/<shard>.json``, are never shared,
and can be deleted at any time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

_FORMAT = 1

Parse = Callable[[str, str], dict[str, Any]]  # (blob id, path) -> document


class ShardCache:
    """One shard's cached documents: ``docs[name] = [blob id, document]``."""

    def __init__(self, path: str, where: str, data: dict[str, Any]) -> None:
        self.path = path
        self.where = where  # the shard's directory in the state tree: tasks/4k
        self.tree: str | None = data.get("tree")
        self.docs: dict[str, list[Any]] = data.get("docs", {})
        self.dirty = False

    def get(self, name: str, blob: str) -> dict[str, Any] | None:
        """The cached document ``name`` if it is the one stored as ``blob``."""
        entry = self.docs.get(name)
        if entry is not None and entry[0] == blob:
            doc: dict[str, Any] = entry[1]
            return doc
        return None

    def put(self, name: str, blob: str, doc: dict[str, Any]) -> None:
        """Remember ``doc`` as the content of ``blob``."""
        self.docs[name] = [blob, doc]
        self.dirty = True

    def complete_for(self, tree: str, entries: Mapping[str, str]) -> None:
        """Drop what the shard no longer holds; mark complete if every entry is cached."""
        kept = {name: v for name, v in self.docs.items() if entries.get(name) == v[0]}
        complete = len(kept) == len(entries)
        if kept.keys() != self.docs.keys() or (self.tree == tree) != complete:
            self.docs = kept
            self.tree = tree if complete else None
            self.dirty = True

    def save(self) -> None:
        """Write the file if anything changed."""
        if self.dirty:
            _write_json(self.path, {"format": _FORMAT, "tree": self.tree, "docs": self.docs})
            self.dirty = False


def _write_json(path: str, data: Any) -> None:
    """Write a cache file atomically; a cache that cannot be written is skipped."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # dumps, not dump: json.dump streams through the pure-Python encoder.
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


class DocCache:
    """The document cache of one repository.

    Two levels: writers store each document they commit in a file of its own
    (``<kind>/<shard>/<name>.json``), a cost that does not grow with the
    shard; readers that list a kind gather a shard's documents into one
    file (``<kind>/<shard>.json``), so the next listing reads one file a shard.
    """

    def __init__(self, cache_dir: str) -> None:
        self.cache_dir = cache_dir

    def _doc_path(self, where: str, name: str) -> str:
        return os.path.join(self.cache_dir, where, f"{name}.json")

    def read_doc(self, where: str, name: str, blob: str) -> dict[str, Any] | None:
        """The document ``where/name`` stored by a writer, if it is ``blob``."""
        try:
            with open(self._doc_path(where, name), encoding="utf-8") as handle:
                stored = json.load(handle)
        except (OSError, ValueError):
            return None
        if isinstance(stored, list) and len(stored) == 2 and stored[0] == blob:
            doc: dict[str, Any] = stored[1]
            return doc
        return None

    def write_doc(self, where: str, name: str, blob: str, doc: dict[str, Any]) -> None:
        """Store one document as the content of ``blob``."""
        _write_json(self._doc_path(where, name), [blob, doc])

    def shard(self, where: str) -> ShardCache:
        """The cache file of the shard ``where`` (``tasks/4k``); empty if missing or unreadable."""
        path = os.path.join(self.cache_dir, f"{where}.json")
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            data = {}
        return ShardCache(path, where, data)
