"""The MCP tool list, generated from the registry, and kept small.

One tool per method: its name is the method's with ``_`` for ``.``
(``task_create``: both Codex and Claude accept ``^[a-zA-Z0-9_-]{1,64}$``),
its title the dotted name, its description one line, its input schema the
method's parameter schema. Tool lists eat an agent's context, so nothing is
repeated that a client does not need: no 64-bit integer bounds (the
server checks them), one-line descriptions. Toolsets are groups named by
the method's prefix; ``core`` is what a worker agent needs every turn.
Nothing here imports the MCP SDK: ``--print-tools`` and ``mcp install``
work without it.
"""

from __future__ import annotations

import json
import re

from gitorch.contract.method import Method
from gitorch.contract.params import INT64_MAX, INT64_MIN
from gitorch.contract.registry import METHODS
from gitorch.model.errors import UsageError

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# What a worker agent needs every turn; names not (yet) in the registry are skipped.
CORE = (
    "task.create",
    "task.get",
    "task.list",
    "task.update",
    "status",
    "session.open",
    "session.heartbeat",
    "session.context",
    "work.current_ref",
    "work.current_ref.ack",
    "resume.next",
    "case.begin",
    "step.check",
    "case.complete",
    "graph.ready",
    "lock.acquire",
    "lock.heartbeat",
    "lock.release",
)
CORE_LIMIT_BYTES = 12 * 1024
ALL_LIMIT_BYTES = (
    48 * 1024
)  # opt-in (`--toolsets all`); a worker takes core, a root core,thread,merge


def tool_name(method: Method) -> str:
    """``task.create`` -> ``task_create``."""
    return method.name.replace(".", "_")


def toolset_of(method: Method) -> str:
    """The toolset a method belongs to: its name's first part (``task`` for ``task.get``)."""
    return method.name.split(".", 1)[0]


def toolsets() -> list[str]:
    """Every toolset name, ``core`` and ``all`` first."""
    return ["core", "all", *sorted({toolset_of(m) for m in METHODS.values()})]


def select(spec: str) -> list[Method]:
    """The methods ``spec`` names: ``core``, ``all``, or toolsets separated by commas."""
    names = [part.strip() for part in spec.split(",") if part.strip()]
    known = toolsets()
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise UsageError(
            f"--toolsets: unknown toolset {', '.join(unknown) or '(none)'}; "
            f"known: {', '.join(known)}",
            {"unknown": unknown, "known": known},
        )
    chosen: dict[str, Method] = {}
    for name in names:
        for method in METHODS.values():
            if (
                name == "all"
                or (name == "core" and method.name in CORE)
                or toolset_of(method) == name
            ):
                chosen[method.name] = method
    return [METHODS[name] for name in METHODS if name in chosen]


_SERVER_CHECKS = ("maxLength", "minLength", "maxItems")


def _lean(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter schema without what only the server needs to know.

    Length limits and 64-bit bounds are checked by the server on every call
    (a refusal names the limit); repeating them in every tool costs context.
    """
    out = {key: value for key, value in schema.items() if key not in _SERVER_CHECKS}
    if isinstance(out.get("items"), dict):
        out["items"] = _lean(out["items"])
    if out.get("minimum") == INT64_MIN:
        del out["minimum"]
    if out.get("maximum") == INT64_MAX:
        del out["maximum"]
    return out


def input_schema(method: Method) -> dict[str, Any]:
    """A method's parameters as a tool's input schema."""
    schema = method.params_schema()
    schema["properties"] = {name: _lean(prop) for name, prop in schema["properties"].items()}
    if not schema["required"]:
        del schema["required"]
    return schema


def one_line(text: str) -> str:
    """The first sentence of ``text``, on one line."""
    line = " ".join(text.split())
    first, dot, _ = line.partition(". ")
    return first + ("." if dot else "")


def tool(method: Method) -> dict[str, Any]:
    """One tool, as ``tools/list`` shows it."""
    return {
        "name": tool_name(method),
        "title": method.name,
        "description": one_line(method.summary),
        "inputSchema": input_schema(method),
    }


def tool_list(spec: str) -> list[dict[str, Any]]:
    """The tools of a toolset spec."""
    return [tool(method) for method in select(spec)]


def size(tools: list[dict[str, Any]]) -> dict[str, int]:
    """The bytes of ``{"tools": [...]}`` as JSON, and a token estimate (chars / 4)."""
    text = json.dumps({"tools": tools}, separators=(",", ":"), ensure_ascii=False)
    return {"bytes": len(text.encode("utf-8")), "tokens": len(text) // 4}


def registration(client: str, scope: str) -> dict[str, Any]:
    """How to register ``git orch mcp`` with a client: a command line, or a file entry."""
    server = ["git", "orch", "mcp"]
    if client == "codex":
        return {
            "client": "codex",
            "command": ["codex", "mcp", "add", "gitorch", "--", *server],
            "note": "Codex keeps servers in ~/.codex/config.toml ([mcp_servers.gitorch]).",
        }
    command = ["claude", "mcp", "add", "--scope", scope, "gitorch", "--", *server]
    if scope == "project":
        return {
            "client": "claude",
            "scope": "project",
            "file": ".mcp.json",
            "entry": {"mcpServers": {"gitorch": {"command": server[0], "args": server[1:]}}},
            "command": command,
        }
    return {"client": "claude", "scope": "user", "command": command}
