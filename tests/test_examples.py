"""The examples run, so none can rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from examples import flows
from gitorch.api import Orchestrator
from tests.gitrepo import git

ROOT = Path(__file__).resolve().parent.parent


def test_the_flows_plan_work_review_and_land(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        plan = flows.root_plans(orch)
        worker = flows.worker_works(orch)
        request = flows.reviewer_reviews(orch)
        landed = flows.main_lands(orch)
        titles = {n["id"]: n["title"] for n in orch.graph_node_list()["nodes"]}
        assert titles[plan] == "Search v1"
        assert orch.merge_review_context(merge_request_id=request)["merge_request"]["status"] == (
            "approved"
        )
        assert orch.session_context(session_id=worker)["session"]["id"] == worker
    assert git(repo, "rev-parse", "main").strip() == landed[0]
    assert "search/index.py" in git(repo, "ls-tree", "-r", "--name-only", "main")


def test_the_examples_run_as_scripts(repo: Path) -> None:
    for script in ("flows.py", "python_api.py"):
        done = subprocess.run(
            [sys.executable, str(ROOT / "examples" / script)],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, script + done.stdout + done.stderr
    assert (ROOT / "examples" / "demo.sh").read_text().rstrip().endswith('git orch demo "$@"')
