"""The main flows, in process: a root plans, a worker works, a reviewer reviews, main lands.

Run it inside a git repository with a commit on main (it writes orchestration
state there and lands one commit on main):

    .venv/bin/python examples/flows.py

Each flow is a function of an ``Orchestrator``, so an agent harness can
call them as they are. The test suite runs all of them, in order.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitorch.api import Orchestrator


def root_plans(orch: Orchestrator) -> str:
    """A root agent: an initiative, a plan, slices with dependencies; the plan's id."""
    plan = orch.plan_bootstrap(initiative_title="Search", plan_title="Search v1")["plan"]["id"]
    orch.plan_slice_generate(
        plan_node_id=plan,
        slice_specs=[
            {"title": "index documents", "affected_files": ["search/index.py"], "priority": 2},
            {"title": "query the index", "depends_on": ["index documents"]},
        ],
    )
    return str(plan)


def worker_works(orch: Orchestrator) -> str:
    """A worker agent: claim, lease, commit, check, complete, queue; its session."""
    session = orch.session_open(agent_role="worker")
    me, path = session["session"]["id"], Path(session["worktree"]["path"])
    item = orch.graph_ready(claim=True, session_id=me)["claimed"]
    target = item["affected_files"][0]
    orch.lock_acquire(scope_type="file", scope_path=target, owner_session=me)
    case = orch.task_create(level="case", title=item["title"])["task"]["id"]
    orch.case_begin(case_id=case, session_id=me, input_contract={"slice": item["id"]})
    (path / target).parent.mkdir(parents=True, exist_ok=True)
    (path / target).write_text("def index(documents):\n    return sorted(documents)\n")
    subprocess.run(["git", "-C", str(path), "add", target], check=True)
    subprocess.run(["git", "-C", str(path), "commit", "-qm", item["title"]], check=True)
    orch.step_check(case_id=case, session_id=me, step_title="indexes", result="pass")
    orch.case_complete(case_id=case, session_id=me, summary="indexed", next_action="review")
    orch.graph_node_update(node_id=item["id"], status="in_review")
    orch.merge_main_request(session_id=me)
    return str(me)


def reviewer_reviews(orch: Orchestrator) -> str:
    """A reviewer (a person here; merge.review.request_auto starts an agent): approve."""
    feature = orch.task_create(level="feature", title="Search v1")["task"]["id"]
    request = orch.merge_request(feature_task_id=feature)["merge_request"]["id"]
    context = orch.merge_review_context(merge_request_id=request)
    verdict = "approve" if context["feature"]["title"] else "request_changes"
    orch.merge_review_submit(merge_request_id=request, verdict=verdict, summary="reads well")
    return str(request)


def main_lands(orch: Orchestrator) -> list[str]:
    """The lander: hold the main-merge lease, land until the queue is empty; what landed."""
    lander = orch.session_open(intent="resume_work", agent_role="lander")["session"]["id"]
    out = orch.queue_run(session_id=lander, check_command=["git", "diff", "--check", "HEAD^"])
    return [entry["landed_commit"] for entry in out["landed"]]


def main() -> int:
    """All four flows on the repository of the current directory."""
    with Orchestrator() as orch:
        print("planned", root_plans(orch))
        print("worker", worker_works(orch))
        print("reviewed", reviewer_reviews(orch))
        print("landed", main_lands(orch))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
