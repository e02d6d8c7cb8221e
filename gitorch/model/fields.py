"""Field specifications: one table per entity kind checks every document.

A document read from the state is checked against its kind's table before
anything uses it, so a hand-edited document that lost a field or gained a
wrong type fails as ``invalid_state`` naming the file, never deeper down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, NamedTuple

from gitorch.model.errors import InvalidState


class Field(NamedTuple):
    """One field of a stored document.

    ``shape`` is ``str``, ``int``, ``str_list``, ``json`` or an enum class;
    ``optional`` fields may be null.
    """

    name: str
    shape: str | type[StrEnum]
    optional: bool = False


COMMON_FIELDS = (
    Field("id", "str"),
    Field("created_at", "str"),
    Field("updated_at", "str"),
    Field("version", "int"),
)


def check_doc(doc: Mapping[str, Any], fields: Sequence[Field], path: str) -> dict[str, Any]:
    """Return the document's fields, checked; raise ``invalid_state`` naming ``path``."""
    out: dict[str, Any] = {}
    for field in fields:
        value = doc.get(field.name)
        if value is None:
            if not field.optional:
                raise InvalidState(
                    f"state document {path}: field {field.name!r} is missing",
                    {"path": path, "field": field.name},
                )
            out[field.name] = None
            continue
        if not _fits(field.shape, value):
            raise InvalidState(
                f"state document {path}: field {field.name!r} has an invalid value {value!r}",
                {"path": path, "field": field.name},
            )
        out[field.name] = value
    return ordered({**doc, **out}, fields)


def ordered(doc: Mapping[str, Any], fields: Sequence[Field]) -> dict[str, Any]:
    """The document with its kind's fields first, in table order.

    Fields a newer gitorch wrote follow, kept and never dropped.
    """
    out = {field.name: doc.get(field.name) for field in fields}
    for key, value in doc.items():
        out.setdefault(key, value)
    return out


def _fits(shape: str | type[StrEnum], value: Any) -> bool:
    if not isinstance(shape, str):
        return isinstance(value, str) and value in {member.value for member in shape}
    if shape == "str":
        return isinstance(value, str)
    if shape == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if shape == "str_list":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return True  # json: any value YAML can hold
