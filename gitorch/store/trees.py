"""Rebuilding a tree after some of its paths changed, touching only their subtrees."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gitorch.store.objects import BLOB_MODE, TREE_MODE, Entry, format_tree, object_id

Path = tuple[str, ...]


class TreeBuilder:
    """Collects the objects of a change; ``objects`` is what must be written."""

    def __init__(self, read_tree: Callable[[str], dict[str, Entry]]) -> None:
        self._read_tree = read_tree
        self.objects: list[tuple[str, bytes]] = []
        self.trees: dict[str, dict[str, Entry]] = {}
        self.tree_at: dict[Path, str] = {}  # rebuilt trees by path (the root is ())

    def add(self, obj_type: str, data: bytes) -> str:
        """Queue an object for writing and return its id."""
        self.objects.append((obj_type, data))
        return object_id(obj_type, data)

    def rebuild(self, entries: Mapping[str, Entry], changes: Mapping[Path, bytes | None]) -> str:
        """The id of ``entries`` with each path set to a blob of its bytes (None: removed)."""
        new = self._apply(entries, changes, ())
        return self._tree(new, ())

    def _apply(
        self, entries: Mapping[str, Entry], changes: Mapping[Path, bytes | None], at: Path
    ) -> dict[str, Entry]:
        out = dict(entries)
        nested: dict[str, dict[Path, bytes | None]] = {}
        for path, data in changes.items():
            if len(path) > 1:
                nested.setdefault(path[0], {})[path[1:]] = data
            elif data is None:
                out.pop(path[0], None)
            else:
                out[path[0]] = Entry(BLOB_MODE, self.add("blob", data))
        for name, sub_changes in nested.items():
            current = out.get(name)
            base = self._read_tree(current.sha) if current and current.mode == TREE_MODE else {}
            sub = self._apply(base, sub_changes, (*at, name))
            if sub:
                out[name] = Entry(TREE_MODE, self._tree(sub, (*at, name)))
            else:
                out.pop(name, None)
        return out

    def _tree(self, entries: dict[str, Entry], at: Path) -> str:
        sha = self.add("tree", format_tree(entries))
        self.trees[sha] = entries
        self.tree_at[at] = sha
        return sha
