"""The MCP benchmark: tool-list size, server start-up, round trips vs `git orch` processes.

Run from the repository root: ``python bench/mcp_bench.py``. Prints a Markdown table.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from gitorch.surfaces import mcptools

RUNS = 21


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def make_repo(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run(
        ["git", "-C", str(path), "commit", "-q", "--allow-empty", "-m", "init"], check=True
    )
    return path


def process_median(args: list[str], cwd: Path) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def through_mcp(repo: Path) -> dict[str, float]:
    params = StdioServerParameters(
        command="git", args=["orch", "mcp"], cwd=str(repo), env=dict(os.environ)
    )
    started = time.perf_counter()
    async with Client(params) as client:
        startup = time.perf_counter() - started
        made: Any = await client.call_tool("task_create", {"level": "epic", "title": "warm"})
        task_id = made.structured_content["task"]["id"]
        gets, creates = [], []
        for i in range(RUNS):
            began = time.perf_counter()
            await client.call_tool("task_get", {"task_id": task_id})
            gets.append(time.perf_counter() - began)
            began = time.perf_counter()
            await client.call_tool("task_create", {"level": "case", "title": f"mcp {i}"})
            creates.append(time.perf_counter() - began)
    return {
        "startup": startup,
        "get": statistics.median(gets),
        "create": statistics.median(creates),
        "task_id": task_id,  # type: ignore[dict-item]
    }


def main() -> int:
    rows: list[tuple[str, str]] = []
    for spec in ("core", "all"):
        size = mcptools.size(mcptools.tool_list(spec))
        limit = mcptools.CORE_LIMIT_BYTES if spec == "core" else mcptools.ALL_LIMIT_BYTES
        rows.append(
            (
                f"tools/list `{spec}` ({len(mcptools.tool_list(spec))} tools)",
                f"{size['bytes']:,} bytes ≈ {size['tokens']:,} tokens (limit {limit:,} bytes)",
            )
        )
    with tempfile.TemporaryDirectory(prefix="gitorch-mcp-bench-") as tmp:
        repo = make_repo(Path(tmp) / "repo")
        measured = anyio.run(through_mcp, repo)
        task_id = str(measured["task_id"])
        get = process_median(["git", "orch", "task.get", "--task-id", task_id], repo)
        create = process_median(
            ["git", "orch", "task.create", "--level", "case", "--title", "p"], repo
        )
    rows += [
        ("`git orch mcp` start-up (spawn to initialized)", ms(measured["startup"])),
        (f"task_get through MCP, warm (median of {RUNS})", ms(measured["get"])),
        (f"`git orch task.get` as a process (median of {RUNS})", ms(get)),
        (f"task_create through MCP, warm (median of {RUNS})", ms(measured["create"])),
        (f"`git orch task.create` as a process (median of {RUNS})", ms(create)),
    ]
    print(f"machine: Python {sys.version.split()[0]}, nproc {os.cpu_count()}")
    print()
    print("| measurement | value |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
