"""``git orch mcp``: every method of the registry as an MCP tool, over stdio.

The official MCP Python SDK is an optional extra (``pip install
'gitorch[mcp]'``); only this module imports it, and only to serve. The
server is long-lived and caches nothing that could go stale: every call
opens the repository anew, reads the tip as it is now, and writes through
the same transactions as the command line. A method's error is a tool
result with ``isError`` carrying the contract's ``{"error": {...}}``,
never a protocol error.
"""

from __future__ import annotations

import json
import os

from gitorch import __version__
from gitorch.contract.method import Method
from gitorch.model.errors import GitorchError, InvalidParams, NotFound, Unavailable, UsageError
from gitorch.surfaces import mcptools, output
from gitorch.surfaces.output import Options

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

INSTALL_HINT = "pip install 'gitorch[mcp]'"
STATUS_URI = "gitorch://status"
MIRROR_URI = "gitorch://mirror"
INSTRUCTIONS = (
    "gitorch coordinates coding agents on one git repository. Every tool is a "
    "`git orch` method (the title is its dotted name); results are JSON objects; "
    'errors come back as {"error": {"code", "message", "details"}} with isError set.'
)


def call_tool(
    repo: str | None,
    session: str | None,
    method: Method | None,
    name: str,
    arguments: dict[str, Any],
) -> tuple[bool, dict[str, Any]]:
    """One tool call, in a fresh view of the repository: ``(is_error, JSON object)``."""
    from gitorch.api import Orchestrator

    if method is None:
        error: GitorchError = NotFound(f"no tool {name!r}", {"tool": name})
        return True, error.to_json()
    orch = None
    try:
        orch = Orchestrator(repo, session=session)
        return False, orch.call_method(method, arguments)
    except GitorchError as exc:
        return True, exc.to_json()
    except Exception as exc:  # noqa: BLE001 - the boundary: a bug, reported, never a crash
        log_dir = None
        if orch is not None:
            try:
                log_dir = os.path.join(orch.repo.orch_dir, "log")
            except GitorchError:
                pass
        return True, output.internal(exc, log_dir).to_json()
    finally:
        if orch is not None:
            orch.close()


def mirror_page(repo: str | None) -> str:
    """The Markdown mirror of the state as it is now (rendered, not written)."""
    from gitorch.api import Orchestrator
    from gitorch.domain.mirror import render

    with Orchestrator(repo) as orch:
        return render(orch.store.snapshot())


def serve(repo: str | None, spec: str, session: str | None) -> int:
    """Serve the tools of ``spec`` over stdio until the client closes the connection."""
    try:
        import anyio
        import mcp_types as types
        from mcp.server.lowlevel import Server
        from mcp.server.stdio import stdio_server
    except ImportError:
        raise Unavailable(
            f"git orch mcp needs the MCP Python SDK: {INSTALL_HINT}", {"install": INSTALL_HINT}
        ) from None
    chosen = {mcptools.tool_name(method): method for method in mcptools.select(spec)}
    tools = [
        types.Tool(
            name=spec_["name"],
            title=spec_["title"],
            description=spec_["description"],
            input_schema=spec_["inputSchema"],
        )
        for spec_ in (mcptools.tool(method) for method in chosen.values())
    ]

    def result(is_error: bool, payload: dict[str, Any]) -> Any:
        text = output.to_json(payload)
        return types.CallToolResult(
            content=[types.TextContent(text=text)],
            structured_content=json.loads(text),
            is_error=is_error,
        )

    async def on_list_tools(ctx: Any, params: Any) -> Any:
        return types.ListToolsResult(tools=tools)

    async def on_call_tool(ctx: Any, params: Any) -> Any:
        arguments = params.arguments or {}
        done = await anyio.to_thread.run_sync(
            call_tool, repo, session, chosen.get(params.name), params.name, arguments
        )
        return result(*done)

    async def on_list_resources(ctx: Any, params: Any) -> Any:
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=STATUS_URI,
                    name="status",
                    title="git orch status",
                    description="What the state holds now: counts, version, recent changes.",
                    mime_type="application/json",
                ),
                types.Resource(
                    uri=MIRROR_URI,
                    name="mirror",
                    title="the Markdown mirror",
                    description="The plan, dependencies, checklists, sessions, locks, queue.",
                    mime_type="text/markdown",
                ),
            ]
        )

    async def on_read_resource(ctx: Any, params: Any) -> Any:
        from gitorch.contract.registry import METHODS

        uri = str(params.uri)
        if uri == MIRROR_URI:
            page = await anyio.to_thread.run_sync(mirror_page, repo)
            return types.ReadResourceResult(
                contents=[types.TextResourceContents(uri=uri, mime_type="text/markdown", text=page)]
            )
        method = METHODS["status"] if uri == STATUS_URI else None
        _, payload = await anyio.to_thread.run_sync(call_tool, repo, session, method, uri, {})
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(
                    uri=uri, mime_type="application/json", text=output.to_json(payload)
                )
            ]
        )

    server = Server(
        "gitorch",
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
        on_list_resources=on_list_resources,
        on_read_resource=on_read_resource,
    )

    async def run() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(run)
    return 0


