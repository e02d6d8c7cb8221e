"""A method of the contract: its name, parameters, results, and domain function.

A declaration names the domain function as ``module:function``; it is
imported only when the method is called, so the CLI, ``git orch methods``
and the README reference can be built without loading the domain.

``access`` says how the surface calls the function:

- ``READ``: ``fn(ctx, view, **params)`` with a snapshot of the tip;
- ``WRITE``: ``fn(ctx, tx, **params)`` inside one transaction that the
  surface opens under the declared method name (the function may run more
  than once when the tip moves; it only reads and stages);
- ``EFFECTS``: ``fn(ctx, **params)`` for methods with effects outside the
  state (git worktrees, tmux), which record intent, act, and record the
  outcome through ``ctx.transact`` themselves.
"""

from __future__ import annotations

import importlib
from collections import namedtuple
from collections.abc import Callable, Mapping

from gitorch.contract.params import Param
from gitorch.model.errors import InvalidParams

READ = "read"
WRITE = "write"
EFFECTS = "effects"

# Parameters that name the session a call acts for (CONTRACT.md section 1).
SESSION_PARAMS = ("session_id", "owner_session", "requester_session_id", "owner_session_id")


TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any, NamedTuple

if TYPE_CHECKING:

    class _MethodFields(NamedTuple):
        name: str
        summary: str
        params: tuple[Param, ...]
        result: str
        result_schema: dict[str, Any]
        handler: str
        access: str = READ
        more_results: tuple[tuple[str, dict[str, Any]], ...] = ()
        default_format: str = "json"
        columns: tuple[str, ...] = ()
        publishes: bool = False

else:
    _MethodFields = namedtuple(
        "_MethodFields",
        (
            "name",
            "summary",
            "params",
            "result",
            "result_schema",
            "handler",
            "access",
            "more_results",
            "default_format",
            "columns",
            "publishes",
        ),
        defaults=(
            READ,
            (),
            "json",
            (),
            False,
        ),
    )


class Method(_MethodFields):
    """One method of the contract.

    ``result`` is the key of the result's main value and ``result_schema``
    its JSON Schema; ``more_results`` the other top-level keys a result
    holds. ``default_format`` is ``json`` except for boards made for people
    (``table``); ``columns`` are what ``--format table`` shows of a list.
    ``publishes``: the method takes a lease or a claim, and its ``remote``
    parameter makes it count only once a push to that remote holds it.
    """

    __slots__ = ()

    def param(self, name: str) -> Param | None:
        """The parameter called ``name``, if the method has one."""
        for param in self.params:
            if param.name == name:
                return param
        return None

    def params_schema(self) -> dict[str, Any]:
        """The JSON Schema of the method's parameters."""
        return {
            "type": "object",
            "properties": {param.name: param.schema() for param in self.params},
            "required": [param.name for param in self.params if param.required],
            "additionalProperties": False,
        }

    def result_keys(self) -> dict[str, dict[str, Any]]:
        """Every top-level key of a result, with its JSON Schema."""
        return {self.result: self.result_schema, **dict(self.more_results)}

    def schema(self) -> dict[str, Any]:
        """The method as JSON Schema: its parameters and its result."""
        return {
            "name": self.name,
            "summary": self.summary,
            "access": self.access,
            "params": self.params_schema(),
            "result": {
                "type": "object",
                "properties": self.result_keys(),
                "required": [self.result],
            },
        }

    def bind(self, raw: Mapping[str, Any], *, from_command_line: bool = False) -> dict[str, Any]:
        """Check raw parameter values; return the keyword arguments of the handler."""
        if not isinstance(raw, Mapping):
            raise InvalidParams(f"{self.name}: parameters must be a JSON object", {})
        known = {param.name for param in self.params}
        unknown = sorted(str(name) for name in set(raw) - known)
        if unknown:
            raise InvalidParams(
                f"{self.name} has no parameter {', '.join(unknown)}",
                {"unknown": unknown, "known": sorted(known)},
            )
        bound: dict[str, Any] = {}
        for param in self.params:
            value = raw.get(param.name)
            if value is None:
                if param.required:
                    raise InvalidParams(
                        f"{self.name}: missing required parameter {param.name}",
                        {"param": param.name},
                    )
                if param.default is not None:
                    bound[param.name] = param.check(param.default)
                continue
            bound[param.name] = param.from_cli(value) if from_command_line else param.check(value)
        return bound

    def acting_session(self, bound: Mapping[str, Any]) -> str | None:
        """The session a call acts for, when its parameters name one."""
        for name in SESSION_PARAMS:
            value = bound.get(name)
            if isinstance(value, str) and value.strip():
                return value
        return None

    def handler_function(self) -> Callable[..., dict[str, Any]]:
        """The domain function, imported now."""
        module, _, function = self.handler.partition(":")
        result: Callable[..., dict[str, Any]] = getattr(importlib.import_module(module), function)
        return result
