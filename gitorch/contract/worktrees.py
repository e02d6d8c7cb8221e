"""Declarations of the worktree and scheduler methods."""

from __future__ import annotations

from gitorch.contract.method import EFFECTS, READ, Method
from gitorch.contract.params import Boolean, Choice, Integer, Param, Text, TextList
from gitorch.contract.schema import entity_schema, list_schema
from gitorch.model.enums import WorktreeStatus
from gitorch.model.kinds import WORKTREE

_ID = Text(200)
_WORKTREE = entity_schema(WORKTREE)
_ACTING = "Acting session; default GIT_ORCH_SESSION."
_W = "gitorch.domain.worktrees"
_COUNT = Integer(0, 1_000_000)

METHODS = (
    Method(
        "scheduler.decide_worktree",
        "Whether work deserves its own worktree: a score with every term explained.",
        (
            Param("changed_files", _COUNT, "How many files the work changes.", default=0),
            Param("estimate_minutes", _COUNT, "How long it should take.", default=0),
            Param("risk", Text(20), "low, medium, high, or an integer."),
            Param("parallel_workers", Integer(1, 1000), "Agents working at once.", default=1),
            Param("conflicting_paths", TextList(4096, 1000), "Paths others may touch too."),
            Param("session_id", _ID, "Whose locks do not count as conflicts."),
        ),
        "mode",
        {"type": "string", "enum": ["worktree", "shared"]},
        "gitorch.domain.scheduler:decide",
        access=READ,
        more_results=(
            ("score", {"type": "integer"}),
            ("threshold", {"type": "integer"}),
            ("reasons", {"type": "array", "items": {"type": "object"}}),
        ),
    ),
    Method(
        "worktree.create",
        "A worktree for a task on a new branch (recorded, then git worktree add).",
        (
            Param("task_id", _ID, "The task (id or unique prefix).", True),
            Param("branch", Text(255), "The new branch.", True),
            Param("path", Text(4096), "Where (default: under the worktree root)."),
            Param("base_ref", Text(255), "What it starts from (default: the protected branch)."),
            Param("create_on_disk", Boolean(), "Run git worktree add.", default=True),
            Param("session_id", _ID, "The owner; default GIT_ORCH_SESSION."),
        ),
        WORKTREE.key,
        _WORKTREE,
        f"{_W}:create",
        access=EFFECTS,
    ),
    Method(
        "worktree.spawn",
        "A child worktree of one the session owns, from the parent's HEAD.",
        (
            Param("parent_worktree_id", _ID, "The parent (id or unique prefix).", True),
            Param("session_id", _ID, _ACTING),
            Param("task_id", _ID, "The task the child serves."),
            Param("branch", Text(255), "Default: <parent branch>--<task slug>."),
            Param("path", Text(4096), "Where (default: under the worktree root)."),
            Param("base_ref", Text(255), "What it starts from (default: the parent's HEAD)."),
            Param("create_on_disk", Boolean(), "Run git worktree add.", default=True),
        ),
        WORKTREE.key,
        _WORKTREE,
        f"{_W}:spawn",
        access=EFFECTS,
    ),
    Method(
        "worktree.merge_to_parent",
        "Merge a child's branch into its parent's; a conflict leaves the parent as it was.",
        (
            Param("worktree_id", _ID, "The child (id or unique prefix).", True),
            Param("session_id", _ID, _ACTING),
        ),
        WORKTREE.key,
        _WORKTREE,
        f"{_W}:merge_to_parent",
        access=EFFECTS,
        more_results=(("parent", _WORKTREE), ("head", {"type": ["string", "null"]})),
    ),
    Method(
        "worktree.list",
        "Worktrees gitorch knows, with whether each is on disk.",
        (
            Param("session_id", _ID, "Only this session's."),
            Param("status", Choice(WorktreeStatus), "Only in this status."),
            Param("include_removed", Boolean(), "Also removed ones."),
        ),
        WORKTREE.plural,
        list_schema(_WORKTREE),
        f"{_W}:list_worktrees",
        access=READ,
        columns=("id", "kind", "status", "branch", "path"),
    ),
    Method(
        "worktree.remove",
        "Remove a worktree holding no work (--force with --reason overrides); its branch is kept.",
        (
            Param("worktree_id", _ID, "The worktree (id or unique prefix).", True),
            Param("session_id", _ID, _ACTING),
            Param("force", Boolean(), "Remove despite changes, commits or a live owner."),
            Param("reason", Text(1000), "Why, for a forced removal (recorded)."),
        ),
        WORKTREE.key,
        _WORKTREE,
        f"{_W}:remove",
        access=EFFECTS,
    ),
    Method(
        "worktree.prune",
        "Worktrees of closed sessions whose work is merged: listed, removed with --apply.",
        (Param("apply", Boolean(), "Remove them (default: a dry run)."),),
        WORKTREE.plural,
        list_schema(_WORKTREE),
        f"{_W}:prune",
        access=EFFECTS,
        more_results=(
            ("removed", {"type": "array", "items": {"type": "string"}}),
            ("dry_run", {"type": "boolean"}),
        ),
    ),
)
