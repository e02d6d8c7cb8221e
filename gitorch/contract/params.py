"""Parameters: their kinds, and the one place their values are checked.

A parameter kind is a small class that knows everything about one sort of
value: its JSON Schema, how a JSON value is checked, how the command line's
text reads as one, how it is spelled as an option (repeated, a flag) and
in help. Every surface (the CLI, the raw-JSON call, the Python API, MCP)
hands raw values here, which is what keeps them answering a call alike.
"""

from __future__ import annotations

import json
import math
from collections import namedtuple
from collections.abc import Mapping
from enum import StrEnum

from gitorch.model.enums import parse_enum
from gitorch.model.errors import InvalidParams

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
TITLE_LIMIT = 1_000  # characters of a title
TEXT_LIMIT = 65_536  # characters of any other free text, unless a parameter says less
JSON_DEPTH_LIMIT = 32  # nesting of a JSON value
JSON_SIZE_LIMIT = 262_144  # characters of a JSON value written out


def _type_error(name: str, value: Any, expected: str) -> InvalidParams:
    shown = value if isinstance(value, (str, int, float, bool)) or value is None else "..."
    return InvalidParams(
        f"{name}: expected {expected}, got {type(value).__name__} {shown!r}",
        {"param": name, "expected": expected},
    )


def check_text(name: str, value: str, limit: int = TEXT_LIMIT) -> str:
    """``value`` if it is text gitorch can store: Unicode without NUL, within ``limit``."""
    if "\0" in value:
        raise InvalidParams(f"{name}: contains a NUL character", {"param": name})
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidParams(
            f"{name}: not valid Unicode (a lone surrogate, or bytes that are not UTF-8)",
            {"param": name},
        ) from None
    if len(value) > limit:
        raise InvalidParams(
            f"{name}: longer than {limit:,} characters",
            {"param": name, "length": len(value), "limit": limit},
        )
    return value


def check_integer(name: str, value: int) -> int:
    """``value`` if it fits in 64 bits."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise InvalidParams(f"{name}: does not fit in 64 bits", {"param": name})
    return value


def check_json(name: str, value: Any, depth: int = 0) -> Any:
    """``value`` if it is plain JSON data gitorch can store (finite, 64-bit, valid text)."""
    if depth > JSON_DEPTH_LIMIT:
        raise InvalidParams(f"{name}: nested deeper than {JSON_DEPTH_LIMIT}", {"param": name})
    if isinstance(value, str):
        return check_text(name, value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return check_integer(name, value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidParams(f"{name}: numbers must be finite", {"param": name})
        return value
    if isinstance(value, list):
        return [check_json(name, item, depth + 1) for item in value]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise _type_error(name, key, "string keys")
            check_text(name, key)
        return {key: check_json(name, item, depth + 1) for key, item in value.items()}
    raise _type_error(name, value, "JSON data")


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON number")


def load_json(text: str, source: str, *, check: bool = True) -> Any:
    """Parse JSON text from a caller: finite numbers only, bounded nesting.

    ``check=False`` leaves the values to the parameters that take them.
    """
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise InvalidParams(f"{source}: JSON nested too deeply", {"source": source}) from None
    except ValueError as exc:
        where = ""
        if isinstance(exc, json.JSONDecodeError):
            where = f" at line {exc.lineno} column {exc.colno}"
            message = exc.msg
        else:
            message = str(exc)
        raise InvalidParams(
            f"{source}: malformed JSON: {message}{where}", {"source": source}
        ) from None
    return check_json(source, value) if check else value


class ParamKind:
    """One sort of parameter value. Subclasses say what differs."""

    word = "TEXT"  # the placeholder in a synopsis
    type_name = "string"  # how the README reference names it
    multiple = False  # a repeated option on the command line
    flag = False  # --name / --no-name on the command line

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of a value."""
        return {"type": "string"}

    def check(self, name: str, value: Any) -> Any:
        """A JSON value, checked, in the form the domain takes."""
        raise NotImplementedError

    def from_cli(self, name: str, raw: Any) -> Any:
        """What the command line gave (text, a list of texts, a flag), checked."""
        return self.check(name, raw)

    def synopsis(self) -> str:
        """The value as a synopsis shows it."""
        return self.word


