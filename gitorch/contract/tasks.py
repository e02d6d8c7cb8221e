"""Declarations of the task methods."""

from __future__ import annotations

from gitorch.contract.method import Method
from gitorch.contract.params import ENUM, INTEGER, STRING, Param
from gitorch.contract.schema import entity_schema, list_schema
from gitorch.model.enums import TaskLevel, TaskStatus
from gitorch.model.task import TASK_FIELDS

TASK = entity_schema(TASK_FIELDS, "A task: epic > feature > test_group > case > step.")
_HANDLERS = "gitorch.domain.tasks"

METHODS = (
    Method(
        "task.create",
        "Create a task. A parent, when given, must be of a higher level.",
        (
            Param("level", ENUM, "epic, feature, test_group, case or step.", True, enum=TaskLevel),
            Param("title", STRING, "What the task is, in a line.", True),
            Param("parent_id", STRING, "The parent task (id or unique prefix)."),
            Param("priority", INTEGER, "Higher comes first.", default=0),
            Param("assignee_session", STRING, "The session that owns the task."),
            Param("summary", STRING, "What is known so far."),
            Param("next_action", STRING, "What to do next."),
        ),
        "task",
        TASK,
        f"{_HANDLERS}:create",
    ),
    Method(
        "task.get",
        "One task, by id or unique id prefix.",
        (Param("task_id", STRING, "The task (id or unique prefix).", True),),
        "task",
        TASK,
        f"{_HANDLERS}:get",
    ),
    Method(
        "task.list",
        "Tasks matching every filter given; priority first (higher first), then oldest first.",
        (
            Param("level", ENUM, "Only tasks of this level.", enum=TaskLevel),
            Param("status", ENUM, "Only tasks in this status.", enum=TaskStatus),
            Param("parent_id", STRING, "Only direct children of this task."),
            Param("assignee_session", STRING, "Only tasks owned by this session."),
            Param("limit", INTEGER, "At most this many (``total`` still counts all)."),
        ),
        "tasks",
        list_schema(TASK),
        f"{_HANDLERS}:list_tasks",
        columns=("id", "level", "status", "priority", "title"),
    ),
    Method(
        "task.update",
        "Change a task. Status moves todo -> in_progress -> done; blocked and cancelled "
        "from any open status; in_progress or blocked back to todo.",
        (
            Param("task_id", STRING, "The task (id or unique prefix).", True),
            Param("status", ENUM, "The new status.", enum=TaskStatus),
            Param("title", STRING, "A new title."),
            Param("priority", INTEGER, "A new priority."),
            Param("assignee_session", STRING, "The new owner session; empty to clear."),
            Param("summary", STRING, "What is known so far."),
            Param("next_action", STRING, "What to do next."),
        ),
        "task",
        TASK,
        f"{_HANDLERS}:update",
    ),
)
