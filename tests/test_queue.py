"""The main merge queue in real repositories: it lands exactly what it checked, or nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from gitorch.api import Orchestrator
from gitorch.model.clock import ManualClock
from gitorch.model.errors import Conflict, Forbidden, InvalidParams, NotFound, PreconditionFailed
from gitorch.model.kinds import MAIN_MERGE
from tests.conftest import needs_tmux
from tests.gitrepo import fsck, git, wait_for
from tests.gitrepo import orch as run

FAILS_ON = "import os, sys; bad = os.path.exists({!r}); print('found', {!r}) if bad else None;"


def check_absent(name: str) -> list[str]:
    """A check command that fails (saying so) when the candidate holds ``name``."""
    return [sys.executable, "-c", FAILS_ON.format(name, name) + " sys.exit(1 if bad else 0)"]


class Worker:
    """A session with its root worktree, committing there."""

    def __init__(self, orch: Orchestrator, role: str) -> None:
        out = orch.call("session.open", {"agent_role": role})
        self.orch = orch
        self.id: str = out["session"]["id"]
        self.path = Path(out["worktree"]["path"])

    def commit(self, name: str, text: str) -> str:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        git(self.path, "add", name)
        git(self.path, "commit", "-q", "-m", f"{self.id}: {name}")
        return git(self.path, "rev-parse", "HEAD").strip()

    def queue(self, **params: Any) -> dict[str, Any]:
        out = self.orch.call("merge.main.request", {"session_id": self.id, **params})
        entry: dict[str, Any] = out["main_merge_request"]
        return entry


def main_tip(repo: Path) -> str:
    return git(repo, "rev-parse", "refs/heads/main").strip()


def entry(orch: Orchestrator, entry_id: str) -> dict[str, Any]:
    found = orch.store.snapshot().read(MAIN_MERGE, entry_id)
    assert found is not None
    return found


@pytest.fixture
def lander(orch: Orchestrator) -> str:
    session: str = orch.call("session.open", {"agent_role": "lander"})["session"]["id"]
    orch.call("merge.main.acquire_lock", {"session_id": session})
    return session


def test_four_sessions_queue_and_only_the_good_work_lands(
    orch: Orchestrator, repo: Path, lander: str
) -> None:
    a, b, c, d = (Worker(orch, role) for role in ("a", "b", "c", "d"))
    owner = orch.call("session.open", {"agent_role": "owner"})["session"]["id"]
    a.commit("README.md", "hello from a\n")
    b.commit("README.md", "hello from b\n")  # conflicts once a has landed
    c.commit("c.txt", "breaks the check\n")
    d.commit("d.txt", "locked by someone else\n")
    orch.call("lock.acquire", {"scope_type": "file", "scope_path": "d.txt", "owner_session": owner})
    entries = [w.queue() for w in (a, b, c, d)]
    assert [e["position"] for e in entries] == [1, 2, 3, 4]
    assert orch.call("merge.main.next")["main_merge_request"]["id"] == entries[0]["id"]
    before = main_tip(repo)
    land = {"session_id": lander, "check_command": check_absent("c.txt")}

    first = orch.call("merge.main.land", land)
    landed = first["landed_commit"]
    assert main_tip(repo) == landed != before
    assert git(repo, "rev-parse", f"{landed}^1").strip() == before  # exactly the checked merge
    assert (repo / "README.md").read_text() == "hello from a\n"  # main's checkout followed
    assert git(repo, "status", "--porcelain") == ""
    assert entry(orch, entries[0]["id"])["status"] == "merged"

    with pytest.raises(Conflict) as conflict:
        orch.call("merge.main.land", land)
    assert conflict.value.details["paths"] == ["README.md"]
    assert main_tip(repo) == landed

    with pytest.raises(PreconditionFailed, match="check failed") as red:
        orch.call("merge.main.land", land)
    assert "found c.txt" in red.value.details["output"]
    assert main_tip(repo) == landed

    with pytest.raises(PreconditionFailed, match="locked by another session"):
        orch.call("merge.main.land", land)
    assert main_tip(repo) == landed

    statuses = [entry(orch, e["id"])["status"] for e in entries]
    assert statuses == ["merged", "failed", "failed", "failed"]
    failed_c = entry(orch, entries[2]["id"])
    assert "found c.txt" in failed_c["check_output"]
    assert entry(orch, entries[1]["id"])["paths"] == ["README.md"]
    told = orch.call("work.current_ref", {"session_id": b.id})
    assert (
        entries[1]["id"] in told["ref"]["next_action"] and "conflicts" in told["ref"]["next_action"]
    )
    listed = orch.call("merge.main.list")["main_merges"]
    assert {e["id"] for e in listed} == {e["id"] for e in entries}
    assert fsck(repo) == ""


def test_only_the_lease_holder_lands(orch: Orchestrator, repo: Path) -> None:
    a = Worker(orch, "a")
    a.commit("a.txt", "a\n")
    a.queue()
    with pytest.raises(Forbidden, match="does not hold the main-merge lease"):
        orch.call("merge.main.land", {"session_id": a.id})
    other = orch.call("session.open", {"agent_role": "x"})["session"]["id"]
    orch.call("merge.main.acquire_lock", {"session_id": other})
    with pytest.raises(Conflict, match=other):
        orch.call("merge.main.acquire_lock", {"session_id": a.id})
    with pytest.raises(Forbidden):
        orch.call("merge.main.release_lock", {"session_id": a.id})
    forced = orch.call(
        "merge.main.acquire_lock", {"session_id": a.id, "force": True, "reason": "stuck"}
    )["lock"]
    assert (forced["holder_session"], forced["epoch"], forced["forced_by"]) == (a.id, 2, a.id)


def test_queueing_refuses_open_children_dirty_work_and_nothing_new(
    orch: Orchestrator, repo: Path
) -> None:
    a = Worker(orch, "a")
    with pytest.raises(PreconditionFailed, match="nothing that main lacks"):
        a.queue()
    task = orch.call("task.create", {"level": "feature", "title": "child"})["task"]["id"]
    root = orch.call("session.context", {"session_id": a.id})["session"]["root_worktree_id"]
    child = orch.call(
        "worktree.spawn", {"session_id": a.id, "parent_worktree_id": root, "task_id": task}
    )["worktree"]
    (Path(child["path"]) / "x.txt").write_text("x\n")
    git(child["path"], "add", "x.txt")
    git(child["path"], "commit", "-q", "-m", "child work")
    a.commit("a.txt", "a\n")
    with pytest.raises(PreconditionFailed, match="unmerged child worktrees"):
        a.queue()
    orch.call("worktree.merge_to_parent", {"session_id": a.id, "worktree_id": child["id"]})
    (a.path / "dirty.txt").write_text("not committed\n")
    with pytest.raises(PreconditionFailed, match="uncommitted"):
        a.queue()
    (a.path / "dirty.txt").unlink()
    assert a.queue()["status"] == "queued"


def test_main_moved_by_a_push_during_the_check_is_rebuilt_and_checked_again(
    orch: Orchestrator, repo: Path, lander: str, tmp_path: Path
) -> None:
    git(repo, "checkout", "-q", "--detach")  # nobody's checkout follows main here
    a = Worker(orch, "a")
    a.commit("a.txt", "a\n")
    a.queue()
    git(repo, "commit", "-q", "--allow-empty", "-m", "pushed by someone")
    pushed = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--detach", "main")
    runs = tmp_path / "runs"
    script = (
        "import pathlib, subprocess, sys\n"
        f"runs = pathlib.Path({str(runs)!r}); n = len(runs.read_text()) if runs.exists() else 0\n"
        "runs.write_text('x' * (n + 1))\n"
        f"if n == 0: subprocess.run(['git', '-C', {str(repo)!r}, 'update-ref',"
        f" 'refs/heads/main', {pushed!r}], check=True)\n"
    )
    out = orch.call(
        "merge.main.land",
        {"session_id": lander, "check_command": [sys.executable, "-c", script]},
    )
    assert out["checks_run"] == 2 and runs.read_text() == "xx"
    landed = out["landed_commit"]
    assert main_tip(repo) == landed
    assert git(repo, "rev-parse", f"{landed}^1").strip() == pushed  # built on the push
    history = [h["note"] for h in entry(orch, out["landed"][0]["id"])["history"]]
    assert any("moved while landing" in note for note in history)


def test_a_check_that_runs_too_long_fails_its_entry(
    orch: Orchestrator, repo: Path, lander: str
) -> None:
    a = Worker(orch, "a")
    a.commit("a.txt", "a\n")
    queued = a.queue()
    before = main_tip(repo)
    # a check that never ends by itself (it blocks; the timeout must kill it)
    slow = [
        sys.executable,
        "-c",
        "import threading; print('working', flush=True); threading.Event().wait()",
    ]
    with pytest.raises(PreconditionFailed):
        orch.call(
            "merge.main.land", {"session_id": lander, "check_command": slow, "check_timeout": 1}
        )
    failed = entry(orch, queued["id"])
    assert failed["status"] == "failed"
    assert "killed" in failed["check_output"] and "working" in failed["check_output"]
    assert main_tip(repo) == before
    leftovers = list((repo / ".git" / "orchestrator" / "land").iterdir())
    assert leftovers == []  # the check's worktree is gone


def test_a_batch_of_eight_bisects_to_the_one_bad_entry(
    orch: Orchestrator, repo: Path, lander: str
) -> None:
    workers = [Worker(orch, f"w{n}") for n in range(1, 9)]
    for n, worker in enumerate(workers, 1):
        worker.commit(f"f{n}.txt" if n != 5 else "bad.txt", f"{n}\n")
    queued = [w.queue() for w in workers]
    out = orch.call(
        "merge.main.land",
        {"session_id": lander, "batch": 8, "check_command": check_absent("bad.txt")},
    )
    assert out["checks_run"] <= 4
    assert len(out["landed"]) == 7 and [e["id"] for e in out["failed"]] == [queued[4]["id"]]
    assert "found bad.txt" in entry(orch, queued[4]["id"])["check_output"]
    tree = git(repo, "ls-tree", "--name-only", "main").split()
    assert {f"f{n}.txt" for n in (1, 2, 3, 4, 6, 7, 8)} <= set(tree)
    assert "bad.txt" not in tree
    assert main_tip(repo) == out["landed_commit"]


def test_a_batch_lands_in_one_move_when_green(orch: Orchestrator, repo: Path, lander: str) -> None:
    workers = [Worker(orch, f"w{n}") for n in range(3)]
    for n, worker in enumerate(workers):
        worker.commit(f"g{n}.txt", "x\n")
        worker.queue()
    before = main_tip(repo)
    out = orch.call(
        "merge.main.land", {"session_id": lander, "batch": 5, "check_command": check_absent("z")}
    )
    assert (len(out["landed"]), out["checks_run"]) == (3, 1)
    reflog = git(repo, "reflog", "--format=%gs", "refs/heads/main").splitlines()
    assert reflog[0].startswith("git orch merge.main.land") and before[:12] in reflog[0]


def test_a_paused_holder_whose_lease_was_taken_moves_nothing(
    repo: Path, clock: ManualClock, tmp_path: Path
) -> None:
    with Orchestrator(repo, clock=clock) as first, Orchestrator(repo, clock=clock) as second:
        a = Worker(first, "a")
        a.commit("a.txt", "a\n")
        queued = a.queue()
        old = first.call("session.open", {"agent_role": "old"})["session"]["id"]
        new = second.call("session.open", {"agent_role": "new"})["session"]["id"]
        first.call("merge.main.acquire_lock", {"session_id": old, "ttl_seconds": 60})
        go = tmp_path / "go"
        os.mkfifo(go)  # the check blocks reading it until the test writes: a holder paused
        wait = [sys.executable, "-c", f"open({str(go)!r}).read()"]
        before = main_tip(repo)
        outcome: dict[str, Any] = {}

        def paused_land() -> None:
            try:
                first.call("merge.main.land", {"session_id": old, "check_command": wait})
            except Exception as exc:  # noqa: BLE001 (the test reads it below)
                outcome["error"] = exc

        worker = threading.Thread(target=paused_land)
        worker.start()
        assert wait_for(lambda: entry(second, queued["id"])["status"] == "running", 20)
        clock.advance(61)
        taken = second.call("merge.main.acquire_lock", {"session_id": new})["lock"]
        assert taken["epoch"] == 2
        with open(go, "w") as release:
            release.write("go")
        worker.join(30)
        assert isinstance(outcome.get("error"), Forbidden)
        assert main_tip(repo) == before
        out = second.call("merge.main.land", {"session_id": new})
        assert out["repaired"] == [queued["id"]] and out["landed"][0]["id"] == queued["id"]


POINTS = ["land:running", "land:checked", "land:moved", "land:recorded"]


@pytest.mark.parametrize("point", POINTS)
def test_a_land_killed_at_any_step_is_completed_or_rolled_back(
    orch: Orchestrator, repo: Path, lander: str, clock: ManualClock, point: str
) -> None:
    a = Worker(orch, "a")
    a.commit("a.txt", "a\n")
    queued = a.queue()
    before = main_tip(repo)
    env = {
        "GIT_ORCH_TESTING": "1",
        "GIT_ORCH_TEST_NOW": str(clock.now_ms()),
        "GIT_ORCH_TEST_CRASH": point,
        "GIT_ORCH_SESSION": lander,
    }
    check = f"{sys.executable} -c pass"
    killed = run(repo, "merge.main.land", "--check-command", check, env=env)
    assert killed.code == 137, killed  # git reports its child killed by SIGKILL
    tip = main_tip(repo)
    state = entry(orch, queued["id"])
    moved = tip != before
    assert moved == (point in ("land:moved", "land:recorded"))
    assert state["status"] in ("running", "merged")
    if not moved:
        assert state["status"] == "running"  # the intent is recorded, nothing else happened
    again = run(
        repo, "merge.main.land", "--check-command", check, env={**env, "GIT_ORCH_TEST_CRASH": ""}
    )
    assert again.code == 0, again
    final = entry(orch, queued["id"])
    assert final["status"] == "merged"
    assert main_tip(repo) == final["landed_commit"]
    assert (repo / "a.txt").read_text() == "a\n"
    assert git(repo, "status", "--porcelain") == ""
    assert fsck(repo) == ""


def test_the_pre_push_hook_lets_only_landed_commits_reach_main(
    orch: Orchestrator, repo: Path, lander: str, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    assert run(repo, "hooks", "install").code == 0
    git(repo, "commit", "-q", "--allow-empty", "-m", "straight to main")
    refused = run(repo, "call", "status")  # the state still reads
    assert refused.code == 0
    pushed = git_push(repo)
    assert pushed.returncode != 0 and "moves only through the merge queue" in pushed.stderr
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    a = Worker(orch, "a")
    a.commit("a.txt", "a\n")
    a.queue()
    orch.call("merge.main.land", {"session_id": lander})
    ok = git_push(repo)
    assert ok.returncode == 0, ok.stderr
    assert git(remote, "rev-parse", "main").strip() == main_tip(repo)
    deleting = git_push(repo, ":main")
    assert deleting.returncode != 0


def git_push(repo: Path, spec: str = "main") -> Any:
    import subprocess

    return subprocess.run(
        ["git", "-C", str(repo), "push", "-q", "origin", spec],
        capture_output=True,
        text=True,
        check=False,
    )


def test_queue_run_lands_until_the_queue_is_empty(orch: Orchestrator, repo: Path) -> None:
    runner = orch.call("session.open", {"agent_role": "runner"})["session"]["id"]
    for n in range(3):
        worker = Worker(orch, f"w{n}")
        worker.commit(f"r{n}.txt", "x\n")
        worker.queue()
    out = run(
        repo,
        "queue",
        "run",
        "--session-id",
        runner,
        env={"GIT_ORCH_TESTING": "1", "GIT_ORCH_TEST_NOW": str(orch.clock.now_ms())},
    )
    assert out.code == 0, out
    assert (len(out.out["landed"]), out.out["queued"], out.out["lands"]) == (3, 0, 3)
    lease = orch.call("merge.main.status", {"request_id": out.out["landed"][0]["id"]})["lock"]
    assert lease["status"] == "released"


def test_merge_requests_and_a_review_by_hand(orch: Orchestrator, repo: Path) -> None:
    a = Worker(orch, "a")
    feature = orch.call("task.create", {"level": "feature", "title": "login"})["task"]["id"]
    case = orch.call("task.create", {"level": "case", "title": "form", "parent_id": feature})[
        "task"
    ]["id"]
    made = orch.call(
        "worktree.create", {"task_id": feature, "branch": "feature/login", "session_id": a.id}
    )["worktree"]
    (Path(made["path"]) / "login.txt").write_text("form\n")
    git(made["path"], "add", "login.txt")
    git(made["path"], "commit", "-q", "-m", "login form")
    mr = orch.call("merge.request", {"feature_task_id": feature, "session_id": a.id})[
        "merge_request"
    ]
    assert mr["branch"] == "feature/login" and mr["commit"]
    context = orch.call("merge.review_context", {"merge_request_id": mr["id"]})
    assert [t["id"] for t in context["tasks"]] == [case]
    assert "login.txt" in context["diff_stat"]
    out = orch.call(
        "merge.review.submit",
        {"merge_request_id": mr["id"], "verdict": "request-changes", "summary": "add a test"},
    )
    assert out["merge_request"]["status"] == "changes_requested"
    out = orch.call(
        "merge.review.submit",
        {"merge_request_id": mr["id"], "verdict": "approve", "summary": "good now"},
    )
    assert out["merge_request"]["status"] == "approved"
    notes = git(repo, "notes", "--ref=orchestrator", "show", mr["commit"])
    assert "add a test" in notes and "approve" in notes
    other = orch.call("merge.request", {"feature_task_id": feature})["merge_request"]
    with pytest.raises(PreconditionFailed, match="no review job"):
        orch.call("merge.review.thread_status", {"merge_request_id": other["id"]})


def test_an_unapproved_request_does_not_land(orch: Orchestrator, repo: Path, lander: str) -> None:
    a = Worker(orch, "a")
    feature = orch.call("task.create", {"level": "feature", "title": "f"})["task"]["id"]
    mr = orch.call("merge.request", {"feature_task_id": feature})["merge_request"]
    a.commit("f.txt", "f\n")
    queued = a.queue(merge_request_id=mr["id"], auto_review=False)
    with pytest.raises(PreconditionFailed, match="not approved"):
        orch.call("merge.main.land", {"session_id": lander})
    assert entry(orch, queued["id"])["status"] == "failed"


@needs_tmux
def test_a_reviewer_agent_in_tmux_approves_through_git_orch(
    orch: Orchestrator, repo: Path, tmux_socket: str
) -> None:
    a = Worker(orch, "a")
    feature = orch.call("task.create", {"level": "feature", "title": "login"})["task"]["id"]
    made = orch.call(
        "worktree.create", {"task_id": feature, "branch": "feature/x", "session_id": a.id}
    )["worktree"]
    (Path(made["path"]) / "x.txt").write_text("x\n")
    git(made["path"], "add", "x.txt")
    git(made["path"], "commit", "-q", "-m", "x")
    mr = orch.call("merge.request", {"feature_task_id": feature})["merge_request"]
    out = orch.call(
        "merge.review.request_auto",
        {"session_id": a.id, "merge_request_id": mr["id"], "agent_override": "standin"},
    )
    assert out["thread"]["role"] == "reviewer"

    def reviewed() -> dict[str, Any] | None:
        out = orch.call("merge.review.thread_status", {"merge_request_id": mr["id"]})
        return out if out["review_job"]["verdict"] else None

    status = wait_for(reviewed, 20)
    assert status is not None and status["review_job"]["verdict"] == "approve"
    assert status["thread"]["id"] == out["thread"]["id"]
    current = orch.call("merge.review_context", {"merge_request_id": mr["id"]})
    assert current["merge_request"]["status"] == "approved"
    assert "approve" in git(repo, "notes", "--ref=orchestrator", "show", mr["commit"])


def test_bad_input_to_the_queue_is_refused_and_changes_nothing(
    orch: Orchestrator, repo: Path, lander: str
) -> None:
    a = Worker(orch, "a")
    feature = orch.call("task.create", {"level": "feature", "title": "f"})["task"]["id"]
    case = orch.call("task.create", {"level": "case", "title": "c", "parent_id": feature})["task"]
    with pytest.raises(PreconditionFailed, match="queue is empty"):
        orch.call("merge.main.land", {"session_id": lander})
    a.commit("a.txt", "a\n")
    queued = a.queue()
    version = orch.call("mirror.status")["db_version"]
    refusals: list[tuple[str, dict[str, Any], type[Exception], str]] = [
        ("merge.main.land", {"session_id": lander, "check_command": "no-such-program-x"},
         InvalidParams, "not a program"),
        ("merge.main.land", {"session_id": lander, "check_command": "'unclosed"},
         InvalidParams, "check_command"),
        ("merge.request", {"feature_task_id": case["id"]}, InvalidParams, "is a case"),
        ("merge.review.thread_status", {}, InvalidParams, "review-job-id"),
        ("merge.main.acquire_lock", {"session_id": a.id, "force": True}, InvalidParams, "reason"),
        ("merge.main.release_lock", {"session_id": a.id, "force": True}, InvalidParams, "reason"),
        ("merge.main.request", {"session_id": a.id, "target_branch": "bad..name"},
         InvalidParams, "target_branch"),
        ("merge.main.status", {"request_id": "mmr-zzzzzzzz"}, NotFound, "mmr-zzzzzzzz"),
    ]  # fmt: skip
    for method, params, error, match in refusals:
        with pytest.raises(error, match=match):
            orch.call(method, params)
    assert orch.call("mirror.status")["db_version"] == version
    assert entry(orch, queued["id"])["status"] == "queued"
    assert run(repo, "merge.main.land", "--batch", "0", env={"GIT_ORCH_SESSION": lander}).code == 1


@needs_tmux
def test_a_failed_entry_is_told_to_its_sessions_live_agent(
    orch: Orchestrator, repo: Path, lander: str, tmux_socket: str
) -> None:
    a = Worker(orch, "a")
    root = orch.call("thread.root.ensure", {"session_id": a.id, "agent_override": "standin"})
    pane = root["root_thread"]["tmux"]["pane"]
    a.commit("a.txt", "a\n")
    queued = a.queue()
    with pytest.raises(PreconditionFailed):
        orch.call("merge.main.land", {"session_id": lander, "check_command": check_absent("a.txt")})
    expected = f"git orch: merge {queued['id']} failed: the check failed"

    def screen() -> str:
        return subprocess.run(
            ["tmux", "-S", tmux_socket, "capture-pane", "-p", "-J", "-S", "-", "-t", pane],
            capture_output=True, text=True, check=False,
        ).stdout  # fmt: skip

    assert wait_for(lambda: expected in screen()), screen()


def test_git_gc_prune_now_during_every_check_costs_no_candidate(
    orch: Orchestrator, repo: Path, lander: str
) -> None:
    workers = [Worker(orch, f"g{n}") for n in range(4)]
    for n, worker in enumerate(workers):
        worker.commit("bad.txt" if n == 1 else f"good{n}.txt", f"{n}\n")
        worker.queue()
    # every check first prunes whatever nothing references, as a `git gc` beside us would
    check = [
        sys.executable,
        "-c",
        "import os, subprocess, sys\n"
        f"subprocess.run(['git', '-C', {str(repo)!r}, 'gc', '-q', '--prune=now'], check=True)\n"
        "sys.exit(1 if os.path.exists('bad.txt') else 0)\n",
    ]
    out = orch.call("merge.main.land", {"session_id": lander, "batch": 4, "check_command": check})
    assert len(out["landed"]) == 3 and len(out["failed"]) == 1
    assert main_tip(repo) == out["landed_commit"]
    tree = git(repo, "ls-tree", "--name-only", "main").split()
    assert {"good0.txt", "good2.txt", "good3.txt"} <= set(tree) and "bad.txt" not in tree
    assert fsck(repo) == ""


def test_a_candidate_whose_objects_vanish_before_the_move_is_built_again(
    orch: Orchestrator, repo: Path, lander: str, tmp_path: Path
) -> None:
    a = Worker(orch, "a")
    a.commit("a.txt", "a\n")
    a.queue()
    marker = tmp_path / "deleted"
    # the first check deletes the candidate's object, as a prune racing the land would
    check = [
        sys.executable,
        "-c",
        "import os, pathlib\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n"
        "    sha = os.environ['GIT_ORCH_LAND_COMMIT']\n"
        f"    pathlib.Path({str(repo / '.git' / 'objects')!r}, sha[:2], sha[2:]).unlink()\n"
        "    marker.write_text(sha)\n",
    ]
    out = orch.call("merge.main.land", {"session_id": lander, "check_command": check})
    assert marker.exists() and out["checks_run"] == 2
    assert main_tip(repo) == out["landed_commit"]
    history = [h["note"] for h in entry(orch, out["landed"][0]["id"])["history"]]
    assert any("rebuilt and checked again" in note for note in history)
    assert fsck(repo) == ""
