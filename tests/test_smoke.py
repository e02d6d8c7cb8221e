from pathlib import Path

from gitorch.api import Orchestrator
from tests.gitrepo import git
from tests.gitrepo import orch as run


def test_create_and_get(orch: Orchestrator, repo: Path) -> None:
    task = orch.call("task.create", {"level": "epic", "title": "t"})["task"]
    assert orch.task_get(task_id=task["id"][4:8])["task"] == task
    assert "task.create" in git(repo, "log", "--format=%s", "orchestrator/state")


def test_cli(repo: Path) -> None:
    result = run(repo, "task.create", "--level", "epic", "--title", "x")
    assert result.code == 0, result.stderr
    assert result.out["task"]["title"] == "x"
