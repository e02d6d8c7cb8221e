"""``git orch`` as agents run it: one process per call, state checked with plain git.

Every call goes through a real ``git orch`` subprocess (git finds the
``git-orch`` script on PATH, as it does for agents); what the call left in
the repository is read back with ``git show`` and ``git log``, never with
gitorch itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from gitorch.contract.registry import METHODS
from tests.gitrepo import Result, fsck, git, orch

ERROR_KEYS = {"code", "message", "details"}


# --- helpers -------------------------------------------------------------------------------


def one_json_object(stdout: str) -> dict[str, Any]:
    """The one JSON object ``stdout`` holds; fails if anything else is there."""
    assert stdout.endswith("\n"), repr(stdout)
    value, end = json.JSONDecoder().raw_decode(stdout)
    assert stdout[end:] == "\n", f"more than one JSON object on stdout: {stdout!r}"
    assert isinstance(value, dict), stdout
    return value


def assert_ok(result: Result) -> dict[str, Any]:
    """A successful call: exit 0, one JSON object on one line, nothing on stderr."""
    assert result.code == 0, result.stdout + result.stderr
    assert result.stderr == ""
    out = one_json_object(result.stdout)
    assert result.stdout.count("\n") == 1, "compact JSON is one line"
    assert "error" not in out
    return out


def assert_error(result: Result, exit_code: int, code: str) -> dict[str, Any]:
    """A failed call as the contract says; the exit code is checked last."""
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout
    out = one_json_object(result.stdout)
    assert set(out) == {"error"}, out
    error: dict[str, Any] = out["error"]
    assert set(error) == ERROR_KEYS, error
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], dict)
    assert error["code"] == code, error
    assert result.stderr.startswith("git orch: "), result.stderr
    assert result.stderr.endswith("\n")
    assert result.stderr.count("\n") == 1, f"stderr is more than one line: {result.stderr!r}"
    assert result.code == exit_code, (result.code, result.stdout, result.stderr)
    return error


def create(repo: Path, *args: str, level: str = "epic", title: str = "a task") -> dict[str, Any]:
    """Create a task through the CLI; the task."""
    task: dict[str, Any] = assert_ok(
        orch(repo, "task.create", "--level", level, "--title", title, *args)
    )["task"]
    return task


def doc_path(task_id: str) -> str:
    """Where a task's document lives in the state tree."""
    return f"tasks/{task_id[4:6]}/{task_id}.yaml"


def stored(repo: Path, task_id: str) -> dict[str, Any]:
    """A task's document as plain git shows it."""
    doc: dict[str, Any] = yaml.safe_load(
        git(repo, "show", f"orchestrator/state:{doc_path(task_id)}")
    )
    return doc


def checkout_state(repo: Path) -> dict[str, str]:
    """Everything a state write must leave alone: HEAD, the index, the working tree."""
    return {
        "head": git(repo, "rev-parse", "HEAD"),
        "symbolic": git(repo, "symbolic-ref", "HEAD"),
        "index": git(repo, "ls-files", "--stage"),
        "status": git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
        "diff": git(repo, "diff"),
        "cached": git(repo, "diff", "--cached"),
        "branches": git(repo, "for-each-ref", "refs/heads"),
    }


# --- success -------------------------------------------------------------------------------


def test_create_prints_one_object_and_commits_to_the_state_ref(repo: Path) -> None:
    result = orch(repo, "task.create", "--level", "epic", "--title", "first")
    out = assert_ok(result)
    task = out["task"]
    assert re.fullmatch(r"tsk-[0-9a-hjkmnp-tv-z]{8}", task["id"]), task["id"]
    assert task["title"] == "first"
    assert task["level"] == "epic"
    assert task["status"] == "todo"
    assert task["version"] == 1

    doc = stored(repo, task["id"])
    assert doc["id"] == task["id"]
    assert doc["title"] == "first"
    assert doc["level"] == "epic"

    subjects = git(repo, "log", "--format=%s", "orchestrator/state").splitlines()
    assert subjects[0] == f"task.create {task['id']}"
    method = git(
        repo, "log", "-1", "--format=%(trailers:key=Orch-Method,valueonly)", "orchestrator/state"
    )
    assert method.strip() == "task.create"
    session = git(repo, "log", "-1", "--format=%(trailers:key=Orch-Session)", "orchestrator/state")
    assert session.startswith("Orch-Session:"), session
    fsck(repo)


