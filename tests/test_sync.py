"""State that travels: real clones of a real bare remote, no mocks."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitorch.api import Orchestrator
from gitorch.model.clock import ManualClock
from gitorch.model.errors import InvalidParams, InvalidState, PreconditionFailed, Unavailable
from gitorch.model.kinds import TASK
from tests.gitrepo import fsck, git, make_repo
from tests.gitrepo import orch as run

STATE = "refs/orchestrator/state"


class Fleet:
    """N clones of one bare remote, each with its own Orchestrator (and clock)."""

    def __init__(self, root: Path, count: int, stack: ExitStack) -> None:
        self.remote = root / "remote.git"
        git(root, "init", "-q", "--bare", "-b", "main", str(self.remote))
        seed = make_repo(root / "seed")
        git(seed, "push", "-q", str(self.remote), "main")
        self.paths = []
        self.orchs = []
        for n in range(count):
            path = root / f"clone{n}"
            git(root, "clone", "-q", str(self.remote), str(path))
            self.paths.append(path)
            clock = ManualClock(1_893_456_000_000 + n)
            self.orchs.append(stack.enter_context(Orchestrator(path, clock=clock)))

    def sync(self, n: int) -> dict[str, Any]:
        return self.orchs[n].call("sync")

    def tree(self, n: int) -> str:
        return git(self.paths[n], "rev-parse", f"{STATE}^{{tree}}").strip()

    def tasks(self, n: int) -> dict[str, dict[str, Any]]:
        return {t["id"]: t for t in self.orchs[n].store.snapshot().docs(TASK)}


def make_fleet(tmp_path: Path, count: int) -> Iterator[Fleet]:
    with ExitStack() as stack:
        yield Fleet(tmp_path, count, stack)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Fleet]:
    yield from make_fleet(tmp_path, 2)


def test_a_fresh_clone_is_told_and_adopts_the_remote_state(pair: Fleet, tmp_path: Path) -> None:
    made = [
        pair.orchs[0].call("task.create", {"level": "feature", "title": f"t{n}"}) for n in range(3)
    ]
    assert pair.sync(0)["state"] == "remote_has_none"
    hint = pair.orchs[1].call("status")["status"]["remote_state"]
    assert "git orch sync" in hint
    assert "git orch sync" in pair.orchs[1].call("task.list")["remote_state"]
    out = pair.sync(1)
    assert out["state"] == "adopted"
    assert set(pair.tasks(1)) == {m["task"]["id"] for m in made}
    assert pair.tree(0) == pair.tree(1)
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(pair.remote), str(fresh))
    assert run(fresh, "sync").code == 0
    listed = run(fresh, "task.list")
    assert {t["id"] for t in listed.out["tasks"]} == {m["task"]["id"] for m in made}


def test_a_plain_git_fetch_brings_the_state_after_hooks_install(pair: Fleet) -> None:
    pair.orchs[0].call("task.create", {"level": "feature", "title": "t"})
    pair.sync(0)
    out = pair.orchs[1].call("hooks.install")
    assert any("refs/orchestrator/*" in spec for spec in out["fetch_refspecs"])
    assert pair.orchs[1].call("hooks.install")["fetch_refspecs"] == []  # once
    git(pair.paths[1], "fetch", "-q")
    tracked = git(pair.paths[1], "rev-parse", "refs/orchestrator/remotes/origin/state").strip()
    assert tracked == git(pair.paths[0], "rev-parse", STATE).strip()


def test_both_sides_change_one_task_and_nothing_is_lost(pair: Fleet) -> None:
    a, b = pair.orchs
    task = a.call("task.create", {"level": "feature", "title": "first"})["task"]["id"]
    pair.sync(0)
    pair.sync(1)
    a.call("task.update", {"task_id": task, "title": "from a", "priority": 5})
    b.clock.advance(10)  # b's change is the later one
    b.call("task.update", {"task_id": task, "title": "from b", "status": "in_progress"})
    pair.sync(0)
    merged = pair.sync(1)
    assert merged["state"] == "merged"
    pair.sync(0)
    for n in (0, 1):
        doc = pair.tasks(n)[task]
        assert (doc["title"], doc["priority"], doc["status"]) == ("from b", 5, "in_progress")
    assert pair.tree(0) == pair.tree(1)
    lost = pair.orchs[0].call("sync", {"conflicts": True})["conflicts"]
    assert [(c["id"], c["field"], c["lost"]) for c in lost] == [(task, "title", "from a")]
    assert fsck(pair.paths[0]) == "" and fsck(pair.paths[1]) == ""


def test_notes_and_heartbeats_travel(pair: Fleet) -> None:
    head = git(pair.paths[0], "rev-parse", "HEAD").strip()
    git(pair.paths[0], "notes", "--ref=orchestrator", "add", "-m", "from zero", head)
    git(pair.paths[1], "notes", "--ref=orchestrator", "add", "-m", "from one", head)
    session = pair.orchs[0].call("session.open", {"intent": "resume_work"})["session"]["id"]
    pair.orchs[0].clock.advance(5)
    pair.orchs[0].call("session.heartbeat", {"session_id": session})
    pair.sync(0)
    pair.sync(1)
    notes = git(pair.paths[1], "notes", "--ref=orchestrator", "show", head)
    assert "from zero" in notes and "from one" in notes
    seen = pair.orchs[1].call("session.context", {"session_id": session})["session"]
    assert (
        seen["last_seen_at"]
        == pair.orchs[0].call("session.context", {"session_id": session})["session"]["last_seen_at"]
    )


@pytest.mark.slow
def test_eight_clones_converge_and_lose_nothing(tmp_path: Path) -> None:
    rng = random.Random(8)
    with ExitStack() as stack:
        fleet = Fleet(tmp_path, 8, stack)
        mine: list[list[str]] = [[] for _ in range(8)]
        written: dict[str, list[str]] = {}
        superseded: set[str] = set()
        for rounds in range(5):
            for n, orch in enumerate(fleet.orchs):
                for _ in range(10):
                    made = orch.call("task.create", {"level": "case", "title": f"c{n} r{rounds}"})
                    mine[n].append(made["task"]["id"])
                known = [tid for tid in fleet.tasks(n) if tid not in mine[n]]
                for tid in rng.sample(known, min(3, len(known))):
                    superseded.add(fleet.tasks(n)[tid]["title"])  # replaced by one who saw it
                    title = f"edited by {n} in round {rounds} ({rng.random():.6f})"
                    orch.clock.advance(rng.randint(1, 50))
                    orch.call("task.update", {"task_id": tid, "title": title})
                    written.setdefault(tid, []).append(title)
            for n in rng.sample(range(8), 8):
                fleet.sync(n)
        for _ in range(2):
            for n in range(8):
                fleet.sync(n)
        trees = {fleet.tree(n) for n in range(8)}
        assert len(trees) == 1
        tasks = fleet.tasks(0)
        assert len(tasks) == 400
        lost = {
            c["lost"]
            for n in range(8)
            for c in fleet.orchs[n].call("sync", {"conflicts": True, "limit": 1000})["conflicts"]
        }
        for tid, titles in written.items():
            for title in titles:
                kept = title == tasks[tid]["title"] or title in superseded
                assert kept or title in lost, (tid, title)
        for path in fleet.paths:
            assert fsck(path) == ""


OPS = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.sampled_from(["create", "title", "status", "sync"]),
        st.integers(0, 1000),
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=OPS)
def test_any_operations_and_sync_orders_converge(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[int, str, int]]
) -> None:
    root = tmp_path_factory.mktemp("prop")
    with ExitStack() as stack:
        fleet = Fleet(root, 3, stack)
        for n, op, seed in ops:
            orch = fleet.orchs[n]
            orch.clock.advance(seed % 7)
            known = sorted(fleet.tasks(n))
            if op == "create" or not known:
                orch.call("task.create", {"level": "feature", "title": f"{n}-{seed}"})
            elif op == "title":
                orch.call("task.update", {"task_id": known[seed % len(known)], "title": f"t{seed}"})
            elif op == "status":
                status = ["todo", "in_progress", "blocked", "done", "cancelled"][seed % 5]
                with suppress(PreconditionFailed):  # not every move is allowed from every status
                    orch.call(
                        "task.update", {"task_id": known[seed % len(known)], "status": status}
                    )
            else:
                fleet.sync(n)
        for _ in range(2):
            for n in range(3):
                fleet.sync(n)
        assert len({fleet.tree(n) for n in range(3)}) == 1


def test_the_merge_is_the_same_whichever_side_syncs(pair: Fleet) -> None:
    from gitorch.domain import sync

    a, b = pair.orchs
    task = a.call("task.create", {"level": "feature", "title": "base"})["task"]["id"]
    pair.sync(0)
    pair.sync(1)
    base = git(pair.paths[0], "rev-parse", STATE).strip()
    a.call("task.update", {"task_id": task, "title": "a", "status": "blocked"})
    a.call("task.create", {"level": "feature", "title": "only a"})
    b.call("task.update", {"task_id": task, "title": "b", "priority": 3, "status": "cancelled"})
    git(pair.paths[0], "fetch", "-q", str(pair.paths[1]), f"+{STATE}:refs/theirs")
    ours = git(pair.paths[0], "rev-parse", STATE).strip()
    theirs = git(pair.paths[0], "rev-parse", "refs/theirs").strip()
    ctx = a.context
    one, _ = sync.merge_trees(ctx, base, ours, theirs)
    other, _ = sync.merge_trees(ctx, base, theirs, ours)
    # applied to their own sides, both give the same documents
    for path in set(one) | set(other):
        left = one.get(path) or a.store.read_blob(
            git(pair.paths[0], "rev-parse", f"{ours}:{'/'.join(path)}").strip()
        )
        right = other.get(path) or a.store.read_blob(
            git(pair.paths[0], "rev-parse", f"{theirs}:{'/'.join(path)}").strip()
        )
        assert left == right, path


RACER = """
import sys
from gitorch.api import Orchestrator
from gitorch.model.errors import Conflict
with Orchestrator(sys.argv[1]) as orch:
    session = sys.argv[3]
    try:
        orch.call("lock.acquire", {"scope_type": "file", "scope_path": sys.argv[2],
                                   "owner_session": session, "remote": "origin"})
        print("won")
    except Conflict:
        print("lost")
