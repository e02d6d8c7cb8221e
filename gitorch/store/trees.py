"""Rebuilding a tree after some of its paths changed, touching only their subtrees."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gitorch.store.objects import BLOB_MODE, EMPTY_TREE, TREE_MODE, Entry, Tree, object_id

Path = tuple[str, ...]


class TreeBuilder:
    """Collects the objects of a change; ``objects`` is what must be written."""

    def __init__(self, read_tree: Callable[[str], Tree]) -> None:
        self._read_tree = read_tree
        self.objects: list[tuple[str, bytes]] = []
        self.trees: dict[str, Tree] = {}
        self.tree_at: dict[Path, str] = {}  # rebuilt trees by path (the root is ())

    def add(self, obj_type: str, data: bytes) -> str:
        """Queue an object for writing and return its id."""
        self.objects.append((obj_type, data))
        return object_id(obj_type, data)

    def rebuild(self, base: Tree, changes: Mapping[Path, bytes | None]) -> str:
        """The id of ``base`` with each path set to a blob of its bytes (None: removed)."""
        return self._store(self._apply(base, changes, ()), ())

    def _apply(self, base: Tree, changes: Mapping[Path, bytes | None], at: Path) -> Tree:
        direct: dict[str, Entry | None] = {}
        nested: dict[str, dict[Path, bytes | None]] = {}
        for path, data in changes.items():
            if len(path) > 1:
                nested.setdefault(path[0], {})[path[1:]] = data
            else:
                direct[path[0]] = None if data is None else Entry(BLOB_MODE, self.add("blob", data))
        for name, sub_changes in nested.items():
            current = base.entries.get(name)
            sub_base = (
                self._read_tree(current.sha)
                if current is not None and current.mode == TREE_MODE
                else EMPTY_TREE
            )
            sub = self._apply(sub_base, sub_changes, (*at, name))
            direct[name] = Entry(TREE_MODE, self._store(sub, (*at, name))) if sub.entries else None
        return base.changed(direct)

    def _store(self, tree: Tree, at: Path) -> str:
        sha = self.add("tree", tree.raw())
        self.trees[sha] = tree
        self.tree_at[at] = sha
        return sha
