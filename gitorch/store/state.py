"""The state store: YAML documents in the tree of ``refs/orchestrator/state``.

A read resolves the ref once and reads that commit's tree, without any
lock (see snapshot.py). A change is a transaction (DESIGN.md section 2):
take the write lock, read the tip, let the method apply its change in
memory and check it, write the objects and a commit, and move the ref by
compare-and-swap through ``git update-ref``, starting again when the tip
moved. What follows a move (cache, packing) is best effort: a change that
was committed is never reported as failed.
"""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from functools import partial

from gitorch.model.config import default_config
from gitorch.model.errors import Conflict, GitorchError, InvalidState, Unavailable
from gitorch.model.ids import shard_of
from gitorch.store.cache import FILE_NAME, Cache
from gitorch.store.git import CatFile, read_git, resolve
from gitorch.store.history import highest_version, previous_tips, reflog_message
from gitorch.store.housekeeping import running_gc, wait_for_gc
from gitorch.store.objects import (
    EMPTY_TREE,
    Commit,
    Entry,
    ObjectWriter,
    Tree,
    format_commit,
    parse_commit,
)
from gitorch.store.repository import STATE_REF, Repository
from gitorch.store.snapshot import Snapshot, Transaction
from gitorch.store.trees import Path, TreeBuilder

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any, NamedTuple, TypeVar

    from gitorch.model.clock import Clock
    from gitorch.store.refs import RefUpdater

    T = TypeVar("T")

__all__ = ["STATE_REF", "Made", "Snapshot", "Store", "Transaction"]

MAX_ATTEMPTS = 8
PACK_THRESHOLD = 1024  # loose objects written before a writer repacks (see packing.py)
BULK_OBJECTS = 256  # a transaction writing more objects than this writes one pack
_TREE_CACHE_LIMIT = 8192
_FALLBACK_IDENT = "gitorch <gitorch@localhost>"
LOCK_WAIT_SECONDS = 60.0


if TYPE_CHECKING:

    class _MadeFields(NamedTuple):
        commit: str
        message: str
        builder: TreeBuilder

else:
    _MadeFields = namedtuple("_MadeFields", ("commit", "message", "builder"))


class Made(_MadeFields):
    """A new commit for a ref: its id, its reflog message, and the objects it needs."""

    __slots__ = ()


def state_readme() -> str:
    """The README.md at the root of the state tree: what is where, how to find an id."""
    from gitorch.model.kinds import KINDS

    lines = [
        "# gitorch state",
        "",
        "This tree is `refs/orchestrator/state`: written by `git orch` only, one commit per",
        "change (`git log refs/orchestrator/state`). Read it, never edit it.",
        "",
        "- `meta.yaml`: the schema and `state_version`; `config.yaml`: settings that travel.",
        "- One YAML document per entity, at `<directory>/<shard>/<id>.yaml`, where the shard is",
        "  the first two characters after the dash: `tsk-4k2m9qab` is",
        "  `tasks/4k/tsk-4k2m9qab.yaml`.",
        "",
        "| directory | holds | id prefix |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{k.directory}/` | {k.description} | `{k.prefix}-` |" for k in KINDS.values()]
    lines += [
        "",
        "Heartbeats live on `refs/orchestrator/live`; case checkpoints are git notes on",
        "`refs/notes/orchestrator` (`git log --notes=orchestrator`).",
        "",
    ]
    return "\n".join(lines)