class Text(ParamKind):
    """Free text, at most ``limit`` characters."""

    def __init__(self, limit: int = TEXT_LIMIT, *, nonempty: bool = False) -> None:
        self.limit = limit
        self.nonempty = nonempty

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string", "maxLength": self.limit}
        if self.nonempty:
            out["minLength"] = 1
        return out

    def check(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise _type_error(name, value, "a string")
        if self.nonempty and not value.strip():
            raise InvalidParams(f"{name}: must not be empty", {"param": name})
        return check_text(name, value, self.limit)


class Integer(ParamKind):
    """A whole number within ``[minimum, maximum]`` (64 bits at most)."""

    word = "INTEGER"
    type_name = "integer"

    def __init__(self, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}

    def check(self, name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(name, value, "an integer")
        check_integer(name, value)
        if not self.minimum <= value <= self.maximum:
            raise InvalidParams(
                f"{name}: must be between {self.minimum} and {self.maximum}",
                {"param": name, "value": value, "minimum": self.minimum, "maximum": self.maximum},
            )
        return value

    def from_cli(self, name: str, raw: Any) -> int:
        if isinstance(raw, str):
            text = raw.strip()
            if not text.lstrip("+-").isdigit() or not text.isascii():
                raise _type_error(name, raw, "an integer")
            return self.check(name, int(text))
        return self.check(name, raw)


class Boolean(ParamKind):
    """True or false; on the command line ``--name`` or ``--no-name``."""

    word = ""
    type_name = "boolean"
    flag = True

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}

    def check(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise _type_error(name, value, "true or false")
        return value


class TextList(ParamKind):
    """A list of texts; on the command line the option is repeated."""

    type_name = "list of strings"
    multiple = True

    def __init__(self, limit: int = TEXT_LIMIT, max_items: int = 10_000) -> None:
        self.limit = limit
        self.max_items = max_items

    def schema(self) -> dict[str, Any]:
        return {
            "type": "array",
            "items": {"type": "string", "maxLength": self.limit},
            "maxItems": self.max_items,
        }

    def check(self, name: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _type_error(name, value, "a list of strings")
        if len(value) > self.max_items:
            raise InvalidParams(f"{name}: more than {self.max_items} items", {"param": name})
        return [check_text(name, item, self.limit) for item in value]

    def synopsis(self) -> str:
        return "TEXT ..."


class Json(ParamKind):
    """Any JSON value; on the command line, JSON text."""

    word = "JSON"
    type_name = "JSON"

    def schema(self) -> dict[str, Any]:
        return {}

    def check(self, name: str, value: Any) -> Any:
        value = check_json(name, value)
        if len(json.dumps(value, ensure_ascii=False)) > JSON_SIZE_LIMIT:
            raise InvalidParams(
                f"{name}: longer than {JSON_SIZE_LIMIT:,} characters as JSON", {"param": name}
            )
        return value

    def from_cli(self, name: str, raw: Any) -> Any:
        if isinstance(raw, str):
            return self.check(name, load_json(raw, name))
        return self.check(name, raw)


class JsonObject(Json):
    """A JSON object."""

    type_name = "JSON object"

    def schema(self) -> dict[str, Any]:
        return {"type": "object"}

    def check(self, name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _type_error(name, value, "a JSON object")
        checked: dict[str, Any] = super().check(name, value)
        return checked


class Command(ParamKind):
    """A command: a command line (split like a shell's words, never expanded) or a list."""

    word = "COMMAND"
    type_name = "command line or list of strings"
    ARGUMENTS = 256

    def schema(self) -> dict[str, Any]:
        return {"type": ["string", "array"], "items": {"type": "string"}, "maxLength": 16384}

    def check(self, name: str, value: Any) -> str | list[str]:
        if isinstance(value, str):
            return check_text(name, value, 16384)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            if len(value) > self.ARGUMENTS:
                raise InvalidParams(
                    f"{name}: more than {self.ARGUMENTS} arguments", {"param": name}
                )
            return [check_text(name, item, 16384) for item in value]
        raise _type_error(name, value, "a command line or a list of strings")


class Choice(ParamKind):
    """One value of an enumeration (case-insensitive; ``-``, space or CamelCase for ``_``)."""

    type_name = "enum"

    def __init__(self, enum: type[StrEnum]) -> None:
        self.enum = enum

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": [member.value for member in self.enum]}

    def check(self, name: str, value: Any) -> StrEnum:
        return parse_enum(self.enum, value, name)

    def synopsis(self) -> str:
        return "|".join(member.value for member in self.enum)


TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any, NamedTuple

if TYPE_CHECKING:

    class _ParamFields(NamedTuple):
        name: str
        kind: ParamKind
        help: str
        required: bool = False
        default: Any = None

else:
    _ParamFields = namedtuple(
        "_ParamFields",
        ("name", "kind", "help", "required", "default"),
        defaults=(
            False,
            None,
        ),
    )


class Param(_ParamFields):
    """One parameter of a method.

    ``default`` is what the method uses when the caller gives nothing
    (None: the parameter is simply absent).
    """

    __slots__ = ()

    @property
    def option(self) -> str:
        """The CLI option: ``--parent-id`` for ``parent_id``."""
        return "--" + self.name.replace("_", "-")

    def schema(self) -> dict[str, Any]:
        """This parameter as JSON Schema."""
        out = self.kind.schema()
        out["description"] = self.help
        if self.default is not None:
            out["default"] = self.default
        return out

    def check(self, value: Any) -> Any:
        """A JSON value for this parameter, checked."""
        return self.kind.check(self.name, value)

    def from_cli(self, raw: Any) -> Any:
        """What the command line gave for this parameter, checked."""
        return self.kind.from_cli(self.name, raw)


def check_params(params: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Parameters given as one JSON object (``call --params``, MCP, the Python API)."""
    if not isinstance(params, dict):
        raise InvalidParams(f"{source}: parameters must be a JSON object", {"source": source})
    return params
