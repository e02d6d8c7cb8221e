"""Canonical YAML: one state document is always the same bytes, and plain data.

Sorted keys, block style, UTF-8, LF, no line folding, no anchors or aliases;
through libyaml's C loader and dumper when the machine has them.

Documents arrive from other machines by sync, so loading trusts nothing:
anchors, aliases and explicit tags are refused before anything is built
(a few hundred bytes of nested aliases expand to gigabytes), and what
loads must be JSON's data model (mappings with string keys, lists,
strings, finite numbers, booleans, null): dates, binary and sets are
refused too, on every read, so that an answer never depends on a cache.
"""

from __future__ import annotations

import math
import re

import yaml

from gitorch.model.errors import InvalidState

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

try:
    _SafeLoader: Any = yaml.CSafeLoader
    _BaseDumper: Any = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _SafeLoader = yaml.SafeLoader
    _BaseDumper = yaml.SafeDumper


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """The C dumper without anchors: a value used twice is written twice."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


# An anchor (&), alias (*) or tag (!) can only start a node: at the start of a
# line or after a space or a flow indicator. Text without such a character
# there cannot hold one; text with one is checked event by event.
_MAYBE_NODE_PROPERTY = re.compile(rb"(?:^|[\s\[\]{},:?-])[&*!]", re.MULTILINE)
_PLAIN_SCALARS = (str, int, float, bool, type(None))


def dump_doc(doc: dict[str, Any]) -> bytes:
    """The canonical bytes of a document."""
    text: str = yaml.dump(
        doc,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,
        line_break="\n",
    )
    return text.encode("utf-8")


def load_doc(data: bytes, path: str) -> dict[str, Any]:
    """Parse a state document as plain data; anything else is ``invalid_state`` naming it."""
    try:
        text = data.decode("utf-8")
        if _MAYBE_NODE_PROPERTY.search(data):
            _refuse_node_properties(text, path)
        doc = _safe_load(text)
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidState(
            f"state document {path} does not parse: {_one_line(exc)}", {"path": path}
        ) from None
    if not isinstance(doc, dict):
        raise InvalidState(f"state document {path} is not a mapping", {"path": path})
    problem = _not_plain(doc, 0)
    if problem is not None:
        raise InvalidState(
            f"state document {path} holds {problem}; state documents are plain data",
            {"path": path},
        )
    return doc


def _safe_load(text: str) -> Any:
    """One document through libyaml's *safe* loader: the only loader this module has.

    The loader class is named here, at its one use, rather than passed as an
    argument to PyYAML's generic entry point: no reader has to check which
    loader a call site chose.
    """
    loader = _SafeLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _refuse_node_properties(text: str, path: str) -> None:
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            found = f"an alias (*{event.anchor})"
        elif isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            found = f"an anchor (&{event.anchor})"
        elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)) and _tagged(event):
            found = f"a tag ({event.tag})"
        else:
            continue
        raise InvalidState(
            f"state document {path} holds {found}; state documents are plain data",
            {"path": path},
        )


def _tagged(event: Any) -> bool:
    if event.tag is None:
        return False
    if isinstance(event, yaml.ScalarEvent):
        return not any(event.implicit)
    return not event.implicit


_MAX_DEPTH = 64


def _not_plain(value: Any, depth: int) -> str | None:
    """What in ``value`` is not plain data, or None."""
    if depth > _MAX_DEPTH:
        return f"nesting deeper than {_MAX_DEPTH} levels"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"a key that is not a string ({type(key).__name__} {key!r})"
            if type(item) is str:
                continue
            problem = _not_plain(item, depth + 1)
            if problem is not None:
                return problem
        return None
    if isinstance(value, list):
        for item in value:
            problem = _not_plain(item, depth + 1)
            if problem is not None:
                return problem
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"a number that is not finite ({value!r})"
    if isinstance(value, _PLAIN_SCALARS):
        return None
    return f"a {type(value).__name__} value ({_short(value)})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
