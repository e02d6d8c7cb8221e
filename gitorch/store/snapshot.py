"""The state at one commit: documents by kind and id, read without a lock.

A snapshot reads one commit's tree, so it always sees one consistent state.
Every document is checked against where it lives (its ``id`` names its
file, its file sits in its id's shard) and against the schema version;
what cannot be read truthfully is ``invalid_state`` naming the file,
never an empty or partial answer.
"""

from __future__ import annotations

from gitorch.model.config import SCHEMA_VERSION, default_config, initial_meta
from gitorch.model.errors import InvalidState
from gitorch.model.ids import SHARD_LEN, is_id, shard_of
from gitorch.store.objects import TREE_MODE, Commit, Entry

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any, Protocol

    from gitorch.model.kinds import EntityKind as Kind
    from gitorch.store.state import Store

    class Check(Protocol):
        """A document check a listing applies and caches: a kind's schema."""

        key: str  # names the check in the cache: changes whenever the check does

        def __call__(self, doc: dict[str, Any], path: str) -> dict[str, Any]:
            """The document as listed; ``invalid_state`` naming ``path`` if it does not fit."""
            ...


_SUFFIX = ".yaml"


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

    def _root_doc(self, name: str) -> dict[str, Any] | None:
        entry = self.root().get(name)
        if entry is None:
            return None
        if entry.mode == TREE_MODE:
            raise InvalidState(f"state entry {name} is a directory, not a document", {"path": name})
        return self.store.document(entry.sha, name)

    def meta(self) -> dict[str, Any]:
        """``meta.yaml``: schema version and the state version counter, checked."""
        if self._meta is None:
            if self.head is None:
                self._meta = initial_meta()
            else:
                meta = self._root_doc("meta.yaml")
                if meta is None:
                    raise InvalidState(
                        f"state commit {self.commit} has no meta.yaml; the state cannot be "
                        "read (restore a good tip from `git reflog refs/orchestrator/state`)",
                        {"path": "meta.yaml", "commit": self.commit},
                    )
                self._meta = check_meta(meta)
        return self._meta

    @property
    def version(self) -> int:
        """The state version: it increases with every state commit."""
        value: int = self.meta()["state_version"]
        return value

    def config(self) -> dict[str, Any]:
        """``config.yaml``: settings that travel with the state."""
        self.meta()
        found = self._root_doc("config.yaml")
        return found if found is not None else default_config(self.store.default_branch())

    def _kind_tree(self, kind: Kind) -> dict[str, Entry]:
        entry = self.root().get(kind.directory)
        if entry is None:
            return {}
        if entry.mode != TREE_MODE:
            raise InvalidState(
                f"state entry {kind.directory} is a file, not a directory",
                {"path": kind.directory},
            )
        return self.store.read_tree(entry.sha)

    def shard_entries(self, kind: Kind, shard: str) -> dict[str, Entry]:
        """One shard's entries, found by git (a kind's tree of 1,024 shards is never parsed)."""
        if self.head is None:
            return {}
        key = (kind.directory, shard)
        if key not in self._shards:  # a snapshot's commit never changes: ask git once
            tree = self.store.tree_at(self.head.tree, f"{kind.directory}/{shard}")
            if tree is None:
                # Absent, or an object on the way is missing: walk down to tell which.
                entry = self._kind_tree(kind).get(shard)
                tree = self.store.tree(entry.sha) if entry and entry.mode == TREE_MODE else None
            self._shards[key] = tree.entries if tree is not None else {}
        return self._shards[key]

    def read(self, kind: Kind, entity_id: str) -> dict[str, Any] | None:
        """The raw document of one entity, or None (do not mutate it)."""
        shard = shard_of(entity_id)
        name = f"{entity_id}{_SUFFIX}"
        entry = self.shard_entries(kind, shard).get(name)
        if entry is None:
            return None
        self.meta()
        path = f"{kind.directory}/{shard}/{name}"
        if entry.mode == TREE_MODE:
            raise InvalidState(f"state entry {path} is a directory, not a document", {"path": path})
        return _placed(self.store.document(entry.sha, path), entity_id, path)

    def ids_with_prefix(self, kind: Kind, random_prefix: str) -> list[str]:
        """Ids of ``kind`` whose random part starts with ``random_prefix``, sorted."""
        if len(random_prefix) >= SHARD_LEN:
            shards = [random_prefix[:SHARD_LEN]]
        else:
            shards = [s for s in self._kind_tree(kind) if s.startswith(random_prefix)]
        found = []
        for shard in shards:
            for name in self.shard_entries(kind, shard):
                entity_id = name.removesuffix(_SUFFIX)
                if entity_id.split("-", 1)[-1].startswith(random_prefix):
                    found.append(entity_id)
        return sorted(found)

    def docs(self, kind: Kind, check: Check | None = None) -> list[dict[str, Any]]:
        """Every document of ``kind``, in tree order (do not mutate them).

        ``check(doc, path)`` validates a document and returns the form to list
        (a kind's schema check); its ``key`` names it in the cache. The whole
        listing is cached under the kind's tree id; after a change, a shard's
        checked documents come from the cache when its tree id is there, and
        only the other shards are read, checked, and cached.
        """
        suffix = f":{check.key}" if check is not None else ""
        kind_entry = self.root().get(kind.directory)
        whole = f"kind:{kind_entry.sha}{suffix}" if kind_entry is not None else None
        if whole is not None and kind_entry is not None and kind_entry.mode == TREE_MODE:
            cached = self.store.cache.shards([whole])
            if whole in cached:
                self.meta()
                return cached[whole]
        shards = []
        for shard, entry in self._kind_tree(kind).items():
            if entry.mode != TREE_MODE or len(shard) != SHARD_LEN:
                path = f"{kind.directory}/{shard}"
                raise InvalidState(f"state entry {path} is not a shard directory", {"path": path})
            shards.append((shard, entry.sha))
        if not shards:
            return []
        self.meta()
        cache = self.store.cache
        known = {
            key.removesuffix(suffix): docs
            for key, docs in cache.shards([sha + suffix for _, sha in shards]).items()
        }
        todo = [(shard, sha) for shard, sha in shards if sha not in known]
        if todo:
            # One batch for every shard not cached: one lookup of the parsed
            # documents, one read of the blobs still missing, one write back.
            placed = [(sha, self._shard_members(kind, shard, sha)) for shard, sha in todo]
            wanted = [(blob, path) for _, members in placed for blob, path, _ in members]
            docs = iter(self.store.documents(wanted))
            built = {
                sha: [
                    _checked(_placed(next(docs), entity_id, path), path, check)
                    for _, path, entity_id in members
                ]
                for sha, members in placed
            }
            cache.put_shards((sha + suffix, docs) for sha, docs in built.items())
            known.update(built)
        out: list[dict[str, Any]] = []
        for _, sha in shards:
            out.extend(known[sha])
        if whole is not None:
            cache.put_shards([(whole, out)])
        return out

    def _shard_members(self, kind: Kind, shard: str, sha: str) -> list[tuple[str, str, str]]:
        """``(blob, path, id)`` of each document of a shard tree, checked against its place."""
        where = f"{kind.directory}/{shard}"
        members = []
        for name, entry in self.store.read_tree(sha).items():
            path = f"{where}/{name}"
            entity_id = name.removesuffix(_SUFFIX)
            if (
                entry.mode == TREE_MODE
                or not name.endswith(_SUFFIX)
                or not is_id(entity_id)
                or not entity_id.startswith(f"{kind.prefix}-")
                or shard_of(entity_id) != shard
            ):
                raise InvalidState(
                    f"state entry {path} is not a {kind.name} document of this shard "
                    f"(expected {where}/{kind.prefix}-{shard}xxxxxx{_SUFFIX})",
                    {"path": path},
                )
            members.append((entry.sha, path, entity_id))
        return members

    def kinds_present(self) -> list[str]:
        """Directories of the state tree that hold entities."""
        return sorted(name for name, entry in self.root().items() if entry.mode == TREE_MODE)


