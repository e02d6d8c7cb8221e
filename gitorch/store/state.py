"""The state store: YAML documents in the tree of ``refs/orchestrator/state``.

A read resolves the ref once and reads that commit's tree, without any
lock, so it always sees one consistent state. A change is a transaction
(DESIGN.md section 2): take the write lock, read the tip, let the method
apply its change in memory and check it, write the objects and a commit,
and move the ref by compare-and-swap, starting again when the tip moved.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from gitorch.model.clock import Clock
from gitorch.model.config import default_config, initial_meta
from gitorch.model.errors import Conflict, Internal, InvalidState
from gitorch.model.ids import SHARD_LEN, Kind, shard_of
from gitorch.store.doccache import DocCache, ShardCache
from gitorch.store.git import CatFile, run_git
from gitorch.store.objects import (
    EMPTY_TREE,
    TREE_MODE,
    Commit,
    Entry,
    ObjectWriter,
    Tree,
    format_commit,
    parse_commit,
)
from gitorch.store.repository import STATE_REF, Repository
from gitorch.store.trees import Path, TreeBuilder

if TYPE_CHECKING:
    from gitorch.store.refs import RefUpdater

T = TypeVar("T")

MAX_ATTEMPTS = 8
PACK_THRESHOLD = 1024  # loose objects written before a writer repacks (see packing.py)
BULK_OBJECTS = 256  # a transaction writing more objects than this writes one pack
_TREE_CACHE_LIMIT = 8192
_FALLBACK_IDENT = "gitorch <gitorch@localhost>"


class Snapshot:
    """The state at one commit of ``refs/orchestrator/state`` (None: nothing yet)."""

    def __init__(self, store: Store, commit: str | None, head: Commit | None) -> None:
        self.store = store
        self.commit = commit
        self.head = head
        self._root: dict[str, Entry] | None = None
        self._meta: dict[str, Any] | None = None
        self._shards: dict[tuple[str, str], dict[str, Entry]] = {}

    def root(self) -> dict[str, Entry]:
        """The top-level tree's entries."""
        if self._root is None:
            self._root = self.store.read_tree(self.head.tree) if self.head else {}
        return self._root

    def _subtree(self, entries: dict[str, Entry], name: str) -> dict[str, Entry]:
        entry = entries.get(name)
        if entry is None or entry.mode != TREE_MODE:
            return {}
        return self.store.read_tree(entry.sha)

    def _root_doc(self, name: str) -> dict[str, Any] | None:
        entry = self.root().get(name)
        if entry is None:
            return None
        return self.store.parse(entry.sha, name)

    def meta(self) -> dict[str, Any]:
        """``meta.yaml``: schema version and the state version counter."""
        if self._meta is None:
            self._meta = self._root_doc("meta.yaml") or initial_meta()
        return self._meta

    @property
    def version(self) -> int:
        """The state version: it increases with every state commit."""
        value = self.meta().get("state_version", 0)
        if not isinstance(value, int):
            raise InvalidState("state document meta.yaml: state_version is not an integer")
        return value

    def config(self) -> dict[str, Any]:
        """``config.yaml``: settings that travel with the state."""
        return self._root_doc("config.yaml") or default_config(self.store.protected_branch())

    def shard_entries(self, kind: Kind, shard: str) -> dict[str, Entry]:
        """One shard's entries, found by git (a kind's tree of 1,024 shards is never parsed)."""
        if self.head is None:
            return {}
        key = (kind.directory, shard)
        if key not in self._shards:  # a snapshot's commit never changes: ask git once
            tree = self.store.tree_at(self.head.tree, f"{kind.directory}/{shard}")
            self._shards[key] = tree.entries if tree is not None else {}
        return self._shards[key]

    def read(self, kind: Kind, entity_id: str) -> dict[str, Any] | None:
        """The raw document of one entity, or None (do not mutate it)."""
        shard = shard_of(entity_id)
        name = f"{entity_id}.yaml"
        entry = self.shard_entries(kind, shard).get(name)
        if entry is None:
            return None
        cache, where = self.store.doc_cache, f"{kind.directory}/{shard}"
        doc = cache.read_doc(where, name, entry.sha) or cache.shard(where).get(name, entry.sha)
        if doc is None:
            doc = self.store.parse(entry.sha, f"{where}/{name}")
            cache.write_doc(where, name, entry.sha, doc)
        return doc

    def ids_with_prefix(self, kind: Kind, random_prefix: str) -> list[str]:
        """Ids of ``kind`` whose random part starts with ``random_prefix``, sorted."""
        if len(random_prefix) >= SHARD_LEN:
            shards = [random_prefix[:SHARD_LEN]]
        else:
            kind_tree = self._subtree(self.root(), kind.directory)
            shards = [s for s, e in kind_tree.items() if s.startswith(random_prefix)]
        found = []
        for shard in shards:
            for name in self.shard_entries(kind, shard):
                entity_id = name.removesuffix(".yaml")
                if entity_id.split("-", 1)[-1].startswith(random_prefix):
                    found.append(entity_id)
        return sorted(found)

    def docs(self, kind: Kind) -> list[dict[str, Any]]:
        """Every raw document of ``kind`` (from the cache where it can; do not mutate them)."""
        out: list[dict[str, Any]] = []
        stale: list[tuple[ShardCache, str, dict[str, Entry]]] = []
        for shard, shard_entry in self._subtree(self.root(), kind.directory).items():
            cache = self.store.doc_cache.shard(f"{kind.directory}/{shard}")
            if cache.tree == shard_entry.sha:
                out.extend(doc for _, doc in cache.docs.values())
            else:
                stale.append((cache, shard_entry.sha, self.store.read_tree(shard_entry.sha)))
        missing = []
        for cache, _, entries in stale:
            for name, entry in entries.items():
                if cache.get(name, entry.sha) is not None:
                    continue
                doc = self.store.doc_cache.read_doc(cache.where, name, entry.sha)
                if doc is not None:
                    cache.put(name, entry.sha, doc)
                else:
                    missing.append((cache, f"{cache.where}/{name}", name, entry.sha))
        blobs = self.store.read_blobs([blob for _, _, _, blob in missing])
        from gitorch.model.codec import load_doc

        for (cache, path, name, blob), data in zip(missing, blobs, strict=True):
            cache.put(name, blob, load_doc(data, path))
        for cache, tree, entries in stale:
            out.extend(cache.get(name, entry.sha) or {} for name, entry in entries.items())
            cache.complete_for(tree, {name: entry.sha for name, entry in entries.items()})
            cache.save()
        return out

    def kinds_present(self) -> list[str]:
        """Directories of the state tree that hold entities."""
        return sorted(name for name, entry in self.root().items() if entry.mode == TREE_MODE)


