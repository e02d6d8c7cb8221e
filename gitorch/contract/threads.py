"""Declarations of the tmux runtime and agent thread methods."""

from __future__ import annotations

from gitorch.contract.method import EFFECTS, READ, Method
from gitorch.contract.params import (
    TITLE_LIMIT,
    Boolean,
    Choice,
    Command,
    Integer,
    Param,
    Text,
)
from gitorch.contract.schema import entity_schema, list_schema
from gitorch.model.enums import SplitDirection, ThreadStatus
from gitorch.model.kinds import SESSION, THREAD, WORKTREE

_ID = Text(200)
_NAME = Text(100)
_T = "gitorch.domain.threads"
_THREAD = entity_schema(THREAD)
_ATTACH = {"type": "object", "description": "tmux attach/switch commands and the pane."}
_TMUX = {"type": "object", "description": "The tmux server, session and pane."}
_ACTING = "Acting session; default GIT_ORCH_SESSION."
_ROLE = Text(40)

_LAUNCH = (
    Param("ensure_tmux", Boolean(), "Install tmux when missing (see auto_install).", default=True),
    Param("auto_install", Boolean(), "Allow a non-interactive install.", default=True),
    Param("tmux_session_name", _NAME, "The tmux session (default orch-<repo>-<session>...)."),
    Param("tmux_window_name", _NAME, "The tmux window."),
    Param("initial_prompt", Text(), "The agent's prompt (default: the objective)."),
    Param("launch_command", Command(), "Run this instead of the profile's command."),
    Param("codex_command", Command(), "Same as launch_command (original name)."),
    Param("launch_codex", Boolean(), "Launch an agent (else a shell).", default=True),
    Param("agent_override", _NAME, "Agent profile: codex, claude, shell, standin, or config's."),
)

