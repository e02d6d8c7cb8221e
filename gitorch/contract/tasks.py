"""Declarations of the task methods."""

from __future__ import annotations

from gitorch.contract.method import READ, WRITE, Method
from gitorch.contract.params import TITLE_LIMIT, Choice, Integer, Param, Text
from gitorch.contract.schema import TOTAL, entity_schema, list_schema
from gitorch.model.enums import TaskLevel, TaskStatus
from gitorch.model.kinds import TASK as KIND

TASK = entity_schema(KIND)
_HANDLERS = "gitorch.domain.tasks"
_TITLE = Text(TITLE_LIMIT, nonempty=True)
_ID = Text(200)

METHODS = (
    Method(
        "task.create",
        "Create a task. A parent, when given, must be of a higher level.",
        (
            Param("level", Choice(TaskLevel), "epic, feature, test_group, case or step.", True),
            Param("title", _TITLE, "What the task is, in a line.", True),
            Param("parent_id", _ID, "The parent task (id or unique prefix)."),
            Param("priority", Integer(), "Higher comes first.", default=0),
            Param("assignee_session", _ID, "The session that owns the task."),
            Param("summary", Text(), "What is known so far."),
            Param("next_action", Text(), "What to do next."),
        ),
        KIND.key,
        TASK,
        f"{_HANDLERS}:create",
        access=WRITE,
    ),
    Method(
        "task.get",
        "One task, by id or unique id prefix.",
        (Param("task_id", _ID, "The task (id or unique prefix).", True),),
        KIND.key,
        TASK,
        f"{_HANDLERS}:get",
    ),
    Method(
        "task.list",
        "Tasks matching every filter given; priority first (higher first), then oldest first.",
        (
            Param("level", Choice(TaskLevel), "Only tasks of this level."),
            Param("status", Choice(TaskStatus), "Only tasks in this status."),
            Param("parent_id", _ID, "Only direct children of this task."),
            Param("assignee_session", _ID, "Only tasks owned by this session."),
            Param("limit", Integer(0), "At most this many (``total`` still counts all)."),
        ),
        KIND.plural,
        list_schema(TASK),
        f"{_HANDLERS}:list_tasks",
        access=READ,
        more_results=(TOTAL,),
        columns=("id", "level", "status", "priority", "title"),
    ),
    Method(
        "task.update",
        "Change a task. Status moves todo -> in_progress -> done; blocked and cancelled "
        "from any open status; in_progress or blocked back to todo.",
        (
            Param("task_id", _ID, "The task (id or unique prefix).", True),
            Param("status", Choice(TaskStatus), "The new status."),
            Param("title", _TITLE, "A new title."),
            Param("priority", Integer(), "A new priority."),
            Param("assignee_session", _ID, "The new owner session; empty to clear."),
            Param("summary", Text(), "What is known so far."),
            Param("next_action", Text(), "What to do next."),
        ),
        KIND.key,
        TASK,
        f"{_HANDLERS}:update",
        access=WRITE,
    ),
)
