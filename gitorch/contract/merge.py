"""Declarations of merge requests, reviews and the main merge queue."""

from __future__ import annotations

from gitorch.contract.method import EFFECTS, READ, WRITE, Method
from gitorch.contract.params import Boolean, Choice, Command, Integer, Json, Param, Text
from gitorch.contract.schema import entity_schema, list_schema
from gitorch.model.enums import MainMergeStatus, Verdict
from gitorch.model.kinds import MAIN_LEASE, MAIN_MERGE, MERGE_REQUEST, REVIEW, TASK, THREAD

_ID = Text(200)
_ACTING = "Acting session; default GIT_ORCH_SESSION."
_M = "gitorch.domain.merges"
_Q = "gitorch.domain.queue"
_MR = entity_schema(MERGE_REQUEST)
_JOB = entity_schema(REVIEW)
_ENTRY = entity_schema(MAIN_MERGE)
_LEASE = entity_schema(MAIN_LEASE)
_ENTRIES = list_schema(_ENTRY)
_OBJECT = {"type": "object"}
_REASON = Text(1000)
_JOB_OR_MR = (
    Param("review_job_id", _ID, "The review job (or give merge_request_id)."),
    Param("merge_request_id", _ID, "The merge request (its latest job)."),
)
_CHECK = (
    Param(
        "check_command", Command(), "Check each candidate (default: git config orch.land.check)."
    ),
    Param("check_timeout", Integer(1, 86_400), "Seconds before a check is killed (default 600)."),
)
_LANDED = (
    ("landed", _ENTRIES),
    ("failed", _ENTRIES),
    ("landed_commit", {"type": ["string", "null"]}),
    ("checks_run", {"type": "integer"}),
)