def test_state_writes_leave_head_index_and_worktree_alone(repo: Path) -> None:
    (repo / "README.md").write_text("changed, not staged\n")
    (repo / "staged.txt").write_text("staged\n")
    git(repo, "add", "staged.txt")
    (repo / "untracked.txt").write_text("untracked\n")
    before = checkout_state(repo)

    task = create(repo, title="one")
    assert_ok(orch(repo, "task.update", "--task-id", task["id"], "--status", "in_progress"))
    create(repo, "--parent-id", task["id"], level="feature", title="two")

    assert checkout_state(repo) == before
    assert len(git(repo, "log", "--format=%s", "orchestrator/state").splitlines()) == 3


def test_enum_is_read_case_insensitively_with_dash(repo: Path) -> None:
    task = create(repo, level="Test-Group")
    assert task["level"] == "test_group"
    assert stored(repo, task["id"])["level"] == "test_group"


def test_enum_accepts_a_space_for_underscore(repo: Path) -> None:
    task = create(repo, level="TEST GROUP")
    assert task["level"] == "test_group"


# --- errors --------------------------------------------------------------------------------


class ErrorCase(NamedTuple):
    """One wrong call: its argv (``<epic>``, ``<step>``, ``<missing>`` are filled in)."""

    test_id: str
    args: tuple[str, ...]
    exit_code: int
    code: str


ERROR_CASES = [
    ErrorCase("unknown_method", ("task.nope",), 2, "not_found"),
    ErrorCase("unknown_method_no_namespace", ("frobnicate", "--x", "1"), 2, "not_found"),
    ErrorCase("unknown_option", ("task.list", "--bogus", "x"), 2, "invalid_params"),
    ErrorCase("unknown_flag", ("task.get", "--task-id", "abc", "--bogus"), 2, "invalid_params"),
    ErrorCase("option_missing_value", ("task.get", "--task-id"), 2, "invalid_params"),
    ErrorCase("unexpected_positional", ("task.get", "abc"), 2, "invalid_params"),
    ErrorCase("bad_format", ("task.list", "--format", "xml"), 2, "invalid_params"),
    ErrorCase("missing_required", ("task.create", "--level", "epic"), 1, "invalid_params"),
    ErrorCase("missing_required_id", ("task.get",), 1, "invalid_params"),
    ErrorCase(
        "wrong_type_integer",
        ("task.create", "--level", "epic", "--title", "t", "--priority", "abc"),
        1,
        "invalid_params",
    ),
    ErrorCase(
        "unknown_enum_value",
        ("task.create", "--level", "bogus", "--title", "t"),
        1,
        "invalid_params",
    ),
    ErrorCase(
        "empty_title", ("task.create", "--level", "epic", "--title", "  "), 1, "invalid_params"
    ),
    ErrorCase("unknown_id", ("task.get", "--task-id", "tsk-zzzzzzzz"), 1, "not_found"),
    ErrorCase("unknown_id_prefix", ("task.get", "--task-id", "zzzz"), 1, "not_found"),
    ErrorCase("malformed_id_kind_only", ("task.get", "--task-id", "tsk-"), 1, "invalid_params"),
    ErrorCase(
        "id_of_another_kind_matches_nothing", ("task.get", "--task-id", "ses-4k2m"), 1, "not_found"
    ),
    ErrorCase(
        "id_with_odd_letters_matches_nothing", ("task.get", "--task-id", "tsk-!!"), 1, "not_found"
    ),
    ErrorCase(
        "long_id_matches_nothing", ("task.get", "--task-id", "tsk-doesnotexist"), 1, "not_found"
    ),
    ErrorCase(
        "call_malformed_json", ("call", "task.create", "--params", "{bad"), 2, "invalid_params"
    ),
    ErrorCase(
        "call_params_not_object", ("call", "task.create", "--params", "[1]"), 2, "invalid_params"
    ),
    ErrorCase(
        "call_params_missing_file",
        ("call", "task.create", "--params", "@missing-file.json"),
        2,
        "invalid_params",
    ),
    ErrorCase("call_unknown_method", ("call", "task.nope", "--params", "{}"), 2, "not_found"),
    ErrorCase("call_without_method", ("call",), 2, "invalid_params"),
    ErrorCase(
        "call_unknown_param",
        ("call", "task.create", "--params", '{"level":"epic","title":"t","colour":"red"}'),
        1,
        "invalid_params",
    ),
    ErrorCase(
        "call_wrong_json_type",
        ("call", "task.create", "--params", '{"level":"epic","title":5}'),
        1,
        "invalid_params",
    ),
    ErrorCase(
        "call_unknown_id",
        ("call", "task.get", "--params", '{"task_id":"tsk-zzzzzzzz"}'),
        1,
        "not_found",
    ),
    ErrorCase(
        "attached_short_repo_option_then_method_error",
        ("-C.", "task.get", "--task-id", "tsk-zzzzzzzz"),
        1,
        "not_found",
    ),
    ErrorCase(
        "parent_wrong_nesting",
        ("task.create", "--level", "case", "--title", "t", "--parent-id", "<step>"),
        1,
        "invalid_params",
    ),
    ErrorCase(
        "parent_same_level",
        ("task.create", "--level", "epic", "--title", "t", "--parent-id", "<epic>"),
        1,
        "invalid_params",
    ),
    ErrorCase(
        "parent_not_found",
        ("task.create", "--level", "case", "--title", "t", "--parent-id", "tsk-zzzzzzzz"),
        1,
        "not_found",
    ),
    ErrorCase(
        "assignee_session_not_found",
        ("task.create", "--level", "epic", "--title", "t", "--assignee-session", "ses-zzzzzzzz"),
        1,
        "not_found",
    ),
    ErrorCase(
        "illegal_status_move",
        ("task.update", "--task-id", "<epic>", "--status", "done"),
        1,
        "precondition_failed",
    ),
    ErrorCase("repo_option_missing_dir", ("-C", "<missing>", "task.list"), 1, "not_found"),
    ErrorCase("repo_option_after_method", ("task.list", "--repo", "<missing>"), 1, "not_found"),
]


