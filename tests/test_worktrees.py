"""Worktrees and the scheduler: never cost anyone their work."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import pytest

from gitorch.api import Orchestrator
from gitorch.model.clock import ManualClock
from gitorch.model.errors import Conflict, Forbidden, InvalidParams, PreconditionFailed
from tests.gitrepo import git
from tests.gitrepo import orch as run

T0 = 1_893_456_000_000


class Score(NamedTuple):
    test_id: str
    params: dict[str, Any]
    score: int
    mode: str
    terms: set[str]


SCORES = [
    Score("nothing", {}, 0, "shared", set()),
    Score(
        "small",
        {"changed_files": 3, "estimate_minutes": 20, "risk": "low"},
        3 + 2 + 3,
        "shared",
        {"changed_files", "estimate_minutes", "risk"},
    ),
    Score(
        "threshold",
        {"changed_files": 4, "estimate_minutes": 15, "risk": "medium", "parallel_workers": 2},
        4 + 1 + 6 + 2,
        "worktree",
        {"changed_files", "estimate_minutes", "risk", "parallel_workers"},
    ),
    Score("integer_risk", {"risk": "4"}, 12, "worktree", {"risk"}),
    Score(
        "conflicts",
        {"conflicting_paths": ["a", "b"], "parallel_workers": 3},
        4 + 4,
        "shared",
        {"conflicting_paths", "parallel_workers"},
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.test_id) for c in SCORES])
def test_the_scheduler_scores_as_the_contract_says(orch: Orchestrator, case: Score) -> None:
    out = orch.call("scheduler.decide_worktree", case.params)
    assert (out["score"], out["mode"]) == (case.score, case.mode)
    assert {reason["term"] for reason in out["reasons"]} == case.terms
    assert sum(reason["points"] for reason in out["reasons"]) == case.score


def test_paths_locked_by_another_session_weigh_more(orch: Orchestrator) -> None:
    a = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
    b = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
    orch.call("lock.acquire", {"scope_type": "prefix", "scope_path": "src", "owner_session": a})
    mine = orch.call(
        "scheduler.decide_worktree", {"conflicting_paths": ["src/x.py"], "session_id": a}
    )
    theirs = orch.call(
        "scheduler.decide_worktree", {"conflicting_paths": ["src/x.py"], "session_id": b}
    )
    assert theirs["score"] == mine["score"] + 3
    with pytest.raises(InvalidParams):
        orch.call("scheduler.decide_worktree", {"risk": "catastrophic"})


@pytest.fixture
def worker(repo: Path) -> tuple[Orchestrator, dict[str, Any]]:
    orch = Orchestrator(repo, clock=ManualClock(T0))
    opened = orch.call("session.open", {"agent_role": "worker"})
    return orch, opened


def commit(path: Path, name: str, text: str) -> str:
    (path / name).write_text(text)
    git(path, "add", name)
    git(path, "commit", "-q", "-m", f"{name}: {text.strip()}")
    return git(path, "rev-parse", "HEAD").strip()


def test_spawn_a_child_and_merge_it_into_its_parent(
    worker: tuple[Orchestrator, dict[str, Any]], repo: Path
) -> None:
    orch, opened = worker
    sid, root = opened["session"]["id"], opened["worktree"]
    with orch:
        task = orch.call("task.create", {"level": "feature", "title": "Login form"})["task"]["id"]
        child = orch.call(
            "worktree.spawn", {"session_id": sid, "parent_worktree_id": root["id"], "task_id": task}
        )["worktree"]
        assert child["branch"] == f"{root['branch']}--login-form"
        assert child["status"] == "active" and child["parent_worktree_id"] == root["id"]
        commit(Path(child["path"]), "form.py", "form")
        main_before = git(repo, "rev-parse", "main").strip()
        merged = orch.call(
            "worktree.merge_to_parent", {"worktree_id": child["id"], "session_id": sid}
        )
        assert merged["worktree"]["status"] == "merged_to_parent"
        assert (Path(root["path"]) / "form.py").read_text() == "form"
        assert git(repo, "rev-parse", "main").strip() == main_before  # main never moves here


def test_a_conflicting_merge_leaves_the_parent_exactly_as_it_was(
    worker: tuple[Orchestrator, dict[str, Any]],
) -> None:
    orch, opened = worker
    sid, root = opened["session"]["id"], opened["worktree"]
    parent = Path(root["path"])
    with orch:
        child = orch.call("worktree.spawn", {"session_id": sid, "parent_worktree_id": root["id"]})[
            "worktree"
        ]
        commit(Path(child["path"]), "same.txt", "child's\n")
        head = commit(parent, "same.txt", "parent's\n")
        status = git(parent, "status", "--porcelain")
        with pytest.raises(Conflict) as info:
            orch.call("worktree.merge_to_parent", {"worktree_id": child["id"], "session_id": sid})
        assert info.value.details["paths"] == ["same.txt"]
        assert git(parent, "rev-parse", "HEAD").strip() == head
        assert git(parent, "status", "--porcelain") == status
        assert (parent / "same.txt").read_text() == "parent's\n"
        assert orch.call("worktree.list", {})["worktrees"][-1]["status"] == "active"


def test_remove_never_costs_work_and_keeps_the_branch(
    worker: tuple[Orchestrator, dict[str, Any]], repo: Path
) -> None:
    orch, opened = worker
    sid, root = opened["session"]["id"], opened["worktree"]
    with orch:
        child = orch.call("worktree.spawn", {"session_id": sid, "parent_worktree_id": root["id"]})[
            "worktree"
        ]
        path = Path(child["path"])
        (path / "wip.txt").write_text("unsaved\n")
        with pytest.raises(PreconditionFailed, match="uncommitted"):
            orch.call("worktree.remove", {"worktree_id": child["id"]})
        commit(path, "wip.txt", "saved")
        with pytest.raises(PreconditionFailed, match="no other branch has"):
            orch.call("worktree.remove", {"worktree_id": child["id"]})
        with pytest.raises(InvalidParams):
            orch.call("worktree.remove", {"worktree_id": child["id"], "force": True})
        done = orch.call(
            "worktree.remove", {"worktree_id": child["id"], "force": True, "reason": "abandoned"}
        )["worktree"]
        assert done["status"] == "removed" and not path.exists()
        assert git(repo, "rev-parse", "--verify", child["branch"]).strip()  # the branch is kept
        with pytest.raises(PreconditionFailed, match="live"):
            orch.call("worktree.remove", {"worktree_id": root["id"]})


def test_a_worktree_outside_the_root_is_never_removed(
    worker: tuple[Orchestrator, dict[str, Any]], tmp_path: Path
) -> None:
    orch, _ = worker
    with orch:
        task = orch.call("task.create", {"level": "feature", "title": "f"})["task"]["id"]
        outside = orch.call(
            "worktree.create",
            {"task_id": task, "branch": "feature/f", "path": str(tmp_path / "mine")},
        )["worktree"]
        assert Path(outside["path"]).is_dir()
        with pytest.raises(Forbidden, match="outside"):
            orch.call(
                "worktree.remove", {"worktree_id": outside["id"], "force": True, "reason": "x"}
            )
        assert Path(outside["path"]).is_dir()


def test_prune_is_a_dry_run_unless_applied(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        opened = orch.call("session.open", {"agent_role": "done"})
        orch.call("session.close", {"session_id": opened["session"]["id"]})
    listed = run(repo, "worktree", "prune").out
    assert [w["id"] for w in listed["worktrees"]] == [opened["worktree"]["id"]]
    assert listed["dry_run"] is True and Path(opened["worktree"]["path"]).is_dir()
    applied = run(repo, "worktree", "prune", "--apply").out
    assert applied["removed"] == [opened["worktree"]["id"]]
    assert not Path(opened["worktree"]["path"]).exists()


def test_spawn_needs_a_parent_the_session_owns(
    worker: tuple[Orchestrator, dict[str, Any]],
) -> None:
    orch, opened = worker
    with orch:
        other = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        with pytest.raises(Forbidden):
            orch.call(
                "worktree.spawn",
                {"session_id": other, "parent_worktree_id": opened["worktree"]["id"]},
            )
