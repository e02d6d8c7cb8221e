"""``git orch demo`` from the command line, and its end state checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitorch.api import Orchestrator
from gitorch.model.kinds import LOCK, MAIN_MERGE, NODE, WORKTREE
from tests.conftest import needs_tmux
from tests.gitrepo import command, fsck, git


@needs_tmux
@pytest.mark.slow
def test_the_demo_lands_what_it_should_and_leaves_nothing_behind(tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    out = command(["git", "orch", "demo", "--keep", str(keep)], tmp_path)
    assert out.code == 0, out.stdout + out.stderr
    story = out.stdout
    assert "it waits for the lease" in story
    assert "killed mid-case" in story and "took over worker-3" in story
    assert "refused" in story and "the check failed" in story
    repo = keep / "repo"
    tree = git(repo, "ls-tree", "-r", "--name-only", "main").split()
    assert {"docs/guide.md", "src/parser.txt", "README.md"} <= set(tree)
    assert "src/checker.txt" not in tree  # the slice whose check failed
    guide = git(repo, "show", "main:docs/guide.md")
    assert "write the guide: done" in guide and "extend the guide: done" in guide
    with Orchestrator(repo) as orch:
        view = orch.store.snapshot()
        entries = {e["branch"].split("/")[1].rsplit("-", 1)[0]: e for e in view.docs(MAIN_MERGE)}
        assert {k: e["status"] for k, e in entries.items()} == {
            "worker-1": "merged",
            "worker-2": "merged",
            "worker-3": "merged",
            "worker-4": "failed",
        }
        assert "broken work in src/checker.txt" in entries["worker-4"]["check_output"]
        assert [lock for lock in view.docs(LOCK) if lock["status"] == "active"] == []
        left = [wt for wt in view.docs(WORKTREE) if wt["status"] != "removed"]
        assert [wt["branch"] for wt in left] == [entries["worker-4"]["branch"]]  # unlanded work
        done = sorted(n["title"] for n in view.docs(NODE) if n["status"] == "done")
        assert done == ["add the parser", "extend the guide", "write the guide"]
    assert not list((repo / ".git" / "orchestrator" / "land").glob("check-*"))
    assert (repo / "docs" / "orchestration.md").exists()
    fsck(repo)


def test_the_demo_refuses_bad_options(tmp_path: Path) -> None:
    out = command(["git", "orch", "demo", "--agents", "99"], tmp_path)
    assert out.code == 2 and "usage: git orch demo" in out.stderr


def test_the_demo_with_a_real_agent_says_when_it_is_missing(tmp_path: Path) -> None:
    out = command(["git", "orch", "demo", "--agent", "nonesuch"], tmp_path)
    assert out.code == 1 and "not installed" in out.stderr