def _error_params() -> list[Any]:
    return [pytest.param(*case, id=case.test_id) for case in ERROR_CASES]


@pytest.mark.parametrize(list(ErrorCase._fields), _error_params())
def test_error(
    repo: Path,
    tmp_path: Path,
    test_id: str,
    args: tuple[str, ...],
    exit_code: int,
    code: str,
) -> None:
    fill = {"<missing>": str(tmp_path / "no" / "such" / "dir")}
    if "<epic>" in args:
        fill["<epic>"] = create(repo, level="epic")["id"]
    if "<step>" in args:
        fill["<step>"] = create(repo, level="step")["id"]
    before = git(repo, "for-each-ref")
    result = orch(repo, *(fill.get(arg, arg) for arg in args))
    assert_error(result, exit_code, code)
    assert git(repo, "for-each-ref") == before, "a failed call changed a ref"


def test_error_details_of_an_unknown_method_name_close_matches(repo: Path) -> None:
    error = assert_error(orch(repo, "task.craete"), 2, "not_found")
    assert "task.create" in error["details"]["close"]


def test_error_details_of_a_wrong_type(repo: Path) -> None:
    error = assert_error(
        orch(repo, "task.create", "--level", "bogus", "--title", "t"), 1, "invalid_params"
    )
    assert error["details"]["param"] == "level"
    assert "epic" in error["details"]["allowed"]


def test_ambiguous_prefix_lists_the_matches(repo: Path) -> None:
    by_first: dict[str, list[str]] = {}
    for _ in range(33):  # 32 letters: the 33rd task shares a first letter at the latest
        task_id = create(repo)["id"]
        by_first.setdefault(task_id[4], []).append(task_id)
        if len(by_first[task_id[4]]) == 2:
            letter = task_id[4]
            break
    else:  # pragma: no cover - pigeonhole
        pytest.fail("no two ids share a first letter")
    for prefix in (letter, f"tsk-{letter}"):
        error = assert_error(orch(repo, "task.get", "--task-id", prefix), 1, "invalid_params")
        assert sorted(error["details"]["matches"]) == sorted(by_first[letter])
    # one more character makes the prefix unique again
    first = by_first[letter][0]
    second = by_first[letter][1]
    if first[5] != second[5]:
        assert assert_ok(orch(repo, "task.get", "--task-id", first[4:6]))["task"]["id"] == first


