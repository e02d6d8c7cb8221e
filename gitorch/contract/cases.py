"""Declarations of the case lifecycle: begin, check steps, complete, resume next."""

from __future__ import annotations

from gitorch.contract.method import EFFECTS, READ, WRITE, Method
from gitorch.contract.params import TITLE_LIMIT, Choice, JsonObject, Param, Text, TextList
from gitorch.contract.schema import entity_schema
from gitorch.model.enums import StepResult
from gitorch.model.kinds import TASK

_ID = Text(200)
_TASK = entity_schema(TASK)
_FILES = TextList(1000, 200)
_ACTING = "Acting session; default GIT_ORCH_SESSION."
_C = "gitorch.domain.cases"

METHODS = (
    Method(
        "case.begin",
        "Start a case: in progress, held by the session, and its current ref.",
        (
            Param("case_id", _ID, "The case (id or unique prefix).", True),
            Param("session_id", _ID, _ACTING),
            Param("input_contract", JsonObject(), "What the case takes as input."),
            Param("fixtures", TextList(1000, 200), "Fixtures the case uses."),
            Param("required_files", _FILES, "Files to read first."),
        ),
        TASK.key,
        _TASK,
        f"{_C}:begin",
        access=WRITE,
    ),
    Method(
        "step.check",
        "Record a step of a case and a checkpoint note on the worktree's HEAD commit.",
        (
            Param("case_id", _ID, "The case (id or unique prefix).", True),
            Param("step_title", Text(TITLE_LIMIT, nonempty=True), "What the step did.", True),
            Param("result", Choice(StepResult), "pass, fail, skip or note.", True),
            Param("session_id", _ID, _ACTING),
            Param("artifacts", TextList(1000, 200), "What the step produced (paths, URLs)."),
            Param("required_files", _FILES, "Files to read first."),
        ),
        "step",
        _TASK,
        f"{_C}:check_step",
        access=EFFECTS,
        more_results=(
            ("case_id", {"type": "string"}),
            ("number", {"type": "integer"}),
            ("note_commit", {"type": ["string", "null"]}),
        ),
    ),
    Method(
        "case.complete",
        "Finish a case: done, with a summary and the next action.",
        (
            Param("case_id", _ID, "The case (id or unique prefix).", True),
            Param("summary", Text(), "What was done and learnt.", True),
            Param("next_action", Text(), "What to do next.", True),
            Param("session_id", _ID, _ACTING),
            Param("required_files", _FILES, "Files to read first."),
        ),
        TASK.key,
        _TASK,
        f"{_C}:complete",
        access=WRITE,
    ),
    Method(
        "resume.next",
        "The case to take up next (in progress, blocked, then to do) with its last checkpoint.",
        (Param("session_id", _ID, "Put this session's own cases first."),),
        "case",
        {**_TASK, "type": ["object", "null"]},
        f"{_C}:resume_next",
        access=READ,
        more_results=(("checkpoint", {**_TASK, "type": ["object", "null"]}),),
    ),
)
