"""``git orch mcp`` driven by the MCP SDK's own stdio client, as Codex or Claude would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gitorch.contract.registry import METHODS
from gitorch.surfaces import mcptools
from tests.gitrepo import git
from tests.gitrepo import orch as run

anyio = pytest.importorskip("anyio")
mcp = pytest.importorskip("mcp")
jsonschema = pytest.importorskip("jsonschema")

from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402

Session = Callable[[Any], Awaitable[Any]]


def serve(repo: Path, *args: str) -> StdioServerParameters:
    """How the client starts ``git orch mcp`` in ``repo`` (the test's hermetic env)."""
    return StdioServerParameters(
        command="git", args=["orch", "mcp", *args], cwd=str(repo), env=dict(os.environ)
    )


def drive(repo: Path, script: Session, *args: str) -> Any:
    """Start a server, run ``script(client)`` against it, stop it; what the script returned."""

    async def main() -> Any:
        async with Client(serve(repo, *args)) as client:
            return await script(client)

    return anyio.run(main)


def test_tools_are_exactly_the_registry_with_valid_schemas(repo: Path) -> None:
    async def script(client: Any) -> Any:
        return (await client.list_tools()).tools

    tools = drive(repo, script, "--toolsets", "all")
    assert {tool.name for tool in tools} == {m.replace(".", "_") for m in METHODS}
    for tool in tools:
        assert mcptools.TOOL_NAME.match(tool.name)
        assert tool.title in METHODS
        assert "\n" not in (tool.description or "")
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema["type"] == "object"


def test_create_then_get_round_trips_and_errors_are_tool_results(repo: Path) -> None:
    async def script(client: Any) -> Any:
        made = await client.call_tool("task_create", {"level": "Epic", "title": "via MCP"})
        got = await client.call_tool(
            "task_get", {"task_id": made.structured_content["task"]["id"][:8]}
        )
        bad_level = await client.call_tool("task_create", {"level": "saga", "title": "x"})
        missing = await client.call_tool("task_get", {"task_id": "tsk-zzzzzzzz"})
        unknown_param = await client.call_tool("task_list", {"bogus": 1})
        no_tool = await client.call_tool("nope_nope", {})
        return made, got, bad_level, missing, unknown_param, no_tool

    made, got, bad_level, missing, unknown_param, no_tool = drive(repo, script)
    assert not made.is_error
    task = made.structured_content["task"]
    assert json.loads(made.content[0].text) == made.structured_content
    assert got.structured_content == {"task": task}
    for result, code in (
        (bad_level, "invalid_params"),
        (missing, "not_found"),
        (unknown_param, "invalid_params"),
        (no_tool, "not_found"),
    ):
        assert result.is_error
        assert result.structured_content["error"]["code"] == code
        assert json.loads(result.content[0].text) == result.structured_content
    assert run(repo, "task.get", "--task-id", task["id"]).out["task"] == task


def test_a_change_made_by_the_cli_is_seen_by_the_next_call(repo: Path) -> None:
    async def script(client: Any) -> Any:
        before = await client.call_tool("task_list", {})
        run(repo, "task.create", "--level", "epic", "--title", "from the CLI")
        after = await client.call_tool("task_list", {})
        status = await client.read_resource("gitorch://status")
        page = await client.read_resource("gitorch://mirror")
        assert "# Orchestration" in page.contents[0].text
        return before, after, status

    before, after, status = drive(repo, script)
    assert before.structured_content["total"] == 0
    assert [t["title"] for t in after.structured_content["tasks"]] == ["from the CLI"]
    assert json.loads(status.contents[0].text)["status"]["state_version"] == 1


def test_calls_act_for_the_session_given(repo: Path) -> None:
    async def script(client: Any) -> Any:
        return await client.call_tool("task_create", {"level": "epic", "title": "mine"})

    drive(repo, script, "--session", "ses-aaaaaaaa")
    trailers = git(repo, "log", "-1", "--format=%(trailers:only,unfold)", "orchestrator/state")
    assert "Orch-Session: ses-aaaaaaaa" in trailers


@pytest.mark.slow
def test_two_servers_and_cli_writers_at_once_lose_nothing(repo: Path) -> None:
    each = 10

    def server_writes(name: str) -> None:
        async def script(client: Any) -> Any:
            for i in range(each):
                result = await client.call_tool(
                    "task_create", {"level": "case", "title": f"{name}-{i}"}
                )
                assert not result.is_error, result.structured_content

        drive(repo, script)

    cli = subprocess.Popen(
        [
            "sh",
            "-c",
            f"for i in $(seq {each}); do "
            'git orch task.create --level case --title "cli-$i" >/dev/null || exit 1; done',
        ],
        cwd=repo,
    )

    async def both() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(anyio.to_thread.run_sync, server_writes, "a")
            group.start_soon(anyio.to_thread.run_sync, server_writes, "b")

    anyio.run(both)
    assert cli.wait(timeout=300) == 0
    titles = [t["title"] for t in run(repo, "task.list").out["tasks"]]
    assert len(titles) == len(set(titles)) == 3 * each


def test_tool_lists_stay_small_and_names_valid() -> None:
    for spec, limit in (("core", mcptools.CORE_LIMIT_BYTES), ("all", mcptools.ALL_LIMIT_BYTES)):
        tools = mcptools.tool_list(spec)
        assert mcptools.size(tools)["bytes"] <= limit, spec
        assert all(mcptools.TOOL_NAME.match(t["name"]) for t in tools)
        assert len({t["name"] for t in tools}) == len(tools)


def test_print_tools_and_unknown_toolsets(repo: Path) -> None:
    printed = run(repo, "mcp", "--print-tools", "--toolsets", "task,status").out
    assert [t["title"] for t in printed["tools"]] == [
        m for m in METHODS if m.startswith("task.") or m == "status"
    ]
    assert printed["bytes"] > printed["tokens"] > 0
    bad = run(repo, "mcp", "--toolsets", "core,nonsense")
    assert bad.code == 2
    assert bad.out["error"]["code"] == "invalid_params"


def test_without_the_sdk_mcp_is_unavailable_with_the_install_command(repo: Path) -> None:
    probe = (
        "import sys\n"
        "sys.modules['mcp'] = None  # as if gitorch[mcp] were not installed\n"
        "from gitorch.surfaces.main import main\n"
        "raise SystemExit(main(['mcp']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    error = json.loads(proc.stdout)["error"]
    assert error["code"] == "unavailable"
    assert "pip install 'gitorch[mcp]'" in error["message"]


def test_install_prints_and_writes_registrations(repo: Path) -> None:
    codex = run(repo, "mcp", "install", "--client", "codex").out["registration"]
    assert codex["command"] == ["codex", "mcp", "add", "gitorch", "--", "git", "orch", "mcp"]
    claude = run(repo, "mcp", "install", "--client", "claude").out["registration"]
    assert claude["command"][:3] == ["claude", "mcp", "add"]
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {"other": {"command": "x"}}}))
    written = run(repo, "mcp", "install", "--client", "claude", "--scope", "project", "--write")
    assert written.out["written"] == str(repo / ".mcp.json")
    servers = json.loads((repo / ".mcp.json").read_text())["mcpServers"]
    assert servers == {
        "other": {"command": "x"},
        "gitorch": {"command": "git", "args": ["orch", "mcp"]},
    }
    refused = run(repo, "mcp", "install", "--client", "codex", "--write")
    assert refused.code == 1 and refused.out["error"]["code"] == "invalid_params"
