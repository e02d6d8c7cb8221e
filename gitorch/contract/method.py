"""A method of the contract: its name, parameters, result, and domain function.

A declaration names the domain function as ``module:function``; it is
imported only when the method is called, so the CLI, ``git orch methods``
and the README reference can be built without loading the domain.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from gitorch.contract.params import Param, check, from_cli
from gitorch.model.errors import InvalidParams


class Method(NamedTuple):
    """One method of the contract.

    ``result`` is the key the result is returned under; ``result_schema``
    its JSON Schema. ``default_format`` is ``json`` except for boards made
    for people (``table``); ``columns`` are what ``--format table`` shows
    of a list.
    """

    name: str
    summary: str
    params: tuple[Param, ...]
    result: str
    result_schema: dict[str, Any]
    handler: str
    default_format: str = "json"
    columns: tuple[str, ...] = ()

    def param(self, name: str) -> Param | None:
        """The parameter called ``name``, if the method has one."""
        for param in self.params:
            if param.name == name:
                return param
        return None

    def schema(self) -> dict[str, Any]:
        """The method as JSON Schema: its parameters and its result."""
        return {
            "name": self.name,
            "summary": self.summary,
            "params": {
                "type": "object",
                "properties": {param.name: param.schema() for param in self.params},
                "required": [param.name for param in self.params if param.required],
                "additionalProperties": False,
            },
            "result": {
                "type": "object",
                "properties": {self.result: self.result_schema},
                "required": [self.result],
            },
        }

    def bind(self, raw: Mapping[str, Any], *, from_command_line: bool = False) -> dict[str, Any]:
        """Check raw parameter values; return the keyword arguments of the handler."""
        known = {param.name for param in self.params}
        unknown = sorted(set(raw) - known)
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
                    bound[param.name] = check(param, param.default)
                continue
            bound[param.name] = from_cli(param, value) if from_command_line else check(param, value)
        return bound

    def handler_function(self) -> Callable[..., dict[str, Any]]:
        """The domain function, imported now."""
        module, _, function = self.handler.partition(":")
        result: Callable[..., dict[str, Any]] = getattr(importlib.import_module(module), function)
        return result