def install(repo: str | None, client: str, scope: str, write: bool) -> dict[str, Any]:
    """The registration of ``git orch mcp`` with ``client``; with ``write``, written."""
    entry = mcptools.registration(client, scope)
    if not write:
        return {"registration": entry, "written": None}
    if "file" not in entry:
        raise InvalidParams(
            f"--write writes a project's .mcp.json; for {client} at {scope} scope run: "
            + " ".join(entry["command"]),
            {"client": client, "scope": scope},
        )
    from gitorch.store.repository import Repository

    top = Repository(repo).toplevel()
    path = os.path.join(top, entry["file"])
    try:
        with open(path, encoding="utf-8") as handle:
            current = json.load(handle)
    except FileNotFoundError:
        current = {}
    except (OSError, ValueError) as exc:
        raise InvalidParams(f"{path} is not readable JSON: {exc}", {"path": path}) from None
    if not isinstance(current, dict) or not isinstance(current.get("mcpServers", {}), dict):
        raise InvalidParams(f"{path} does not hold an mcpServers object", {"path": path})
    current.setdefault("mcpServers", {})["gitorch"] = entry["entry"]["mcpServers"]["gitorch"]
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(current, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return {"registration": entry, "written": path}


_VALUES = {
    "--toolsets": "toolsets",
    "--session": "session",
    "--client": "client",
    "--scope": "scope",
    "-C": "repo",
    "--repo": "repo",
    "--format": "format",
}
_FLAGS = {"--print-tools": "print_tools", "--write": "write", "--pretty": "pretty"}


def _read(args: list[str]) -> tuple[list[str], dict[str, Any]]:
    words: list[str] = []
    opts: dict[str, Any] = {}
    i = 0
    while i < len(args):
        name, eq, text = args[i].partition("=")
        value: Any = text
        if args[i] in _FLAGS:
            key, value, step = _FLAGS[args[i]], True, 1
        elif name in _VALUES and (eq or i + 1 < len(args)):
            key, step = _VALUES[name], 1 if eq else 2
            value = value if eq else args[i + 1]
        elif args[i] in ("-h", "--help"):
            key, value, step = "help", True, 1
        elif not args[i].startswith("-"):
            words.append(args[i])
            i += 1
            continue
        else:
            raise UsageError(f"git orch mcp: unknown option {args[i]}", {"option": args[i]})
        if key in opts:
            raise UsageError(f"{name} is given more than once", {"option": name}, "invalid_params")
        opts[key] = value
        i += step
    return words, opts


USAGE = """usage: git orch mcp [--toolsets core|all|a,b] [--session ID] [-C PATH]
       git orch mcp --print-tools [--toolsets ...]
       git orch mcp install --client codex|claude [--scope project|user] [--write]
toolsets: {toolsets}
"""


def main(args: list[str], options: Options) -> int:
    """``git orch mcp ...``: serve, print the tools, or print (and write) a registration."""
    try:
        words, opts = _read(args)
        repo = opts.get("repo") or options.repo
        pretty = bool(opts.get("pretty") or options.pretty)
        if opts.get("help"):
            output.write(USAGE.format(toolsets=", ".join(mcptools.toolsets())))
            return 0
        if words == ["install"]:
            client = opts.get("client")
            scope = opts.get("scope", "user")
            if client not in ("codex", "claude") or scope not in ("project", "user"):
                raise UsageError(
                    "git orch mcp install --client codex|claude [--scope project|user] [--write]",
                    {"client": client, "scope": scope},
                )
            output.emit_json(install(repo, client, scope, bool(opts.get("write"))), pretty)
            return 0
        if words:
            raise UsageError(f"git orch mcp: unknown command {' '.join(words)}", {"words": words})
        spec = opts.get("toolsets", "core")
        if opts.get("print_tools"):
            tools = mcptools.tool_list(spec)
            output.emit_json({"toolsets": spec, "tools": tools, **mcptools.size(tools)}, pretty)
            return 0
        from gitorch.domain.context import session_from_env

        session = opts.get("session") or session_from_env()
        mcptools.select(spec)  # refuse an unknown toolset before serving
        return serve(repo, spec, session)
    except GitorchError as exc:
        return output.fail(exc)