"""


@pytest.mark.slow
def test_eight_clones_racing_for_a_remote_lock_have_one_winner_each_round(tmp_path: Path) -> None:
    with ExitStack() as stack:
        fleet = Fleet(tmp_path, 8, stack)
        sessions = []
        for n in range(8):
            sessions.append(
                fleet.orchs[n].call("session.open", {"intent": "resume_work"})["session"]["id"]
            )
            fleet.sync(n)
        for n in range(8):
            fleet.sync(n)
    for round_no in range(3):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(fleet.paths[n]), f"path{round_no}", sessions[n]],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(8)
        ]
        done = [proc.communicate() for proc in procs]
        outcomes = sorted(out.strip() for out, _ in done)
        errors = [err for _, err in done if err]
        if errors:
            Path("/tmp/racer-errors.txt").write_text("\n----\n".join(errors))
        assert outcomes == ["lost"] * 7 + ["won"], (round_no, errors)


def test_an_unreachable_remote_is_unavailable_and_changes_nothing(pair: Fleet) -> None:
    a = pair.orchs[0]
    a.call("task.create", {"level": "feature", "title": "t"})
    before = git(pair.paths[0], "rev-parse", STATE).strip()
    git(pair.paths[0], "remote", "set-url", "origin", str(pair.paths[0].parent / "nowhere.git"))
    with pytest.raises(Unavailable, match="untouched"):
        a.call("sync")
    assert git(pair.paths[0], "rev-parse", STATE).strip() == before
    with pytest.raises(InvalidParams, match="no remote"):
        a.call("sync", {"remote": "nosuch"})


def test_a_remote_whose_state_is_not_gitorchs_is_invalid_state(pair: Fleet) -> None:
    a = pair.orchs[0]
    a.call("task.create", {"level": "feature", "title": "t"})
    before = git(pair.paths[0], "rev-parse", STATE).strip()
    junk = git(pair.paths[1], "rev-parse", "HEAD").strip()  # a commit of files, no meta.yaml
    git(pair.paths[1], "push", "-q", "origin", f"{junk}:{STATE}")
    with pytest.raises(InvalidState, match="not a gitorch state"):
        a.call("sync")
    assert git(pair.paths[0], "rev-parse", STATE).strip() == before


@pytest.mark.parametrize("point", ["sync:fetched", "sync:merged", "sync:pushed"])
def test_a_sync_killed_at_any_step_is_completed_by_the_next(pair: Fleet, point: str) -> None:
    a, b = pair.orchs
    a.call("task.create", {"level": "feature", "title": "a"})
    pair.sync(0)
    b.call("task.create", {"level": "feature", "title": "b"})
    pair.sync(1)
    a.call("task.create", {"level": "feature", "title": "a2"})
    killed = run(pair.paths[0], "sync", env={"GIT_ORCH_TESTING": "1", "GIT_ORCH_TEST_CRASH": point})
    assert killed.code == 137, killed
    assert fsck(pair.paths[0]) == ""
    assert run(pair.paths[0], "sync").code == 0
    assert pair.sync(1)["pushed"]
    assert pair.tree(0) == pair.tree(1)
    assert {t["title"] for t in pair.tasks(1).values()} == {"a", "b", "a2"}


CLAIMER = """
import sys
from gitorch.api import Orchestrator
from gitorch.model.errors import Conflict
with Orchestrator(sys.argv[1]) as orch:
    try:
        params = {"claim": True, "session_id": sys.argv[2], "remote": "origin"}
        out = orch.call("graph.ready", params)
        print(out["claimed"]["id"] if out["claimed"] else "none")
    except Conflict:
        print("lost")
