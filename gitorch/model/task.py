"""The task entity: levels that nest strictly downward, and status moves."""

from __future__ import annotations

from gitorch.model.enums import LEVEL_RANK, TaskLevel, TaskStatus

OPEN_STATUSES = frozenset({TaskStatus.TODO, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED})

# todo -> in_progress -> done; blocked and cancelled from any open status;
# an agent that gives a task back moves it from in_progress (or blocked) to todo.
STATUS_MOVES: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.TODO: frozenset({TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED, TaskStatus.CANCELLED}),
    TaskStatus.IN_PROGRESS: frozenset(
        {TaskStatus.DONE, TaskStatus.TODO, TaskStatus.BLOCKED, TaskStatus.CANCELLED}
    ),
    TaskStatus.BLOCKED: frozenset({TaskStatus.TODO, TaskStatus.IN_PROGRESS, TaskStatus.CANCELLED}),
    TaskStatus.DONE: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}


def may_nest(child: TaskLevel, parent: TaskLevel) -> bool:
    """A parent must be of a higher level; a step belongs to a case (CONTRACT.md section 2)."""
    if child == TaskLevel.STEP:
        return parent == TaskLevel.CASE
    return LEVEL_RANK[parent] < LEVEL_RANK[child]
