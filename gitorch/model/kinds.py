"""Every kind of entity, declared once.

A declaration names the kind, its directory in the state tree, its id
prefix, the key a method returns one of it under and the key of a list,
and its fields. The kind list, the field checks, the JSON Schema of results
and the cache layout all derive from these declarations.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from gitorch.model import enums as e
from gitorch.model.fields import COMMON_FIELDS, Field, Schema


class EntityKind:
    """One kind of entity: where it lives, how it is named, what it holds."""

    __slots__ = ("description", "directory", "fields", "key", "name", "plural", "prefix", "schema")

    def __init__(
        self,
        name: str,
        directory: str,
        prefix: str,
        description: str,
        fields: Sequence[Field],
        *,
        plural: str | None = None,
    ) -> None:
        self.name = name
        self.directory = directory
        self.prefix = prefix
        self.description = description
        self.key = name  # a method returning one: {"task": {...}}
        self.plural = plural or directory  # a method returning a list: {"tasks": [...]}
        self.fields = (*COMMON_FIELDS, *fields)
        self.schema = Schema(self.fields)

    def __repr__(self) -> str:
        return f"EntityKind({self.name!r})"


def _f(name: str, shape: str | type[StrEnum], optional: bool = False) -> Field:
    return Field(name, shape, optional)


TASK = EntityKind(
    "task",
    "tasks",
    "tsk",
    "A task: epic > feature > test_group > case > step.",
    (
        _f("level", e.TaskLevel),
        _f("title", "str"),
        _f("parent_id", "str", True),
        _f("priority", "int"),
        _f("status", e.TaskStatus),
        _f("assignee_session", "str", True),
        _f("input_contract", "json", True),
        _f("fixtures", "str_list"),
        _f("required_files", "str_list"),
        _f("summary", "str", True),
        _f("next_action", "str", True),
        _f("result", e.StepResult, True),  # a step's
        _f("artifacts", "str_list", True),  # a step's
        _f("commit", "str", True),  # the commit a step's checkpoint note is on
    ),
)
SESSION = EntityKind(
    "session",
    "sessions",
    "ses",
    "An agent's session: who, doing what, seen when; suspended when silent past its timeout.",
    (
        _f("agent_role", "str", True),
        _f("owner", "str", True),
        _f("terminal_fingerprint", "str", True),
        _f("intent", e.SessionIntent),
        _f("status", e.SessionStatus),
        _f("heartbeat_timeout_seconds", "int"),
        _f("last_seen_at", "str"),
        _f("root_worktree_id", "str", True),
        _f("current_ref_id", "str", True),
        _f("generation", "int"),
        _f("attached_by", "str", True),
        _f("attached_at", "str", True),
    ),
)
NODE = EntityKind(
    "node",
    "nodes",
    "nod",
    "A planning-graph node: initiative, plan, slice, task or milestone.",
    (
        _f("node_type", e.NodeType),
        _f("facet", e.Facet),
        _f("title", "str"),
        _f("status", e.NodeStatus),
        _f("priority", "int"),
        _f("parent_id", "str", True),
        _f("worktree_id", "str", True),
        _f("owner_session_id", "str", True),
        _f("summary", "str", True),
        _f("risk_level", e.RiskLevel, True),
        _f("token_estimate", "int", True),
        _f("affected_files", "str_list"),
        _f("approval_state", e.ApprovalState),
    ),
)
EDGE = EntityKind(
    "edge",
    "edges",
    "edg",
    "A directed relation between two nodes.",
    (
        _f("from_node_id", "str"),
        _f("to_node_id", "str"),
        _f("edge_type", e.EdgeType),
    ),
)
CHECKLIST = EntityKind(
    "checklist",
    "checklists",
    "chk",
    "A checklist item of a node, keyed by (node, order_no, facet).",
    (
        _f("node_id", "str"),
        _f("item_text", "str"),
        _f("status", e.ChecklistStatus),
        _f("order_no", "int"),
        _f("facet", e.Facet),
    ),
)
SNAPSHOT = EntityKind(
    "snapshot",
    "snapshots",
    "snp",
    "A recorded moment of a node: progress, replan, rollup, handoff, checkpoint.",
    (
        _f("node_id", "str"),
        _f("snapshot_type", e.SnapshotType),
        _f("summary", "str", True),
        _f("affected_files", "str_list"),
        _f("next_action", "str", True),
    ),
)
WORKTREE = EntityKind(
    "worktree",
    "worktrees",
    "wtr",
    "A git worktree gitorch made or knows: main, a session's root, or a task's child.",
    (
        _f("task_id", "str", True),
        _f("session_id", "str", True),
        _f("parent_worktree_id", "str", True),
        _f("kind", e.WorktreeKind),
        _f("branch", "str"),
        _f("path", "str"),
        _f("base_ref", "str"),
        _f("status", e.WorktreeStatus),
    ),
)
THREAD = EntityKind(
    "thread",
    "threads",
    "thr",
    "An agent in a tmux pane: its session, worktree, role and launch command.",
    (
        _f("session_id", "str"),
        _f("parent_thread_id", "str", True),
        _f("worktree_id", "str", True),
        _f("role", "str"),
        _f("title", "str", True),
        _f("objective", "str", True),
        _f("tmux", "json", True),
        _f("argv", "str_list"),
        _f("status", e.ThreadStatus),
        _f("scope", "str"),  # root or child
        _f("profile", "str", True),
        _f("exit_status", "int", True),
        _f("reason", "str", True),
    ),
)
LOCK = EntityKind(
    "lock",
    "locks",
    "lck",
    "A path lease with a fencing epoch: a file or a prefix, held by a session until it expires.",
    (
        _f("scope_type", e.LockScope),
        _f("scope_path", "str"),
        _f("owner_session", "str"),
        _f("ttl_seconds", "int"),
        _f("expires_at", "str"),
        _f("epoch", "int"),
        _f("status", e.LockStatus),
        _f("released_by", "str", True),
        _f("release_reason", "str", True),
    ),
)
CURRENT_REF = EntityKind(
    "current_ref",
    "refs",
    "ref",
    "The smallest record a session needs to resume its work.",
    (
        _f("session_id", "str"),
        _f("mode", e.RefMode),
        _f("case_id", "str", True),
        _f("step", "json", True),
        _f("worktree_id", "str", True),
        _f("head", "str", True),
        _f("next_action", "str", True),
        _f("required_files", "str_list"),
        _f("acked_at", "str", True),
    ),
    plural="current_refs",
)
MERGE_REQUEST = EntityKind(
    "merge_request",
    "merge_requests",
    "mrq",
    "A request to merge a feature task's work, with its review.",
    (
        _f("feature_task_id", "str"),
        _f("reviewer_session", "str", True),
        _f("notes_json", "json", True),
        _f("status", e.MergeStatus),
        _f("requester_session", "str", True),
        _f("worktree_id", "str", True),  # where the feature's work is
        _f("branch", "str", True),
        _f("commit", "str", True),  # the commit under review
    ),
)
REVIEW = EntityKind(
    "review",
    "reviews",
    "rvw",
    "A review job of a merge request and its verdict.",
    (
        _f("merge_request_id", "str"),
        _f("thread_id", "str", True),
        _f("verdict", e.Verdict, True),
        _f("summary", "str", True),
        _f("reviewer_session", "str", True),
        _f("commit", "str", True),
    ),
    plural="review_jobs",
)
MAIN_MERGE = EntityKind(
    "main_merge",
    "main_queue",
    "mmr",
    "An entry of the main-branch merge queue.",
    (
        _f("session_id", "str"),
        _f("from_worktree_id", "str"),
        _f("target_branch", "str"),
        _f("merge_request_id", "str", True),
        _f("status", e.MainMergeStatus),
        _f("position", "int"),
        _f("branch", "str"),
        _f("head", "str"),  # the commit queued: exactly what lands
        _f("base", "str", True),  # the target's commit the candidate was built on
        _f("candidate", "str", True),  # the merge commit checked
        _f("landed_commit", "str", True),
        _f("reason", "str", True),
        _f("paths", "str_list"),  # conflicting or locked paths of a failure
        _f("check_output", "str", True),
        _f("history", "json"),
    ),
    plural="main_merges",
)
MAIN_LEASE = EntityKind(
    "main_lease",
    "main_leases",
    "mml",
    "The one main-merge lease: who may land, until when, with a fencing epoch.",
    (
        _f("holder_session", "str", True),
        _f("epoch", "int"),
        _f("ttl_seconds", "int"),
        _f("expires_at", "str", True),
        _f("status", e.LockStatus),
        _f("forced_by", "str", True),
        _f("reason", "str", True),
    ),
)

KINDS: dict[str, EntityKind] = {
    kind.name: kind
    for kind in (
        TASK,
        SESSION,
        NODE,
        EDGE,
        CHECKLIST,
        SNAPSHOT,
        WORKTREE,
        THREAD,
        LOCK,
        CURRENT_REF,
        MERGE_REQUEST,
        REVIEW,
        MAIN_MERGE,
        MAIN_LEASE,
    )
}
BY_DIRECTORY: dict[str, EntityKind] = {kind.directory: kind for kind in KINDS.values()}
BY_PREFIX: dict[str, EntityKind] = {kind.prefix: kind for kind in KINDS.values()}
