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
