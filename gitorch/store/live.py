"""A ref replaced in place without history: ``refs/orchestrator/live``.

Heartbeats and lease renewals change every few seconds; as state commits
they would grow the history without end. Here each write makes one
parentless commit holding every live document and swaps the ref to it, so
the ref always holds the newest of everything and nothing else. Old live
commits become unreachable and ``git gc`` collects them.
"""

from __future__ import annotations

from gitorch.store.objects import EMPTY_TREE, TREE_MODE, Commit, Entry, format_commit, parse_commit
from gitorch.store.repository import LIVE_REF
from gitorch.store.state import Made, Store
from gitorch.store.trees import TreeBuilder

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any


class LiveRef:
    """Documents by path (``sessions/ses-xxxx.yaml``) on the live ref."""

    def __init__(self, store: Store, ref: str = LIVE_REF) -> None:
        self.store = store
        self.ref = ref

    def read_all(self, directory: str = "") -> dict[str, dict[str, Any]]:
        """Every live document (under ``directory``, when given), by path."""
        found = self.store.read_ref_commit(self.ref)
        if found is None:
            return {}
        root = self.store.read_tree(parse_commit(found[1]).tree)
        out: dict[str, dict[str, Any]] = {}
        if not directory:
            self._walk(root, "", out)
        elif directory in root and root[directory].mode == TREE_MODE:
            self._walk(self.store.read_tree(root[directory].sha), f"{directory}/", out)
        return out

    def _walk(self, entries: dict[str, Entry], prefix: str, out: dict[str, dict[str, Any]]) -> None:
        blobs = []
        for name, entry in entries.items():
            path = f"{prefix}{name}"
            if entry.mode == TREE_MODE:
                self._walk(self.store.read_tree(entry.sha), f"{path}/", out)
            else:
                blobs.append((entry.sha, f"{self.ref}:{path}", path))
        # one batch: cached documents by blob id, the rest read and parsed together
        docs = self.store.documents([(blob, where) for blob, where, _ in blobs])
        for (_, _, path), doc in zip(blobs, docs, strict=True):
            out[path] = doc

    def put(self, changes: dict[str, dict[str, Any] | None], subject: str = "live") -> None:
        """Set (or, with None, remove) live documents, keeping all the others."""
        from gitorch.model.codec import dump_doc  # writers only: reads never import YAML

        def build(current: str | None, head: Commit | None) -> Made:
            root = self.store.tree(head.tree) if head else EMPTY_TREE
            builder = TreeBuilder(self.store.tree)
            tree = builder.rebuild(
                root,
                {
                    tuple(path.split("/")): (dump_doc(doc) if doc is not None else None)
                    for path, doc in changes.items()
                },
            )
            seconds = self.store.clock.now_ms() // 1000
            new = builder.add(
                "commit", format_commit(tree, [], self.store.ident(), seconds, subject + "\n")
            )
            self.store.write_objects(builder)
            return Made(new, subject, builder)

        self.store.swap_ref(self.ref, build, reflog=False, lock="live.lock")
