"""The store never answers wrong or empty when the truth is otherwise.

Each test here names a way a store can lie (a cache out of step, a missing
object, a document in the wrong place, a rewound ref, a hostile document)
and checks that the answer is the truth or ``invalid_state`` naming it.
"""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitorch.api import Orchestrator
from gitorch.model.clock import ManualClock
from gitorch.model.errors import Forbidden, InvalidState, Unavailable
from gitorch.model.ids import shard_of
from gitorch.model.kinds import KINDS
from gitorch.store import objects as objects_module
from gitorch.store import packing
from gitorch.store.repository import STATE_REF
from gitorch.store.state import Transaction
from tests.gitrepo import edit_state, fsck, git
from tests.gitrepo import orch as run

TASK = KINDS["task"]


def doc_path(tid: str) -> str:
    return f"tasks/{shard_of(tid)}/{tid}.yaml"


def new_task(orch: Orchestrator, title: str = "t") -> str:
    task_id: str = orch.call("task.create", {"level": "case", "title": title})["task"]["id"]
    return task_id


def loose_path(repo: Path, sha: str) -> Path:
    return repo / ".git" / "objects" / sha[:2] / sha[2:]


def by_id(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {doc["id"]: doc for doc in docs}


# -- the cache is a pure function of object ids ---------------------------------------
def test_cached_and_uncached_reads_agree_at_every_historical_commit(repo: Path) -> None:
    """Regression: a multi-document write into a shard whose cache was incomplete
    left the cache keyed by the old tree, so old commits listed future tasks."""
    rng = random.Random(5)
    shards = ["aa", "ab", "ac"]  # few shards, so writes pile into the same ones
    counter = iter(range(1, 10_000))

    def shard_id() -> str:
        # an id in one of a few shards: tsk-<shard><6 random letters>
        return f"tsk-{rng.choice(shards)}{next(counter):06d}".replace("0", "z").replace("1", "y")

    with Orchestrator(repo, clock=ManualClock()) as orch:
        for step in range(40):
            ids = [shard_id() for _ in range(1 if rng.random() < 0.5 else rng.randint(2, 5))]

            def apply(tx: Transaction, ids: list[str] = ids, step: int = step) -> None:
                for tid in ids:
                    tx.put(TASK, tid, {"id": tid, "n": step})

            orch.store.transact("test.mix", apply)
            if rng.random() < 0.4:
                orch.store.snapshot().docs(TASK)  # warm the cache part-way through history
        commits = git(repo, "rev-list", STATE_REF).split()
        rng.shuffle(commits)
        for commit in commits[: len(commits) // 2]:
            orch.store.snapshot_at(commit).docs(TASK)  # cache some old commits, out of order
    with (
        Orchestrator(repo) as cached,
        Orchestrator(repo, cache=False) as uncached,
    ):
        for commit in git(repo, "rev-list", STATE_REF).split():
            warm = by_id(cached.store.snapshot_at(commit).docs(TASK))
            truth = by_id(uncached.store.snapshot_at(commit).docs(TASK))
            assert warm == truth, commit
            listed = git(repo, "ls-tree", "-r", "--name-only", commit, "tasks/").split()
            assert sorted(truth) == sorted(Path(p).stem for p in listed)


def cache_rows(repo: Path, table: str) -> list[tuple[str, str, int]]:
    db = sqlite3.connect(repo / ".git" / "orchestrator" / "cache.sqlite")
    try:
        return list(db.execute(f"SELECT key, body, seal FROM {table}"))
    finally:
        db.close()


def cache_exec(repo: Path, sql: str, *args: Any) -> None:
    db = sqlite3.connect(repo / ".git" / "orchestrator" / "cache.sqlite", isolation_level=None)
    try:
        db.execute(sql, args)
    finally:
        db.close()


def warm(repo: Path) -> list[dict[str, Any]]:
    with Orchestrator(repo) as orch:
        tasks: list[dict[str, Any]] = orch.call("task.list")["tasks"]
        return tasks


@pytest.mark.parametrize(
    "damage",
    ["edited", "truncated", "garbage", "wrong-shape", "moved-key", "removed", "added"],
)
def test_a_damaged_cache_entry_is_rebuilt_never_returned(repo: Path, damage: str) -> None:
    """Regression: an edited, removed or added entry of a shard cache file was returned forever."""
    with Orchestrator(repo) as orch:
        first, second = new_task(orch, "first"), new_task(orch, "second")
    truth = warm(repo)
    assert {t["title"] for t in truth} == {"first", "second"}
    for table in ("docs", "shards"):
        rows = cache_rows(repo, table)
        assert rows, table
        key, body, seal = rows[0]
        if damage == "edited":
            cache_exec(
                repo,
                f"UPDATE {table} SET body = ? WHERE key = ?",
                body.replace("first", "FORGED").replace("second", "FORGED"),
                key,
            )
        elif damage == "truncated":
            cache_exec(
                repo, f"UPDATE {table} SET body = ? WHERE key = ?", body[: len(body) // 2], key
            )
        elif damage == "garbage":
            cache_exec(
                repo,
                f"UPDATE {table} SET body = ?, seal = 7 WHERE key = ?",
                "\x00\xff garbage",
                key,
            )
        elif damage == "wrong-shape":
            import zlib

            bad = '"just a string"'
            cache_exec(
                repo,
                f"UPDATE {table} SET body = ?, seal = ? WHERE key = ?",
                bad,
                zlib.crc32(bad.encode(), zlib.crc32(key.encode())),
                key,
            )
        elif damage == "moved-key":
            other = "f" * 40
            cache_exec(repo, f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?)", other, body, seal)
            cache_exec(repo, f"DELETE FROM {table} WHERE key = ?", key)
        elif damage == "removed":
            cache_exec(repo, f"DELETE FROM {table} WHERE key = ?", key)
        elif damage == "added":
            cache_exec(
                repo, f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?)", "e" * 40, body, seal
            )
    assert warm(repo) == truth
    with Orchestrator(repo) as orch:
        assert orch.call("task.get", {"task_id": first})["task"]["title"] == "first"
        assert orch.call("task.get", {"task_id": second})["task"]["title"] == "second"
    assert warm(repo) == truth


@pytest.mark.parametrize("content", [b"", b"not a database at all" * 100, b"SQLite format 3\x00"])
def test_a_cache_file_that_is_not_a_database_is_replaced(repo: Path, content: bytes) -> None:
    with Orchestrator(repo) as orch:
        new_task(orch, "kept")
    path = repo / ".git" / "orchestrator" / "cache.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(content)
    assert [t["title"] for t in warm(repo)] == ["kept"]
    assert [t["title"] for t in warm(repo)] == ["kept"]


# -- missing objects are invalid_state, never an empty state ---------------------------
@pytest.mark.parametrize("what", ["commit", "root-tree", "shard-tree", "blob"])
def test_a_missing_object_is_invalid_state_naming_it(repo: Path, what: str) -> None:
    """Regression: a missing tip read as an empty state and writes said 'kept moving'."""
    with Orchestrator(repo) as orch:
        tid = new_task(orch, "precious")
    tip = git(repo, "rev-parse", STATE_REF).strip()
    sha = {
        "commit": tip,
        "root-tree": git(repo, "rev-parse", f"{tip}^{{tree}}").strip(),
        "shard-tree": git(repo, "rev-parse", f"{tip}:tasks/{shard_of(tid)}").strip(),
        "blob": git(repo, "rev-parse", f"{tip}:{doc_path(tid)}").strip(),
    }[what]
    loose_path(repo, sha).unlink()
    # no cache: the truth must come from git (a cached document of a blob is still true)
    for call in ("task.list", "task.get", "task.create"):
        params = {
            "task.list": {},
            "task.get": {"task_id": tid},
            "task.create": {"level": "case", "title": "x"},
        }[call]
        if what in ("blob", "shard-tree") and call == "task.create":
            continue  # a write that never reads the missing object succeeds, truthfully
        with Orchestrator(repo, cache=False) as orch, pytest.raises(InvalidState) as info:
            orch.call(call, params)
        assert sha in info.value.message, call
        assert STATE_REF in info.value.message
        assert "reflog" in info.value.message
    assert git(repo, "rev-parse", STATE_REF).strip() == tip  # nothing was written
    # As agents run it, with whatever cache the writer left: a single read always
    # checks its objects; a listing answers from views of objects it has read.
    result = run(repo, "task.get", "--task-id", tid)
    assert result.code == 1 and result.out["error"]["code"] == "invalid_state"
    assert result.out["error"]["details"]["object"] == sha
    if what in ("commit", "root-tree"):
        result = run(repo, "task.list")
        assert result.code == 1 and result.out["error"]["code"] == "invalid_state"


def test_a_write_never_moves_the_ref_onto_missing_objects(repo: Path) -> None:
    """Regression: gc pruned a write's objects and the ref was moved onto them anyway."""
    with Orchestrator(repo) as orch:
        new_task(orch)
        written: list[str] = []
        original = objects_module.ObjectWriter.write_loose

        def write_then_prune(self: Any, obj_type: str, data: bytes) -> str:
            sha = original(self, obj_type, data)
            if obj_type == "commit" and not written:
                written.append(sha)
                loose_path(repo, sha).unlink()  # a gc --prune=now between write and move
            return sha

        objects_module.ObjectWriter.write_loose = write_then_prune  # type: ignore[method-assign]
        try:
            new_task(orch, "survives")
        finally:
            objects_module.ObjectWriter.write_loose = original  # type: ignore[method-assign]
        assert written
    fsck(repo)
    assert sorted(t["title"] for t in warm(repo)) == ["survives", "t"]


# -- documents are checked against where they live -------------------------------------
def test_a_document_whose_id_is_not_its_file_name_is_invalid_state(repo: Path) -> None:
    """Regression: task.update A silently overwrote task B when A's file held B's id."""
    with Orchestrator(repo) as orch:
        a, b = new_task(orch, "a"), new_task(orch, "b")
    b_doc = git(repo, "show", f"{STATE_REF}:{doc_path(b)}").encode()
    edit_state(repo, {doc_path(a): b_doc})
    for cache in (True, False):
        with Orchestrator(repo, cache=cache) as orch:
            with pytest.raises(InvalidState, match=doc_path(a)):
                orch.call("task.update", {"task_id": a, "title": "clobber"})
            with pytest.raises(InvalidState, match=doc_path(a)):
                orch.call("task.list")
            with pytest.raises(InvalidState, match=doc_path(a)):
                orch.call("task.get", {"task_id": a})
            assert orch.call("task.get", {"task_id": b})["task"]["title"] == "b"


def test_a_document_in_the_wrong_shard_is_invalid_state(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        tid = new_task(orch)
    content = git(repo, "show", f"{STATE_REF}:{doc_path(tid)}").encode()
    wrong = "zz" if shard_of(tid) != "zz" else "yy"
    edit_state(repo, {doc_path(tid): None, f"tasks/{wrong}/{tid}.yaml": content})
    for cache in (True, False):
        with Orchestrator(repo, cache=cache) as orch, pytest.raises(InvalidState) as info:
            orch.call("task.list")
        assert f"tasks/{wrong}/{tid}.yaml" in info.value.message


def test_a_state_without_meta_yaml_is_invalid_state_not_a_new_start(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        new_task(orch)
        new_task(orch)
    edit_state(repo, {"meta.yaml": None})
    tip = git(repo, "rev-parse", STATE_REF)
    with Orchestrator(repo) as orch:
        for call, params in (
            ("task.list", {}),
            ("task.create", {"level": "case", "title": "x"}),
        ):
            with pytest.raises(InvalidState, match=r"meta\.yaml"):
                orch.call(call, params)
    assert git(repo, "rev-parse", STATE_REF) == tip


def test_a_state_of_a_newer_schema_is_refused_clearly(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        tid = new_task(orch)
    meta = yaml.safe_load(git(repo, "show", f"{STATE_REF}:meta.yaml"))
    meta["schema_version"] = 99
    edit_state(repo, {"meta.yaml": yaml.safe_dump(meta).encode()})
    with Orchestrator(repo) as orch:
        for call, params in (("task.get", {"task_id": tid}), ("task.list", {})):
            with pytest.raises(InvalidState, match="newer gitorch"):
                orch.call(call, params)


def test_a_rewound_state_ref_never_reuses_a_version(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        for i in range(3):
            new_task(orch, f"t{i}")
        assert orch.store.snapshot().version == 3
        first = git(repo, "rev-list", "--reverse", STATE_REF).split()[0]
        git(repo, "update-ref", STATE_REF, first)  # a foreign rewind to version 1
        assert orch.store.rewound() == {"tip_version": 1, "highest_version": 3}
        board = run(repo, "status", "--format", "json").out["status"]
        assert board["rewound"] == {"tip_version": 1, "highest_version": 3}
        assert "rewound to version 1" in run(repo, "status").stdout
        new_task(orch, "after the rewind")
        assert orch.store.snapshot().version == 4
        assert orch.store.rewound() is None
    versions = [
        yaml.safe_load(git(repo, "show", f"{c}:meta.yaml"))["state_version"]
        for c in git(repo, "rev-list", "--all", "--reflog").split()
        if git(repo, "cat-file", "-t", c).strip() == "commit"
        and "meta.yaml" in git(repo, "ls-tree", "--name-only", c)
    ]
    assert len(versions) == len(set(versions))


# -- state documents are plain data ----------------------------------------------------
BOMB = (
    b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    b"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    b"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    b"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    b"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    b"i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


@pytest.mark.parametrize(
    "field",
    [
        pytest.param("alias-bomb", id="alias-bomb"),
        pytest.param("summary: 2026-01-01\n", id="date"),
        pytest.param("summary: !!binary aGVsbG8=\n", id="binary"),
        pytest.param("input_contract: !!set {a: null}\n", id="set"),
        pytest.param("summary: !!str tagged\n", id="explicit-tag"),
        pytest.param("input_contract: .nan\n", id="nan"),
    ],
)
def test_a_document_that_is_not_plain_data_is_refused_on_every_read(repo: Path, field: str) -> None:
    """Regression: a 600-byte alias bomb took 45 s and 2.6 GB; dates were cached as text."""
    with Orchestrator(repo) as orch:
        tid = new_task(orch)
    text = git(repo, "show", f"{STATE_REF}:{doc_path(tid)}")
    keep = [
        line
        for line in text.splitlines(keepends=True)
        if not line.startswith(("summary:", "input_contract:"))
    ]
    extra = BOMB if field == "alias-bomb" else field.encode()
    edit_state(repo, {doc_path(tid): "".join(keep).encode() + extra})
    for _ in range(3):  # cold, then warm: the same answer every time
        with Orchestrator(repo) as orch:
            with pytest.raises(InvalidState, match=doc_path(tid)):
                orch.call("task.get", {"task_id": tid})
            with pytest.raises(InvalidState, match=doc_path(tid)):
                orch.call("task.list")


# -- a committed write is never reported as failed -------------------------------------
def test_a_failing_repack_after_the_move_is_logged_not_reported(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: a failing repack turned every later successful write into internal."""

    def broken_repack(orch_dir: str, cwd: str) -> bool:
        raise Unavailable("repack exploded")

    monkeypatch.setattr(packing, "repack", broken_repack)
    with Orchestrator(repo, pack_threshold=1) as orch:
        ids = [new_task(orch, f"t{i}") for i in range(3)]
        assert orch.call("task.list")["total"] == 3
        assert {t["id"] for t in orch.call("task.list")["tasks"]} == set(ids)
        log = Path(orch.repo.orch_dir) / "log" / "after-commit.log"
        assert "repack exploded" in log.read_text()


def test_a_broken_counter_and_cache_after_the_move_do_not_fail_the_write(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        new_task(orch)
    orch_dir = repo / ".git" / "orchestrator"
    (orch_dir / "loose-objects").unlink(missing_ok=True)
    (orch_dir / "loose-objects").mkdir()  # the counter cannot be written
    (orch_dir / "loose-objects.tmp").mkdir()
    with Orchestrator(repo) as orch:
        tid = new_task(orch, "committed")
        assert orch.call("task.get", {"task_id": tid})["task"]["title"] == "committed"


# -- object writes survive housekeeping and a full disk --------------------------------
def test_an_object_directory_removed_by_housekeeping_is_made_again(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_makedirs = os.makedirs
    removed: list[str] = []

    def makedirs_then_prune(path: str, exist_ok: bool = False) -> None:
        real_makedirs(path, exist_ok=exist_ok)
        if "/objects/" in str(path) and len(removed) < 3:
            try:
                os.rmdir(path)  # git prune-packed removes empty fan-out directories
                removed.append(str(path))
            except OSError:
                pass  # not empty: git would not remove it either

    monkeypatch.setattr(objects_module.os, "makedirs", makedirs_then_prune)
    with Orchestrator(repo) as orch:
        new_task(orch, "written anyway")
    assert removed
    fsck(repo)


def test_a_full_disk_is_unavailable_naming_it(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    def full(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    with Orchestrator(repo) as orch:
        new_task(orch)
        tip = git(repo, "rev-parse", STATE_REF)
        monkeypatch.setattr(objects_module.os, "write", full)
        with pytest.raises(Unavailable, match="No space left on device"):
            new_task(orch, "does not fit")
        monkeypatch.undo()
        assert git(repo, "rev-parse", STATE_REF) == tip
        new_task(orch, "fits again")


# -- repositories gitorch cannot serve are refused up front ----------------------------
def test_a_sha256_repository_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "sha256"
    git(tmp_path, "init", "-q", "--object-format=sha256", str(path))
    for args in (("task.create", "--level", "epic", "--title", "x"), ("task.list",)):
        result = run(path, *args)
        assert result.code == 1, result
        assert result.out["error"]["code"] == "unavailable"
        assert "sha256" in result.out["error"]["message"]
    assert git(path, "for-each-ref").strip() == ""
    assert not (path / ".git" / "orchestrator" / "cache.sqlite").exists()


def test_an_object_directory_elsewhere_is_honoured(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "objects-elsewhere"
    git(repo, "clone", "-q", "--bare", str(repo), str(tmp_path / "donor.git"))
    os.rename(tmp_path / "donor.git" / "objects", elsewhere)
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(elsewhere))
    with Orchestrator(repo) as orch:
        tid = new_task(orch, "stored elsewhere")
    assert git(repo, "show", f"{STATE_REF}:{doc_path(tid)}").count("stored elsewhere") == 1
    assert (elsewhere / "info").exists()
    assert list(elsewhere.glob("??/*"))
    fsck(repo)


def test_a_clone_with_alternates_reads_and_writes(repo: Path, tmp_path: Path) -> None:
    with Orchestrator(repo) as orch:
        new_task(orch, "from the origin")
    clone = tmp_path / "shared-clone"
    git(tmp_path, "clone", "-q", "--shared", str(repo), str(clone))
    git(clone, "fetch", "-q", "origin", f"+{STATE_REF}:{STATE_REF}")
    with Orchestrator(clone) as orch:
        assert orch.call("task.list")["total"] == 1
        new_task(orch, "in the clone")
        assert orch.call("task.list")["total"] == 2
    fsck(clone)


def test_git_messages_are_matched_under_any_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: LANGUAGE=de turned 'not a repository' into internal."""
    monkeypatch.setenv("LANGUAGE", "de")
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    nowhere = tmp_path / "not-a-repo"
    nowhere.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    result = run(nowhere, "task.list")
    assert result.code == 1
    assert result.out["error"]["code"] == "not_found"


def test_a_reference_transaction_hook_that_refuses_is_forbidden_and_moves_nothing(
    repo: Path,
) -> None:
    with Orchestrator(repo) as orch:
        new_task(orch)
    tip = git(repo, "rev-parse", STATE_REF)
    lines = len(git(repo, "reflog", STATE_REF).splitlines())
    hook = repo / ".git" / "hooks" / "reference-transaction"
    hook.write_text(
        '#!/bin/sh\n[ "$1" = prepared ] && grep -q orchestrator/state && exit 1\nexit 0\n'
    )
    hook.chmod(0o755)
    with Orchestrator(repo) as orch, pytest.raises(Forbidden, match="reference-transaction"):
        new_task(orch, "vetoed")
    assert git(repo, "rev-parse", STATE_REF) == tip
    assert len(git(repo, "reflog", STATE_REF).splitlines()) == lines


def test_a_malformed_tree_is_invalid_state(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        new_task(orch)
    junk = git(
        repo, "hash-object", "-t", "tree", "--literally", "-w", "--stdin", input=b"junk"
    ).strip()
    tip = git(repo, "rev-parse", STATE_REF).strip()
    commit = git(repo, "commit-tree", junk, "-p", tip, "-m", "junk").strip()
    git(repo, "update-ref", STATE_REF, commit)
    result = run(repo, "task.list")
    assert result.code == 1
    assert result.out["error"]["code"] == "invalid_state"
    assert junk in result.out["error"]["message"]
