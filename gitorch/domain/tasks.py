"""Tasks: epics down to steps, with a strict nesting and a status life."""

from __future__ import annotations

from gitorch.domain import entities
from gitorch.domain.context import Context
from gitorch.model.enums import TaskLevel, TaskStatus
from gitorch.model.errors import InvalidParams, PreconditionFailed
from gitorch.model.kinds import SESSION, TASK
from gitorch.model.task import STATUS_MOVES, may_nest
from gitorch.store.state import Snapshot, Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

TITLE_LIMIT = 1000


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _title(title: str) -> str:
    if not title.strip():
        raise InvalidParams("title: must not be empty", {"param": "title"})
    if len(title) > TITLE_LIMIT:
        raise InvalidParams(
            f"title: longer than {TITLE_LIMIT} characters", {"param": "title", "length": len(title)}
        )
    return title


def _stage_new(
    ctx: Context,
    tx: Transaction,
    *,
    level: TaskLevel,
    title: str,
    parent_id: str | None,
    priority: int,
    assignee_session: str | None,
    summary: str | None,
    next_action: str | None,
) -> dict[str, Any]:
    parent = None
    if parent_id is not None:
        parent = entities.find(tx, TASK, parent_id, "parent_id")
        if not may_nest(level, TaskLevel(parent["level"])):
            raise InvalidParams(
                f"a {level} cannot nest under {_article(parent['level'])} (a parent must be of a "
                "higher level, epic > feature > test_group > case, and a step's parent a case)",
                {"param": "parent_id", "level": level.value, "parent_level": parent["level"]},
            )
    return entities.create(
        ctx,
        tx,
        TASK,
        {
            "level": level.value,
            "title": _title(title),
            "parent_id": parent["id"] if parent else None,
            "priority": priority,
            "status": TaskStatus.TODO.value,
            "assignee_session": entities.resolve_optional(
                tx, SESSION, assignee_session, "assignee_session"
            ),
            "input_contract": None,
            "fixtures": [],
            "required_files": [],
            "summary": summary,
            "next_action": next_action,
        },
    )


def create(
    ctx: Context,
    tx: Transaction,
    *,
    level: TaskLevel,
    title: str,
    parent_id: str | None = None,
    priority: int = 0,
    assignee_session: str | None = None,
    summary: str | None = None,
    next_action: str | None = None,
) -> dict[str, Any]:
    """Create a task; a parent must be of a higher level."""
    doc = _stage_new(
        ctx,
        tx,
        level=level,
        title=title,
        parent_id=parent_id,
        priority=priority,
        assignee_session=assignee_session,
        summary=summary,
        next_action=next_action,
    )
    return {"task": _out(doc)}


def create_many(ctx: Context, specs: list[dict[str, Any]]) -> list[str]:
    """Create many tasks in one commit (an import, or a benchmark's large state).

    Each spec holds ``task.create``'s parameters; a ``parent_id`` may name
    a task created earlier in the same call. All or nothing. Returns the ids.
    The commit is named by ``ctx.method`` (``ctx.for_call("task.import", None)``).
    """

    def apply(tx: Transaction) -> list[str]:
        return [
            _stage_new(
                ctx,
                tx,
                level=TaskLevel(spec["level"]),
                title=spec["title"],
                parent_id=spec.get("parent_id"),
                priority=spec.get("priority", 0),
                assignee_session=spec.get("assignee_session"),
                summary=spec.get("summary"),
                next_action=spec.get("next_action"),
            )["id"]
            for spec in specs
        ]

    return ctx.transact(apply)


def get(ctx: Context, view: Snapshot, *, task_id: str) -> dict[str, Any]:
    """One task by id or unique id prefix."""
    return {"task": _out(entities.find(view, TASK, task_id, "task_id"))}


def list_tasks(
    ctx: Context,
    view: Snapshot,
    *,
    level: TaskLevel | None = None,
    status: TaskStatus | None = None,
    parent_id: str | None = None,
    assignee_session: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Tasks that match every filter given: priority first (higher first), then oldest first."""
    parent = entities.resolve_id(view, TASK, parent_id, "parent_id") if parent_id else None
    assignee = entities.resolve_optional(view, SESSION, assignee_session, "assignee_session")
    if limit is not None and limit < 0:
        raise InvalidParams("limit: must not be negative", {"param": "limit"})
    tasks = [
        doc
        for doc in entities.load_all(view, TASK)
        if (level is None or doc["level"] == level)
        and (status is None or doc["status"] == status)
        and (parent is None or doc["parent_id"] == parent)
        and (assignee is None or doc["assignee_session"] == assignee)
    ]
    tasks.sort(key=lambda doc: (-doc["priority"], doc["created_at"], doc["id"]))
    total = len(tasks)
    if limit is not None:
        tasks = tasks[:limit]
    return {"tasks": tasks, "total": total}


def update(
    ctx: Context,
    tx: Transaction,
    *,
    task_id: str,
    status: TaskStatus | None = None,
    title: str | None = None,
    priority: int | None = None,
    assignee_session: str | None = None,
    summary: str | None = None,
    next_action: str | None = None,
) -> dict[str, Any]:
    """Change a task; a status moves todo -> in_progress -> done, or to blocked/cancelled."""
    if title is not None:
        _title(title)
    doc = entities.find(tx, TASK, task_id, "task_id")
    values: dict[str, Any] = {}
    if status is not None and status != doc["status"]:
        current = TaskStatus(doc["status"])
        allowed = STATUS_MOVES[current]
        if status not in allowed:
            raise PreconditionFailed(
                f"task {doc['id']} is {current}; it cannot move to {status}",
                {
                    "id": doc["id"],
                    "from": current.value,
                    "to": status.value,
                    "allowed": sorted(s.value for s in allowed),
                },
            )
        values["status"] = status.value
    if title is not None:
        values["title"] = title
    if priority is not None:
        values["priority"] = priority
    if assignee_session is not None:
        values["assignee_session"] = entities.resolve_optional(
            tx, SESSION, assignee_session, "assignee_session"
        )
    if summary is not None:
        values["summary"] = summary
    if next_action is not None:
        values["next_action"] = next_action
    return {"task": _out(entities.change(ctx, tx, TASK, doc, values))}


def _out(doc: dict[str, Any]) -> dict[str, Any]:
    """A task as methods return it: the fields in a stable order."""
    return TASK.schema.ordered(doc)
