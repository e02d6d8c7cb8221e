"""Error paths that bad input cannot reach from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gitorch.api import Orchestrator
from gitorch.domain import tasks
from gitorch.model.errors import Unavailable
from gitorch.store.writelock import write_lock
from gitorch.surfaces.main import main


def test_a_bug_is_internal_logged_and_never_a_traceback(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(*_args: object, **_kwargs: object) -> dict[str, object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(tasks, "get", broken)
    monkeypatch.chdir(repo)
    assert main(["task.get", "--task-id", "abcd"]) == 1
    out, err = capsys.readouterr()
    error = json.loads(out)["error"]
    assert error["code"] == "internal"
    assert "RuntimeError: boom" in error["message"]
    assert "Traceback" not in err and len(err.splitlines()) == 1
    log = Path(error["details"]["log"])
    assert log.is_relative_to(repo / ".git" / "orchestrator")
    assert "Traceback" in log.read_text()


def test_without_git_a_call_is_unavailable(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-bin"))
    with Orchestrator(repo) as orch, pytest.raises(Unavailable) as info:
        orch.call("task.list")
    assert "git" in info.value.message


def test_a_writer_that_cannot_get_the_lock_gives_up_with_unavailable(orch: Orchestrator) -> None:
    orch_dir = orch.repo.orch_dir
    with write_lock(orch_dir), pytest.raises(Unavailable) as info, write_lock(orch_dir, wait=0.05):
        pass
    assert info.value.details["lock"] == os.path.join(orch_dir, "write.lock")
