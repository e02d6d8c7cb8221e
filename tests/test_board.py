"""``git orch status`` for people: a fixed state renders to a fixed board."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from gitorch.api import Orchestrator
from gitorch.model.clock import ManualClock
from gitorch.surfaces.tables import board
from tests.gitrepo import wait_for

EXPECTED = """\
state refs/orchestrator/state  version 6  at <commit>

KIND        TOTAL  BY STATUS
edge        4      - 4
lock        1      active 1
main_lease  1      active 1
node        4      todo 4
session     2      awaiting_resume 2

sessions:
  ses-10000000  live        worker
  ses-20000000  live        reviewer

leases:
  src/api.py  ses-10000000  epoch 1  until 2030-01-01T00:10:00.000Z
  main-merge lease  ses-20000000  epoch 1  until 2030-01-01T00:05:00.000Z

ready work:
  nod-30000000  Login
  nod-40000000  Plan A
  nod-60000000  schema

plans:
  nod-40000000  0/2 done  Plan A

protected branch: main
"""


def test_a_fixed_state_renders_to_a_fixed_board(repo: Path) -> None:
    counter = itertools.count(1)
    clock = ManualClock(1_893_456_000_000)
    with Orchestrator(repo, clock=clock, random=lambda: next(counter).to_bytes(5, "big")) as orch:
        a = orch.call("session.open", {"intent": "resume_work", "agent_role": "worker"})
        b = orch.call("session.open", {"intent": "resume_work", "agent_role": "reviewer"})
        plan = orch.call("plan.bootstrap", {"initiative_title": "Login", "plan_title": "Plan A"})
        orch.call(
            "plan.slice.generate",
            {
                "plan_node_id": plan["plan"]["id"],
                "slice_specs": [{"title": "schema"}, {"title": "api", "depends_on": ["schema"]}],
            },
        )
        orch.call(
            "lock.acquire",
            {"scope_type": "file", "scope_path": "src/api.py", "owner_session": a["session"]["id"]},
        )
        orch.call("merge.main.acquire_lock", {"session_id": b["session"]["id"]})
        status = orch.call("status", {"history": 0})["status"]
    text = re.sub(r"at [0-9a-f]{12}", "at <commit>", board(status))
    assert text == EXPECTED
    painted = board(status, color=True)
    assert "\x1b[32mlive\x1b[0m" in painted


def test_status_watch_redraws_until_interrupted(repo: Path) -> None:
    import signal
    import subprocess
    import threading

    proc = subprocess.Popen(
        ["git-orch", "status", "--watch", "--interval", "1"],  # git itself dies of Ctrl-C
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    stream = proc.stdout
    assert stream is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(stream.readline, "")))
    reader.start()
    drawn = wait_for(lambda: sum("state refs/orchestrator/state" in line for line in lines) >= 2)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)
    reader.join(10)
    out = "".join(lines)
    assert drawn
    assert proc.returncode == 0
    assert out.count("state refs/orchestrator/state") >= 2  # drawn again, not once
    assert "\x1b[" not in out  # no terminal: no colours, no clearing