class Transaction(Snapshot):
    """A snapshot plus the changes a method stages; reads see the staged changes."""

    def __init__(
        self,
        store: Store,
        commit: str | None,
        head: Commit | None,
        method: str,
        session: str | None,
    ) -> None:
        super().__init__(store, commit, head)
        self.method = method
        self.session = session
        self.staged: dict[tuple[str, str], dict[str, Any]] = {}

    def put(self, kind: Kind, entity_id: str, doc: dict[str, Any]) -> None:
        """Stage the new document of an entity (created or changed)."""
        self.staged[(kind.directory, entity_id)] = doc

    def read(self, kind: Kind, entity_id: str) -> dict[str, Any] | None:
        """The staged document if there is one, else the stored one."""
        staged = self.staged.get((kind.directory, entity_id))
        return staged if staged is not None else super().read(kind, entity_id)

    def ids_with_prefix(self, kind: Kind, random_prefix: str) -> list[str]:
        """Stored and staged ids of ``kind`` with the prefix."""
        found = set(super().ids_with_prefix(kind, random_prefix))
        for directory, entity_id in self.staged:
            if directory == kind.directory and entity_id.split("-", 1)[1].startswith(random_prefix):
                found.add(entity_id)
        return sorted(found)

    def docs(self, kind: Kind) -> list[dict[str, Any]]:
        """Stored documents with the staged ones in their place."""
        staged = {eid: doc for (d, eid), doc in self.staged.items() if d == kind.directory}
        if not staged:
            return super().docs(kind)
        merged = [doc for doc in super().docs(kind) if doc.get("id") not in staged]
        return merged + list(staged.values())


