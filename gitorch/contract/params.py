"""Parameters: their declaration, and the one place their values are checked.

Every surface hands raw values here: the CLI as the strings it read (a
list for a repeated option, a bool for a flag), the raw-JSON call, the
Python API and MCP as JSON values. Checking them once, here, is what keeps
the four surfaces answering the same call the same way.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, NamedTuple

from gitorch.model.enums import parse_enum
from gitorch.model.errors import InvalidParams

STRING = "string"
INTEGER = "integer"
BOOLEAN = "boolean"
STRING_LIST = "string_list"
JSON = "json"
ENUM = "enum"


class Param(NamedTuple):
    """One parameter of a method.

    ``kind`` is one of STRING, INTEGER, BOOLEAN, STRING_LIST, JSON, ENUM;
    an ENUM names its ``enum`` class. ``default`` is what the method uses
    when the caller gives nothing (None: the parameter is simply absent).
    """

    name: str
    kind: str
    help: str
    required: bool = False
    default: Any = None
    enum: type[StrEnum] | None = None

    @property
    def option(self) -> str:
        """The CLI option: ``--parent-id`` for ``parent_id``."""
        return "--" + self.name.replace("_", "-")

    def schema(self) -> dict[str, Any]:
        """This parameter as JSON Schema."""
        out: dict[str, Any]
        if self.kind == ENUM:
            assert self.enum is not None
            out = {"type": "string", "enum": [member.value for member in self.enum]}
        elif self.kind == STRING_LIST:
            out = {"type": "array", "items": {"type": "string"}}
        elif self.kind == JSON:
            out = {}
        else:
            out = {"type": self.kind}
        out["description"] = self.help
        if self.default is not None:
            out["default"] = self.default
        return out


def _type_error(param: Param, value: Any, expected: str) -> InvalidParams:
    return InvalidParams(
        f"{param.name}: expected {expected}, got {type(value).__name__} {value!r}",
        {"param": param.name, "expected": expected, "value": value},
    )


def from_cli(param: Param, raw: Any) -> Any:
    """Turn what the command line gave into a JSON value, then check it."""
    if param.kind == INTEGER and isinstance(raw, str):
        try:
            return check(param, int(raw.strip()))
        except ValueError:
            raise _type_error(param, raw, "an integer") from None
    if param.kind == JSON and isinstance(raw, str):
        try:
            return check(param, json.loads(raw))
        except json.JSONDecodeError as exc:
            raise InvalidParams(
                f"{param.name}: malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                {"param": param.name, "value": raw},
            ) from None
    return check(param, raw)


def check(param: Param, value: Any) -> Any:
    """Check a JSON value against ``param``; return it in the form the method takes."""
    kind = param.kind
    if kind == ENUM:
        assert param.enum is not None
        return parse_enum(param.enum, value, param.name)
    if kind == STRING:
        if not isinstance(value, str):
            raise _type_error(param, value, "a string")
        if "\0" in value:
            raise InvalidParams(f"{param.name}: contains a NUL character", {"param": param.name})
        return value
    if kind == INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(param, value, "an integer")
        return value
    if kind == BOOLEAN:
        if not isinstance(value, bool):
            raise _type_error(param, value, "true or false")
        return value
    if kind == STRING_LIST:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _type_error(param, value, "a list of strings")
        return list(value)
    return value  # JSON: any value
