"""What every kind of entity shares: lookup by id prefix, creation, change."""

from __future__ import annotations

from gitorch.domain.context import Context
from gitorch.model.errors import InvalidParams, NotFound
from gitorch.model.ids import parse_prefix, shard_of
from gitorch.model.kinds import EntityKind
from gitorch.store.state import Snapshot, Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any


def doc_path(kind: EntityKind, entity_id: str) -> str:
    """Where an entity's document lives in the state tree."""
    return f"{kind.directory}/{shard_of(entity_id)}/{entity_id}.yaml"


def resolve_id(view: Snapshot, kind: EntityKind, text: str, param: str) -> str:
    """The one id of ``kind`` that ``text`` names, as git resolves a short hash."""
    prefix = parse_prefix(kind, text, param)
    matches = view.ids_with_prefix(kind, prefix) if prefix is not None else []
    if not matches:
        raise NotFound(f"no {kind.name} matches {text!r}", {"param": param, "prefix": text})
    if len(matches) > 1:
        raise InvalidParams(
            f"{param}: {text!r} is ambiguous: {len(matches)} {kind.name}s match",
            {"param": param, "prefix": text, "matches": matches[:20]},
        )
    return matches[0]


def resolve_optional(view: Snapshot, kind: EntityKind, text: str | None, param: str) -> str | None:
    """The id ``text`` names, or None when no (or only blank) text is given."""
    if text is None or not text.strip():
        return None
    return resolve_id(view, kind, text, param)


def load(view: Snapshot, kind: EntityKind, entity_id: str) -> dict[str, Any]:
    """The checked document of an existing entity."""
    doc = view.read(kind, entity_id)
    if doc is None:
        raise NotFound(f"no {kind.name} {entity_id}", {"id": entity_id})
    return kind.schema.check(doc, doc_path(kind, entity_id))


def find(view: Snapshot, kind: EntityKind, text: str, param: str) -> dict[str, Any]:
    """Resolve ``text`` to an entity of ``kind`` and load it."""
    return load(view, kind, resolve_id(view, kind, text, param))


def load_all(view: Snapshot, kind: EntityKind) -> list[dict[str, Any]]:
    """Every checked document of ``kind`` (a cached listing holds them checked)."""
    return view.docs(kind, kind.schema)


def create(
    ctx: Context, tx: Transaction, kind: EntityKind, values: dict[str, Any]
) -> dict[str, Any]:
    """Stage a new entity with a fresh id, timestamps and version 1."""
    now = ctx.now()
    entity_id = ctx.new_id(tx, kind)
    doc: dict[str, Any] = {"id": entity_id, "created_at": now, "updated_at": now, "version": 1}
    doc.update(values)
    doc = kind.schema.ordered(doc)
    tx.put(kind, entity_id, doc)
    return doc


def change(
    ctx: Context, tx: Transaction, kind: EntityKind, doc: dict[str, Any], values: dict[str, Any]
) -> dict[str, Any]:
    """Stage ``values`` on an entity; unchanged values make no new version."""
    if all(doc.get(key) == value for key, value in values.items()):
        return doc
    new = {**doc, **values, "updated_at": ctx.now(), "version": doc["version"] + 1}
    tx.put(kind, new["id"], new)
    return new
