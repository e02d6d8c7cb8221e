"""Git notes on ``refs/notes/orchestrator``, moved by compare-and-swap.

dulwich's ``Notes.set_note`` walks every note and moves the ref without
checking it, so a note written by ``git notes`` meanwhile would be lost.
This writes only the subtrees on the note's path and swaps the ref under
the write lock. It reads git's fan-out layouts (``ab/cdef...``) and keeps
the layout it finds, fanning out once a tree holds 256 notes, as git does.
"""

from __future__ import annotations

from gitorch.model.errors import InvalidParams
from gitorch.store.objects import EMPTY_TREE, TREE_MODE, Commit, Entry, format_commit, parse_commit
from gitorch.store.repository import NOTES_REF
from gitorch.store.state import Made, Store
from gitorch.store.trees import Path, TreeBuilder

_FANOUT_AT = 256


def _check_sha(commit: str) -> str:
    sha = commit.strip().lower()
    if len(sha) != 40 or any(c not in "0123456789abcdef" for c in sha):
        raise InvalidParams(f"{commit!r} is not a full commit id", {"commit": commit})
    return sha


class Notes:
    """The notes of one notes ref (default ``refs/notes/orchestrator``)."""

    def __init__(self, store: Store, ref: str = NOTES_REF) -> None:
        self.store = store
        self.ref = ref

    def _root(self) -> dict[str, Entry]:
        found = self.store.read_ref_commit(self.ref)
        if found is None:
            return {}
        return self.store.read_tree(parse_commit(found[1]).tree)

    def _find(self, entries: dict[str, Entry], rest: str, path: Path) -> Path:
        """The path of ``rest``'s note under ``entries``: found, or where it should go."""
        if rest in entries:
            return (*path, rest)
        sub = entries.get(rest[:2])
        if sub is not None and sub.mode == TREE_MODE:
            return self._find(self.store.read_tree(sub.sha), rest[2:], (*path, rest[:2]))
        fanned = any(len(name) == 2 and e.mode == TREE_MODE for name, e in entries.items())
        if fanned or len(entries) >= _FANOUT_AT:
            return (*path, rest[:2], rest[2:])
        return (*path, rest)

    def read(self, commit: str) -> str | None:
        """The note on ``commit``, or None."""
        return self._note_at(self._root(), _check_sha(commit))

    def _note_at(self, entries: dict[str, Entry], sha: str) -> str | None:
        path = self._find(entries, sha, ())
        for name in path[:-1]:
            entry = entries.get(name)
            if entry is None or entry.mode != TREE_MODE:
                return None
            entries = self.store.read_tree(entry.sha)
        entry = entries.get(path[-1])
        if entry is None or entry.mode == TREE_MODE:
            return None
        return self.store.read_blob(entry.sha).decode("utf-8", "replace")

    def add(self, commit: str, text: str, *, append: bool = True, message: str = "") -> None:
        """Set the note on ``commit``; with ``append``, add ``text`` after what is there."""
        sha = _check_sha(commit)
        subject = message or f"Notes added by 'git orch' on {sha[:12]}"

        def build(current: str | None, head: Commit | None) -> Made:
            root = self.store.tree(head.tree) if head else EMPTY_TREE
            path = self._find(root.entries, sha, ())
            old = self._note_at(root.entries, sha) if append else None
            body = text if not old else old.rstrip("\n") + "\n\n" + text
            builder = TreeBuilder(self.store.tree)
            tree = builder.rebuild(root, {path: body.rstrip("\n").encode("utf-8") + b"\n"})
            seconds = self.store.clock.now_ms() // 1000
            parents = [current] if current else []
            new = builder.add(
                "commit", format_commit(tree, parents, self.store.ident(), seconds, subject + "\n")
            )
            self.store.write_objects(builder)
            return Made(new, subject, builder)

        self.store.swap_ref(self.ref, build, reflog=True)
