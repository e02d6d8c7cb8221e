"""Sessions that survive crashes and compacted contexts: the story, liveness, hand-off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gitorch.api import Orchestrator
from gitorch.domain import checkouts
from gitorch.model.clock import ManualClock
from gitorch.model.errors import (
    Conflict,
    Forbidden,
    InvalidParams,
    NotFound,
    PreconditionFailed,
)
from gitorch.model.kinds import SESSION, WORKTREE
from tests.gitrepo import Result, git
from tests.gitrepo import orch as run

T0 = 1_893_456_000_000  # 2030-01-01T00:00:00Z


def at(ms: int) -> dict[str, str]:
    """The environment of a `git orch` process whose clock reads ``ms``."""
    return {"GIT_ORCH_TESTING": "1", "GIT_ORCH_TEST_NOW": str(ms)}


def ok(result: Result) -> dict[str, Any]:
    assert result.code == 0, result.stdout + result.stderr
    return result.out


def check_step(
    repo: Path, case_id: str, session: str, title: str, result: str, ms: int, *more: str
) -> Result:
    """``git orch step.check`` as an agent runs it, at time ``ms``."""
    return run(
        repo,
        "step.check",
        "--case-id",
        case_id,
        "--session-id",
        session,
        "--step-title",
        title,
        "--result",
        result,
        *more,
        env=at(ms),
    )


def refused(result: Result, code: str) -> dict[str, Any]:
    assert result.code == 1, result.stdout + result.stderr
    assert result.out["error"]["code"] == code, result.out
    error: dict[str, Any] = result.out["error"]
    return error


def state_version(repo: Path) -> int:
    return int(
        json.loads(run(repo, "status", "--format", "json").stdout)["status"]["state_version"]
    )


def test_the_story_of_a_crashed_agent_and_its_successor(repo: Path) -> None:
    """A opens, works, goes silent; B takes over; C is refused; A's return changes nothing."""
    opened = ok(
        run(repo, "session.open", "--intent", "new_work", "--agent-role", "worker", env=at(T0))
    )
    a = opened["session"]["id"]
    worktree = opened["worktree"]
    assert worktree["kind"] == "session_root" and worktree["status"] == "active"
    path = Path(worktree["path"])
    assert path.is_dir()
    assert git(repo, "status", "--porcelain") == ""  # the worktree root is never shown
    case = ok(run(repo, "task.create", "--level", "case", "--title", "login works", env=at(T0)))
    case_id = case["task"]["id"]
    ok(
        run(
            repo,
            "case.begin",
            "--case-id",
            case_id,
            "--session-id",
            a,
            "--fixtures",
            "users.json",
            env=at(T0),
        )
    )
    (path / "login.py").write_text("print('login')\n")
    git(path, "add", "login.py")
    git(path, "commit", "-q", "-m", "login page")
    head = git(path, "rev-parse", "HEAD").strip()
    ok(check_step(repo, case_id, a, "form renders", "pass", T0 + 1000))
    ok(
        check_step(
            repo, case_id, a, "bad password refused", "fail", T0 + 2000, "--artifacts", "log.txt"
        )
    )
    notes = git(path, "log", "-1", "--notes=orchestrator", "--format=%N")
    assert "form renders" in notes and "bad password refused" in notes  # both kept
    ref = ok(run(repo, "work.current_ref", "--session-id", a, env=at(T0 + 3000)))["ref"]
    assert ref["case"]["id"] == case_id

    later = T0 + 3000 + 600_000  # A is silent for ten minutes
    b_open = ok(run(repo, "session.open", "--intent", "resume_work", env=at(later)))
    b = b_open["session"]["id"]
    assert b_open["action_required"] == "select_resume_candidate"
    assert [c["id"] for c in b_open["candidates"]] == [a]
    listed = ok(run(repo, "resume.candidates.list", "--requester-session-id", b, env=at(later)))
    assert [c["id"] for c in listed["candidates"]] == [a]
    ok(
        run(
            repo,
            "resume.candidates.attach",
            "--requester-session-id",
            b,
            "--target-session-id",
            a,
            env=at(later),
        )
    )
    ref = ok(run(repo, "work.current_ref", "--session-id", b, env=at(later)))["ref"]
    assert ref["session_id"] == b
    assert ref["worktree"]["path"] == str(path)
    assert ref["worktree"]["branch"] == worktree["branch"]
    assert ref["worktree"]["head"] == head
    assert ref["case"]["id"] == case_id
    assert ref["last_step"]["title"] == "bad password refused"
    assert ref["last_step"]["result"] == "fail"
    assert len(json.dumps(ref).encode()) <= 2048

    c = ok(run(repo, "session.open", "--intent", "resume_work", env=at(later)))["session"]["id"]
    error = refused(
        run(
            repo,
            "resume.candidates.attach",
            "--requester-session-id",
            c,
            "--target-session-id",
            a,
            env=at(later),
        ),
        "conflict",
    )
    assert b in error["message"]

    before = state_version(repo)
    notes_before = git(repo, "notes", "--ref=orchestrator", "list")
    error = refused(
        check_step(repo, case_id, a, "I am back", "pass", later + 1000),
        "forbidden",
    )
    assert b in error["message"] and "new session" in error["message"]
    assert state_version(repo) == before
    assert git(repo, "notes", "--ref=orchestrator", "list") == notes_before
    refused(run(repo, "session.heartbeat", "--session-id", a, env=at(later + 1000)), "forbidden")


