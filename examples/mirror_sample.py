"""Build the sample plan whose mirror is committed as examples/mirror.md.

Run as a module from the repository root, ``python -m examples.mirror_sample
examples/mirror.md``; a test builds the same plan and checks the committed
page is what gitorch renders, so it never goes stale.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
from pathlib import Path

from gitorch.api import Orchestrator
from gitorch.domain.mirror import render
from gitorch.model.clock import ManualClock

HOSTILE = 'Say "hi" [x](y) `code` --> <b>bold</b> *em* | # not a heading & more'


def build(repo: Path) -> str:
    """Build the sample state in ``repo`` and return its page."""
    counter = itertools.count(1)
    with Orchestrator(
        repo, clock=ManualClock(1_893_456_000_000), random=lambda: next(counter).to_bytes(5, "big")
    ) as orch:
        boot = orch.call("plan.bootstrap", {"initiative_title": "Sign-in", "plan_title": "Plan"})
        slices = orch.call(
            "plan.slice.generate",
            {
                "plan_node_id": boot["plan"]["id"],
                "slice_specs": [
                    {"title": "Schema"},
                    {"title": "API", "depends_on": ["Schema"]},
                    {"title": HOSTILE, "depends_on": [1], "facet": "test"},
                ],
            },
        )["slices"]
        orch.call(
            "graph.checklist.upsert",
            {"node_id": slices[1]["id"], "item_text": "Document the endpoints"},
        )
        orch.call("graph.node.update", {"node_id": slices[0]["id"], "status": "in_progress"})
        orch.call("graph.node.update", {"node_id": slices[0]["id"], "status": "done"})
        return render(orch.store.snapshot())


def main(argv: list[str]) -> int:
    """Write the sample page to the path given."""
    import subprocess

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
        subprocess.run(
            [
                "git",
                "-C",
                str(repo),
                "-c",
                "user.name=x",
                "-c",
                "user.email=x@x",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "init",
            ],
            check=True,
        )
        page = build(repo)
    Path(argv[0]).write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