METHODS = (
    Method(
        "merge.request",
        "A merge request for a feature task (its worktree's branch and commit under review).",
        (
            Param("feature_task_id", _ID, "The feature task.", True),
            Param("reviewer_session", _ID, "Who should review."),
            Param("notes_json", Json(), "Anything for the reviewer."),
            Param("session_id", _ID, "The requesting session; default GIT_ORCH_SESSION."),
        ),
        MERGE_REQUEST.key,
        _MR,
        f"{_M}:request",
        access=WRITE,
    ),
    Method(
        "merge.review_context",
        "The request, the feature, all its descendant tasks, their checkpoints, the diff stat.",
        (Param("merge_request_id", _ID, "The merge request.", True),),
        MERGE_REQUEST.key,
        _MR,
        f"{_M}:review_context",
        access=READ,
        more_results=(
            ("feature", entity_schema(TASK)),
            ("tasks", list_schema(entity_schema(TASK))),
            ("checkpoints", list_schema(_OBJECT)),
            ("diff_stat", {"type": ["string", "null"]}),
        ),
    ),
    Method(
        "merge.review.request_auto",
        "A review job and a reviewer child thread prompted with the review context.",
        (
            Param("merge_request_id", _ID, "The merge request.", True),
            Param("session_id", _ID, _ACTING),
            Param("reviewer_role", Text(40), "The thread's role.", default="reviewer"),
            Param("agent_guide_path", Text(4096), "A guide in the repository to follow."),
            Param("agent_override", Text(100), "Agent profile (default codex)."),
            Param("ensure_tmux", Boolean(), "Install tmux when missing.", default=True),
            Param("auto_install", Boolean(), "Allow a non-interactive install.", default=True),
            Param("launch_command", Command(), "Run this instead of the profile's command."),
        ),
        "review_job",
        _JOB,
        f"{_M}:request_auto",
        access=EFFECTS,
        more_results=(
            ("thread", entity_schema(THREAD)),
            ("tmux", _OBJECT),
            ("attach_info", _OBJECT),
        ),
    ),
    Method(
        "merge.review.submit",
        "A verdict: approve or request_changes; also a git note on the reviewed commit.",
        (
            Param("verdict", Choice(Verdict), "approve or request_changes.", True),
            Param("summary", Text(), "Why.", True),
            *_JOB_OR_MR,
            Param("session_id", _ID, "The reviewer; default GIT_ORCH_SESSION."),
        ),
        "review_job",
        _JOB,
        f"{_M}:submit",
        access=EFFECTS,
        more_results=(("merge_request", _MR), ("note_commit", {"type": ["string", "null"]})),
    ),
    Method(
        "merge.review.thread_status",
        "A review job and its reviewer thread as tmux shows it now.",
        _JOB_OR_MR,
        "review_job",
        _JOB,
        f"{_M}:thread_status",
        access=READ,
        more_results=(("thread", {"type": ["object", "null"]}),),
    ),
    Method(
        "merge.main.request",
        "Queue a session root worktree's HEAD for the target branch (refused with open children).",
        (
            Param("session_id", _ID, _ACTING),
            Param("from_worktree_id", _ID, "The session root worktree (default: the session's)."),
            Param("target_branch", Text(255), "Default: the protected branch."),
            Param("merge_request_id", _ID, "Its merge request: approval required to land."),
            Param("auto_review", Boolean(), "Dispatch a reviewer for it.", default=True),
            Param("reviewer_role", Text(40), "The reviewer thread's role.", default="reviewer"),
            Param("agent_guide_path", Text(4096), "A guide for the reviewer."),
        ),
        "main_merge_request",
        _ENTRY,
        f"{_Q}:main_request",
        access=EFFECTS,
        more_results=(
            ("position", {"type": ["integer", "null"]}),
            ("review_dispatch", _OBJECT),
            ("review_dispatch_error", _OBJECT),
        ),
    ),
    Method(
        "merge.main.next",
        "The head of the main-merge queue (FIFO), without taking it.",
        (),
        "main_merge_request",
        {"type": ["object", "null"]},
        f"{_Q}:next_entry",
        access=READ,
        more_results=(("queued", {"type": "integer"}),),
    ),
    Method(
        "merge.main.status",
        "One queue entry: status, position, history; and the lease.",
        (Param("request_id", _ID, "The queue entry.", True),),
        "main_merge_request",
        _ENTRY,
        f"{_Q}:main_status",
        access=READ,
        more_results=(
            ("position", {"type": ["integer", "null"]}),
            ("history", list_schema(_OBJECT)),
            ("lock", {"type": ["object", "null"]}),
        ),
    ),
    Method(
        "merge.main.list",
        "The queue: waiting entries in order, then the rest, newest first.",
        (Param("status", Choice(MainMergeStatus), "Only in this status."),),
        MAIN_MERGE.plural,
        _ENTRIES,
        f"{_Q}:main_list",
        access=READ,
        columns=("id", "status", "position", "branch", "session_id", "reason"),
    ),
    Method(
        "merge.main.acquire_lock",
        "Take or renew the main-merge lease (a new holder, a new epoch; --force with --reason).",
        (
            Param("session_id", _ID, _ACTING),
            Param("ttl_seconds", Integer(1, 86_400), "How long it holds.", default=300),
            Param("force", Boolean(), "Take it from a live holder (recorded)."),
            Param("reason", _REASON, "Why, for --force."),
            Param("remote", Text(255), "Count it only once a push to this remote holds it."),
        ),
        "lock",
        _LEASE,
        f"{_Q}:acquire_lock",
        access=WRITE,
        more_results=(("acquired", {"type": "boolean"}), ("renewed", {"type": "boolean"})),
        publishes=True,
    ),
    Method(
        "merge.main.release_lock",
        "Give the main-merge lease back (its holder; others with --force and --reason).",
        (
            Param("session_id", _ID, _ACTING),
            Param("force", Boolean(), "Release another session's lease (recorded)."),
            Param("reason", _REASON, "Why, for --force."),
        ),
        "lock",
        {"type": ["object", "null"]},
        f"{_Q}:release_lock",
        access=WRITE,
        more_results=(("released", {"type": "boolean"}),),
    ),
    Method(
        "merge.main.land",
        "Land the queue head (or --batch N, bisecting a red check) on exactly the checked commit.",
        (
            Param("session_id", _ID, "The lease holder; default GIT_ORCH_SESSION."),
            Param("batch", Integer(1, 64), "Entries checked together.", default=1),
            *_CHECK,
        ),
        "main_merge_request",
        {"type": ["object", "null"]},
        f"{_Q}:land",
        access=EFFECTS,
        more_results=_LANDED,
    ),
    Method(
        "queue.run",
        "Hold the main-merge lease and land queue heads until the queue is empty.",
        (
            Param("session_id", _ID, _ACTING),
            Param("once", Boolean(), "Land once, then stop."),
            Param("batch", Integer(1, 64), "Entries checked together.", default=1),
            *_CHECK,
            Param(
                "ttl_seconds",
                Integer(5, 86_400),
                "The lease's TTL, renewed while working.",
                default=300,
            ),
        ),
        "landed",
        _ENTRIES,
        f"{_Q}:run",
        access=EFFECTS,
        more_results=(
            ("failed", _ENTRIES),
            ("lands", {"type": "integer"}),
            ("checks_run", {"type": "integer"}),
            ("queued", {"type": "integer"}),
        ),
    ),
)
