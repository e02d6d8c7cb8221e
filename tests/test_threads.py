"""Agent threads against a real tmux server on a private socket, with the stand-in agent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gitorch.api import Orchestrator
from gitorch.domain import runtime
from gitorch.model.clock import ManualClock
from gitorch.model.errors import (
    Conflict,
    Forbidden,
    InvalidParams,
    PreconditionFailed,
    Unavailable,
)
from gitorch.model.kinds import THREAD
from tests.conftest import needs_tmux
from tests.gitrepo import git, wait_for
from tests.gitrepo import orch as run

HOSTILE = "a $(touch X) and `touch Y`; touch Z; 'single' \"double\" \\ back\nsecond line\n\tthird"


class Fleet:
    """One session on a repository with a private tmux server, and its threads."""

    def __init__(self, orch: Orchestrator, repo: Path, socket: str) -> None:
        self.orch = orch
        self.repo = repo
        self.socket = socket
        self.session = orch.call("session.open", {"agent_role": "root"})["session"]["id"]

    def task(self, title: str) -> str:
        return str(
            self.orch.call("task.create", {"level": "feature", "title": title})["task"]["id"]
        )

    def spawn(self, **params: Any) -> dict[str, Any]:
        params.setdefault("agent_override", "standin")
        out = self.orch.call("thread.child.spawn", {"session_id": self.session, **params})
        thread: dict[str, Any] = out["thread"]
        self.screen_has(thread["id"], "standin> ")
        return out

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, check=False
        )
        return done.stdout

    def pane(self, thread_id: str) -> str:
        doc = self.orch.store.snapshot().read(THREAD, thread_id)
        assert doc is not None
        return str(doc["tmux"]["pane"])

    def screen(self, thread_id: str) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", self.pane(thread_id))

    def screen_has(self, thread_id: str, text: str, timeout: float = 10.0) -> str:
        found = wait_for(lambda: text in self.screen(thread_id) and self.screen(thread_id), timeout)
        assert found, f"{text!r} never showed in {thread_id}: {self.screen(thread_id)!r}"
        return str(found)

    def status(self, thread_id: str, **params: Any) -> dict[str, Any]:
        return self.orch.call("thread.child.status", {"thread_id": thread_id, **params})

    def send(self, thread_id: str, text: str) -> None:
        self.orch.call("thread.child.send", {"thread_id": thread_id, "text": text})

    def listed(self) -> dict[str, str]:
        threads = self.orch.call("thread.child.list", {"session_id": self.session})["threads"]
        return {t["id"]: t["status"] for t in threads}


@pytest.fixture
def fleet(orch: Orchestrator, repo: Path, tmux_socket: str) -> Fleet:
    return Fleet(orch, repo, tmux_socket)


def prompt_of(screen: str) -> Any:
    line = next(line for line in screen.splitlines() if line.startswith("prompt: "))
    return json.loads(line[len("prompt: ") :])


@needs_tmux
def test_the_root_pane_is_made_once(fleet: Fleet) -> None:
    params = {"session_id": fleet.session, "agent_override": "standin", "objective": "plan it"}
    first = fleet.orch.call("thread.root.ensure", params)
    second = fleet.orch.call("thread.root.ensure", params)
    assert first["launched"] and not second["launched"]
    assert first["root_thread"]["id"] == second["root_thread"]["id"]
    name = first["tmux"]["session"]
    assert name.startswith("orch-repo-" + fleet.session)
    panes = fleet.tmux("list-panes", "-s", "-t", f"={name}", "-F", "#{pane_id}").split()
    assert panes == [first["root_thread"]["tmux"]["pane"]]
    assert first["attach_info"]["attach_read_only"].endswith(f"attach -r -t ={name}")
    assert first["child_tmux_session"] == name + "-agents"


@needs_tmux
def test_three_children_work_in_three_worktrees_and_each_hears_only_its_own(fleet: Fleet) -> None:
    spawned = [fleet.spawn(task_id=fleet.task(f"slice {n}"), objective=f"do {n}") for n in range(3)]
    paths = {out["worktree"]["path"] for out in spawned}
    assert len(paths) == 3
    for out in spawned:
        thread, path = out["thread"], out["worktree"]["path"]
        screen = fleet.screen(thread["id"])
        assert f"cwd={path}" in screen
        assert f"session={fleet.session} thread={thread['id']}" in screen
    for n, out in enumerate(spawned):
        fleet.send(out["thread"]["id"], f"hello {n}")
    for n, out in enumerate(spawned):
        screen = fleet.screen_has(out["thread"]["id"], f'echo: "hello {n}"')
        assert all(f'"hello {m}"' not in screen for m in range(3) if m != n)
    assert set(fleet.listed().values()) == {"running"}


@needs_tmux
def test_status_tells_busy_from_idle(fleet: Fleet) -> None:
    thread = fleet.spawn()["thread"]["id"]
    idle = fleet.status(thread, window_ms=300)
    assert (idle["activity"], idle["at_prompt"], idle["thread"]["status"]) == ("idle", True, "idle")
    fleet.send(thread, "busy 5")
    fleet.screen_has(thread, "..")
    busy = fleet.status(thread, window_ms=300)
    assert busy["activity"] == "busy"
    assert busy["thread"]["alive"]
    out = fleet.orch.call("thread.child.interrupt", {"thread_id": thread})
    assert out["result"] == "interrupt_sent"
    fleet.screen_has(thread, "^C interrupted")
    assert wait_for(lambda: fleet.status(thread, window_ms=200)["activity"] == "idle")


@needs_tmux
def test_stop_quits_the_agent_and_can_close_its_pane(fleet: Fleet) -> None:
    kept = fleet.spawn()["thread"]["id"]
    out = fleet.orch.call("thread.child.stop", {"thread_id": kept})
    assert out["result"] == "stopped"
    assert (out["thread"]["status"], out["thread"]["exit_status"]) == ("stopped", 0)
    assert "bye" in fleet.screen(kept)  # the dead pane stays to be read
    closed = fleet.spawn()["thread"]["id"]
    pane = fleet.pane(closed)
    out = fleet.orch.call("thread.child.stop", {"thread_id": closed, "terminate_pane": True})
    assert out["thread"]["status"] == "stopped"
    assert pane not in fleet.tmux("list-panes", "-a", "-F", "#{pane_id}").split()
    with pytest.raises(PreconditionFailed, match="stopped"):
        fleet.send(closed, "anyone?")


@needs_tmux
def test_a_killed_pane_is_exited_and_its_output_is_still_readable(fleet: Fleet) -> None:
    thread = fleet.spawn(objective="remember me")["thread"]["id"]
    fleet.send(thread, "last words")
    fleet.screen_has(thread, 'echo: "last words"')
    fleet.tmux("kill-pane", "-t", fleet.pane(thread))
    assert fleet.listed() == {thread: "exited"}
    out = fleet.status(thread)
    assert out["activity"] == "exited"
    assert out["thread"]["pane_state"] == "gone"
    assert 'echo: "last words"' in out["last_lines"]
    assert any(line.startswith("prompt: ") for line in out["last_lines"])
    with pytest.raises(PreconditionFailed, match="exited"):
        fleet.orch.call("thread.child.interrupt", {"thread_id": thread})


@needs_tmux
def test_an_agent_that_exits_shows_its_exit_status(fleet: Fleet) -> None:
    thread = fleet.spawn()["thread"]["id"]
    fleet.send(thread, "exit 7")
    assert wait_for(lambda: fleet.listed()[thread] == "exited")
    out = fleet.status(thread)
    assert (out["thread"]["exit_status"], out["activity"]) == (7, "exited")


@needs_tmux
def test_the_limit_refuses_the_next_child_and_a_dead_one_frees_its_slot(fleet: Fleet) -> None:
    first = fleet.spawn(max_concurrent_children=2)["thread"]["id"]
    fleet.spawn(max_concurrent_children=2)
    with pytest.raises(Conflict, match="limit") as refused:
        fleet.orch.call(
            "thread.child.spawn",
            {
                "session_id": fleet.session,
                "agent_override": "standin",
                "max_concurrent_children": 2,
            },
        )
    assert len(refused.value.details["live"]) == 2
    assert len(fleet.listed()) == 2  # the refused one was never recorded
    fleet.send(first, "exit 3")
    assert wait_for(lambda: fleet.listed()[first] == "exited")
    third = fleet.spawn(max_concurrent_children=2)
    assert third["reclaimed"] == [first]
    assert fleet.listed()[first] == "exited"
    assert len(fleet.tmux("list-panes", "-a", "-F", "#{pane_id}").split()) == 2


@needs_tmux
def test_hostile_text_is_data_in_the_prompt_and_in_what_is_sent(fleet: Fleet) -> None:
    out = fleet.spawn(objective=HOSTILE)
    thread, path = out["thread"]["id"], Path(out["worktree"]["path"])
    assert prompt_of(fleet.screen(thread)) == HOSTILE
    one_line = HOSTILE.replace("\n", " ").replace("\t", " ")
    fleet.send(thread, one_line)
    screen = fleet.screen_has(thread, "echo: ")
    echoed = next(line for line in screen.splitlines() if line.startswith("echo: "))
    assert json.loads(echoed[len("echo: ") :]) == one_line
    for name in "XYZ":
        for where in (path, fleet.repo, Path.cwd()):
            assert not (where / name).exists()


@needs_tmux
def test_an_agent_profile_from_git_config(fleet: Fleet) -> None:
    git(
        fleet.repo,
        "config",
        "orch.agent.mine.command",
        f"{sys.executable} -m gitorch.surfaces.standin",
    )
    git(fleet.repo, "config", "orch.agent.mine.quit", "exit 5")
    git(fleet.repo, "config", "orch.agent.mine.idle", "standin>")
    thread = fleet.spawn(agent_override="mine", objective="custom")["thread"]
    assert thread["profile"] == "mine"
    out = fleet.orch.call("thread.child.stop", {"thread_id": thread["id"]})
    assert out["thread"]["exit_status"] == 5


@needs_tmux
def test_launch_command_overrides_the_profile_for_one_call(fleet: Fleet) -> None:
    argv = [sys.executable, "-m", "gitorch.surfaces.standin"]
    thread = fleet.spawn(launch_command=argv, objective="as a list")["thread"]
    assert thread["argv"] == [*argv, "as a list"]
    line = " ".join(argv)
    other = fleet.spawn(codex_command=line, objective="as a line")["thread"]
    assert other["argv"] == [*argv, "as a line"]


@needs_tmux
@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"launch_command": "standin 'unterminated"}, InvalidParams, "launch_command"),
        ({"launch_command": ""}, InvalidParams, "empty command"),
        ({"agent_override": "nosuchagent"}, InvalidParams, "no agent profile"),
        ({"agent_guide_path": "../../etc/passwd"}, InvalidParams, "outside the repository"),
        ({"worktree_id": "wtr-zzzzzz"}, Exception, "wtr-zzzzzz"),
    ],
)
def test_bad_spawn_input_is_refused_and_records_nothing(
    fleet: Fleet, params: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        fleet.orch.call("thread.child.spawn", {"session_id": fleet.session, **params})
    assert fleet.listed() == {}


@needs_tmux
def test_a_child_in_another_sessions_worktree_is_forbidden(fleet: Fleet) -> None:
    other = fleet.orch.call("session.open", {"agent_role": "other"})["session"]
    with pytest.raises(Forbidden):
        fleet.spawn(worktree_id=other["root_worktree_id"])


@needs_tmux
def test_attach_info_names_the_pane(fleet: Fleet) -> None:
    thread = fleet.spawn()["thread"]
    out = fleet.orch.call("thread.attach_info", {"thread_id": thread["id"]})
    info = out["attach_info"]
    assert info["pane"] == thread["tmux"]["pane"]
    assert info["attach"].startswith(f"tmux -S {fleet.socket} attach")
    with pytest.raises(PreconditionFailed, match="no root thread"):
        fleet.orch.call("thread.attach_info", {"session_id": fleet.session})


@needs_tmux
def test_the_cli_spawns_and_lists(fleet: Fleet) -> None:
    env = {"GIT_ORCH_SESSION": fleet.session}
    out = run(fleet.repo, "thread.child.spawn", "--agent-override", "standin", env=env)
    assert out.code == 0, out.stderr
    listed = run(fleet.repo, "thread.child.list", "--format", "table", env=env)
    assert out.out["thread"]["id"] in listed.stdout and "running" in listed.stdout


def no_tmux_path(tmp_path: Path) -> str:
    """A PATH with git and nothing else (no tmux, no package manager)."""
    bindir = tmp_path / "bin-no-tmux"
    bindir.mkdir()
    for tool in ("git",):
        found = subprocess.run(["which", tool], capture_output=True, text=True, check=True)
        os.symlink(found.stdout.strip(), bindir / tool)
    return str(bindir)


def test_without_tmux_ensure_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orch: Orchestrator
) -> None:
    monkeypatch.setenv("PATH", no_tmux_path(tmp_path))
    out = orch.call("runtime.tmux.ensure", {})
    assert out["status"] == "manual_required"
    assert any("apt-get install tmux" in line for line in out["instructions"])
    assert out["attempts"] and out["attempts"][-1]["output"] == "no known package manager on PATH"
    assert runtime.check(auto_install=False, path=str(tmp_path))["attempts"] == []


def test_without_tmux_every_thread_method_is_unavailable_and_nothing_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orch: Orchestrator
) -> None:
    session = orch.call("session.open", {"agent_role": "root"})["session"]["id"]
    monkeypatch.setenv("PATH", no_tmux_path(tmp_path))
    calls: list[tuple[str, dict[str, Any]]] = [
        ("thread.root.ensure", {"session_id": session}),
        ("thread.child.spawn", {"session_id": session, "agent_override": "standin"}),
        ("thread.child.list", {"session_id": session}),
        ("thread.attach_info", {"session_id": session}),
    ]
    for method, params in calls:
        with pytest.raises(Unavailable, match="tmux"):
            orch.call(method, params)
    assert orch.store.snapshot().docs(THREAD) == []


@needs_tmux
def test_ensure_reports_the_version_when_tmux_is_there(orch: Orchestrator) -> None:
    out = orch.call("runtime.tmux.ensure", {"auto_install": False})
    assert out["status"] == "ready"
    assert out["tmux"]["version"][0].isdigit()


@needs_tmux
def test_force_launch_resumes_the_root_agents_conversation(fleet: Fleet) -> None:
    params = {"session_id": fleet.session, "agent_override": "standin", "objective": "lead"}
    first = fleet.orch.call("thread.root.ensure", params)["root_thread"]
    again = fleet.orch.call("thread.root.ensure", {**params, "force_launch": True})
    assert again["launched"]
    root = again["root_thread"]
    assert root["id"] == first["id"] and root["tmux"]["pane"] == first["tmux"]["pane"]
    assert root["argv"][-1] == "--resume"
    fleet.screen_has(root["id"], " resumed")


def test_the_tmux_server_is_the_one_configured_or_tmuxs_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from gitorch.domain import tmux

    monkeypatch.setenv("TMUX_TMPDIR", str(tmp_path))
    uid = os.getuid()
    assert tmux.socket_path(None) == f"{tmp_path}/tmux-{uid}/default"
    assert tmux.socket_path("fleet") == f"{tmp_path}/tmux-{uid}/fleet"  # like tmux -L
    assert tmux.socket_path("/run/x/s") == "/run/x/s"  # like tmux -S
    monkeypatch.setenv("TMUX", "/tmp/tmux-1/other,123,0")  # called from inside tmux
    assert tmux.socket_path(None) == "/tmp/tmux-1/other"
    assert tmux.session_name("orch", "my.repo", "ses-1") == "orch-my-repo-ses-1"


@needs_tmux
def test_a_synced_record_naming_a_socket_creates_nothing_and_shows_exited(
    fleet: Fleet, tmp_path: Path
) -> None:
    import socket as sockets

    from gitorch.domain import entities

    where = tmp_path / "not-made" / "sock"
    ctx = fleet.orch.context.for_call("test", fleet.session)
    forged = {
        "session_id": fleet.session, "parent_thread_id": None, "worktree_id": None,
        "role": "worker", "title": None, "objective": None, "argv": ["x"],
        "status": "running", "scope": "child", "profile": "standin", "exit_status": None,
        "reason": None,
        "tmux": {"host": sockets.gethostname(), "socket": str(where), "pane": "%0", "pid": 1},
    }  # fmt: skip
    made = ctx.transact(lambda tx: entities.create(ctx, tx, THREAD, forged))
    assert fleet.listed() == {made["id"]: "exited"}
    assert not where.parent.exists()
    with pytest.raises(PreconditionFailed):
        fleet.send(made["id"], "typed into someone else's pane?")


@needs_tmux
def test_a_spawn_killed_before_its_pane_gives_its_slot_back(
    fleet: Fleet, clock: ManualClock
) -> None:
    from gitorch.domain import entities

    ctx = fleet.orch.context.for_call("thread.child.spawn", fleet.session)
    orphan = {
        "session_id": fleet.session,
        "parent_thread_id": None,
        "worktree_id": None,
        "role": "worker",
        "title": None,
        "objective": None,
        "argv": ["x"],
        "status": "starting",
        "scope": "child",
        "profile": "standin",
        "exit_status": None,
        "reason": None,
        "tmux": None,
    }  # fmt: skip  (what a spawn SIGKILLed between its record and its pane leaves)
    made = ctx.transact(lambda tx: entities.create(ctx, tx, THREAD, orphan))
    with pytest.raises(Conflict, match="limit"):  # within the grace, it may still be starting
        fleet.spawn(max_concurrent_children=1)
    clock.advance(61)
    out = fleet.spawn(max_concurrent_children=1)
    assert out["reclaimed"] == [made["id"]]
    assert fleet.listed()[made["id"]] == "failed"
