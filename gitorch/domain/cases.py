"""The case lifecycle: begin a case, check its steps, complete it; and what to resume next.

A checked step is a task of level ``step`` under its case, and a git note
on ``refs/notes/orchestrator`` on the HEAD commit of the session's
worktree, so ``git log --notes=orchestrator`` shows which case and step a
commit served. Several notes on one commit are kept (appended), and
``notes.rewriteRef`` carries them through ``commit --amend`` and ``rebase``.
"""

from __future__ import annotations

from gitorch.domain import checkouts, entities, sessions
from gitorch.domain.context import Context
from gitorch.model.enums import RefMode, StepResult, TaskLevel, TaskStatus
from gitorch.model.errors import Forbidden, InvalidParams, PreconditionFailed
from gitorch.model.kinds import CURRENT_REF, SESSION, TASK, WORKTREE
from gitorch.store.notes import Notes
from gitorch.store.state import Snapshot, Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

_RESUME_ORDER = {TaskStatus.IN_PROGRESS: 0, TaskStatus.BLOCKED: 1, TaskStatus.TODO: 2}


def find_case(view: Snapshot, case_id: str) -> dict[str, Any]:
    """The task ``case_id`` names, which must be a case."""
    case = entities.find(view, TASK, case_id, "case_id")
    if case["level"] != TaskLevel.CASE:
        raise InvalidParams(
            f"case_id: {case['id']} is a {case['level']}, not a case",
            {"param": "case_id", "level": case["level"]},
        )
    return case


def _held(case: dict[str, Any], session: dict[str, Any]) -> None:
    holder = case.get("assignee_session")
    if holder and holder != session["id"]:
        raise Forbidden(
            f"case {case['id']} is being worked by session {holder}",
            {"case_id": case["id"], "assignee_session": holder},
        )


def steps_of(view: Snapshot, case_id: str) -> list[dict[str, Any]]:
    """The checked steps of a case, oldest first."""
    found = [
        doc
        for doc in entities.load_all(view, TASK)
        if doc["parent_id"] == case_id and doc["level"] == TaskLevel.STEP
    ]
    found.sort(key=lambda doc: (doc["created_at"], doc["id"]))
    return found


def point_ref(
    ctx: Context, tx: Transaction, session: dict[str, Any], values: dict[str, Any]
) -> dict[str, Any]:
    """Set the session's current ref (made when it has none) to ``values``."""
    if session.get("current_ref_id"):
        ref = entities.load(tx, CURRENT_REF, session["current_ref_id"])
        return entities.change(ctx, tx, CURRENT_REF, ref, {**values, "acked_at": None})
    ref = entities.create(
        ctx,
        tx,
        CURRENT_REF,
        {
            "session_id": session["id"],
            "mode": RefMode.COMPACT.value,
            "case_id": None,
            "step": None,
            "worktree_id": session.get("root_worktree_id"),
            "head": None,
            "next_action": None,
            "required_files": [],
            "acked_at": None,
            **values,
        },
    )
    entities.change(ctx, tx, SESSION, session, {"current_ref_id": ref["id"]})
    return ref


def begin(
    ctx: Context,
    tx: Transaction,
    *,
    case_id: str,
    session_id: str | None = None,
    input_contract: dict[str, Any] | None = None,
    fixtures: list[str] | None = None,
    required_files: list[str] | None = None,
) -> dict[str, Any]:
    """Start a case: in progress, held by the session, and the session's current ref."""
    session = sessions.require(tx, session_id, ctx.session, "session_id")
    case = find_case(tx, case_id)
    _held(case, session)
    if case["status"] in (TaskStatus.DONE, TaskStatus.CANCELLED):
        raise PreconditionFailed(
            f"case {case['id']} is {case['status']}",
            {"case_id": case["id"], "status": case["status"]},
        )
    values: dict[str, Any] = {
        "status": TaskStatus.IN_PROGRESS.value,
        "assignee_session": session["id"],
        "input_contract": input_contract if input_contract is not None else case["input_contract"],
        "fixtures": fixtures if fixtures is not None else case["fixtures"],
    }
    if required_files is not None:
        values["required_files"] = required_files
    case = entities.change(ctx, tx, TASK, case, values)
    point_ref(ctx, tx, session, {"case_id": case["id"], "required_files": case["required_files"]})
    return {"task": case}


