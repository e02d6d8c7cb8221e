"""Tasks: levels and nesting, ids and prefixes, ordering, filters, status moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from gitorch.api import Orchestrator
from gitorch.model.clock import ManualClock
from gitorch.model.errors import InvalidParams, NotFound, PreconditionFailed
from tests.gitrepo import git

LEVELS = ["epic", "feature", "test_group", "case", "step"]


def create(orch: Orchestrator, level: str, title: str = "t", **more: Any) -> dict[str, Any]:
    task: dict[str, Any] = orch.call("task.create", {"level": level, "title": title, **more})[
        "task"
    ]
    return task


class Nesting(NamedTuple):
    test_id: str
    parent: str
    child: str
    allowed: bool


NESTINGS = [
    Nesting(
        f"{child}-under-{parent}",
        parent,
        child,
        LEVELS.index(parent) < LEVELS.index(child) and (child != "step" or parent == "case"),
    )
    for parent in LEVELS
    for child in LEVELS
]


@pytest.mark.parametrize("case", NESTINGS, ids=[n.test_id for n in NESTINGS])
def test_a_parent_must_be_of_a_higher_level(orch: Orchestrator, case: Nesting) -> None:
    parent = create(orch, case.parent)
    if case.allowed:
        child = create(orch, case.child, parent_id=parent["id"])
        assert child["parent_id"] == parent["id"]
    else:
        with pytest.raises(InvalidParams) as info:
            create(orch, case.child, parent_id=parent["id"])
        assert info.value.details["param"] == "parent_id"


def test_a_new_task_has_every_contract_field(orch: Orchestrator, clock: ManualClock) -> None:
    task = create(orch, "Test-Group", "write tests", priority=3, summary="s", next_action="n")
    assert task["id"].startswith("tsk-") and len(task["id"]) == 12
    assert task["level"] == "test_group"
    assert task["status"] == "todo"
    assert task["version"] == 1
    assert task["created_at"] == task["updated_at"] == "2026-01-01T00:00:00.000Z"
    assert task["priority"] == 3
    assert (task["summary"], task["next_action"]) == ("s", "n")
    assert (task["fixtures"], task["required_files"], task["input_contract"]) == ([], [], None)


@pytest.fixture
def prefix_orch(repo: Path) -> Iterator[Orchestrator]:
    # Random parts 1 and 33 both start with "1": "tsk-10000000" and "tsk-11000000".
    values = iter([1, 33, 2])
    with Orchestrator(repo, random=lambda: next(values).to_bytes(5, "big")) as orch:
        yield orch


def test_ids_resolve_by_unique_prefix_as_git_hashes_do(prefix_orch: Orchestrator) -> None:
    one = create(prefix_orch, "epic")
    two = create(prefix_orch, "epic")
    assert (one["id"], two["id"]) == ("tsk-10000000", "tsk-11000000")
    for text in ("tsk-10", "10", "TSK-10", " 10 ", "tsk-10000000"):
        assert prefix_orch.call("task.get", {"task_id": text})["task"]["id"] == one["id"]
    with pytest.raises(InvalidParams) as info:
        prefix_orch.call("task.get", {"task_id": "1"})
    assert info.value.details["matches"] == [one["id"], two["id"]]


@pytest.mark.parametrize("text", ["", "  ", "tsk-"])
def test_an_empty_id_is_invalid_params(orch: Orchestrator, text: str) -> None:
    with pytest.raises(InvalidParams):
        orch.call("task.get", {"task_id": text})


@pytest.mark.parametrize(
    "text", ["nod-10", "xyz!", "tsk-1i", "tsk-doesnotexist", "zzz-1234", "ses-4k2m", "日本"]
)
def test_an_id_that_matches_nothing_is_not_found_whatever_its_form(
    orch: Orchestrator, text: str
) -> None:
    """Regression: tsk-doesnotexist answered invalid_params."""
    create(orch, "epic")
    with pytest.raises(NotFound):
        orch.call("task.get", {"task_id": text})


def test_an_unknown_id_is_not_found(orch: Orchestrator) -> None:
    create(orch, "epic")
    with pytest.raises(NotFound):
        orch.call("task.get", {"task_id": "tsk-zzzzzzzz"})
    with pytest.raises(NotFound):
        create(orch, "case", parent_id="zzzz")


def test_an_assignee_must_be_an_existing_session(orch: Orchestrator) -> None:
    with pytest.raises(NotFound) as info:
        create(orch, "case", assignee_session="ses-abcdabcd")
    assert info.value.details["param"] == "assignee_session"


@pytest.mark.parametrize("title", ["", "   ", "x" * 1001])
def test_a_title_must_be_a_line_of_text(orch: Orchestrator, title: str) -> None:
    with pytest.raises(InvalidParams):
        create(orch, "epic", title)


def test_list_orders_by_priority_then_age(orch: Orchestrator, clock: ManualClock) -> None:
    made = []
    for priority in (0, 5, 0, 5, 1):
        made.append(create(orch, "case", f"p{priority}", priority=priority)["id"])
        clock.advance(1)
    listed = [task["id"] for task in orch.call("task.list")["tasks"]]
    assert listed == [made[1], made[3], made[4], made[0], made[2]]


def test_list_filters_and_limits(orch: Orchestrator, clock: ManualClock) -> None:
    epic = create(orch, "epic")
    feature = create(orch, "feature", parent_id=epic["id"])
    cases = []
    for i in range(3):
        clock.advance(1)
        cases.append(create(orch, "case", f"c{i}", parent_id=feature["id"]))
    orch.call("task.update", {"task_id": cases[0]["id"], "status": "in_progress"})

    def ids(**filters: Any) -> list[str]:
        return [task["id"] for task in orch.call("task.list", filters)["tasks"]]

    assert ids(level="case") == [case["id"] for case in cases]
    assert ids(status="in_progress") == [cases[0]["id"]]
    assert ids(parent_id=feature["id"][4:9]) == [case["id"] for case in cases]
    assert ids(level="epic", status="done") == []
    limited = orch.call("task.list", {"level": "case", "limit": 2})
    assert len(limited["tasks"]) == 2 and limited["total"] == 3


class Move(NamedTuple):
    test_id: str
    path: list[str]
    allowed: bool


MOVES = [
    Move("todo-in_progress-done", ["in_progress", "done"], True),
    Move("todo-blocked-in_progress", ["blocked", "in_progress"], True),
    Move("in_progress-back-to-todo", ["in_progress", "todo"], True),
    Move("todo-cancelled", ["cancelled"], True),
    Move("todo-done", ["done"], False),
    Move("done-is-final", ["in_progress", "done", "in_progress"], False),
    Move("cancelled-is-final", ["cancelled", "todo"], False),
]


@pytest.mark.parametrize("move", MOVES, ids=[m.test_id for m in MOVES])
def test_status_moves(orch: Orchestrator, move: Move) -> None:
    task = create(orch, "case")
    *before, last = move.path
    for status in before:
        orch.call("task.update", {"task_id": task["id"], "status": status})
    if move.allowed:
        result = orch.call("task.update", {"task_id": task["id"], "status": last})
        assert result["task"]["status"] == last
    else:
        with pytest.raises(PreconditionFailed) as info:
            orch.call("task.update", {"task_id": task["id"], "status": last})
        assert info.value.details["to"] == last


def test_an_update_raises_the_version_and_a_no_op_writes_nothing(
    orch: Orchestrator, clock: ManualClock, repo: Path
) -> None:
    task = create(orch, "case", "old")
    clock.advance(60)
    updated = orch.call("task.update", {"task_id": task["id"], "title": "new", "priority": 2})
    assert updated["task"]["version"] == 2
    assert updated["task"]["updated_at"] == "2026-01-01T00:01:00.000Z"
    assert updated["task"]["created_at"] == task["created_at"]
    commits = git(repo, "rev-list", "--count", "orchestrator/state")
    same = orch.call("task.update", {"task_id": task["id"], "title": "new"})
    assert same["task"]["version"] == 2
    assert git(repo, "rev-list", "--count", "orchestrator/state") == commits


def test_typed_methods_mirror_the_registry(orch: Orchestrator) -> None:
    task = orch.task_create(level="epic", title="typed")["task"]
    assert orch.task_get(task_id=task["id"])["task"]["title"] == "typed"
    with pytest.raises(AttributeError):
        orch.no_such_method  # noqa: B018


class Bad(NamedTuple):
    test_id: str
    params: dict[str, Any]
    param: str


BAD = [
    Bad("level-missing", {"title": "t"}, "level"),
    Bad("level-unknown", {"level": "saga", "title": "t"}, "level"),
    Bad("title-not-a-string", {"level": "epic", "title": 5}, "title"),
    Bad("priority-not-an-int", {"level": "epic", "title": "t", "priority": "1"}, "priority"),
    Bad("priority-bool", {"level": "epic", "title": "t", "priority": True}, "priority"),
    Bad("nul-in-title", {"level": "epic", "title": "a\0b"}, "title"),
]


@pytest.mark.parametrize("bad", BAD, ids=[b.test_id for b in BAD])
def test_bad_params_are_refused_before_anything_is_written(
    orch: Orchestrator, repo: Path, bad: Bad
) -> None:
    with pytest.raises(InvalidParams) as info:
        orch.call("task.create", bad.params)
    assert info.value.details["param"] == bad.param
    assert orch.store.snapshot().commit is None


def test_an_unknown_param_is_refused(orch: Orchestrator) -> None:
    with pytest.raises(InvalidParams) as info:
        orch.call("task.create", {"level": "epic", "title": "t", "colour": "red"})
    assert info.value.details["unknown"] == ["colour"]
