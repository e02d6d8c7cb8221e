"""The state store: commits git can read, atomic swaps, notes, the live ref, packing."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from gitorch.api import Orchestrator
from gitorch.domain.tasks import create_many
from gitorch.model.clock import ManualClock
from gitorch.model.errors import InvalidState, Unavailable
from gitorch.model.kinds import KINDS
from gitorch.store.live import LiveRef
from gitorch.store.notes import Notes
from gitorch.store.repository import STATE_REF
from gitorch.store.state import Transaction
from tests.gitrepo import edit_state, fsck, git, loose_objects

TASK = KINDS["task"]


def new_task(orch: Orchestrator, title: str = "t") -> dict[str, object]:
    task: dict[str, object] = orch.call("task.create", {"level": "case", "title": title})["task"]
    return task


def test_a_write_is_a_commit_git_reads_and_the_worktree_is_untouched(
    orch: Orchestrator, repo: Path
) -> None:
    head = git(repo, "rev-parse", "HEAD")
    (repo / "wip.txt").write_text("uncommitted\n")
    git(repo, "add", "wip.txt")
    status = git(repo, "status", "--porcelain")

    task = new_task(orch, "first")

    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == status
    tid = str(task["id"])
    shard = tid[4:6]
    doc = yaml.safe_load(git(repo, "show", f"orchestrator/state:tasks/{shard}/{tid}.yaml"))
    assert doc["title"] == "first"
    assert yaml.safe_load(git(repo, "show", "orchestrator/state:meta.yaml"))["state_version"] == 1
    config = yaml.safe_load(git(repo, "show", "orchestrator/state:config.yaml"))
    assert config["protected_branch"] == "main"
    message = git(repo, "log", "-1", "--format=%B", "orchestrator/state")
    assert message.startswith(f"task.create {tid}\n")
    trailers = git(repo, "log", "-1", "--format=%(trailers:only,unfold)", "orchestrator/state")
    assert "Orch-Method: task.create" in trailers
    assert "Orch-Session: none" in trailers
    fsck(repo)


def test_every_commit_raises_the_state_version_and_logs_a_reflog_line(
    orch: Orchestrator, repo: Path
) -> None:
    for i in range(3):
        new_task(orch, f"t{i}")
    assert git(repo, "rev-list", "--count", "orchestrator/state").strip() == "3"
    assert yaml.safe_load(git(repo, "show", "orchestrator/state:meta.yaml"))["state_version"] == 3
    reflog = git(repo, "reflog", "show", "--format=%gs", "orchestrator/state").splitlines()
    assert len(reflog) == 3
    assert all(line.startswith("task.create tsk-") for line in reflog)


def test_the_session_of_the_caller_is_named_in_the_commit(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_ORCH_SESSION", "ses-abcd1234")
    with Orchestrator(repo) as orch:
        new_task(orch)
    assert "Orch-Session: ses-abcd1234" in git(
        repo, "log", "-1", "--format=%B", "orchestrator/state"
    )


def test_a_session_variable_that_is_not_an_id_never_reaches_the_commit(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_ORCH_SESSION", "x\nOrch-Method: forged")
    with Orchestrator(repo) as orch:
        new_task(orch)
    message = git(repo, "log", "-1", "--format=%B", "orchestrator/state")
    assert "forged" not in message
    assert "Orch-Session: none" in message


def test_a_snapshot_keeps_reading_the_tip_it_started_from(orch: Orchestrator) -> None:
    first = new_task(orch, "one")
    before = orch.store.snapshot()
    new_task(orch, "two")
    assert before.version == 1
    assert [doc["id"] for doc in before.docs(TASK)] == [first["id"]]
    assert orch.store.snapshot().version == 2


def test_a_transaction_starts_again_when_the_tip_moved_outside_the_lock(
    orch: Orchestrator, repo: Path
) -> None:
    new_task(orch)
    calls = []

    def apply(tx: Transaction) -> str:
        calls.append(tx.commit)
        if len(calls) == 1:
            # Another writer, outside our lock (git update-ref), moves the ref now.
            tip = git(repo, "rev-parse", STATE_REF).strip()
            tree = git(repo, "rev-parse", f"{tip}^{{tree}}").strip()
            foreign = git(repo, "commit-tree", tree, "-p", tip, "-m", "foreign").strip()
            git(repo, "update-ref", STATE_REF, foreign, tip)
        tx.put(TASK, "tsk-zzzzzzzz", {"id": "tsk-zzzzzzzz"})
        return "done"

    assert orch.store.transact("test.retry", apply) == "done"
    assert len(calls) == 2 and calls[0] != calls[1]
    subjects = git(repo, "log", "--format=%s", "orchestrator/state").splitlines()
    assert subjects[:2] == ["test.retry tsk-zzzzzzzz", "foreign"]


def test_a_failed_transaction_writes_nothing(orch: Orchestrator, repo: Path) -> None:
    new_task(orch)
    tip = git(repo, "rev-parse", STATE_REF)

    def apply(tx: Transaction) -> None:
        tx.put(TASK, "tsk-zzzzzzzz", {"id": "tsk-zzzzzzzz"})
        raise InvalidState("refused")

    with pytest.raises(InvalidState):
        orch.store.transact("test.fail", apply)
    assert git(repo, "rev-parse", STATE_REF) == tip


def test_a_ref_lock_left_by_our_dead_git_is_removed_at_once(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        new_task(orch)
        lock = repo / ".git" / "refs" / "orchestrator" / "state.lock"
        dead = subprocess.Popen(["true"])
        dead.wait()  # a pid that no longer runs: our git update-ref, killed
        record = Path(orch.repo.orch_dir) / "ref-writer"
        record.write_text(f"{dead.pid} {os.uname().nodename} {time.time():.3f} {'a' * 40}\n")
        lock.write_text("a" * 40 + "\n")
        with Orchestrator(repo, lock_wait=1.0) as again:
            new_task(again, "after the crash")
            assert again.store.snapshot().version == 2
        assert not lock.exists()


@pytest.mark.parametrize("owner", ["none", "alive", "other-host", "other-value"])
def test_a_ref_lock_that_is_not_provably_ours_is_never_removed(repo: Path, owner: str) -> None:
    with Orchestrator(repo) as orch:
        new_task(orch)
        tip = git(repo, "rev-parse", STATE_REF)
        lock = repo / ".git" / "refs" / "orchestrator" / "state.lock"
        record = Path(orch.repo.orch_dir) / "ref-writer"
        if owner == "alive":
            record.write_text(f"{os.getpid()} {os.uname().nodename} {time.time():.3f} {'a' * 40}\n")
        elif owner == "other-host":
            record.write_text(f"1 some-other-machine {time.time():.3f} {'a' * 40}\n")
        elif owner == "other-value":
            dead = subprocess.Popen(["true"])
            dead.wait()
            record.write_text(f"{dead.pid} {os.uname().nodename} {time.time():.3f} {'b' * 40}\n")
        lock.write_text("a" * 40 + "\n")  # a person's git update-ref, mid-way
        with pytest.raises(Unavailable, match=r"state\.lock"):
            new_task(orch, "blocked")
        assert lock.read_text() == "a" * 40 + "\n"
        assert git(repo, "rev-parse", STATE_REF) == tip
        lock.unlink()
        new_task(orch, "after the person's git finished")


def test_bulk_changes_are_written_as_one_pack(orch: Orchestrator, repo: Path) -> None:
    before = loose_objects(repo)
    ids = create_many(
        orch.context.for_call("task.import", None),
        [{"level": "case", "title": f"t{i}"} for i in range(400)],
    )
    assert len(ids) == 400
    assert loose_objects(repo) == before
    assert orch.call("task.list")["total"] == 400
    fsck(repo)


def test_packing_keeps_loose_objects_bounded_and_loses_nothing(repo: Path) -> None:
    threshold = 120
    with Orchestrator(repo, pack_threshold=threshold) as orch:
        for i in range(200):
            new_task(orch, f"t{i}")
        # Each change writes 6 loose objects; 200 changes would leave 1,200.
        assert loose_objects(repo) <= threshold + 6
        assert orch.call("task.list")["total"] == 200
    assert git(repo, "rev-list", "--count", "orchestrator/state").strip() == "200"
    git(repo, "log", "-p", "orchestrator/state")  # every commit and blob still readable
    fsck(repo)


def test_a_hand_edited_document_that_does_not_parse_is_invalid_state(
    orch: Orchestrator, repo: Path
) -> None:
    task = new_task(orch)
    tid = str(task["id"])
    path = f"tasks/{tid[4:6]}/{tid}.yaml"
    edit_state(repo, {path: b"title: [unclosed\n"})
    with Orchestrator(repo) as fresh, pytest.raises(InvalidState) as info:
        fresh.call("task.get", {"task_id": tid})
    assert path in info.value.message


def test_a_document_with_a_wrong_field_is_invalid_state(orch: Orchestrator, repo: Path) -> None:
    task = new_task(orch)
    tid = str(task["id"])
    path = f"tasks/{tid[4:6]}/{tid}.yaml"
    doc = yaml.safe_load(git(repo, "show", f"orchestrator/state:{path}"))
    doc["priority"] = "high"
    edit_state(repo, {path: yaml.safe_dump(doc).encode()})
    with Orchestrator(repo) as fresh:
        with pytest.raises(InvalidState) as info:
            fresh.call("task.list")
        assert "priority" in info.value.message and path in info.value.message


def test_notes_append_and_git_reads_them(orch: Orchestrator, repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    notes = Notes(orch.store)
    notes.add(head, "case tsk-1 step 1: pass")
    notes.add(head, "case tsk-1 step 2: pass")
    shown = git(repo, "notes", "--ref=orchestrator", "show", head)
    assert shown == "case tsk-1 step 1: pass\n\ncase tsk-1 step 2: pass\n"
    assert "step 2: pass" in git(repo, "log", "-1", "--notes=orchestrator")
    assert notes.read(head) == shown


def test_a_note_git_wrote_meanwhile_is_kept(orch: Orchestrator, repo: Path) -> None:
    (repo / "f").write_text("x")
    git(repo, "add", "f")
    git(repo, "commit", "-qm", "second")
    first, second = git(repo, "rev-list", "HEAD").split()
    Notes(orch.store).add(first, "ours")
    git(repo, "notes", "--ref=orchestrator", "add", "-m", "theirs", second)
    Notes(orch.store).add(first, "ours again", append=False)
    assert git(repo, "notes", "--ref=orchestrator", "show", second) == "theirs\n"
    assert git(repo, "notes", "--ref=orchestrator", "show", first) == "ours again\n"


def test_notes_fan_out_as_git_does_and_stay_readable(repo: Path) -> None:
    commits = []
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    for i in range(300):
        commits.append(git(repo, "commit-tree", tree, "-m", f"c{i}").strip())
    with Orchestrator(repo, clock=ManualClock()) as orch:
        notes = Notes(orch.store)
        for i, commit in enumerate(commits):
            notes.add(commit, f"note {i}")
        assert notes.read(commits[7]) == "note 7\n"
    assert len(git(repo, "notes", "--ref=orchestrator", "list").splitlines()) == 300
    assert git(repo, "notes", "--ref=orchestrator", "show", commits[299]) == "note 299\n"
    root = git(repo, "ls-tree", "refs/notes/orchestrator").splitlines()
    # Past 256 notes new ones go to ab/cdef... subtrees, so the root stays small.
    assert sum(" blob " in line for line in root) <= 256
    assert any(" tree " in line for line in root)
    fsck(repo)


def test_the_live_ref_is_replaced_without_history(orch: Orchestrator, repo: Path) -> None:
    live = LiveRef(orch.store)
    live.put({"sessions/ses-aaaaaaaa.yaml": {"last_seen_at": "1"}})
    live.put({"sessions/ses-bbbbbbbb.yaml": {"last_seen_at": "2"}})
    live.put({"sessions/ses-aaaaaaaa.yaml": {"last_seen_at": "3"}})
    assert git(repo, "rev-list", "--count", "refs/orchestrator/live").strip() == "1"
    assert live.read_all() == {
        "sessions/ses-aaaaaaaa.yaml": {"last_seen_at": "3"},
        "sessions/ses-bbbbbbbb.yaml": {"last_seen_at": "2"},
    }
    assert not (repo / ".git" / "logs" / "refs" / "orchestrator" / "live").exists()
    live.put({"sessions/ses-bbbbbbbb.yaml": None})
    assert list(live.read_all()) == ["sessions/ses-aaaaaaaa.yaml"]
    # State history did not grow either.
    assert orch.store.snapshot().version == 0


def test_linked_worktrees_share_one_state_and_one_lock(orch: Orchestrator, repo: Path) -> None:
    task = new_task(orch)
    git(repo, "worktree", "add", "-q", "--detach", str(repo.parent / "linked"))
    with Orchestrator(repo.parent / "linked") as other:
        assert other.repo.common_dir == orch.repo.common_dir
        assert other.call("task.get", {"task_id": task["id"]})["task"] == task
        new_task(other)
    assert orch.store.snapshot().version == 2
