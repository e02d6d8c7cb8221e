"""Field specifications: one table per entity kind checks every document.

A document read from the state is checked against its kind's table before
anything uses it, so a hand-edited document that lost a field or gained a
wrong type fails as ``invalid_state`` naming the file, never deeper down.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum

from gitorch.model.errors import InvalidState

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any, NamedTuple

if TYPE_CHECKING:

    class _FieldFields(NamedTuple):
        name: str
        shape: str | type[StrEnum]
        optional: bool = False

else:
    _FieldFields = namedtuple("_FieldFields", ("name", "shape", "optional"), defaults=(False,))


class Field(_FieldFields):
    """One field of a stored document.

    ``shape`` is ``str``, ``int``, ``str_list``, ``json`` or an enum class;
    ``optional`` fields may be null.
    """

    __slots__ = ()


COMMON_FIELDS = (
    Field("id", "str"),
    Field("created_at", "str"),
    Field("updated_at", "str"),
    Field("version", "int"),
)


def _checker(shape: str | type[StrEnum]) -> Callable[[Any], bool]:
    if not isinstance(shape, str):
        values = frozenset(member.value for member in shape)
        return lambda value: isinstance(value, str) and value in values
    if shape == "str":
        return lambda value: isinstance(value, str)
    if shape == "int":
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if shape == "str_list":
        return lambda value: isinstance(value, list) and all(isinstance(v, str) for v in value)
    return lambda value: True  # json: any value YAML can hold


def _fingerprint(fields: Sequence[Field]) -> str:
    """A short name of a field table that changes whenever a check it makes would."""
    import zlib

    parts = []
    for field in fields:
        shape = field.shape
        text = shape if isinstance(shape, str) else "|".join(m.value for m in shape)
        parts.append(f"{field.name}:{text}:{int(field.optional)}")
    return f"{zlib.crc32(';'.join(parts).encode()):08x}"


class Schema:
    """The field table of one kind, ready to check many documents fast."""

    def __init__(self, fields: Sequence[Field]) -> None:
        self.fields = tuple(fields)
        self.names = tuple(field.name for field in self.fields)
        self._known = frozenset(self.names)
        self._checks = tuple((f.name, _checker(f.shape), f.optional) for f in self.fields)
        self.key = _fingerprint(self.fields)

    def __call__(self, doc: dict[str, Any], path: str) -> dict[str, Any]:
        """The same as ``check``: a schema is the check a listing caches by ``key``."""
        return self.check(doc, path)

    def check(self, doc: Mapping[str, Any], path: str) -> dict[str, Any]:
        """The document, checked and ordered; ``invalid_state`` naming ``path`` otherwise."""
        for name, fits, optional in self._checks:
            value = doc.get(name)
            if value is None:
                if not optional:
                    raise InvalidState(
                        f"state document {path}: field {name!r} is missing",
                        {"path": path, "field": name},
                    )
            elif not fits(value):
                raise InvalidState(
                    f"state document {path}: field {name!r} has an invalid value {value!r}",
                    {"path": path, "field": name},
                )
        return self.ordered(doc)

    def ordered(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The document with the kind's fields first, in table order.

        Fields a newer gitorch wrote follow, kept and never dropped.
        """
        out = {name: doc.get(name) for name in self.names}
        if len(doc) > len(out) or not self._known.issuperset(doc):
            for key, value in doc.items():
                out.setdefault(key, value)
        return out