def check_step(
    ctx: Context,
    *,
    case_id: str,
    step_title: str,
    result: StepResult,
    session_id: str | None = None,
    artifacts: list[str] | None = None,
    required_files: list[str] | None = None,
) -> dict[str, Any]:
    """Record a step of a case, and a checkpoint note on the worktree's HEAD commit."""
    view = ctx.read()
    session = sessions.require(view, session_id, ctx.session, "session_id")
    commit = None
    if session.get("root_worktree_id"):
        worktree = entities.load(view, WORKTREE, session["root_worktree_id"])
        commit = checkouts.head(worktree["path"]).commit

    def record(tx: Transaction) -> tuple[dict[str, Any], dict[str, Any], int]:
        me = sessions.require(tx, session["id"], None, "session_id")
        case = find_case(tx, case_id)
        _held(case, me)
        if case["status"] != TaskStatus.IN_PROGRESS:
            raise PreconditionFailed(
                f"case {case['id']} is {case['status']}; begin it first (case.begin)",
                {"case_id": case["id"], "status": case["status"]},
            )
        number = len(steps_of(tx, case["id"])) + 1
        step = entities.create(
            ctx,
            tx,
            TASK,
            {
                "level": TaskLevel.STEP.value,
                "title": step_title,
                "parent_id": case["id"],
                "priority": 0,
                "status": TaskStatus.DONE.value,
                "assignee_session": me["id"],
                "input_contract": None,
                "fixtures": [],
                "required_files": required_files or [],
                "summary": None,
                "next_action": None,
                "result": result.value,
                "artifacts": artifacts or [],
                "commit": commit,
            },
        )
        last = {
            "number": number,
            "title": step_title,
            "result": result.value,
            "task_id": step["id"],
        }
        values = {"case_id": case["id"], "step": last, "head": commit}
        if required_files:
            values["required_files"] = required_files
        point_ref(ctx, tx, me, values)
        return case, step, number

    case, step, number = ctx.transact(record)
    note = None
    if commit is not None:
        note = _note_text(case, step, number)
        Notes(ctx.store).add(commit, note, message=f"step.check {case['id']} step {number}")
    return {"step": step, "case_id": case["id"], "number": number, "note_commit": commit}


def _note_text(case: dict[str, Any], step: dict[str, Any], number: int) -> str:
    lines = [
        f"gitorch case {case['id']}: {_one_line(case['title'])}",
        f"step {number} ({step['id']}): {_one_line(step['title'])} -> {step['result']}",
    ]
    if step["artifacts"]:
        lines.append("artifacts: " + ", ".join(_one_line(a) for a in step["artifacts"]))
    return "\n".join(lines)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:199] + "…"


def complete(
    ctx: Context,
    tx: Transaction,
    *,
    case_id: str,
    summary: str,
    next_action: str,
    session_id: str | None = None,
    required_files: list[str] | None = None,
) -> dict[str, Any]:
    """Finish a case: done, with what was learnt and what to do next."""
    session = sessions.require(tx, session_id, ctx.session, "session_id")
    case = find_case(tx, case_id)
    _held(case, session)
    if case["status"] != TaskStatus.IN_PROGRESS:
        raise PreconditionFailed(
            f"case {case['id']} is {case['status']}; only a case in progress can complete",
            {"case_id": case["id"], "status": case["status"]},
        )
    values: dict[str, Any] = {
        "status": TaskStatus.DONE.value,
        "summary": summary,
        "next_action": next_action,
    }
    if required_files is not None:
        values["required_files"] = required_files
    case = entities.change(ctx, tx, TASK, case, values)
    point_ref(ctx, tx, session, {"case_id": case["id"], "next_action": next_action})
    return {"task": case}


def resume_next(ctx: Context, view: Snapshot, *, session_id: str | None = None) -> dict[str, Any]:
    """The case to take up next, with its latest checkpoint: in progress, blocked, then to do."""
    own = None
    if session_id or ctx.session:
        own = sessions.require(view, session_id, ctx.session, "session_id")["id"]
    cases = [
        doc
        for doc in entities.load_all(view, TASK)
        if doc["level"] == TaskLevel.CASE and doc["status"] in _RESUME_ORDER
    ]
    cases.sort(
        key=lambda doc: (
            own is None or doc["assignee_session"] != own,
            _RESUME_ORDER[TaskStatus(doc["status"])],
            -doc["priority"],
            doc["created_at"],
            doc["id"],
        )
    )
    if not cases:
        return {"case": None, "checkpoint": None}
    steps = steps_of(view, cases[0]["id"])
    return {"case": cases[0], "checkpoint": steps[-1] if steps else None}