def test_outside_any_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for args in (("task.list",), ("task.create", "--level", "epic", "--title", "t")):
        assert_error(orch(plain, *args, cwd=plain), 1, "not_found")
    assert not (plain / ".git").exists()


def _replace_blob(repo: Path, path: str, content: bytes) -> None:
    """Commit ``content`` at ``path`` of the state tree with plumbing only."""
    old = git(repo, "rev-parse", "refs/orchestrator/state").strip()
    blob = git(repo, "hash-object", "-w", "--stdin", input=content).strip()
    env = {**os.environ, "GIT_INDEX_FILE": str(repo / ".git" / "hand-edit.index")}

    def plumb(*args: str) -> str:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    plumb("read-tree", old)
    plumb("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
    tree = plumb("write-tree")
    new = plumb("commit-tree", "-p", old, "-m", "hand edit", tree)
    git(repo, "update-ref", "refs/orchestrator/state", new, old)
    (repo / ".git" / "hand-edit.index").unlink()


def test_a_hand_edited_document_that_does_not_parse_is_invalid_state(repo: Path) -> None:
    task = create(repo)
    other = create(repo, title="still fine")
    path = doc_path(task["id"])
    _replace_blob(repo, path, b"{{{ not yaml\n")
    assert git(repo, "show", f"orchestrator/state:{path}") == "{{{ not yaml\n"
    shutil.rmtree(repo / ".git" / "orchestrator" / "cache", ignore_errors=True)

    for args in (("task.get", "--task-id", task["id"]), ("task.list",)):
        error = assert_error(orch(repo, *args), 1, "invalid_state")
        assert path in error["message"], error
    if other["id"][4:6] != task["id"][4:6]:
        # a document in another shard still reads
        assert_ok(orch(repo, "task.get", "--task-id", other["id"]))


# --- ways in -------------------------------------------------------------------------------


def test_repo_option_from_another_directory(repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    task = assert_ok(
        orch(repo, "-C", str(repo), "task.create", "--level", "epic", "--title", "t", cwd=elsewhere)
    )["task"]
    assert stored(repo, task["id"])["title"] == "t"
    got = assert_ok(orch(repo, "task.get", "--task-id", task["id"], "-C", str(repo), cwd=elsewhere))
    assert got["task"] == task
    got = assert_ok(
        orch(repo, f"--repo={repo}", "task.get", "--task-id", task["id"], cwd=elsewhere)
    )
    assert got["task"] == task


def test_from_a_subdirectory(repo: Path) -> None:
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)
    task = assert_ok(orch(repo, "task.create", "--level", "epic", "--title", "t", cwd=sub))["task"]
    assert stored(repo, task["id"])["id"] == task["id"]
    assert not (sub / ".git").exists()


def test_linked_worktree_shares_the_state(repo: Path, tmp_path: Path) -> None:
    linked = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(linked))
    task = create(repo, title="made in main")
    got = assert_ok(orch(linked, "task.get", "--task-id", task["id"][4:9]))
    assert got["task"] == task
    other = assert_ok(orch(linked, "task.create", "--level", "epic", "--title", "made in wt"))
    listed = assert_ok(orch(repo, "task.list"))["tasks"]
    assert {t["id"] for t in listed} == {task["id"], other["task"]["id"]}
    assert git(linked, "status", "--porcelain") == ""


def test_call_with_params_from_a_file(repo: Path, tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"level": "feature", "title": "from a file", "priority": 3}))
    task = assert_ok(orch(repo, "call", "task.create", "--params", f"@{params}"))["task"]
    assert (task["level"], task["title"], task["priority"]) == ("feature", "from a file", 3)
    assert stored(repo, task["id"])["priority"] == 3


def test_call_with_params_from_stdin(repo: Path) -> None:
    stdin = json.dumps({"level": "case", "title": "from stdin ✓"})
    task = assert_ok(orch(repo, "call", "task.create", "--params", "-", stdin=stdin))["task"]
    assert task["title"] == "from stdin ✓"
    got = assert_ok(orch(repo, "call", "task.get", "--params", json.dumps({"task_id": task["id"]})))
    assert got["task"] == task


