"""The Python API: the same methods as `git orch`, called in process.

Run it inside any git repository:  .venv/bin/python examples/python_api.py
"""

from __future__ import annotations

from gitorch.api import Orchestrator
from gitorch.model.errors import GitorchError


def main() -> int:
    """Plan a small feature and print it."""
    with Orchestrator() as orch:
        epic = orch.call("task.create", {"level": "epic", "title": "Search"})["task"]
        feature = orch.task_create(level="feature", title="Indexing", parent_id=epic["id"])
        for title in ("tokenises words", "skips stop words"):
            orch.task_create(level="case", title=title, parent_id=feature["task"]["id"])
        for task in orch.task_list(parent_id=feature["task"]["id"])["tasks"]:
            print(task["id"], task["status"], task["title"])
        try:
            orch.task_update(task_id=epic["id"], status="done")
        except GitorchError as error:  # todo -> done skips in_progress
            print(error.code, error.message)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