"""


@pytest.mark.slow
def test_clones_racing_to_claim_ready_work_never_share_an_item(tmp_path: Path) -> None:
    with ExitStack() as stack:
        fleet = Fleet(tmp_path, 4, stack)
        fleet.orchs[0].call("task.create", {"level": "case", "title": "the only work"})
        fleet.sync(0)
        sessions = []
        for n in range(4):
            fleet.sync(n)
            sessions.append(
                fleet.orchs[n].call("session.open", {"intent": "resume_work"})["session"]["id"]
            )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(fleet.paths[n]), sessions[n]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    done = [proc.communicate() for proc in procs]
    outcomes = [out.strip() for out, _ in done]
    claimed = [o for o in outcomes if o.startswith("tsk-")]
    assert len(claimed) == 1, (outcomes, [err for _, err in done if err])
    assert set(outcomes) - set(claimed) <= {"lost", "none"}


def test_only_lease_and_claim_methods_publish_to_a_remote() -> None:
    from gitorch.contract.registry import METHODS

    publishing = {name for name, method in METHODS.items() if method.publishes}
    assert publishing == {"lock.acquire", "merge.main.acquire_lock", "graph.ready"}
    assert all(METHODS[name].param("remote") is not None for name in publishing)
    assert METHODS["hook.pre_push"].param("remote") is not None  # a git remote's name, no sync


LOCAL_WRITER = """
import sys
from gitorch.api import Orchestrator
with Orchestrator(sys.argv[1]) as orch:
    for i in range(int(sys.argv[2])):
        orch.call("task.create", {"level": "case", "title": f"{sys.argv[3]} {i}"})
        print("ack", flush=True)