class Store:
    """Reads and transactions on one repository's state."""

    def __init__(
        self,
        repo: Repository,
        clock: Clock,
        *,
        pack_threshold: int | None = None,
        stale_lock_seconds: float | None = None,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.pack_threshold = pack_threshold if pack_threshold is not None else PACK_THRESHOLD
        self._stale_lock_seconds = stale_lock_seconds
        self._catfile = CatFile(repo.path)
        self._trees: dict[str, Tree] = {}
        self._ident: str | None = None
        self._refs: RefUpdater | None = None
        self._writer: ObjectWriter | None = None
        self._doc_cache: DocCache | None = None

    @property
    def doc_cache(self) -> DocCache:
        """Parsed documents by blob id (see doccache.py)."""
        if self._doc_cache is None:
            self._doc_cache = DocCache(os.path.join(self.repo.orch_dir, "cache"))
        return self._doc_cache

    def parse(self, blob: str, path: str) -> dict[str, Any]:
        """Parse the YAML document stored as ``blob``; errors name ``path``."""
        from gitorch.model.codec import load_doc

        return load_doc(self.read_blob(blob), path)

    # -- reading ---------------------------------------------------------
    def read_object(self, name: str, expect: str) -> tuple[str, bytes] | None:
        """``(sha, content)`` of an object of type ``expect``, or None when missing."""
        found = self._catfile.read(name)
        if found is None:
            return None
        sha, obj_type, data = found
        if obj_type != expect:
            raise InvalidState(f"{name} is a {obj_type}, not a {expect}", {"object": name})
        return sha, data

    def tree(self, sha: str) -> Tree:
        """A tree (cached by id: trees never change)."""
        tree = self._trees.get(sha)
        if tree is None:
            found = self.read_object(sha, "tree")
            if found is None:
                raise Internal(f"tree {sha} is missing from the object database")
            tree = Tree.parse(found[1])
            self._remember(sha, tree)
        return tree

    def tree_at(self, tree: str, path: str) -> Tree | None:
        """The tree at ``path`` below the tree ``tree``, resolved by git; None if absent."""
        found = self._catfile.read(f"{tree}:{path}")
        if found is None or found[1] != "tree":
            return None
        cached = self._trees.get(found[0])
        if cached is None:
            cached = Tree.parse(found[2])
            self._remember(found[0], cached)
        return cached

    def read_tree(self, sha: str) -> dict[str, Entry]:
        """A tree's entries, by name."""
        return self.tree(sha).entries

    def _remember(self, sha: str, tree: Tree) -> None:
        if len(self._trees) >= _TREE_CACHE_LIMIT:
            self._trees.clear()
        self._trees[sha] = tree

    def read_blob(self, sha: str) -> bytes:
        """A blob's content."""
        return self.read_blobs([sha])[0]

    def read_blobs(self, shas: list[str]) -> list[bytes]:
        """Several blobs' contents, read in one pipelined batch."""
        out = []
        for sha, found in zip(shas, self._catfile.read_many(shas), strict=True):
            if found is None or found[1] != "blob":
                raise Internal(f"blob {sha} is missing from the object database")
            out.append(found[2])
        return out

    def tip(self) -> tuple[str | None, Commit | None]:
        """The commit the state ref points at now."""
        found = self.read_object(STATE_REF, "commit")
        if found is None:
            return None, None
        return found[0], parse_commit(found[1])

    def snapshot(self) -> Snapshot:
        """The state as it is now."""
        commit, head = self.tip()
        return Snapshot(self, commit, head)

    def protected_branch(self) -> str:
        """The branch HEAD of the main worktree names; ``main`` when it names none."""
        try:
            with open(os.path.join(self.repo.common_dir, "HEAD"), encoding="utf-8") as handle:
                head = handle.read().strip()
        except OSError:
            return "main"
        prefix = "ref: refs/heads/"
        return head[len(prefix) :] if head.startswith(prefix) else "main"

    # -- writing ---------------------------------------------------------
    def ident(self) -> str:
        """``Name <email>`` for state commits: git's committer identity, else gitorch's."""
        if self._ident is None:
            try:
                out = run_git(["var", "GIT_COMMITTER_IDENT"], self.repo.path).decode("utf-8")
                name_email = out.rsplit(" ", 2)[0].strip()
                self._ident = name_email if "<" in name_email else _FALLBACK_IDENT
            except Internal:
                self._ident = _FALLBACK_IDENT
        return self._ident

    def _ref_updater(self) -> RefUpdater:
        if self._refs is None:
            from gitorch.store.refs import STALE_LOCK_SECONDS, RefUpdater

            stale = self._stale_lock_seconds
            self._refs = RefUpdater(
                self.repo.common_dir,
                self.ident(),
                stale if stale is not None else STALE_LOCK_SECONDS,
            )
        return self._refs

    def object_writer(self) -> ObjectWriter:
        """The writer of this repository's objects."""
        if self._writer is None:
            self._writer = ObjectWriter(self.repo.objects_dir, self.repo.path)
        return self._writer

    def transact(
        self, method: str, apply: Callable[[Transaction], T], *, session: str | None = None
    ) -> T:
        """Run ``apply`` on the tip and commit what it staged, atomically.

        ``apply`` may run more than once (when the tip moved under a writer
        outside the lock); it must do nothing but read and stage.
        """
        outcome: list[T] = []
        last: list[tuple[Transaction, TreeBuilder]] = []

        def build(commit: str | None, head: Commit | None) -> tuple[str, str] | None:
            tx = Transaction(self, commit, head, method, session)
            outcome[:] = [apply(tx)]
            if not tx.staged:
                last.clear()
                return None
            builder = TreeBuilder(self.tree)
            last[:] = [(tx, builder)]
            return self._write_commit(tx, builder)

        self.swap_ref(STATE_REF, build, reflog=True)
        if last:
            self._cache_written(*last[0])
        return outcome[0]

    def _cache_written(self, tx: Transaction, builder: TreeBuilder) -> None:
        """Store the documents just committed in the document cache."""
        shards: dict[tuple[str, str], list[str]] = {}
        for directory, entity_id in tx.staged:
            shards.setdefault((directory, shard_of(entity_id)), []).append(entity_id)
        for (directory, shard), ids in shards.items():
            tree = builder.tree_at[(directory, shard)]
            entries = builder.trees[tree].entries
            where = f"{directory}/{shard}"
            if len(ids) == 1:
                # One document: a file of its own, a cost that does not grow with the shard.
                name = f"{ids[0]}.yaml"
                self.doc_cache.write_doc(
                    where, name, entries[name].sha, tx.staged[(directory, ids[0])]
                )
                continue
            cache = self.doc_cache.shard(where)
            for entity_id in ids:
                name = f"{entity_id}.yaml"
                cache.put(name, entries[name].sha, tx.staged[(directory, entity_id)])
            cache.complete_for(tree, {name: entry.sha for name, entry in entries.items()})
            cache.save()

    def _write_commit(self, tx: Transaction, builder: TreeBuilder) -> tuple[str, str]:
        from gitorch.model.codec import dump_doc

        changes: dict[Path, bytes | None] = {
            (directory, shard_of(entity_id), f"{entity_id}.yaml"): dump_doc(doc)
            for (directory, entity_id), doc in tx.staged.items()
        }
        meta = dict(tx.meta())
        meta["state_version"] = tx.version + 1
        changes[("meta.yaml",)] = dump_doc(meta)
        if "config.yaml" not in tx.root():
            changes[("config.yaml",)] = dump_doc(default_config(self.protected_branch()))
        root_sha = builder.rebuild(self.tree(tx.head.tree) if tx.head else EMPTY_TREE, changes)
        subject = _subject(tx)
        message = (
            f"{subject}\n\nOrch-Method: {tx.method}\nOrch-Session: {tx.session or 'none'}\n"
            f"Orch-State-Version: {meta['state_version']}\n"
        )
        parents = [tx.commit] if tx.commit else []
        commit_sha = builder.add(
            "commit",
            format_commit(root_sha, parents, self.ident(), self.clock.now_ms() // 1000, message),
        )
        self.write_objects(builder)
        return commit_sha, subject

    def write_objects(self, builder: TreeBuilder) -> None:
        """Write a change's objects: loose, or one pack when there are many."""
        writer = self.object_writer()
        if len(builder.objects) > BULK_OBJECTS:
            writer.write_pack(builder.objects)
        else:
            for obj_type, data in builder.objects:
                writer.write_loose(obj_type, data)
        for sha, tree in builder.trees.items():
            self._remember(sha, tree)

    def swap_ref(
        self,
        ref: str,
        build: Callable[[str | None, Commit | None], tuple[str, str] | None],
        *,
        reflog: bool,
    ) -> str | None:
        """Move ``ref`` to what ``build(current, commit)`` makes, under the write lock.

        ``build`` writes its objects and returns ``(new commit, subject)``, or
        None to leave the ref alone; it runs again when the ref moved.
        """
        from gitorch.store import packing
        from gitorch.store.writelock import write_lock

        pack_now = False
        with write_lock(self.repo.orch_dir):
            for _ in range(MAX_ATTEMPTS):
                found = self.read_object(ref, "commit")
                current, head = (found[0], parse_commit(found[1])) if found else (None, None)
                before = self.object_writer().written
                made = build(current, head)
                if made is None:
                    return current
                new, subject = made
                seconds = self.clock.now_ms() // 1000
                if self._ref_updater().swap(
                    ref, current, new, subject if reflog else None, seconds
                ):
                    written = self.object_writer().written - before
                    pack_now = packing.add_count(self.repo.orch_dir, written) >= self.pack_threshold
                    break
            else:
                raise Conflict(f"{ref} kept moving; nothing was written", {"ref": ref})
        if pack_now:
            packing.repack(self.repo.orch_dir, self.repo.path)
        return new

    def close(self) -> None:
        """Stop the git processes this store started."""
        self._catfile.close()

    def iter_history(self, limit: int) -> Iterator[tuple[str, Commit]]:
        """The newest ``limit`` state commits, newest first."""
        commit, head = self.tip()
        while commit is not None and head is not None and limit > 0:
            yield commit, head
            limit -= 1
            if not head.parents:
                return
            commit = head.parents[0]
            found = self.read_object(commit, "commit")
            head = parse_commit(found[1]) if found else None


def _subject(tx: Transaction) -> str:
    ids = sorted({entity_id for _, entity_id in tx.staged})
    shown = ", ".join(ids[:8])
    more = f" (+{len(ids) - 8} more)" if len(ids) > 8 else ""
    return f"{tx.method} {shown}{more}"