def test_methods_lists_every_method_with_its_schema(repo: Path) -> None:
    out = assert_ok(orch(repo, "methods"))
    by_name = {method["name"]: method for method in out["methods"]}
    assert set(by_name) == set(METHODS)
    for name, method in METHODS.items():
        schema = by_name[name]["params"]
        assert schema["type"] == "object"
        assert set(schema["properties"]) == {param.name for param in method.params}
        assert set(schema["required"]) == {p.name for p in method.params if p.required}
        assert by_name[name] == json.loads(json.dumps(method.schema()))


def test_method_help_prints_its_json_schema(repo: Path) -> None:
    result = orch(repo, "task.get", "--help")
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    out = one_json_object(result.stdout)
    assert out["method"] == json.loads(json.dumps(METHODS["task.get"].schema()))
    assert out["method"]["params"]["required"] == ["task_id"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("help", "task.create"), ("--level", "--title", "task.create")),
        (("-h",), ("task.create", "task.list", "methods")),
        (("help",), ("task.create", "call")),
        ((), ("task.create",)),
    ],
    ids=["help_method", "dash_h", "help", "no_arguments"],
)
def test_human_help(repo: Path, args: tuple[str, ...], expected: tuple[str, ...]) -> None:
    result = orch(repo, *args)
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    assert not result.stdout.lstrip().startswith("{"), "help for people is not JSON"
    for word in expected:
        assert word in result.stdout


def test_pretty_indents(repo: Path) -> None:
    task = create(repo)
    for args in (("--pretty", "task.get"), ("task.get", "--pretty")):
        result = orch(repo, *args, "--task-id", task["id"])
        assert result.code == 0, result.stderr
        assert result.stdout.startswith('{\n  "task": {\n    "id": ')
        assert one_json_object(result.stdout) == {"task": task}


def test_table_format_for_a_list(repo: Path) -> None:
    task = create(repo, title="in the table")
    result = orch(repo, "task.list", "--format", "table")
    assert result.code == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert "ID" in header.split()
    assert "TITLE" in header.split()
    assert any(task["id"] in row and "in the table" in row for row in rows)


def test_status_board_for_people(repo: Path) -> None:
    create(repo)
    create(repo, level="feature")
    result = orch(repo, "status")
    assert result.code == 0, result.stderr
    assert not result.stdout.startswith("{")
    assert re.search(r"version\s+2\b", result.stdout), result.stdout
    assert re.search(r"^task\s+2\b", result.stdout, re.MULTILINE), result.stdout


def test_status_as_json(repo: Path) -> None:
    create(repo)
    out = assert_ok(orch(repo, "status", "--format", "json"))
    assert set(out) == {"status"}
    status = out["status"]
    assert status["state_version"] == 1
    assert status["counts"]["task"]["total"] == 1
    assert status["commit"] == git(repo, "rev-parse", "refs/orchestrator/state").strip()


# --- strings YAML would misread ------------------------------------------------------------

HOSTILE = {
    "yes": "yes",
    "no": "no",
    "null": "null",
    "tilde": "~",
    "octal": "0o17",
    "float": "1e3",
    "date": "2026-01-01",
    "python_tag": '!!python/object/apply:os.system ["echo hi"]',
    "list_item": "- a",
    "mapping": "a: b",
    "multiline": "multi\nline\n text",
    "leading_space": "  leading space",
    "trailing_space": "trailing ",
    "non_ascii": "日本語 ✓ é",
    "emoji": "🚀 ship it 🎉",
    "double_quoted": '"quoted"',
    "apostrophe": "it's",
    "comment": "# not a comment",
    "anchor": "&a *a",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_yaml_hostile_strings_round_trip(repo: Path, text: str) -> None:
    task = create(repo, "--summary", text, "--next-action", text, title=text)
    assert task["title"] == text
    got = assert_ok(orch(repo, "task.get", "--task-id", task["id"]))["task"]
    assert got["title"].encode() == text.encode()
    assert got["summary"] == text
    assert got["next_action"] == text
    doc = stored(repo, task["id"])
    assert doc["title"] == text
    assert doc["summary"] == text
    assert doc["next_action"] == text
