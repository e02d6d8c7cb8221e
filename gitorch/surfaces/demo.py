"""``git orch demo [--agents N] [--keep DIR]``: the promise, kept, in under a minute.

In a scratch repository a root session plans a few slices; N worker
sessions (default 4) each get an agent thread in a private tmux server,
in their own worktree, running the scripted stand-in agent (no real agent
CLI, no network). The workers claim ready work, take leases, commit,
check steps and queue for main. The script makes the hard parts happen:
two workers want one file, so the second waits for the first's lease; one
worker dies mid-case and a new session takes its case over; one writes
work the land check refuses. The root lands the queue in batches, marks
the landed slices done and refreshes the Markdown mirror. It prints what
happened, the final board, and where to look.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

CHECK = (
    "import pathlib, sys\n"
    "bad = [str(p) for p in pathlib.Path('.').rglob('*') if p.is_file() and '.git' not in p.parts"
    " and b'BROKEN' in p.read_bytes()]\n"
    "print('broken work in', ', '.join(bad)) if bad else print('all checks pass')\n"
    "sys.exit(1 if bad else 0)\n"
)
DEADLINE = 50.0
USAGE = "usage: git orch demo [--agents N (4-12)] [--keep DIR] [--agent standin|codex|claude]"


def _git(cwd: str, *args: str) -> str:
    done = subprocess.run(["git", "-C", cwd, *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


REAL_AGENT_PROMPT = """You are one of several agents working on this repository through `git orch`.
Take the top ready slice: git orch graph.ready --claim
Lease its file (git orch lock.acquire --scope-type file --scope-path FILE), record a case
(git orch task.create --level case ..., git orch case.begin), make the change, commit it,
record the step (git orch step.check), complete the case (git orch case.complete), then queue
your work for main: git orch merge.main.request. Then take the next slice, until none is ready.
"""


def _parse(args: list[str]) -> tuple[int, str | None, str]:
    agents, keep, agent = 4, None, "standin"
    rest = list(args)
    while rest:
        word = rest.pop(0)
        if word in ("-h", "--help"):
            raise SystemExit(USAGE)
        value = rest.pop(0) if rest and "=" not in word else None
        if "=" in word:
            word, value = word.split("=", 1)
        if word == "--agents" and value and value.isdigit() and 4 <= int(value) <= 12:
            agents = int(value)
        elif word == "--keep" and value:
            keep = value
        elif word == "--agent" and value:
            agent = value
        else:
            raise ValueError(f"{word} {value or ''}".strip())
    return agents, keep, agent


class Demo:
    """The scratch repository, its root session, its workers, and what happened."""

    def __init__(self, where: str, agents: int) -> None:
        from gitorch.api import Orchestrator

        self.repo = os.path.join(where, "repo")
        os.makedirs(self.repo, exist_ok=True)
        _git(self.repo, "init", "-q", "-b", "main")
        with open(os.path.join(self.repo, "README.md"), "w", encoding="utf-8") as handle:
            handle.write("# demo\n\nA repository a fleet of agents works on.\n")
        _git(self.repo, "add", "README.md")
        _git(self.repo, "-c", "user.name=demo", "-c", "user.email=demo@example.com",
             "commit", "-q", "-m", "initial")  # fmt: skip
        for key, value in (("user.name", "gitorch demo"), ("user.email", "demo@example.com")):
            _git(self.repo, "config", key, value)
        self.socket = os.path.join(tempfile.mkdtemp(prefix="orch-demo-", dir="/tmp"), "tmux")
        _git(self.repo, "config", "orch.tmux.socket", self.socket)
        check = os.path.join(where, "land-check.py")
        with open(check, "w", encoding="utf-8") as handle:
            handle.write(CHECK)
        command = shlex.join([sys.executable, check])
        _git(self.repo, "config", "orch.land.check", command)
        self.orch = Orchestrator(self.repo)
        self.agents = agents
        self.story: list[str] = []
        self.started = time.monotonic()
        self.workers: dict[str, str] = {}  # session -> what it is made to do
        self.gone: set[str] = set()  # sessions another one took over

    def say(self, text: str) -> None:
        line = f"[{time.monotonic() - self.started:5.1f}s] {text}"
        self.story.append(line)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.orch.call(method, params or {})

    def plan(self) -> None:
        self.root = self.call("session.open", {"intent": "resume_work", "agent_role": "root"})[
            "session"
        ]["id"]
        made = self.call(
            "plan.bootstrap", {"initiative_title": "Ship the demo", "plan_title": "Slices"}
        )
        specs = [
            {"title": "write the guide", "affected_files": ["docs/guide.md"], "priority": 90},
            {"title": "extend the guide", "affected_files": ["docs/guide.md"], "priority": 80},
            {"title": "add the parser", "affected_files": ["src/parser.txt"], "priority": 70},
            {"title": "add the checker", "affected_files": ["src/checker.txt"], "priority": 60},
        ]
        specs += [
            {"title": f"slice {n}", "affected_files": [f"src/slice{n}.txt"], "priority": 50 - n}
            for n in range(5, self.agents + 1)
        ]
        self.call("plan.slice.generate", {"plan_node_id": made["plan"]["id"], "slice_specs": specs})
        self.say(f"root {self.root} planned {len(specs)} slices (two share docs/guide.md)")

    def spawn(self, role: str, flags: list[str], *, intent: str = "new_work") -> str:
        opened = self.call(
            "session.open",
            {"intent": intent, "agent_role": role, "heartbeat_timeout_seconds": 2},
        )
        session = str(opened["session"]["id"])
        self.workers[session] = role
        if intent == "new_work":
            self.start(session, flags, f"You are {role}: take the top ready slice and land it.")
        return session

    def start(self, session: str, flags: list[str], objective: str) -> dict[str, Any]:
        argv = [sys.executable, "-m", "gitorch.surfaces.standin", *flags]
        out = self.call(
            "thread.child.spawn",
            {"session_id": session, "launch_command": argv, "agent_override": "standin",
             "objective": objective, "role": "worker"},
        )  # fmt: skip
        thread: dict[str, Any] = out["thread"]
        return thread

    def log_of(self, session: str) -> str:
        texts: list[str] = []
        for thread in self.call("thread.child.list", {"session_id": session})["threads"]:
            try:
                with open(thread["tmux"]["log"], encoding="utf-8", errors="replace") as handle:
                    texts.append(handle.read())
            except OSError:
                continue
        return "".join(texts)

    def wait_for(self, session: str, text: str, limit: float = 20.0) -> bool:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if text in self.log_of(session):
                return True
            self.land()
            time.sleep(0.1)
        return False

    def land(self) -> None:
        from gitorch.model.errors import GitorchError

        if not self.call("merge.main.next")["main_merge_request"]:
            return
        try:
            out = self.call(
                "queue.run", {"session_id": self.root, "batch": 3, "once": True, "ttl_seconds": 60}
            )
        except GitorchError as exc:
            self.say(f"land: {exc.message}")
            return
        for entry in out["landed"]:
            self.say(f"landed {entry['id']} ({entry['branch']}) as {entry['landed_commit'][:10]}")
            self._done(entry)
        for entry in out["failed"]:
            self.say(f"refused {entry['id']} ({entry['branch']}): {entry['reason']}")

    def _done(self, entry: dict[str, Any]) -> None:
        from gitorch.model.errors import GitorchError

        for node in self.call("graph.node.list", {"status": "in_review"})["nodes"]:
            if node.get("owner_session_id") == entry["session_id"]:
                try:
                    self.call("graph.node.update", {"node_id": node["id"], "status": "done"})
                except GitorchError:
                    continue

    def run(self) -> None:
        self.plan()
        first = self.spawn("worker-1", ["--work", "--hold"])
        self.wait_for(first, "claimed")
        self.wait_for(first, "step 1")
        self.say(f"worker-1 ({first}) holds the lease on docs/guide.md")
        second = self.spawn("worker-2", ["--work"])
        if self.wait_for(second, "waiting:"):
            self.say(f"worker-2 ({second}) wants docs/guide.md too: it waits for the lease")
        stalled = self.spawn("worker-3", ["--work", "--stall"])
        self.wait_for(stalled, "stalled")
        failing = self.spawn("worker-4", ["--work", "--fail"])
        self.wait_for(failing, "claimed")
        for n in range(5, self.agents + 1):
            extra = self.spawn(f"worker-{n}", ["--work"])
            self.wait_for(extra, "claimed")
        self.kill_and_resume(stalled)
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            self.land()
            if self._settled():
                break
            time.sleep(0.2)
        self.land()
        if self.wait_for(second, "lease on docs/guide.md is mine now", 1):
            self.say("worker-2 got the lease once worker-1's work had landed, and built on it")
        self.finish()

    def run_real(self, agent: str, limit: float) -> None:
        """The same fleet with a real agent CLI: prompted with the loop, not scripted."""
        self.plan()
        for n in range(1, self.agents + 1):
            session = self.call("session.open", {"agent_role": f"worker-{n}"})["session"]["id"]
            self.workers[session] = f"worker-{n}"
            self.call(
                "thread.child.spawn",
                {"session_id": session, "agent_override": agent, "objective": REAL_AGENT_PROMPT},
            )
            self.say(f"worker-{n} ({session}): {agent} started in its own worktree")
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and not self._settled():
            self.land()
            time.sleep(1.0)
        self.land()
        self.finish()

    def kill_and_resume(self, stalled: str) -> None:
        thread = self.call("thread.child.list", {"session_id": stalled})["threads"][0]
        subprocess.run(
            ["tmux", "-S", self.socket, "kill-pane", "-t", thread["tmux"]["pane"]],
            capture_output=True, check=False,
        )  # fmt: skip
        self.say(f"worker-3 ({stalled}) was killed mid-case; its commit and step are recorded")
        self.gone.add(stalled)
        time.sleep(2.2)  # its heartbeat timeout: it is now suspended
        taker = self.spawn("worker-3b", [], intent="resume_work")
        self.call(
            "resume.candidates.attach",
            {"requester_session_id": taker, "target_session_id": stalled},
        )
        self.start(taker, ["--finish"], "Finish the case you took over.")
        self.say(f"a new session {taker} took over worker-3's worktree, lease and case")

    def _settled(self) -> bool:
        waiting = self.call("merge.main.list", {"status": "queued"})["main_merges"]
        running = [
            t
            for s in self.workers
            if s not in self.gone
            for t in self.call("thread.child.list", {"session_id": s})["threads"]
            if t["status"] in ("running", "idle", "starting")
        ]
        return not waiting and not running

    def finish(self) -> None:
        out = self.call("mirror.refresh", {"requester_role": "doc-mirror-manager"})
        self.say(f"mirror refreshed: {out.get('md_path')}")
        for session in self.workers:
            if session not in self.gone:
                self.call("session.close", {"session_id": session})
        pruned = self.call("worktree.prune", {"apply": True})
        self.say(f"removed {len(pruned['removed'])} worktree(s) whose work landed")


def main(args: list[str]) -> int:
    """Run the demo; its exit status."""
    try:
        agents, keep, agent = _parse(args)
    except ValueError as exc:
        sys.stderr.write(f"git orch demo: bad option {exc}\n{USAGE}\n")
        return 2
    from gitorch.domain import tmux

    if agent != "standin":
        program = {"codex": "codex", "claude": "claude"}.get(agent)
        if program is None or shutil.which(program) is None:
            sys.stderr.write(f"git orch demo: the {agent} agent CLI is not installed here\n")
            return 1
    if tmux.binary() is None:
        sys.stderr.write("git orch demo needs tmux: git orch runtime.tmux.ensure\n")
        return 1
    where = os.path.abspath(keep) if keep else tempfile.mkdtemp(prefix="gitorch-demo-")
    if keep and os.path.exists(where) and os.listdir(where):
        sys.stderr.write(f"git orch demo: {where} is not empty\n")
        return 2
    demo = Demo(where, agents)
    try:
        if agent == "standin":
            demo.run()
        else:
            demo.run_real(agent, 600.0)
        from gitorch.surfaces.tables import board

        status = demo.call("status", {"history": 0})["status"]
        main_log = _git(demo.repo, "log", "--oneline", "-n", "12", "main")
        sys.stdout.write("\nThe board now:\n\n" + board(status) + "\nmain:\n" + main_log + "\n")
        sys.stdout.write(
            "\nWhere to look:\n"
            + (f"  cd {demo.repo} && git orch status\n" if keep else "")
            + (f"  git -C {demo.repo} log --graph --oneline main\n" if keep else "")
            + (f"  {demo.repo}/docs/orchestration.md (the mirror)\n" if keep else "")
            + "  while it runs: tmux -S <socket> attach -r (see thread.attach_info)\n"
            + ("" if keep else "  (run with --keep DIR to explore the repository afterwards)\n")
        )
        return 0
    finally:
        demo.orch.close()
        subprocess.run(["tmux", "-S", demo.socket, "kill-server"], capture_output=True, check=False)
        shutil.rmtree(os.path.dirname(demo.socket), ignore_errors=True)
        if not keep:
            shutil.rmtree(where, ignore_errors=True)
