"""JSON Schema of stored entities, made from the model's kind declarations."""

from __future__ import annotations

from gitorch.model.kinds import EntityKind

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any


def entity_schema(kind: EntityKind) -> dict[str, Any]:
    """An entity's fields as a JSON Schema object."""
    properties: dict[str, Any] = {}
    for field in kind.fields:
        shape = field.shape
        prop: dict[str, Any]
        if not isinstance(shape, str):
            prop = {"type": "string", "enum": [member.value for member in shape]}
        elif shape == "str_list":
            prop = {"type": "array", "items": {"type": "string"}}
        elif shape == "json":
            prop = {}
        else:
            prop = {"type": "integer" if shape == "int" else "string"}
        if field.optional and "type" in prop:
            prop["type"] = [prop["type"], "null"]
        properties[field.name] = prop
    return {
        "type": "object",
        "description": kind.description,
        "properties": properties,
        "required": [field.name for field in kind.fields if not field.optional],
    }


def list_schema(item: dict[str, Any]) -> dict[str, Any]:
    """A list of ``item``."""
    return {"type": "array", "items": item}


TOTAL = ("total", {"type": "integer", "description": "How many match, before any limit."})