def _checked(doc: dict[str, Any], path: str, check: Check | None) -> dict[str, Any]:
    return check(doc, path) if check is not None else doc


def _placed(doc: dict[str, Any], entity_id: str, path: str) -> dict[str, Any]:
    """``doc`` if its id names the file it was read from."""
    if doc.get("id") != entity_id:
        raise InvalidState(
            f"state document {path} holds id {doc.get('id')!r}, not {entity_id!r}: "
            "a document's id must name its file",
            {"path": path, "id": doc.get("id")},
        )
    return doc


def check_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta.yaml`` if this gitorch can read the state it describes."""
    schema = meta.get("schema_version")
    version = meta.get("state_version")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise InvalidState(
            f"state document meta.yaml: schema_version {schema!r} is not a positive integer",
            {"path": "meta.yaml"},
        )
    if schema > SCHEMA_VERSION:
        raise InvalidState(
            f"the state was written by a newer gitorch (schema {schema}; this one reads up to "
            f"{SCHEMA_VERSION}): upgrade gitorch to read or change it",
            {"path": "meta.yaml", "schema_version": schema, "supported": SCHEMA_VERSION},
        )
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise InvalidState(
            f"state document meta.yaml: state_version {version!r} is not a whole number",
            {"path": "meta.yaml"},
        )
    return meta


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
        self.staged_config: dict[str, Any] | None = None
        self.written_meta: dict[str, Any] = {}

    def put(self, kind: Kind, entity_id: str, doc: dict[str, Any]) -> None:
        """Stage the new document of an entity (created or changed)."""
        self.staged[(kind.directory, entity_id)] = doc

    def set_config(self, config: dict[str, Any]) -> None:
        """Stage a new ``config.yaml``."""
        self.staged_config = dict(config)

    def config(self) -> dict[str, Any]:
        """The staged config if there is one, else the stored one."""
        return dict(self.staged_config) if self.staged_config is not None else super().config()

    @property
    def changed(self) -> bool:
        """Whether anything is staged."""
        return bool(self.staged) or self.staged_config is not None

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

    def docs(self, kind: Kind, check: Check | None = None) -> list[dict[str, Any]]:
        """Stored documents with the staged ones in their place."""
        staged = {eid: doc for (d, eid), doc in self.staged.items() if d == kind.directory}
        stored = super().docs(kind, check)
        if not staged:
            return stored
        merged = [doc for doc in stored if doc.get("id") not in staged]
        return merged + [
            _checked(doc, f"{kind.directory}/{eid}", check) for eid, doc in staged.items()
        ]
