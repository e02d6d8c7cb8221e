"""The Markdown mirror: deterministic, confined, role-guarded, never stale in examples/."""

from __future__ import annotations

from pathlib import Path

import pytest

from examples.mirror_sample import HOSTILE, build
from gitorch.api import Orchestrator
from gitorch.model.errors import Forbidden, InvalidParams
from tests.gitrepo import git, make_repo

ROOT = Path(__file__).resolve().parent.parent


def test_the_sample_page_in_examples_is_what_gitorch_renders(tmp_path: Path) -> None:
    page = build(make_repo(tmp_path / "sample"))
    assert (ROOT / "examples" / "mirror.md").read_text(encoding="utf-8") == page, (
        "examples/mirror.md is stale: run python -m examples.mirror_sample examples/mirror.md"
    )


def test_a_hostile_title_renders_as_text(tmp_path: Path) -> None:
    page = build(make_repo(tmp_path / "sample"))
    body = page.split("\n", 1)[1]  # after the header comment
    assert "<b>" not in body
    assert "-->" not in body.replace(" --> n_", "")  # only Mermaid's own arrows
    mermaid = body.split("```mermaid", 1)[1].split("```", 1)[0]
    for line in mermaid.splitlines():
        if '["' in line:
            inner = line.split('["', 1)[1].rsplit('"]', 1)[0]
            assert not set(inner) & set('"[]()<>`*|'), inner
            assert "--" not in inner
    assert "not a heading" in body and HOSTILE not in body


def test_refresh_is_role_guarded_confined_and_never_a_state_commit(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        orch.call("plan.bootstrap", {"initiative_title": "i", "plan_title": "p"})
        before = orch.call("mirror.status", {})
        assert before["outdated"] is True and before["md_version"] is None
        with pytest.raises(Forbidden):
            orch.call("mirror.refresh", {"requester_role": "worker"})
        with pytest.raises(InvalidParams):
            orch.call(
                "mirror.refresh",
                {"requester_role": "doc-mirror-manager", "target_path": "../out.md"},
            )
        commits = git(repo, "rev-list", "--count", "orchestrator/state")
        done = orch.call("mirror.refresh", {"requester_role": "Doc-Mirror-Manager"})
        assert done["md_version"] == done["db_version"] == before["db_version"]
        assert done["outdated"] is False
        assert git(repo, "rev-list", "--count", "orchestrator/state") == commits
        page = Path(done["md_path"]).read_bytes()
        orch.call("mirror.refresh", {"requester_role": "doc-mirror-manager"})
        assert Path(done["md_path"]).read_bytes() == page  # the same state, the same bytes
        orch.call("plan.bootstrap", {"initiative_title": "j", "plan_title": "q"})
        assert orch.call("mirror.status", {})["outdated"] is True
