"""Canonical YAML: one state document is always the same bytes.

Sorted keys, block style, UTF-8, LF, no line folding; safe loading only,
through libyaml's C loader and dumper when the machine has them.
"""

from __future__ import annotations

from typing import Any

import yaml

from gitorch.model.errors import InvalidState

try:
    _SafeLoader: Any = yaml.CSafeLoader
    _SafeDumper: Any = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _SafeLoader = yaml.SafeLoader
    _SafeDumper = yaml.SafeDumper


def dump_doc(doc: dict[str, Any]) -> bytes:
    """The canonical bytes of a document."""
    text: str = yaml.dump(
        doc,
        Dumper=_SafeDumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,
        line_break="\n",
    )
    return text.encode("utf-8")


def load_doc(data: bytes, path: str) -> dict[str, Any]:
    """Parse a state document; anything but a mapping is ``invalid_state``."""
    try:
        doc = yaml.load(data.decode("utf-8"), Loader=_SafeLoader)  # noqa: S506 - safe loader
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidState(
            f"state document {path} does not parse: {_one_line(exc)}", {"path": path}
        ) from None
    if not isinstance(doc, dict):
        raise InvalidState(f"state document {path} is not a mapping", {"path": path})
    return doc


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
