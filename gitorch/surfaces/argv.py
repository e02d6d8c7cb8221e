"""The command line of a method call, read without importing click.

``git orch task.get --task-id 4k2m`` is what agents run all day, and
importing click costs more than the rest of such a call (DESIGN.md,
performance budget). This reads exactly the well-formed method calls
(options the method declares, the global options, nothing else) and
returns None for anything else, which then goes to the click CLI: help,
``call``, ``methods``, mistakes and their usage errors. Both readings are
generated from the same declarations, and a test checks that they agree.
A single-valued option given twice is refused here and there alike.
"""

from __future__ import annotations

from collections import namedtuple

from gitorch.contract.method import Method
from gitorch.contract.registry import METHODS
from gitorch.model.errors import UsageError
from gitorch.surfaces.output import FORMATS, Options

GLOBAL_VALUES = {"-C": "repo", "--repo": "repo", "--format": "format"}
GLOBAL_FLAGS = {"--pretty": "pretty"}


TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any, NamedTuple

if TYPE_CHECKING:

    class _CallFields(NamedTuple):
        method: Method
        params: dict[str, Any]
        options: Options

else:
    _CallFields = namedtuple("_CallFields", ("method", "params", "options"))


class Call(_CallFields):
    """A method call read from the command line."""

    __slots__ = ()


def repeated(option: str) -> UsageError:
    """The error for a single-valued option given twice."""
    return UsageError(
        f"{option} is given more than once; it takes one value",
        {"option": option},
        code="invalid_params",
    )


def _set(target: dict[str, Any], key: str, value: Any, option: str) -> None:
    if key in target:
        raise repeated(option)
    target[key] = value


def _read_global(args: list[str], i: int, options: dict[str, Any]) -> int | None:
    """Read a global option at ``args[i]``; the index after it, or None if it is not one."""
    token = args[i]
    name, eq, value = token.partition("=")
    if token in GLOBAL_FLAGS:
        _set(options, GLOBAL_FLAGS[token], True, token)
        return i + 1
    if name in GLOBAL_VALUES and name.startswith("--") and eq:
        _set(options, GLOBAL_VALUES[name], value, name)
        return i + 1
    if token in GLOBAL_VALUES and i + 1 < len(args):
        _set(options, GLOBAL_VALUES[token], args[i + 1], token)
        return i + 2
    return None


def leading_globals(args: list[str]) -> tuple[int, dict[str, Any]] | None:
    """The index of the first word after the global options, and those options.

    None when something other than a global option comes first.
    """
    options: dict[str, Any] = {}
    i = 0
    while i < len(args) and args[i].startswith("-"):
        after = _read_global(args, i, options)
        if after is None:
            return None
        i = after
    return i, options


def expand_aliases(args: list[str]) -> list[str]:
    """``hooks install`` -> ``hooks.install``; ``hook pre-push R U`` -> ``hook.pre_push ...``.

    The spellings DESIGN.md gives (and git hook shims run) for methods whose
    names have dots.
    """
    leading = leading_globals(args)
    if leading is None:
        return args
    i = leading[0]
    head, word, rest = args[:i], args[i : i + 1], args[i + 1 :]
    if word == ["hooks"] and rest[:1] in (["install"], ["uninstall"], ["status"]):
        return [*head, f"hooks.{rest[0]}", *rest[1:]]
    if word == ["worktree"] and rest[:1] == ["prune"]:
        return [*head, "worktree.prune", *rest[1:]]
    if word == ["view"] and rest[:1] and not rest[0].startswith("-"):
        return [*head, "view", "--path", rest[0], *rest[1:]]
    if word == ["sync"] and rest[:1] and not rest[0].startswith("-"):
        return [*head, "sync", "--remote", rest[0], *rest[1:]]
    if word == ["queue"] and rest[:1] == ["run"]:
        return [*head, "queue.run", *rest[1:]]
    if word == ["hook"] and rest[:1] == ["pre-commit"]:
        return [*head, "hook.pre_commit", *rest[1:]]
    if word == ["hook"] and rest[:1] == ["pre-push"]:
        named = [
            f"--{key}={value}" for key, value in zip(("remote", "url"), rest[1:3], strict=False)
        ]
        return [*head, "hook.pre_push", *named, *rest[3:]]
    return args


def parse(args: list[str]) -> Call | None:
    """The method call ``args`` spell, or None when click must read them."""
    leading = leading_globals(args)
    if leading is None:
        return None
    i, options = leading
    if i >= len(args) or args[i] not in METHODS:
        return None
    method = METHODS[args[i]]
    by_option = {param.option: param for param in method.params}
    params: dict[str, Any] = {}
    i += 1
    while i < len(args):
        token = args[i]
        name, eq, value = token.partition("=")
        param = by_option.get(name)
        if param is not None and param.kind.flag:
            if eq:
                return None
            _set(params, param.name, True, token)
            i += 1
        elif param is None and token.startswith("--no-") and not eq:
            negated = by_option.get("--" + token[5:])
            if negated is None or not negated.kind.flag:
                return None
            _set(params, negated.name, False, negated.option)
            i += 1
        elif param is not None:
            if not eq:
                if i + 1 >= len(args):
                    return None
                value = args[i + 1]
                i += 1
            i += 1
            if param.kind.multiple:
                params.setdefault(param.name, []).append(value)
            else:
                _set(params, param.name, value, param.option)
        else:
            after = _read_global(args, i, options)
            if after is None:
                return None
            i = after
    if options.get("format") not in (None, *FORMATS):
        return None
    return Call(method, params, Options(**options))