METHODS = (
    Method(
        "runtime.tmux.ensure",
        "tmux ready (version), installed without a password prompt, or manual_required.",
        (
            Param("session_id", _ID, _ACTING),
            Param(
                "auto_install",
                Boolean(),
                "Try the package manager (root or sudo -n).",
                default=True,
            ),
        ),
        "status",
        {"type": "string", "enum": ["ready", "manual_required"]},
        "gitorch.domain.runtime:ensure_tmux",
        access=EFFECTS,
        more_results=(
            ("tmux", {"type": ["object", "null"]}),
            ("attempts", {"type": "array", "items": {"type": "object"}}),
            ("instructions", {"type": "array", "items": {"type": "string"}}),
        ),
    ),
    Method(
        "thread.root.ensure",
        "The session's root tmux pane, its agent launched unless already running.",
        (
            Param("session_id", _ID, _ACTING),
            Param("role", _ROLE, "The root thread's role.", default="root"),
            Param("title", Text(TITLE_LIMIT), "A title."),
            Param("objective", Text(), "What the root agent is for."),
            *_LAUNCH,
            Param("force_launch", Boolean(), "Relaunch (resuming the agent's conversation)."),
            Param("child_session_name", _NAME, "The tmux session children go to."),
        ),
        "root_thread",
        _THREAD,
        f"{_T}:root_ensure",
        access=EFFECTS,
        more_results=(
            ("session", entity_schema(SESSION)),
            ("tmux", _TMUX),
            ("attach_info", _ATTACH),
            ("child_tmux_session", {"type": "string"}),
            ("child_attach_hint", {"type": "string"}),
        ),
    ),
    Method(
        "thread.child.spawn",
        "A child agent in a pane, in its worktree (made for --task-id when none is named).",
        (
            Param("session_id", _ID, _ACTING),
            Param("parent_thread_id", _ID, "The parent thread (default: the root)."),
            Param("worktree_id", _ID, "Where it works (default: the session's root)."),
            Param("task_id", _ID, "Spawn a worktree for this task."),
            Param("role", _ROLE, "worker, reviewer, ...", default="worker"),
            Param("title", Text(TITLE_LIMIT), "A title."),
            Param("objective", Text(), "Its prompt, unless initial_prompt is given."),
            Param("agent_guide_path", Text(4096), "A guide in the repository to follow."),
            Param(
                "split_direction",
                Choice(SplitDirection),
                "How the pane splits.",
                default="vertical",
            ),
            *_LAUNCH,
            Param("max_concurrent_children", Integer(1, 64), "Live children allowed.", default=6),
        ),
        THREAD.key,
        _THREAD,
        f"{_T}:child_spawn",
        access=EFFECTS,
        more_results=(
            ("worktree", entity_schema(WORKTREE)),
            ("reclaimed", {"type": "array", "items": {"type": "string"}}),
            ("tmux", _TMUX),
            ("attach_info", _ATTACH),
        ),
    ),
    Method(
        "thread.child.list",
        "A session's child threads as tmux has them now (a vanished pane is exited).",
        (
            Param("session_id", _ID, "Whose; default GIT_ORCH_SESSION."),
            Param("parent_thread_id", _ID, "Only this parent's."),
            Param("status", Choice(ThreadStatus), "Only in this status."),
            Param("role", _ROLE, "Only this role."),
        ),
        THREAD.plural,
        list_schema(_THREAD),
        f"{_T}:child_list",
        access=READ,
        columns=("id", "role", "status", "title", "worktree_id"),
    ),
    Method(
        "thread.child.status",
        "A thread live: pane alive, exit status, busy or idle, last lines (from its log if gone).",
        (
            Param("thread_id", _ID, "The thread.", True),
            Param("window_ms", Integer(0, 10_000), "How long to watch the screen.", default=500),
            Param("lines", Integer(1, 1000), "How many last lines.", default=20),
        ),
        THREAD.key,
        _THREAD,
        f"{_T}:child_status",
        access=READ,
        more_results=(
            ("activity", {"type": "string", "enum": ["busy", "idle", "exited", "unknown"]}),
            ("at_prompt", {"type": "boolean"}),
            ("last_lines", {"type": "array", "items": {"type": "string"}}),
        ),
    ),
    Method(
        "thread.child.send",
        "Type text into a live thread's agent, literally, then Enter.",
        (
            Param("thread_id", _ID, "The thread.", True),
            Param("text", Text(), "What to type.", True),
            Param("enter", Boolean(), "Press Enter after it.", default=True),
        ),
        THREAD.key,
        _THREAD,
        f"{_T}:child_send",
        access=EFFECTS,
        more_results=(("result", {"const": "sent"}), ("characters", {"type": "integer"})),
    ),
    Method(
        "thread.child.interrupt",
        "Ctrl-C in a live thread's pane.",
        (Param("thread_id", _ID, "The thread.", True),),
        THREAD.key,
        _THREAD,
        f"{_T}:child_interrupt",
        access=EFFECTS,
        more_results=(("result", {"const": "interrupt_sent"}),),
    ),
    Method(
        "thread.child.stop",
        "The agent's quit input, a grace period, then the pane closed with --terminate-pane.",
        (
            Param("thread_id", _ID, "The thread.", True),
            Param("terminate_pane", Boolean(), "Close the pane (kills an agent that stays)."),
            Param("grace_seconds", Integer(0, 600), "How long to wait for it to quit.", default=5),
        ),
        THREAD.key,
        _THREAD,
        f"{_T}:child_stop",
        access=EFFECTS,
        more_results=(("result", {"type": "string", "enum": ["stopped", "quit_sent"]}),),
    ),
    Method(
        "thread.attach_info",
        "How to watch a session's root pane or a thread: attach, read-only, switch.",
        (
            Param("session_id", _ID, "Whose root; default GIT_ORCH_SESSION."),
            Param("thread_id", _ID, "This thread instead."),
        ),
        "attach_info",
        _ATTACH,
        f"{_T}:thread_attach_info",
        access=READ,
        more_results=((THREAD.key, _THREAD),),
    ),
)
