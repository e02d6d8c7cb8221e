"""Path leases with fencing, enforced by git hooks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from gitorch.api import Orchestrator
from gitorch.model.clock import ManualClock
from gitorch.model.errors import Conflict, Forbidden, InvalidParams, PreconditionFailed
from gitorch.model.paths import overlap
from tests.gitrepo import Result, git, sh
from tests.gitrepo import orch as run

T0 = 1_893_456_000_000


def env_at(ms: int, session: str | None = None) -> dict[str, str]:
    env = {"GIT_ORCH_TESTING": "1", "GIT_ORCH_TEST_NOW": str(ms)}
    if session:
        env["GIT_ORCH_SESSION"] = session
    return env


def commit_in(path: Path, name: str, text: str, env: dict[str, str] | None = None) -> Result:
    (path / name).write_text(text)
    git(path, "add", name)
    return sh(path, f"git commit -q -m 'change {name}'", env=env)


def test_three_worktrees_a_lock_refuses_the_others_commit_until_released(repo: Path) -> None:
    pre_existing = (
        '#!/bin/sh\necho chained-ran >> "$(git rev-parse --git-common-dir)/chained.log"\n'
    )
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(pre_existing)
    hook.chmod(0o755)
    (repo / "app.py").write_text("v1\n")
    git(repo, "add", "app.py")
    git(repo, "commit", "-q", "-m", "app")
    assert run(repo, "hooks", "install").code == 0
    with Orchestrator(repo) as orch:
        a = orch.call("session.open", {"agent_role": "a"})
        b = orch.call("session.open", {"agent_role": "b"})
        lock = orch.call(
            "lock.acquire",
            {"scope_type": "file", "scope_path": "app.py", "owner_session": a["session"]["id"]},
        )["lock"]
    a_path, b_path = Path(a["worktree"]["path"]), Path(b["worktree"]["path"])
    refused = commit_in(b_path, "app.py", "b's change\n")
    assert refused.code != 0
    assert "app.py" in refused.stderr and lock["id"] in refused.stderr
    assert a["session"]["id"] in refused.stderr
    person = commit_in(repo, "app.py", "a person's change\n")  # the main checkout: no session
    assert person.code != 0
    git(repo, "reset", "-q", "--hard")
    assert commit_in(a_path, "app.py", "a's change\n").code == 0
    assert "chained-ran" in (repo / ".git" / "chained.log").read_text()  # the old hook still runs
    with Orchestrator(repo) as orch:
        orch.call("lock.release", {"lock_id": lock["id"], "session_id": a["session"]["id"]})
    assert sh(b_path, "git commit -q -m 'b again'").code == 0
    assert run(repo, "hooks", "uninstall").code == 0
    assert hook.read_text() == pre_existing  # put back byte for byte
    assert not (repo / ".git" / "hooks" / "pre-push").exists()


class Row(NamedTuple):
    test_id: str
    situation: str
    hook: str
    mode: str
    verdict: str  # allow, warn, refuse


SITUATIONS = ("own", "other", "expired", "released", "superseded", "none", "unreadable")
EXPECTED = {
    "own": "allow",
    "other": "refuse",
    "expired": "allow",
    "released": "allow",
    "superseded": "refuse",
    "none": "allow",
    "unreadable": "refuse",
}
MATRIX = [
    Row(
        f"{s}-{h}-{m}",
        s,
        h,
        m,
        "warn" if m == "warn" and EXPECTED[s] == "refuse" else EXPECTED[s],
    )
    for s in SITUATIONS
    for h in ("pre-commit", "pre-push")
    for m in ("enforce", "warn")
]


def _situation(repo: Path, situation: str) -> tuple[str, int]:
    """Set up the state; the acting session and the time the hook runs at."""
    clock = ManualClock(T0)
    with Orchestrator(repo, clock=clock) as orch:
        me = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        other = orch.call(
            "session.open", {"intent": "resume_work", "heartbeat_timeout_seconds": 5}
        )["session"]["id"]
        owner = me if situation == "own" else other
        if situation != "none":
            lock = orch.call(
                "lock.acquire",
                {
                    "scope_type": "prefix",
                    "scope_path": "src",
                    "owner_session": owner,
                    "ttl_seconds": 10,
                },
            )["lock"]
        if situation == "released":
            orch.call("lock.release", {"lock_id": lock["id"], "session_id": other})
        if situation == "superseded":
            # the old agent (other) is taken over by a third session, which gets its lock
            orch.call("work.current_ref", {"session_id": other})
            clock.advance(6)
            third = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
            orch.call(
                "resume.candidates.attach",
                {"requester_session_id": third, "target_session_id": other},
            )
            return other, clock.now_ms()
    if situation == "unreadable":
        tip = git(repo, "rev-parse", "refs/orchestrator/state").strip()
        (repo / ".git" / "objects" / tip[:2] / tip[2:]).unlink()
    later = T0 + (20_000 if situation == "expired" else 1000)
    return me, later


@pytest.mark.parametrize("row", [pytest.param(r, id=r.test_id) for r in MATRIX])
def test_the_enforcement_matrix(repo: Path, row: Row) -> None:
    if row.mode == "warn":
        git(repo, "config", "orch.hooks.mode", "warn")
    acting, now = _situation(repo, row.situation)
    (repo / "src").mkdir()
    (repo / "src" / "x.py").write_text("x\n")
    git(repo, "add", "src/x.py")
    env = env_at(now, acting)
    if row.hook == "pre-commit":
        result = run(repo, "hook", "pre-commit", env=env)
    else:
        git(repo, "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "x")
        head = git(repo, "rev-parse", "HEAD").strip()
        line = f"refs/heads/feature {head} refs/heads/feature {'0' * 40}\n"
        result = run(repo, "hook", "pre-push", "origin", "/nowhere", stdin=line, env=env)
    if row.verdict == "refuse":
        assert result.code == 1, result
        assert result.out["error"]["code"] == "conflict"
        if row.situation == "unreadable":
            assert "--no-verify" in result.stderr
        else:
            assert "src/x.py" in result.stderr
    else:
        assert result.code == 0, result
        assert result.out["verdict"] == row.verdict
        if row.verdict == "warn":
            assert "warning" in result.stderr


def test_a_paused_holder_past_its_ttl_holds_nothing(repo: Path) -> None:
    clock = ManualClock(T0)
    with Orchestrator(repo, clock=clock) as orch:
        a = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        b = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        old = orch.call(
            "lock.acquire",
            {"scope_type": "file", "scope_path": "f.txt", "owner_session": a, "ttl_seconds": 10},
        )["lock"]
        clock.advance(11)
        new = orch.call(
            "lock.acquire", {"scope_type": "file", "scope_path": "f.txt", "owner_session": b}
        )["lock"]
        assert new["epoch"] > old["epoch"]
        with pytest.raises(PreconditionFailed, match="expired"):
            orch.call("lock.heartbeat", {"lock_id": old["id"], "session_id": a})
    (repo / "f.txt").write_text("a wakes up\n")
    git(repo, "add", "f.txt")
    woken = run(repo, "hook", "pre-commit", env=env_at(T0 + 12_000, a))
    assert woken.code == 1 and new["id"] in woken.stderr


RACER = """
import sys
from gitorch.api import Orchestrator
from gitorch.model.errors import Conflict
with Orchestrator(sys.argv[1]) as orch:
    try:
        orch.call("lock.acquire", {"scope_type": "file", "scope_path": sys.argv[2], "owner_session": sys.argv[3]})
        print("won")
    except Conflict:
        print("lost")