@pytest.fixture
def clocked(repo: Path) -> tuple[Orchestrator, ManualClock]:
    clock = ManualClock(T0)
    return Orchestrator(repo, clock=clock), clock


def test_heartbeats_never_commit_to_the_state(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        session = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        commits = git(repo, "rev-list", "--count", "orchestrator/state")
        for _ in range(300):
            orch.call("session.heartbeat", {"session_id": session})
        assert git(repo, "rev-list", "--count", "orchestrator/state") == commits
        assert git(repo, "rev-list", "--count", "orchestrator/live").strip() == "1"


@pytest.mark.slow
def test_ten_thousand_heartbeats_leave_one_live_commit(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        session = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        commits = git(repo, "rev-list", "--count", "orchestrator/state")
        for _ in range(10_000):
            orch.call("session.heartbeat", {"session_id": session})
    assert git(repo, "rev-list", "--count", "orchestrator/state") == commits
    assert git(repo, "rev-list", "--count", "orchestrator/live").strip() == "1"


BEATER = """
import sys
from gitorch.api import Orchestrator
with Orchestrator(sys.argv[1]) as orch:
    print(orch.call("session.heartbeat", {"session_id": sys.argv[2]})["session"]["last_seen_at"])
"""


@pytest.mark.slow
def test_twenty_sessions_heartbeating_at_once_lose_no_heartbeat(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        ids = [
            orch.call("session.open", {"intent": "resume_work"})["session"]["id"] for _ in range(20)
        ]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", BEATER, str(repo), sid], stdout=subprocess.PIPE, text=True
        )
        for sid in ids
    ]
    beats = {sid: proc.communicate()[0].strip() for sid, proc in zip(ids, procs, strict=True)}
    assert all(proc.returncode == 0 for proc in procs)
    with Orchestrator(repo) as orch:
        for sid in ids:
            seen = orch.call("session.context", {"session_id": sid})["session"]["last_seen_at"]
            assert seen == beats[sid]


def test_a_read_refreshes_liveness_at_most_every_30_seconds(
    clocked: tuple[Orchestrator, ManualClock],
) -> None:
    orch, clock = clocked
    with orch:
        sid = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        live = lambda: git(orch.repo.path, "rev-parse", "orchestrator/live").strip()  # noqa: E731
        orch.call("session.heartbeat", {"session_id": sid})
        first = live()
        clock.advance(10)
        orch.call("session.context", {"session_id": sid})
        assert live() == first  # 10 s: no write for a read
        clock.advance(25)
        orch.call("session.context", {"session_id": sid})
        assert live() != first  # 35 s: refreshed


def test_suspended_is_derived_from_silence(clocked: tuple[Orchestrator, ManualClock]) -> None:
    orch, clock = clocked
    with orch:
        sid = orch.call("session.open", {"intent": "resume_work", "heartbeat_timeout_seconds": 60})[
            "session"
        ]["id"]
        assert orch.call("session.context", {"session_id": sid})["session"]["suspended"] is False
        clock.advance(61)
        assert orch.call("session.context", {"session_id": sid})["session"]["suspended"] is True
        doc = orch.store.snapshot().read(SESSION, sid)
        assert doc is not None and "suspended" not in doc  # never stored


def test_checkpoints_survive_amend_and_rebase(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        opened = orch.call("session.open", {"agent_role": "w"})
        sid, path = opened["session"]["id"], Path(opened["worktree"]["path"])
        case = orch.call("task.create", {"level": "case", "title": "c"})["task"]["id"]
        orch.call("case.begin", {"case_id": case, "session_id": sid})
        (path / "a.txt").write_text("a\n")
        git(path, "add", "a.txt")
        git(path, "commit", "-q", "-m", "a")
        orch.call(
            "step.check",
            {"case_id": case, "session_id": sid, "step_title": "one", "result": "pass"},
        )
        git(path, "commit", "-q", "--amend", "-m", "a, amended")
        assert "one" in git(path, "notes", "--ref=orchestrator", "show", "HEAD")
        (repo / "b.txt").write_text("b\n")
        git(repo, "add", "b.txt")
        git(repo, "commit", "-q", "-m", "b on main")
        git(path, "rebase", "-q", "main")
        assert "one" in git(path, "notes", "--ref=orchestrator", "show", "HEAD")
    assert "refs/notes/orchestrator" in git(repo, "config", "--get-all", "notes.rewriteRef")


def test_bad_input_is_refused_with_a_structured_error(
    clocked: tuple[Orchestrator, ManualClock],
) -> None:
    orch, _ = clocked
    with orch:
        a = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        b = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        with pytest.raises(NotFound):
            orch.call("session.heartbeat", {"session_id": "ses-zzzzzzzz"})
        with pytest.raises(InvalidParams):
            orch.call("session.open", {"intent": "maybe"})
        with pytest.raises(InvalidParams):
            orch.call("session.heartbeat", {})  # no session named, none in the environment
        with pytest.raises(Conflict):
            orch.call(
                "resume.candidates.attach", {"requester_session_id": a, "target_session_id": a}
            )
        with pytest.raises(Conflict):  # b is not silent: not suspended
            orch.call(
                "resume.candidates.attach", {"requester_session_id": a, "target_session_id": b}
            )
        epic = orch.call("task.create", {"level": "epic", "title": "e"})["task"]["id"]
        with pytest.raises(InvalidParams, match="not a case"):
            orch.call("case.begin", {"case_id": epic, "session_id": a})
        case = orch.call("task.create", {"level": "case", "title": "c"})["task"]["id"]
        orch.call("case.begin", {"case_id": case, "session_id": a})
        with pytest.raises(InvalidParams):
            orch.call(
                "step.check",
                {"case_id": case, "session_id": a, "step_title": "s", "result": "maybe"},
            )
        with pytest.raises(Forbidden):  # a case held by another session
            orch.call(
                "step.check",
                {"case_id": case, "session_id": b, "step_title": "s", "result": "pass"},
            )
        ref = orch.call("work.current_ref", {"session_id": a})["ref"]["id"]
        with pytest.raises(NotFound):
            orch.call("work.current_ref.ack", {"session_id": b, "ref_id": ref})
        acked = orch.call("work.current_ref.ack", {"session_id": a, "ref_id": ref})["ref"]
        assert acked["acked_at"] is not None
        orch.call("session.close", {"session_id": b})
        with pytest.raises(PreconditionFailed, match="closed"):
            orch.call("session.heartbeat", {"session_id": b})


def test_two_sessions_racing_to_attach_one_target_have_one_winner(repo: Path) -> None:
    clock = ManualClock(T0)
    with Orchestrator(repo, clock=clock) as orch:
        target = orch.call(
            "session.open", {"intent": "resume_work", "heartbeat_timeout_seconds": 10}
        )["session"]["id"]
        orch.call("work.current_ref", {"session_id": target})
        racers = [
            orch.call("session.open", {"intent": "resume_work"})["session"]["id"] for _ in range(4)
        ]
    env = at(T0 + 60_000)
    procs = [
        subprocess.Popen(
            [
                "git",
                "orch",
                "resume.candidates.attach",
                "--requester-session-id",
                r,
                "--target-session-id",
                target,
            ],
            cwd=repo,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            text=True,
        )
        for r in racers
    ]
    codes = [proc.wait() for proc in procs]
    for proc in procs:
        assert proc.stdout is not None
        proc.stdout.close()
    assert sorted(codes) == [0, 1, 1, 1]


def test_a_failed_worktree_add_leaves_no_record_claiming_a_worktree(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "branch", "orch/taken")
    (repo / ".orch-worktrees" / "busy").mkdir(parents=True)
    (repo / ".orch-worktrees" / "busy" / "file").write_text("someone's\n")
    for name in ("taken", "busy"):
        # free_name checks for both; a racing process can still take one first.
        monkeypatch.setattr(checkouts, "free_name", lambda repo, root, base, taken, n=name: n)
        with Orchestrator(repo) as orch:
            with pytest.raises(PreconditionFailed, match="git worktree add failed"):
                orch.call("session.open", {"agent_role": "w"})
            view = orch.store.snapshot()
            for doc in view.docs(WORKTREE):
                assert doc["status"] == "removed"
            for doc in view.docs(SESSION):
                assert doc["status"] == "closed"
    assert (repo / ".orch-worktrees" / "busy" / "file").read_text() == "someone's\n"


def test_a_worktree_root_that_cannot_be_made_is_refused_and_recorded(repo: Path) -> None:
    (repo / "not-a-dir").write_text("a file\n")
    git(repo, "config", "orch.worktreeRoot", "not-a-dir/worktrees")
    result = run(repo, "session.open")
    refused(result, "precondition_failed")
    with Orchestrator(repo) as orch:
        assert all(d["status"] == "removed" for d in orch.store.snapshot().docs(WORKTREE))


def test_resume_next_prefers_own_cases_then_in_progress(
    clocked: tuple[Orchestrator, ManualClock],
) -> None:
    orch, clock = clocked
    with orch:
        a = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        todo = orch.call("task.create", {"level": "case", "title": "todo", "priority": 9})["task"][
            "id"
        ]
        clock.advance(1)
        mine = orch.call("task.create", {"level": "case", "title": "mine"})["task"]["id"]
        orch.call("case.begin", {"case_id": mine, "session_id": a})
        assert orch.call("resume.next", {})["case"]["id"] == mine  # in progress first
        assert orch.call("resume.next", {"session_id": a})["case"]["id"] == mine
        orch.call(
            "case.complete", {"case_id": mine, "session_id": a, "summary": "s", "next_action": "n"}
        )
        nxt = orch.call("resume.next", {})
        assert nxt["case"]["id"] == todo and nxt["checkpoint"] is None


@pytest.mark.slow
def test_sessions_opened_at_once_get_distinct_worktrees(repo: Path) -> None:
    procs = [
        subprocess.Popen(
            ["git", "orch", "session.open", "--agent-role", "same role"],
            cwd=repo,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(5)
    ]
    outs = [json.loads(proc.communicate()[0]) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs)
    paths = {out["worktree"]["path"] for out in outs}
    branches = {out["worktree"]["branch"] for out in outs}
    assert len(paths) == len(branches) == 5
    assert all(Path(p).is_dir() for p in paths)
    listed = git(repo, "worktree", "list", "--porcelain")
    assert all(p in listed for p in paths)
