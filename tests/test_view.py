"""Reading the state as an agent would: checked out, found by the root README's directions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gitorch.api import Orchestrator
from gitorch.model.errors import PreconditionFailed
from tests.gitrepo import git
from tests.gitrepo import orch as run


def find_by_readme(root: Path, entity_id: str) -> Path:
    """Follow the README at the state's root: <directory>/<shard>/<id>.yaml."""
    readme = (root / "README.md").read_text()
    prefix = entity_id.split("-", 1)[0]
    directory = re.search(rf"\| `([a-z_]+)/` \| [^|]+ \| `{prefix}-` \|", readme)
    assert directory, readme
    assert "first two characters after the dash" in readme
    shard = entity_id.split("-", 1)[1][:2]
    return root / directory.group(1) / shard / f"{entity_id}.yaml"


def test_view_and_plain_git_worktree_show_what_task_get_returns(
    orch: Orchestrator, repo: Path, tmp_path: Path
) -> None:
    with pytest.raises(PreconditionFailed, match="no state yet"):
        orch.call("view")
    task = orch.call("task.create", {"level": "feature", "title": "read me"})["task"]
    out = run(repo, "view")
    assert out.code == 0, out
    root = Path(out.out["path"])
    doc = yaml.safe_load(find_by_readme(root, task["id"]).read_text())
    assert doc == orch.call("task.get", {"task_id": task["id"]})["task"]
    # a hand edit is not read back, and the next call puts the state's files back
    path = find_by_readme(root, task["id"])
    assert not path.stat().st_mode & 0o222
    path.chmod(0o644)
    path.write_text("edited by hand\n")
    orch.call("task.update", {"task_id": task["id"], "title": "changed"})
    again = orch.call("view")
    assert again["path"] == str(root) and again["state_version"] > out.out["state_version"]
    assert yaml.safe_load(path.read_text())["title"] == "changed"
    plain = tmp_path / "plain"
    git(repo, "worktree", "add", "-q", "--detach", str(plain), "orchestrator/state")
    by_hand = yaml.safe_load(find_by_readme(plain, task["id"]).read_text())
    assert by_hand == orch.call("task.get", {"task_id": task["id"]})["task"]


def test_view_refuses_a_directory_that_is_not_its_own(orch: Orchestrator, tmp_path: Path) -> None:
    orch.call("task.create", {"level": "feature", "title": "x"})
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep\n")
    with pytest.raises(PreconditionFailed, match="not a detached worktree"):
        orch.call("view", {"path": str(taken)})
    assert (taken / "mine.txt").read_text() == "keep\n"
