"""No traceback and no ``internal`` for bad input, anywhere: each edge, through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from gitorch.contract.params import TEXT_LIMIT, TITLE_LIMIT
from gitorch.surfaces.output import to_json
from tests.gitrepo import orch as run
from tests.gitrepo import sh

ROOT = Path(__file__).resolve().parent.parent


def raw_run(repo: Path, args: list[bytes], stdin: bytes | None = None) -> tuple[int, Any, bytes]:
    """``git orch`` with bytes for arguments; ``(exit, JSON on stdout, stderr)``."""
    proc = subprocess.run(
        [b"git", b"orch", *args], cwd=repo, input=stdin, capture_output=True, check=False
    )
    assert b"Traceback" not in proc.stderr + proc.stdout
    out = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, out, proc.stderr


def error_code(out: dict[str, Any]) -> str:
    code: str = out["error"]["code"]
    return code


class Edge(NamedTuple):
    test_id: str
    args: list[bytes]
    exit_code: int
    code: str


EDGES = [
    Edge(
        "argv_not_utf8",
        [b"task.create", b"--level", b"epic", b"--title", b"\xff\xfe"],
        1,
        "invalid_params",
    ),
    Edge(
        "json_lone_surrogate",
        [b"call", b"task.create", b"--params", b'{"level": "epic", "title": "\\ud800"}'],
        1,
        "invalid_params",
    ),
    Edge(
        "json_nan",
        [b"call", b"task.create", b"--params", b'{"level": "epic", "title": "x", "priority": NaN}'],
        2,
        "invalid_params",
    ),
    Edge(
        "json_infinity",
        [b"call", b"task.list", b"--params", b'{"limit": Infinity}'],
        2,
        "invalid_params",
    ),
    Edge(
        "json_minus_infinity",
        [b"call", b"task.list", b"--params", b'{"limit": -Infinity}'],
        2,
        "invalid_params",
    ),
    Edge(
        "json_deeply_nested",
        [b"call", b"task.list", b"--params", b"[" * 100_000],
        2,
        "invalid_params",
    ),
    Edge(
        "json_nested_too_deep_for_a_value",
        [b"call", b"task.list", b"--params", b'{"limit": ' + b"[" * 50 + b"]" * 50 + b"}"],
        1,
        "invalid_params",
    ),
    Edge(
        "integer_beyond_64_bits",
        [
            b"task.create",
            b"--level",
            b"epic",
            b"--title",
            b"x",
            b"--priority",
            b"99999999999999999999",
        ],
        1,
        "invalid_params",
    ),
    Edge(
        "json_integer_beyond_64_bits",
        [
            b"call",
            b"task.create",
            b"--params",
            b'{"level": "epic", "title": "x", "priority": -99999999999999999999}',
        ],
        1,
        "invalid_params",
    ),
    Edge("negative_history", [b"status", b"--history", b"-1"], 1, "invalid_params"),
    Edge("negative_limit", [b"task.list", b"--limit", b"-5"], 1, "invalid_params"),
    Edge(
        "title_too_long",
        [b"task.create", b"--level", b"epic", b"--title", b"t" * (TITLE_LIMIT + 1)],
        1,
        "invalid_params",
    ),
    Edge(
        "title_nul_via_json",
        [b"call", b"task.create", b"--params", b'{"level": "epic", "title": "a\\u0000b"}'],
        1,
        "invalid_params",
    ),
    Edge("unknown_id_form", [b"task.get", b"--task-id", b"tsk-doesnotexist"], 1, "not_found"),
    Edge(
        "enum_unknown", [b"task.create", b"--level", b"saga", b"--title", b"x"], 1, "invalid_params"
    ),
]


@pytest.mark.parametrize("edge", [pytest.param(e, id=e.test_id) for e in EDGES])
def test_bad_input_is_a_structured_error(repo: Path, edge: Edge) -> None:
    code, out, err = raw_run(repo, edge.args)
    assert (code, error_code(out)) == (edge.exit_code, edge.code), out
    assert err.startswith(b"git orch: ")
    assert run(repo, "task.list").out["total"] == 0  # nothing was written


def test_a_params_file_that_is_not_utf8_is_a_usage_error(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "params.json"
    path.write_bytes(b'{"level": "epic", "title": "\xff"}')
    code, out, _ = raw_run(repo, [b"call", b"task.create", b"--params", b"@" + bytes(path)])
    assert (code, error_code(out)) == (2, "invalid_params")
    code, out, _ = raw_run(repo, [b"call", b"task.create", b"--params", b"-"], stdin=b"\xff{")
    assert (code, error_code(out)) == (2, "invalid_params")


def test_summary_is_limited_and_the_limit_is_declared(repo: Path) -> None:
    code, out, _ = raw_run(
        repo,
        [
            b"task.create",
            b"--level",
            b"epic",
            b"--title",
            b"x",
            b"--summary",
            b"s" * (TEXT_LIMIT + 1),
        ],
    )
    assert (code, error_code(out)) == (1, "invalid_params")
    schema = run(repo, "methods").out["methods"]
    create = next(m for m in schema if m["name"] == "task.create")["params"]["properties"]
    assert create["title"]["maxLength"] == TITLE_LIMIT
    assert create["summary"]["maxLength"] == TEXT_LIMIT
    assert create["priority"]["maximum"] == 2**63 - 1
    readme = (ROOT / "README.md").read_text()
    limits = readme.split("## Limits", 1)[1].split("\n## ", 1)[0]
    assert "1,000" in limits and "65,536" in limits


def test_camel_case_enums_are_read(repo: Path) -> None:
    epic = run(repo, "task.create", "--level", "Epic", "--title", "e").out["task"]["id"]
    for spelling in ("TestGroup", "testGroup", "TEST_GROUP", "test-group", "test group"):
        out = run(repo, "task.create", "--level", spelling, "--title", "g", "--parent-id", epic)
        assert out.out["task"]["level"] == "test_group", spelling


def test_stdout_closed_is_not_a_traceback(repo: Path) -> None:
    # git itself reopens a closed stdout on /dev/null before it runs git-orch; the
    # script run directly (or by another launcher) sees it closed.
    proc = sh(repo, "git-orch task.create --level epic --title x >&-")
    assert proc.code != 0
    assert "Traceback" not in proc.stderr
    assert "standard output is closed" in proc.stderr
    assert run(repo, "task.list").out["total"] == 0  # nobody could read it: nothing was done


def test_stdout_that_refuses_writes_reports_a_committed_change_truthfully(repo: Path) -> None:
    proc = sh(repo, "git orch task.create --level epic --title x >/dev/full")
    assert proc.code == 1
    assert "Traceback" not in proc.stderr
    assert "succeeded" in proc.stderr  # the change is committed, and says so
    assert run(repo, "task.list").out["total"] == 1


def test_terminal_control_characters_never_reach_a_table(repo: Path) -> None:
    hostile = "red\x1b[31m alert\x07 \u202eevil\x9b"
    run(repo, "task.create", "--level", "epic", "--title", hostile)
    table = run(repo, "task.list", "--format", "table").stdout
    assert "\x1b" not in table and "\x07" not in table and "\u202e" not in table
    assert "\x9b" not in table
    assert "\\x1b[31m" in table
    assert run(repo, "task.list").out["tasks"][0]["title"] == hostile  # JSON keeps it exact


def test_output_never_holds_nan_and_escapes_lone_surrogates() -> None:
    with pytest.raises(ValueError):
        to_json({"x": float("nan")})
    assert json.loads(to_json({"x": "\udcff"})) == {"x": "\udcff"}


def test_an_unwritable_repository_directory_is_unavailable(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "gone"
    result = run(repo, "-C", str(missing), "task.list")
    assert result.code == 1
    assert result.out["error"]["code"] == "not_found"
    assert os.path.isdir(repo)
