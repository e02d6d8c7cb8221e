"""The registry every method copies: declarations, access, signatures, kinds, clock."""

from __future__ import annotations

import ast
import inspect
import shutil
from pathlib import Path

import pytest

from gitorch.api import Orchestrator
from gitorch.contract.method import EFFECTS, READ, WRITE
from gitorch.contract.registry import METHODS
from gitorch.contract.schema import entity_schema
from gitorch.model.errors import GitorchError
from gitorch.model.kinds import BY_DIRECTORY, BY_PREFIX, KINDS
from gitorch.surfaces import manpage
from tests.gitrepo import git, make_repo
from tests.gitrepo import orch as run

ROOT = Path(__file__).resolve().parent.parent
LEADING = {READ: ["ctx", "view"], WRITE: ["ctx", "tx"], EFFECTS: ["ctx"]}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_each_domain_function_takes_exactly_its_declared_parameters(name: str) -> None:
    method = METHODS[name]
    signature = inspect.signature(method.handler_function())
    positional = [
        p.name for p in signature.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    assert positional == LEADING[method.access], f"{name}: {method.access} takes {positional}"
    keywords = {p.name: p for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY}
    assert set(keywords) == {param.name for param in method.params}, name
    for param in method.params:
        has_default = keywords[param.name].default is not inspect.Parameter.empty
        assert has_default == (not param.required), f"{name}: {param.name}"


def test_no_domain_module_names_a_method() -> None:
    """A commit is named by the declared method, never by a string in the domain."""
    names = {name for name in METHODS if "." in name}  # "status" is also a field
    for path in (ROOT / "gitorch" / "domain").glob("*.py"):
        tree = ast.parse(path.read_text())
        literals = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert not literals & names, f"{path.name} names {literals & names}"


def test_each_kind_is_declared_once_and_everything_derives_from_it() -> None:
    assert len(BY_DIRECTORY) == len(KINDS) == len(BY_PREFIX) == 14
    for kind in KINDS.values():
        schema = entity_schema(kind)
        assert list(schema["properties"]) == [field.name for field in kind.fields]
        assert {"id", "created_at", "updated_at", "version"} <= set(schema["required"])
        assert kind.schema.names == tuple(field.name for field in kind.fields)
    task = KINDS["task"]
    assert METHODS["task.get"].result == task.key == "task"
    assert METHODS["task.list"].result == task.plural == "tasks"


def test_a_result_may_have_several_top_level_keys(repo: Path) -> None:
    listing = METHODS["task.list"].schema()["result"]
    assert set(listing["properties"]) == {"tasks", "total"}
    out = run(repo, "task.list").out
    assert set(out) == {"tasks", "total"}


def test_a_write_commits_under_the_declared_name_and_the_acting_session(repo: Path) -> None:
    with Orchestrator(repo, session="ses-aaaaaaaa") as orch:
        orch.call("task.create", {"level": "epic", "title": "x"})
    trailers = git(repo, "log", "-1", "--format=%(trailers:only,unfold)", "orchestrator/state")
    assert "Orch-Method: task.create" in trailers
    assert "Orch-Session: ses-aaaaaaaa" in trailers


def test_a_read_never_writes(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        orch.call("task.create", {"level": "epic", "title": "x"})
        tip = git(repo, "rev-parse", "orchestrator/state")
        for name, method in METHODS.items():
            if method.access == READ and not any(p.required for p in method.params):
                try:
                    orch.call(name, {})
                except GitorchError:
                    pass  # refusing is fine; writing is not
        assert git(repo, "rev-parse", "orchestrator/state") == tip


# -- a set clock and seeded ids for processes, for tests only ----------------------------
def _create(repo: Path, env: dict[str, str]) -> dict[str, object]:
    result = run(repo, "task.create", "--level", "epic", "--title", "t", env=env)
    assert result.code == 0, result.stderr
    task: dict[str, object] = result.out["task"]
    return task


def test_processes_run_on_a_set_clock_and_seeded_ids_only_when_testing(tmp_path: Path) -> None:
    env = {
        "GIT_ORCH_TESTING": "1",
        "GIT_ORCH_TEST_NOW": "2030-01-02T03:04:05Z",
        "GIT_ORCH_TEST_SEED": "7",
    }
    first = _create(make_repo(tmp_path / "a"), env)
    again = _create(make_repo(tmp_path / "b"), env)
    assert first["created_at"] == "2030-01-02T03:04:05.000Z"
    assert first["id"] == again["id"]  # the same seed, the same ids
    later = _create(tmp_path / "a", {**env, "GIT_ORCH_TEST_NOW": "1893553445000"})
    assert later["created_at"] == "2030-01-02T03:04:05.000Z"  # milliseconds work too
    assert later["id"] != first["id"]  # a taken id is never reused
    ignored = _create(make_repo(tmp_path / "c"), {**env, "GIT_ORCH_TESTING": ""})
    assert ignored["created_at"] != "2030-01-02T03:04:05.000Z"
    assert ignored["id"] != first["id"]


# -- help for people: the man page --------------------------------------------------------
def test_the_man_page_is_current() -> None:
    shipped = (ROOT / "man" / "git-orch.1").read_text(encoding="utf-8")
    assert shipped == manpage.page(), (
        "man/git-orch.1 is behind the registry: run python -m gitorch.surfaces.manpage "
        "man/git-orch.1"
    )
    for name in METHODS:
        assert name.replace("-", "\\-") in shipped


@pytest.mark.skipif(shutil.which("man") is None, reason="no man program on this machine")
def test_git_orch_help_shows_the_man_page(repo: Path) -> None:
    """Regression: git orch --help printed 'No manual entry' and exited 16."""
    proc = run(repo, "--help", env={"MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "100"})
    assert proc.code == 0, proc.stderr
    assert "git-orch - coordinate" in proc.stdout
    assert "task.create" in proc.stdout


# -- settings that travel: the protected branch -------------------------------------------
def test_the_protected_branch_follows_the_repository_and_can_be_changed(tmp_path: Path) -> None:
    trunk = make_repo(tmp_path / "trunk", branch="trunk")
    assert run(trunk, "config.get").out["config"]["protected_branch"] == "trunk"
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(trunk), str(clone))
    git(clone, "checkout", "-q", "-b", "feature")
    assert run(clone, "config.get").out["config"]["protected_branch"] == "trunk"  # origin/HEAD
    changed = run(clone, "config.set", "--protected-branch", "release/1.x").out["config"]
    assert changed["protected_branch"] == "release/1.x"
    assert run(clone, "status", "--format", "json").out["status"]["protected_branch"] == (
        "release/1.x"
    )
    assert "protected branch: release/1.x" in run(clone, "status").stdout
    assert "release/1.x" in git(clone, "show", "orchestrator/state:config.yaml")


@pytest.mark.parametrize("name", ["", "a b", "a..b", "-x", "a/", "x.lock", "@", "a@{b", "a~1"])
def test_a_branch_git_would_refuse_is_invalid_params(repo: Path, name: str) -> None:
    result = run(repo, "config.set", "--protected-branch", name)
    assert result.code == 1
    assert result.out["error"]["code"] == "invalid_params"
