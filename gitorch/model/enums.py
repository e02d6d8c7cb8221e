"""Enumerations of the contract and the one rule for reading them.

Inputs are case-insensitive and accept ``-`` or a space for ``_``; outputs
always use the lower snake_case value.
"""

from __future__ import annotations

from enum import StrEnum

from gitorch.model.errors import InvalidParams

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import TypeVar

    E = TypeVar("E", bound=StrEnum)


class TaskLevel(StrEnum):
    """Task levels, from the widest to the narrowest."""

    EPIC = "epic"
    FEATURE = "feature"
    TEST_GROUP = "test_group"
    CASE = "case"
    STEP = "step"


class TaskStatus(StrEnum):
    """Where a task is in its life."""

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"


LEVEL_RANK = {level: rank for rank, level in enumerate(TaskLevel)}


def normalize_enum_text(raw: str) -> str:
    """``TestGroup``, ``testGroup``, ``Test-Group``, ``test group``: all ``test_group``."""
    text = raw.strip()
    if not text.isupper():  # TEST_GROUP stays one word per underscore
        text = "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(text))
    out = text.lower().replace("-", "_").replace(" ", "_")
    while "__" in out:
        out = out.replace("__", "_")
    return out


def parse_enum(enum_cls: type[E], raw: object, param: str) -> E:
    """Read ``raw`` as a member of ``enum_cls`` or raise ``invalid_params``."""
    allowed = [member.value for member in enum_cls]
    if isinstance(raw, str):
        text = normalize_enum_text(raw)
        for member in enum_cls:
            if member.value == text:
                return member
    raise InvalidParams(
        f"{param}: {raw!r} is not one of {', '.join(allowed)}",
        {"param": param, "value": raw, "allowed": allowed},
    )


class SessionIntent(StrEnum):
    """Why a session opens: new work, taking over a suspended one, or either."""

    NEW_WORK = "new_work"
    RESUME_WORK = "resume_work"
    AUTO = "auto"


class SessionStatus(StrEnum):
    """A session's stored status; ``suspended`` is derived when read, never stored."""

    OPENED = "opened"
    ACTIVE_NEW = "active_new"
    AWAITING_RESUME = "awaiting_resume"
    ACTIVE_RESUME = "active_resume"
    HANDOFF_ATTACHED = "handoff_attached"
    CLOSED = "closed"


class NodeType(StrEnum):
    """Kinds of planning-graph node."""

    INITIATIVE = "initiative"
    PLAN = "plan"
    SLICE = "slice"
    TASK = "task"
    MILESTONE = "milestone"


class Facet(StrEnum):
    """What kind of work a node or checklist item is."""

    PLANNING = "planning"
    IMPLEMENTATION = "implementation"
    TEST = "test"
    REVIEW = "review"
    DOCS = "docs"
    OPS = "ops"


class NodeStatus(StrEnum):
    """Where a planning-graph node is in its life."""

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    IN_REVIEW = "in_review"
    DONE = "done"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


class RiskLevel(StrEnum):
    """How risky a node's change is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ApprovalState(StrEnum):
    """A rollup's approval."""

    NONE = "none"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class EdgeType(StrEnum):
    """How two nodes relate."""

    CONTAINS = "contains"
    DEPENDS_ON = "depends_on"
    BLOCKS = "blocks"
    RELATES_TO = "relates_to"


class ChecklistStatus(StrEnum):
    """A checklist item's status."""

    TODO = "todo"
    DONE = "done"
    SKIPPED = "skipped"
    BLOCKED = "blocked"


class SnapshotType(StrEnum):
    """Why a node's snapshot was taken."""

    PROGRESS = "progress"
    REPLAN = "replan"
    ROLLUP = "rollup"
    HANDOFF = "handoff"
    CHECKPOINT = "checkpoint"


class WorktreeKind(StrEnum):
    """The main checkout, a session's root worktree, or a task's child worktree."""

    MAIN = "main"
    SESSION_ROOT = "session_root"
    TASK = "task"


class WorktreeStatus(StrEnum):
    """Where a worktree is in its life."""

    PLANNED = "planned"
    ACTIVE = "active"
    MERGED_TO_PARENT = "merged_to_parent"
    MERGED_TO_MAIN = "merged_to_main"
    REMOVED = "removed"


class SplitDirection(StrEnum):
    """How a new child pane divides its window."""

    VERTICAL = "vertical"
    HORIZONTAL = "horizontal"


class ThreadStatus(StrEnum):
    """What an agent thread (a tmux pane) is doing."""

    PLANNED = "planned"
    STARTING = "starting"
    RUNNING = "running"
    IDLE = "idle"
    INTERRUPTED = "interrupted"
    STOPPED = "stopped"
    EXITED = "exited"
    FAILED = "failed"


class LockScope(StrEnum):
    """A lock covers one file or a directory prefix."""

    PREFIX = "prefix"
    FILE = "file"


class LockStatus(StrEnum):
    """A lock's stored status."""

    ACTIVE = "active"
    RELEASED = "released"
    EXPIRED = "expired"


class RefMode(StrEnum):
    """Why a current ref was built."""

    COMPACT = "compact"
    RESUME = "resume"
    HANDOFF = "handoff"


class MergeStatus(StrEnum):
    """A merge request's status."""

    REQUESTED = "requested"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    QUEUED = "queued"
    MERGED = "merged"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Verdict(StrEnum):
    """A review's verdict."""

    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"


class MainMergeStatus(StrEnum):
    """A main-merge queue entry's status."""

    QUEUED = "queued"
    RUNNING = "running"
    MERGED = "merged"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepResult(StrEnum):
    """What a checked step found."""

    PASS = "pass"  # noqa: S105 - a result, not a password
    FAIL = "fail"
    SKIP = "skip"
    NOTE = "note"
