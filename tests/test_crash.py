"""A writer killed at any moment leaves the ref on a complete, valid commit."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gitorch.api import Orchestrator
from tests.gitrepo import fsck, git

WRITER = """
import sys
from gitorch.api import Orchestrator
orch = Orchestrator(sys.argv[1], stale_lock_seconds=0.5, pack_threshold=60)
print("ready", flush=True)
i = 0
while True:
    orch.call("task.create", {"level": "case", "title": f"crash {i}"})
    i += 1
"""


@pytest.mark.slow
def test_writers_killed_at_random_moments_leave_a_valid_state(repo: Path) -> None:
    rng = random.Random(20261124)
    for _ in range(30):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(repo)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        try:
            proc.wait(timeout=rng.uniform(0.0, 0.3))
        except subprocess.TimeoutExpired:
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        check_state(repo)
    # Writers still work afterwards, whatever the kills left behind.
    with Orchestrator(repo, stale_lock_seconds=0.5) as orch:
        before = orch.store.snapshot().version
        orch.call("task.create", {"level": "case", "title": "after"})
        assert orch.store.snapshot().version == before + 1
    check_state(repo)
    fsck(repo)


def check_state(repo: Path) -> None:
    """The ref names a commit whose state loads completely and agrees with its history."""
    tip = git(repo, "for-each-ref", "--format=%(objectname)", "refs/orchestrator/state").strip()
    if not tip:
        return  # killed before the first commit
    git(repo, "cat-file", "-e", f"{tip}^{{tree}}")
    with Orchestrator(repo) as orch:
        view = orch.store.snapshot()
        assert view.commit == tip
        total = orch.call("task.list")["total"]
        assert view.version == total
    assert git(repo, "rev-list", "--count", tip).strip() == str(total)