"""


@pytest.mark.slow
def test_writers_beside_a_sync_and_a_gc_lose_nothing(pair: Fleet) -> None:
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", LOCAL_WRITER, str(pair.paths[n]), "40", f"w{n}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in (0, 1)
    ]
    rounds = 0
    while any(w.poll() is None for w in writers) and rounds < 200:
        pair.sync(rounds % 2)
        subprocess.run(["git", "-C", str(pair.paths[rounds % 2]), "gc", "-q", "--prune=now"],
                       capture_output=True, check=False)  # fmt: skip
        rounds += 1
    acks = [w.communicate()[0].count("ack") for w in writers]
    assert acks == [40, 40]
    for _ in range(2):
        pair.sync(0)
        pair.sync(1)
    assert pair.tree(0) == pair.tree(1)
    titles = {t["title"] for t in pair.tasks(0).values()}
    assert {f"w{n} {i}" for n in (0, 1) for i in range(40)} <= titles
    for path in pair.paths:
        assert fsck(path) == ""


def test_a_hostile_document_from_the_remote_is_invalid_state_and_changes_nothing(
    pair: Fleet,
) -> None:
    from tests.gitrepo import edit_state

    a = pair.orchs[0]
    task = a.call("task.create", {"level": "feature", "title": "shared"})["task"]["id"]
    pair.sync(0)
    pair.sync(1)
    a.call("task.update", {"task_id": task, "title": "changed here"})
    path = f"tasks/{task[4:6]}/{task}.yaml"
    text = git(pair.paths[1], "show", f"{STATE}:{path}")
    hostile = text.replace("title: shared", "title: &x [*x, !!python/object:os.system ls]")
    edit_state(pair.paths[1], {path: hostile.encode()}, "a hostile hand edit")
    git(pair.paths[1], "push", "-q", "--no-verify", "origin", f"+{STATE}:{STATE}")
    before = git(pair.paths[0], "rev-parse", STATE).strip()
    with pytest.raises(InvalidState):
        a.call("sync")
    assert git(pair.paths[0], "rev-parse", STATE).strip() == before
    assert a.call("task.get", {"task_id": task})["task"]["title"] == "changed here"
