"""Many writers at once: every change lands, none is lost."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitorch.api import Orchestrator
from tests.gitrepo import fsck, git

WRITERS = 8
EACH = 25


@pytest.mark.slow
def test_eight_processes_creating_at_once_lose_nothing(repo: Path) -> None:
    script = (
        f"set -e\nfor i in $(seq {EACH}); do\n"
        '  git orch task.create --level case --title "$1-$i" >/dev/null\n'
        "done\n"
    )
    procs = [
        subprocess.Popen(["sh", "-c", script, "sh", f"w{n}"], cwd=repo, stderr=subprocess.PIPE)
        for n in range(WRITERS)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    with Orchestrator(repo) as orch:
        tasks = orch.call("task.list")["tasks"]
        assert len(tasks) == WRITERS * EACH
        assert len({t["title"] for t in tasks}) == WRITERS * EACH
        assert orch.store.snapshot().version == WRITERS * EACH
    assert git(repo, "rev-list", "--count", "orchestrator/state").strip() == str(WRITERS * EACH)
    fsck(repo)


READER = """
import json, sys
from gitorch.api import Orchestrator
seen = 0
for _ in range(int(sys.argv[2])):
    with Orchestrator(sys.argv[1]) as orch:
        tasks = orch.call("task.list")["tasks"]
        assert len(tasks) >= seen, (len(tasks), seen)  # a reader never goes back in time
        assert len({t["id"] for t in tasks}) == len(tasks)
        seen = len(tasks)
print(seen)
"""


@pytest.mark.slow
def test_readers_and_writers_sharing_a_cold_cache_always_see_the_truth(repo: Path) -> None:
    import sys

    with Orchestrator(repo) as orch:
        orch.call("task.create", {"level": "case", "title": "seed"})
    for name in ("cache.sqlite", "cache.sqlite-wal", "cache.sqlite-shm"):
        (repo / ".git" / "orchestrator" / name).unlink(missing_ok=True)
    writer = (
        "set -e\nfor i in $(seq 15); do\n"
        '  git orch task.create --level case --title "$1-$i" >/dev/null\n'
        "done\n"
    )
    procs = [
        subprocess.Popen(["sh", "-c", writer, "sh", f"w{n}"], cwd=repo, stderr=subprocess.PIPE)
        for n in range(2)
    ] + [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(repo), "25"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    with Orchestrator(repo) as cached, Orchestrator(repo, cache=False) as uncached:
        assert cached.call("task.list") == uncached.call("task.list")
        assert cached.call("task.list")["total"] == 31
