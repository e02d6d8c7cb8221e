"""A writer killed at any moment leaves the ref on a complete, valid commit."""

from __future__ import annotations

import os
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
orch = Orchestrator(sys.argv[1], pack_threshold=60)
print("ready", flush=True)
i = 0
while True:
    orch.call("task.create", {"level": "case", "title": f"crash {i}"})
    i += 1
"""


def kill_a_writer(repo: Path, after: float, *, group: bool) -> None:
    """Start a writer, let it write for ``after`` s, then SIGKILL it (with its git: ``group``)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(repo)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    try:
        proc.wait(timeout=after)
    except subprocess.TimeoutExpired:
        pass
    if group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()


@pytest.mark.slow
def test_writers_killed_at_random_moments_leave_a_valid_state(repo: Path) -> None:
    rng = random.Random(20261124)
    for _ in range(30):
        kill_a_writer(repo, rng.uniform(0.0, 0.3), group=False)
        check_state(repo)
    # Writers still work afterwards, whatever the kills left behind.
    with Orchestrator(repo) as orch:
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


def reflog_lines(repo: Path) -> list[tuple[str, str]]:
    """``(old, new)`` of every reflog line of the state ref, oldest first."""
    log = repo / ".git" / "logs" / "refs" / "orchestrator" / "state"
    if not log.exists():
        return []
    return [tuple(line.split(" ", 2)[:2]) for line in log.read_text().splitlines()]  # type: ignore[misc]


def assert_no_phantom_reflog_line(repo: Path) -> None:
    """Every reflog line is a move that happened: the lines chain up to the tip."""
    lines = reflog_lines(repo)
    tip = git(repo, "for-each-ref", "--format=%(objectname)", "refs/orchestrator/state").strip()
    if not lines:
        return  # never written, or expired by git gc
    previous = lines[0][0]  # older lines may have been expired by git gc
    for old, new in lines:
        assert old == previous, f"a reflog line moves from {old}, but the ref was at {previous}"
        previous = new
    assert previous == tip
    history = set(git(repo, "rev-list", "--first-parent", tip).split())
    assert {new for _, new in lines} <= history


@pytest.mark.slow
def test_200_sigkills_leave_no_phantom_reflog_line_and_no_wait(repo: Path) -> None:
    rng = random.Random(200)
    for i in range(200):
        # odd rounds kill the writer with the git it runs, even ones the writer alone
        kill_a_writer(repo, rng.uniform(0.0, 0.06), group=bool(i % 2))
        if i % 25 == 24:
            check_state(repo)
    # The next write must not wait for anything a killed writer left: a 1 s budget.
    with Orchestrator(repo, lock_wait=1.0) as orch:
        orch.call("task.create", {"level": "case", "title": "after 200 kills"})
    check_state(repo)
    assert_no_phantom_reflog_line(repo)
    assert not (repo / ".git" / "refs" / "orchestrator" / "state.lock").exists()
    fsck(repo)


GC_WRITER = """
import sys
from gitorch.api import Orchestrator
from gitorch.model.errors import GitorchError
with Orchestrator(sys.argv[1], pack_threshold=40) as orch:
    for i in range(int(sys.argv[2])):
        try:
            task = orch.call("task.create", {"level": "case", "title": f"gc race {i}"})["task"]
        except GitorchError as exc:
            print("refused", exc.code, flush=True)
        else:
            print("ack", task["id"], flush=True)
"""


@pytest.mark.slow
def test_writers_racing_gc_prune_now_lose_no_acknowledged_change(repo: Path) -> None:
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", GC_WRITER, str(repo), "60"], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    rounds = 0
    while any(w.poll() is None for w in writers) and rounds < 200:
        subprocess.run(
            ["git", "-C", str(repo), "gc", "--prune=now", "--quiet"],
            capture_output=True,
            check=False,
        )
        rounds += 1
    acked: list[str] = []
    for writer in writers:
        out, _ = writer.communicate(timeout=120)
        assert writer.returncode == 0
        lines = out.splitlines()
        assert all(line.startswith(("ack ", "refused ")) for line in lines), lines
        assert not [line for line in lines if line.startswith("refused internal")]
        acked += [line.split()[1] for line in lines if line.startswith("ack ")]
    assert rounds > 0 and acked
    fsck(repo)
    with Orchestrator(repo, cache=False) as orch:
        present = {t["id"] for t in orch.call("task.list")["tasks"]}
    assert set(acked) <= present
    assert_no_phantom_reflog_line(repo)