"""  # noqa: E501


@pytest.mark.slow
def test_eight_processes_racing_for_one_path_have_one_winner_every_round(repo: Path) -> None:
    import sys

    with Orchestrator(repo) as orch:
        sessions = [
            orch.call("session.open", {"intent": "resume_work"})["session"]["id"] for _ in range(8)
        ]
    for round_no in range(4):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(repo), f"p{round_no}", s],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for s in sessions
        ]
        done = [proc.communicate() for proc in procs]
        outcomes = sorted(out.strip() for out, _ in done)
        assert outcomes == ["lost"] * 7 + ["won"], (round_no, [err for _, err in done if err])


@pytest.mark.parametrize(
    "path", ["../x", "/etc/passwd", "a/../../b", "a/./b", "a//b", "", "a\0b", "outside"]
)
def test_bad_paths_are_invalid_params(repo: Path, path: str) -> None:
    os.symlink("/etc", repo / "outside")
    with Orchestrator(repo) as orch:
        s = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        with pytest.raises(InvalidParams):
            orch.call(
                "lock.acquire", {"scope_type": "file", "scope_path": path, "owner_session": s}
            )


def test_owners_release_others_must_force_with_a_reason(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        a = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        b = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        lock = orch.call(
            "lock.acquire", {"scope_type": "prefix", "scope_path": "docs/", "owner_session": a}
        )["lock"]
        assert lock["scope_path"] == "docs"
        with pytest.raises(Forbidden):
            orch.call("lock.release", {"lock_id": lock["id"], "session_id": b})
        with pytest.raises(Forbidden):
            orch.call("lock.heartbeat", {"lock_id": lock["id"], "session_id": b})
        with pytest.raises(InvalidParams):
            orch.call("lock.release", {"lock_id": lock["id"], "session_id": b, "force": True})
        with pytest.raises(Conflict):
            orch.call(
                "lock.acquire",
                {"scope_type": "file", "scope_path": "docs/a.md", "owner_session": b},
            )
        done = orch.call(
            "lock.release",
            {"lock_id": lock["id"], "session_id": b, "force": True, "reason": "a is gone"},
        )["lock"]
        assert (done["status"], done["released_by"], done["release_reason"]) == (
            "released",
            b,
            "a is gone",
        )
        orch.call(
            "lock.acquire", {"scope_type": "file", "scope_path": "docs/a.md", "owner_session": b}
        )


def test_several_paths_are_all_or_nothing_and_close_releases(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        a = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        b = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        orch.call("lock.acquire", {"scope_type": "file", "scope_path": "x", "owner_session": a})
        with pytest.raises(Conflict):
            orch.call(
                "lock.acquire",
                {"scope_type": "file", "scope_paths": ["y", "x"], "owner_session": b},
            )
        assert orch.call("lock.list", {"owner_session": b})["locks"] == []
        closed = orch.call("session.close", {"session_id": a})
        assert len(closed["released_locks"]) == 1
        got = orch.call(
            "lock.acquire", {"scope_type": "file", "scope_paths": ["y", "x"], "owner_session": b}
        )
        assert [lock["scope_path"] for lock in got["locks"]] == ["y", "x"]


def test_a_renewal_is_no_state_commit(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        a = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        lock = orch.call(
            "lock.acquire", {"scope_type": "file", "scope_path": "x", "owner_session": a}
        )["lock"]
        commits = git(repo, "rev-list", "--count", "orchestrator/state")
        for _ in range(5):
            orch.call("lock.heartbeat", {"lock_id": lock["id"], "session_id": a})
        assert git(repo, "rev-list", "--count", "orchestrator/state") == commits


def test_conflict_is_symmetric_and_covering_is_what_the_contract_says() -> None:
    cases: list[tuple[Any, ...]] = [
        ("prefix", "", "file", "a/b", True),
        ("prefix", "a", "file", "a/b", True),
        ("prefix", "a", "file", "ab", False),
        ("file", "a", "file", "a", True),
        ("file", "a", "file", "b", False),
        ("prefix", "a/b", "prefix", "a", True),
        ("file", "a/b", "prefix", "a/c", False),
    ]
    for a_type, a_path, b_type, b_path, expected in cases:
        assert overlap(a_type, a_path, b_type, b_path) is expected
        assert overlap(b_type, b_path, a_type, a_path) is expected


def test_the_shim_sources_in_hooks_are_what_install_writes() -> None:
    from gitorch.domain.hooks import HOOKS, shim

    root = Path(__file__).resolve().parent.parent
    for name in HOOKS:
        assert (root / "hooks" / name).read_text() == shim(name)
    assert "git orch hook pre-commit" in (root / ".pre-commit-hooks.yaml").read_text()


def test_hooks_are_installed_where_git_looks_and_honour_core_hookspath(
    repo: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "team-hooks"
    git(repo, "config", "core.hooksPath", str(elsewhere))
    status = run(repo, "hooks", "install").out
    assert status["hooks_dir"] == str(elsewhere)
    assert (elsewhere / "pre-commit").exists() and (elsewhere / "pre-push").exists()
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked))
    assert run(linked, "hooks", "status").out["hooks"]["pre-commit"]["installed"] is True


def test_pre_push_reads_every_line_and_ignores_what_pushes_nothing(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        me = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        other = orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
        orch.call(
            "lock.acquire",
            {"scope_type": "file", "scope_path": "locked.txt", "owner_session": other},
        )
    base = git(repo, "rev-parse", "HEAD").strip()
    commit_in(repo, "free.txt", "free\n", env={"GIT_ORCH_SESSION": me})
    free = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "side", base)
    (repo / "locked.txt").write_text("x\n")
    git(repo, "add", "locked.txt")
    git(repo, "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "locked")
    locked = git(repo, "rev-parse", "HEAD").strip()
    zero = "0" * 40
    lines = (
        "garbage line\n"
        f"refs/heads/gone {zero} refs/heads/gone {base}\n"  # a deletion
        f"refs/heads/work {free} refs/heads/work {base}\n"
        f"refs/heads/x {'f' * 40} refs/heads/x {zero}\n"  # a commit this clone lacks
    )
    ok = run(repo, "hook", "pre-push", "origin", "u", stdin=lines, env={"GIT_ORCH_SESSION": me})
    assert ok.code == 0, ok
    lines += f"refs/heads/side {locked} refs/heads/side {zero}\n"  # the last line counts too
    refused = run(
        repo, "hook", "pre-push", "origin", "u", stdin=lines, env={"GIT_ORCH_SESSION": me}
    )
    assert refused.code == 1 and "locked.txt" in refused.stderr