class Store:
    """Reads and transactions on one repository's state.

    ``cache=False`` reads every document from git (tests compare the two);
    ``lock_wait`` is how long a writer waits for the write lock.
    """

    def __init__(
        self,
        repo: Repository,
        clock: Clock,
        *,
        pack_threshold: int | None = None,
        cache: bool = True,
        lock_wait: float | None = None,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.pack_threshold = pack_threshold if pack_threshold is not None else PACK_THRESHOLD
        self.lock_wait = lock_wait if lock_wait is not None else LOCK_WAIT_SECONDS
        self._use_cache = cache
        self._catfile = CatFile(repo.path)
        self._trees: dict[str, Tree] = {}
        self._ident: str | None = None
        self._refs: RefUpdater | None = None
        self._writer: ObjectWriter | None = None
        self._cache: Cache | None = None
        self._default_branch: str | None = None

    @property
    def cache(self) -> Cache:
        """Parsed documents by object id (see cache.py)."""
        if self._cache is None:
            path = os.path.join(self.repo.orch_dir, FILE_NAME) if self._use_cache else None
            self._cache = Cache(path)
        return self._cache

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
                raise self.missing("tree", sha)
            tree = _parse_tree(sha, found[1])
            self._remember(sha, tree)
        return tree

    def tree_at(self, tree: str, path: str) -> Tree | None:
        """The tree at ``path`` below the tree ``tree``, resolved by git.

        None when git finds nothing there: the path is absent, or an object
        on the way is missing (the caller walks down to tell which).
        """
        found = self._catfile.read(f"{tree}:{path}")
        if found is None or found[1] != "tree":
            return None
        cached = self._trees.get(found[0])
        if cached is None:
            cached = _parse_tree(found[0], found[2])
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

    def read_blobs(self, shas: Sequence[str]) -> list[bytes]:
        """Several blobs' contents, read in one pipelined batch."""
        out = []
        for sha, found in zip(shas, self._catfile.read_many(shas), strict=True):
            if found is None or found[1] != "blob":
                raise self.missing("blob", sha)
            out.append(found[2])
        return out

    def missing(self, obj_type: str, sha: str, ref: str = STATE_REF) -> InvalidState:
        """The error for an object a ref needs that the object database lacks."""
        return InvalidState(
            f"{obj_type} {sha} of {ref} is missing from the object database "
            "(pruned or damaged); restore a good tip from the reflog: "
            f"`git reflog {ref}`, then `git update-ref {ref} <good commit>`",
            {"ref": ref, "object": sha, "type": obj_type, **self._recovery(ref)},
        )

    def _recovery(self, ref: str) -> dict[str, Any]:
        try:
            return {"reflog_previous": previous_tips(self.repo.common_dir, ref)}
        except GitorchError:
            return {}

    def document(self, blob: str, path: str) -> dict[str, Any]:
        """The document stored as ``blob``; errors name ``path``.

        One document is cheap to check: its blob must be in the object
        database even when its parsed form is cached, so a damaged database
        answers ``invalid_state`` here exactly as an uncached read would.
        """
        found = self._catfile.read_many([blob])[0]
        if found is None or found[1] != "blob":
            raise self.missing("blob", blob)
        known = self.cache.docs([blob])
        if blob in known:
            return known[blob]
        from gitorch.model.codec import load_doc

        doc = load_doc(found[2], path)
        self.cache.put_docs([(blob, doc)])
        return doc

    def documents(self, wanted: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        """The documents stored as each ``(blob, path)``: cached, else parsed and cached."""
        known = self.cache.docs([blob for blob, _ in wanted])
        todo = [(blob, path) for blob, path in wanted if blob not in known]
        if todo:
            from gitorch.model.codec import load_doc

            parsed = {}
            for (blob, path), data in zip(
                todo, self.read_blobs([blob for blob, _ in todo]), strict=True
            ):
                parsed[blob] = load_doc(data, path)
            self.cache.put_docs(parsed.items())
            known.update(parsed)
        return [known[blob] for blob, _ in wanted]

    def tip(self) -> tuple[str | None, Commit | None]:
        """The commit the state ref points at now; None when there is no state yet."""
        self._catfile.start()  # starts up while rev-parse runs
        self.repo.check()
        found = self.read_ref_commit(STATE_REF)
        if found is None:
            return None, None
        return found[0], parse_commit(found[1])

    def read_ref_commit(self, ref: str) -> tuple[str, bytes] | None:
        """The commit ``ref`` points at; None when the ref does not exist.

        A ref another process moves at that moment can miss once: the ref is
        read again and its commit looked up by id, and only a commit that is
        really missing is ``invalid_state``.
        """
        found = self.read_object(ref, "commit")
        if found is not None:
            return found
        target = self.ref_target(ref)
        if not target:
            return None
        found = self.read_object(target, "commit")
        if found is None:
            raise self.missing("commit", target, ref)
        return found

    def ref_target(self, ref: str) -> str:
        """What ``ref`` names without reading the object ("" when the ref does not exist)."""
        return resolve(self.repo.path, ref) or ""

    def snapshot(self) -> Snapshot:
        """The state as it is now."""
        commit, head = self.tip()
        return Snapshot(self, commit, head)

    def snapshot_at(self, commit: str) -> Snapshot:
        """The state as it was at one state commit."""
        found = self.read_object(commit, "commit")
        if found is None:
            raise self.missing("commit", commit)
        return Snapshot(self, found[0], parse_commit(found[1]))

    def default_branch(self) -> str:
        """The protected branch a new state starts with (see Repository.default_branch)."""
        if self._default_branch is None:
            self._default_branch = self.repo.default_branch()
        return self._default_branch

    def rewound(self) -> dict[str, int] | None:
        """``{tip_version, highest_version}`` when the ref was moved back behind our commits."""
        tip_version = self.snapshot().version
        highest = highest_version(self.repo.common_dir, STATE_REF)
        if highest > tip_version:
            return {"tip_version": tip_version, "highest_version": highest}
        return None

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
            if found is None:
                raise self.missing("commit", commit)
            head = parse_commit(found[1])

    # -- writing ---------------------------------------------------------
    def ident(self) -> str:
        """``Name <email>`` for state commits: git's committer identity, else gitorch's."""
        if self._ident is None:
            try:
                out = read_git(["var", "GIT_COMMITTER_IDENT"], self.repo.path).decode("utf-8")
                name_email = out.rsplit(" ", 2)[0].strip()
                self._ident = name_email if "<" in name_email else _FALLBACK_IDENT
            except (GitorchError, UnicodeDecodeError):
                self._ident = _FALLBACK_IDENT
        return self._ident

    def _ref_updater(self) -> RefUpdater:
        if self._refs is None:
            from gitorch.store.refs import RefUpdater

            self._refs = RefUpdater(self.repo.path, self.repo.common_dir, self.repo.orch_dir)
        return self._refs

    def object_writer(self) -> ObjectWriter:
        """The writer of this repository's objects."""
        if self._writer is None:
            self._writer = ObjectWriter(self.repo.objects_dir, self.repo.path)
        return self._writer

    def prepare_write(self) -> None:
        """Do what is slow before taking the write lock: identity, imports, refs."""
        self.repo.check()
        self.ident()
        self._ref_updater()
        from gitorch.model import codec  # noqa: F401 - imported here, outside the lock
        from gitorch.store import packing  # noqa: F401

    def transact(
        self, method: str, apply: Callable[[Transaction], T], *, session: str | None = None
    ) -> T:
        """Run ``apply`` on the tip and commit what it staged, atomically.

        ``apply`` may run more than once (when the tip moved under a writer
        outside the lock); it must do nothing but read and stage.
        """
        outcome: list[T] = []
        done: list[Transaction] = []

        def build(commit: str | None, head: Commit | None) -> Made | None:
            tx = Transaction(self, commit, head, method, session)
            outcome[:] = [apply(tx)]
            done[:] = [tx]
            if not tx.changed:
                return None
            return self._commit(tx)

        made = self.swap_ref(STATE_REF, build)
        if made is not None:
            self._after_commit(lambda: self._cache_written(done[0], made.builder))
        return outcome[0]

    def _commit(self, tx: Transaction) -> Made:
        from gitorch.model.codec import dump_doc

        changes: dict[Path, bytes | None] = {
            (directory, shard_of(entity_id), f"{entity_id}.yaml"): dump_doc(doc)
            for (directory, entity_id), doc in tx.staged.items()
        }
        version = max(tx.version, highest_version(self.repo.common_dir, STATE_REF)) + 1
        meta = dict(tx.meta())
        meta["state_version"] = version
        changes[("meta.yaml",)] = dump_doc(meta)
        if tx.staged_config is not None:
            changes[("config.yaml",)] = dump_doc(tx.staged_config)
        elif "config.yaml" not in tx.root():
            changes[("config.yaml",)] = dump_doc(default_config(self.default_branch()))
        if "README.md" not in tx.root():
            changes[("README.md",)] = state_readme().encode("utf-8")
        builder = TreeBuilder(self.tree)
        root_sha = builder.rebuild(self.tree(tx.head.tree) if tx.head else EMPTY_TREE, changes)
        subject = _subject(tx)
        message = (
            f"{subject}\n\nOrch-Method: {tx.method}\nOrch-Session: {tx.session or 'none'}\n"
            f"Orch-State-Version: {version}\n"
        )
        parents = [tx.commit] if tx.commit else []
        commit_sha = builder.add(
            "commit",
            format_commit(root_sha, parents, self.ident(), self.clock.now_ms() // 1000, message),
        )
        self.write_objects(builder)
        tx.written_meta = meta
        return Made(commit_sha, reflog_message(subject, version), builder)

    def _cache_written(self, tx: Transaction, builder: TreeBuilder) -> None:
        """Store the documents just committed in the cache, by their blob ids."""
        root = builder.trees[builder.tree_at[()]].entries
        items = [(root["meta.yaml"].sha, tx.written_meta)]
        if tx.staged_config is not None:
            items.append((root["config.yaml"].sha, tx.staged_config))
        for (directory, entity_id), doc in tx.staged.items():
            tree = builder.trees[builder.tree_at[(directory, shard_of(entity_id))]]
            items.append((tree.entries[f"{entity_id}.yaml"].sha, doc))
        self.cache.put_docs(items)

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
        build: Callable[[str | None, Commit | None], Made | None],
        *,
        reflog: bool = True,
        lock: str = "write.lock",
    ) -> Made | None:
        """Move ``ref`` to what ``build(current, commit)`` makes, under the write lock.

        ``lock`` names the lock file (the live ref has its own, so heartbeats
        never wait for state changes, nor state changes for heartbeats).

        ``build`` writes its objects and returns a ``Made``, or None to leave
        the ref alone; it runs again when the ref moved, or when git found an
        object missing (``git gc --prune=now`` racing us). Returns what was
        committed, or None.
        """
        from gitorch.store import packing
        from gitorch.store.writelock import write_lock

        self.prepare_write()
        updater = self._ref_updater()
        made: Made | None = None
        pack_now = False
        gc: int | None = None
        missing_seen = False
        with write_lock(self.repo.orch_dir, lock, wait=self.lock_wait):
            for _ in range(MAX_ATTEMPTS):
                # a ref on a missing commit is invalid_state, never a new start
                found = self.read_ref_commit(ref)
                current, head = (found[0], parse_commit(found[1])) if found else (None, None)
                before = self.object_writer().written
                made = build(current, head)
                if made is None:
                    return None
                moved = updater.swap(ref, current, made.commit, made.message if reflog else None)
                if moved.ok:
                    self._after_commit(partial(self._freshen, made))
                    gc = running_gc(self.repo.common_dir)
                    written = self.object_writer().written - before
                    try:
                        count = packing.add_count(self.repo.orch_dir, written)
                        pack_now = count >= self.pack_threshold
                    except Exception as exc:  # noqa: BLE001 - committed: log, never fail
                        self._log_after_commit(exc)
                    break
                made = None
                if moved.missing:
                    # Housekeeping removed objects under us; never trust what we
                    # remember of the object database after that.
                    self._trees.clear()
                    missing_seen = True
            else:
                if missing_seen:
                    raise Unavailable(
                        f"objects of {ref} kept disappearing while writing (a concurrent "
                        "`git gc --prune=now`?); nothing was written; try again",
                        {"ref": ref},
                    )
                raise Conflict(f"{ref} kept moving; nothing was written", {"ref": ref})
        if gc is not None and made is not None:
            # A `git gc` that walked the refs before our move may still delete our
            # objects: once it is over, write again whatever it took.
            self._after_commit(partial(wait_for_gc, self.repo.common_dir, gc))
            self._after_commit(partial(self._freshen, made))
        if pack_now:
            self._after_commit(lambda: packing.repack(self.repo.orch_dir, self.repo.path))
        return made

    def _freshen(self, made: Made) -> None:
        """Keep ``made``'s objects from a ``git prune`` that walked the refs before our move.

        ``git gc --prune=now`` deletes loose objects older than its start that
        no ref named when it walked them. Touching each object now gives it a
        newer time than any such prune's cut-off, and writes again any object
        one already removed, so the ref never stays on an incomplete commit.
        """
        writer = self.object_writer()
        if len(made.builder.objects) <= BULK_OBJECTS:
            for obj_type, data in made.builder.objects:
                writer.write_loose(obj_type, data)
            return
        from gitorch.store.objects import object_id

        shas = [object_id(obj_type, data) for obj_type, data in made.builder.objects]
        present = self._catfile.read_many(shas)
        for (obj_type, data), found in zip(made.builder.objects, present, strict=True):
            if found is None:
                writer.write_loose(obj_type, data)

    def _after_commit(self, step: Callable[[], object]) -> None:
        """Run a step that follows a committed change; its failure is logged, not raised."""
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - the change is committed; a failure here is not
            self._log_after_commit(exc)

    def _log_after_commit(self, exc: BaseException) -> None:
        import traceback

        try:
            log_dir = os.path.join(self.repo.orch_dir, "log")
            os.makedirs(log_dir, exist_ok=True)
            with open(os.path.join(log_dir, "after-commit.log"), "a", encoding="utf-8") as log:
                log.write("".join(traceback.format_exception(exc)))
        except (OSError, GitorchError):
            pass

    def close(self) -> None:
        """Stop the git processes this store started and close the cache."""
        self._catfile.close()
        if self._cache is not None:
            self._cache.close()


def _parse_tree(sha: str, data: bytes) -> Tree:
    try:
        return Tree.parse(data)
    except (ValueError, IndexError):
        raise InvalidState(
            f"tree {sha} of {STATE_REF} is malformed; restore a good tip from "
            f"`git reflog {STATE_REF}`",
            {"ref": STATE_REF, "object": sha},
        ) from None


def _subject(tx: Transaction) -> str:
    ids = sorted({entity_id for _, entity_id in tx.staged})
    if tx.staged_config is not None:
        ids.insert(0, "config")
    shown = ", ".join(ids[:8])
    more = f" (+{len(ids) - 8} more)" if len(ids) > 8 else ""
    return f"{tx.method} {shown}{more}".rstrip()
