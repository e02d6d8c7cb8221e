"""Agent threads: a root pane per session, child agents in their worktrees, in tmux.

A thread is a record (its session, worktree, role, objective, the argv it
runs, the tmux pane it runs in) and a pane. The record follows the one
order of every effect: recorded ``starting``, the pane made, recorded
``running`` with its pane (or ``failed`` with the reason). What the
record says is checked against what tmux has whenever a thread is read:
a pane that vanished, or whose program ended, is ``exited`` whatever was
recorded, and a thread made on another machine is shown as recorded and
never acted on. Every pane's output is also appended to
``<common dir>/orchestrator/threads/<thread id>.log``, so what a dead
agent printed can still be read.

The agent's environment names its session and thread (``GIT_ORCH_SESSION``,
``GIT_ORCH_THREAD``) so its own ``git orch`` calls and commits act for
them. Commands are argv lists; the objective and the prompt are data.
"""

from __future__ import annotations

import os
import socket
import time

from gitorch.domain import agents, checkouts, entities, runtime, sessions, tmux
from gitorch.domain.context import Context
from gitorch.model.enums import ThreadStatus, WorktreeStatus
from gitorch.model.errors import Conflict, InvalidParams, PreconditionFailed, Unavailable
from gitorch.model.kinds import SESSION, THREAD, WORKTREE
from gitorch.store.state import Snapshot, Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

ROOT, CHILD = "root", "child"
LIVE = frozenset(
    {ThreadStatus.STARTING, ThreadStatus.RUNNING, ThreadStatus.IDLE, ThreadStatus.INTERRUPTED}
)
ENDED = frozenset({ThreadStatus.STOPPED, ThreadStatus.EXITED, ThreadStatus.FAILED})
DEFAULT_MAX_CHILDREN = 6
SPAWN_GRACE_SECONDS = 60  # a pane is made within this of its record, or the spawn died
ROOT_WINDOW, CHILD_WINDOW = "root", "agents"


# -- the server, the names ----------------------------------------------------------------


def _binary() -> str:
    """Where tmux is; ``unavailable`` (with how to install it) when it is nowhere."""
    found = tmux.binary()
    if found is None:
        raise Unavailable(
            "tmux is not installed; `git orch runtime.tmux.ensure` installs it or says how",
            {"instructions": runtime.MANUAL},
        )
    return found


def server(ctx: Context, *, ensure_tmux: bool = True, auto_install: bool = True) -> tmux.Tmux:
    """The tmux server gitorch uses here; ``unavailable`` when there is no tmux."""
    if tmux.binary() is None and ensure_tmux and auto_install:
        runtime.check(auto_install=True)
    found = _binary()
    configured = checkouts.config_values(ctx.store.repo, "orch.tmux.socket")
    return tmux.Tmux(found, tmux.socket_path(configured[-1] if configured else None), ours=True)


def _host() -> str:
    return socket.gethostname()


def _repo_name(ctx: Context) -> str:
    return os.path.basename(checkouts.main_checkout(ctx.store.repo)) or "repo"


def root_session_name(ctx: Context, session_id: str) -> str:
    """``orch-<repository>-<session id>``: stable across calls."""
    return tmux.session_name("orch", _repo_name(ctx), session_id)


def children_session_name(ctx: Context, session_id: str) -> str:
    """``orch-<repository>-<session id>-agents``."""
    return tmux.session_name("orch", _repo_name(ctx), session_id, "agents")


def log_path(ctx: Context, thread_id: str) -> str:
    """Where everything a thread's pane printed is kept."""
    return os.path.join(ctx.store.repo.common_dir, "orchestrator", "threads", f"{thread_id}.log")


def attach_info(server_socket: str, session: str, pane: str | None = None) -> dict[str, Any]:
    """How a person looks at a tmux session: attach, read-only, switch, the pane."""
    import shlex

    base = ["tmux", "-S", server_socket]
    attach = [*base, "attach", "-t", f"={session}"]
    read_only = [*base, "attach", "-r", "-t", f"={session}"]
    return {
        "socket": server_socket,
        "tmux_session": session,
        "pane": pane,
        "attach": shlex.join(attach),
        "attach_read_only": shlex.join(read_only),
        "switch": shlex.join([*base, "switch-client", "-t", f"={session}"]),
        "select_pane": shlex.join([*base, "select-pane", "-t", pane]) if pane else None,
        "argv": attach,
    }


# -- what tmux really has -------------------------------------------------------------------


def _here(doc: dict[str, Any]) -> bool:
    info = doc.get("tmux") or {}
    return bool(info.get("pane")) and info.get("host") == _host()


def observe(doc: dict[str, Any], panes: dict[str, tmux.Pane] | None) -> dict[str, Any]:
    """The record as tmux shows it now (``panes``: the server's, None when not asked)."""
    out = dict(doc)
    info = doc.get("tmux") or {}
    status = ThreadStatus(doc["status"])
    out["alive"] = False
    out["here"] = _here(doc)
    if panes is None or not out["here"] or status in (ThreadStatus.PLANNED, ThreadStatus.FAILED):
        out["alive"] = out["here"] and status in LIVE and panes is None
        return out
    pane = panes.get(info["pane"])
    if pane is None or pane.pid != info.get("pid") or pane.dead:
        if status in LIVE:
            out["status"] = ThreadStatus.EXITED.value
        out["pane_state"] = "dead" if pane is not None and pane.pid == info.get("pid") else "gone"
        known = tmux.exit_status(info.get("log"))
        if known is not None:
            out["exit_status"] = known
        return out
    out["alive"] = True
    out["pane_state"] = "alive"
    out["current_command"] = pane.command
    if status in ENDED:  # recorded as ended, yet its program still runs
        out["status"] = ThreadStatus.RUNNING.value
    return out


def _servers_for(ctx: Context, docs: list[dict[str, Any]]) -> dict[str, dict[str, tmux.Pane]]:
    """The panes of every server the records here name (one ``list-panes`` each)."""
    found = _binary()
    panes: dict[str, dict[str, tmux.Pane]] = {}
    for doc in docs:
        if _here(doc):
            sock = doc["tmux"]["socket"]
            if sock not in panes:
                panes[sock] = tmux.Tmux(found, sock).panes()
    return panes


def observed(
    ctx: Context, docs: list[dict[str, Any]], *, strict: bool = False
) -> list[dict[str, Any]]:
    """Thread records as tmux shows them now: one ``list-panes`` per server they name.

    Without tmux, ``strict`` answers ``unavailable``; otherwise each is shown as recorded.
    """
    if not strict and tmux.binary() is None:
        return [observe(doc, None) for doc in docs]
    by_socket = _servers_for(ctx, docs)
    return [
        observe(doc, by_socket.get((doc.get("tmux") or {}).get("socket", ""), {})) for doc in docs
    ]


def _server_of(doc: dict[str, Any]) -> tmux.Tmux:
    """The server a record's pane is on, when it is on this machine."""
    info = doc.get("tmux") or {}
    if not info.get("pane"):
        raise PreconditionFailed(
            f"thread {doc['id']} has no pane ({doc['status']})", {"thread_id": doc["id"]}
        )
    if info.get("host") != _host():
        raise PreconditionFailed(
            f"thread {doc['id']} runs on {info.get('host')}, not on this machine",
            {"thread_id": doc["id"], "host": info.get("host")},
        )
    return tmux.Tmux(_binary(), info["socket"])


def _live(doc: dict[str, Any]) -> tuple[tmux.Tmux, dict[str, Any]]:
    """The server and the observed record of a thread whose agent runs; else why not."""
    srv = _server_of(doc)
    seen = observe(doc, srv.panes())
    if not seen["alive"]:
        raise PreconditionFailed(
            f"thread {doc['id']} is {seen['status']}: its pane is {seen.get('pane_state', 'gone')}",
            {"thread_id": doc["id"], "status": seen["status"]},
        )
    return srv, seen


# -- recording -------------------------------------------------------------------------------


def _record(ctx: Context, thread_id: str, values: dict[str, Any]) -> dict[str, Any]:
    def apply(tx: Transaction) -> dict[str, Any]:
        return entities.change(ctx, tx, THREAD, entities.load(tx, THREAD, thread_id), values)

    return ctx.transact(apply)


def _env(session_id: str, thread_id: str) -> dict[str, str]:
    env = {"GIT_ORCH_SESSION": session_id, "GIT_ORCH_THREAD": thread_id}
    if os.environ.get("PATH"):
        env["PATH"] = os.environ["PATH"]  # the caller's: where its `git orch` is found
    return env


def _launch(
    ctx: Context,
    srv: tmux.Tmux,
    doc: dict[str, Any],
    make_pane: Any,
    cwd: str,
    prompt: str | None,
    prompt_mode: str,
    tmux_info: dict[str, Any],
) -> dict[str, Any]:
    """Make the pane, run the record's argv in it, record the outcome."""
    pane_id = None
    try:
        pane_id = make_pane()
        log = log_path(ctx, doc["id"])
        pid = srv.launch(pane_id, cwd, list(doc["argv"]), _env(doc["session_id"], doc["id"]), log)
        info = {
            **tmux_info,
            "socket": srv.socket,
            "pane": pane_id,
            "pid": pid,
            "host": _host(),
            "log": log,
        }
        running = _record(
            ctx,
            doc["id"],
            {
                "status": ThreadStatus.RUNNING.value,
                "tmux": info,
                "exit_status": None,
                "reason": None,
            },
        )
    except Unavailable as exc:
        if pane_id:
            srv.kill_pane(pane_id)
        _record(ctx, doc["id"], {"status": ThreadStatus.FAILED.value, "reason": exc.message})
        raise
    if prompt and prompt_mode == "input" and doc["argv"]:
        srv.send_text(pane_id, prompt, enter=True)
    return running


def _argv(
    ctx: Context,
    *,
    agent_override: str | None,
    launch_command: str | list[str] | None,
    codex_command: str | list[str] | None,
    launch_codex: bool,
    prompt: str | None,
    resume: bool = False,
) -> tuple[list[str], agents.Profile | None, str]:
    """What the pane runs, its profile, and how its prompt reaches it."""
    if not launch_codex:
        return [], None, "none"
    profile = agents.profile(ctx.store.repo, agent_override)
    given = launch_command if launch_command is not None else codex_command
    if given is not None:
        which = "launch_command" if launch_command is not None else "codex_command"
        argv = agents.split_command(given, which)
        if prompt and profile.prompt == "argument":
            argv.append(prompt)
        return argv, profile, profile.prompt
    return profile.launch_argv(prompt, resume=resume), profile, profile.prompt


def _values(
    me: dict[str, Any],
    parent_id: str | None,
    worktree_id: str | None,
    role: str,
    title: str | None,
    objective: str | None,
    argv: list[str],
    profile: agents.Profile | None,
) -> dict[str, Any]:
    """A child thread's record, ``starting``, before its pane exists."""
    return {
        "session_id": me["id"],
        "parent_thread_id": parent_id,
        "worktree_id": worktree_id,
        "role": role,
        "title": title,
        "objective": objective,
        "tmux": None,
        "argv": argv,
        "status": ThreadStatus.STARTING.value,
        "scope": CHILD,
        "profile": profile.name if profile else None,
        "exit_status": None,
        "reason": None,
    }


def _prompt(objective: str | None, initial_prompt: str | None, guide: str | None) -> str | None:
    parts = [text for text in (initial_prompt or objective,) if text]
    if guide:
        parts.append(f"Read and follow the guide at {guide}.")
    return "\n\n".join(parts) or None


def _guide(ctx: Context, path: str | None) -> str | None:
    """An agent guide's path, which must lie inside the repository."""
    if path is None:
        return None
    main = checkouts.main_checkout(ctx.store.repo)
    full = os.path.abspath(os.path.join(main, path))
    inside = checkouts.inside(main, full)
    if inside is None:
        raise InvalidParams(
            f"agent_guide_path: {path} is outside the repository", {"param": "agent_guide_path"}
        )
    return full


# -- the methods -------------------------------------------------------------------------------


def root_ensure(
    ctx: Context,
    *,
    session_id: str | None = None,
    role: str = "root",
    title: str | None = None,
    objective: str | None = None,
    ensure_tmux: bool = True,
    auto_install: bool = True,
    tmux_session_name: str | None = None,
    tmux_window_name: str | None = None,
    initial_prompt: str | None = None,
    launch_command: str | list[str] | None = None,
    codex_command: str | list[str] | None = None,
    launch_codex: bool = True,
    force_launch: bool = False,
    child_session_name: str | None = None,
    agent_override: str | None = None,
) -> dict[str, Any]:
    """The session's root pane: made once, its agent launched unless already running."""
    srv = server(ctx, ensure_tmux=ensure_tmux, auto_install=auto_install)
    view = ctx.read()
    me = sessions.require(view, session_id, ctx.session, "session_id")
    name = (
        tmux.session_name(tmux_session_name)
        if tmux_session_name
        else root_session_name(ctx, me["id"])
    )
    window = tmux.session_name(tmux_window_name or ROOT_WINDOW)
    children = (
        tmux.session_name(child_session_name)
        if child_session_name
        else children_session_name(ctx, me["id"])
    )
    cwd = _session_dir(ctx, view, me)
    prompt = _prompt(objective, initial_prompt, None)
    existing = root_of(view, me["id"])
    panes = srv.panes()
    seen = observe(existing, panes) if existing else None
    if existing is not None and seen is not None and seen["alive"] and not force_launch:
        return _root_answer(ctx, view, me, seen, srv, children, launched=False)
    ran_before = existing is not None and existing.get("status") != ThreadStatus.PLANNED
    argv, profile, mode = _argv(
        ctx,
        agent_override=agent_override,
        launch_command=launch_command,
        codex_command=codex_command,
        launch_codex=launch_codex,
        prompt=prompt,
        resume=ran_before,
    )
    values = _values(me, None, me.get("root_worktree_id"), role, title, objective, argv, profile)
    values["scope"] = ROOT

    def record(tx: Transaction) -> dict[str, Any]:
        current = root_of(tx, me["id"])
        if current is None:
            return entities.create(ctx, tx, THREAD, values)
        keep = {
            "title": title or current.get("title"),
            "objective": objective or current.get("objective"),
        }
        return entities.change(ctx, tx, THREAD, current, {**values, **keep})

    doc = ctx.transact(record)
    pane = (
        seen.get("tmux", {}).get("pane")
        if seen and seen.get("pane_state") in ("alive", "dead")
        else None
    )

    def make_pane() -> str:
        if pane is not None:
            return str(pane)
        if srv.has_session(name):
            ours = [p for p in srv.panes().values() if p.session == name]
            if ours:
                return ours[0].pane_id
        return srv.new_session(name, window, cwd)

    info = {"session": name, "window": window, "child_session": children}
    running = _launch(ctx, srv, doc, make_pane, cwd, prompt, mode, info)
    return _root_answer(
        ctx, ctx.read(), me, observe(running, srv.panes()), srv, children, launched=True
    )


def root_of(view: Snapshot, session_id: str) -> dict[str, Any] | None:
    """A session's root thread, if it has one."""
    for doc in entities.load_all(view, THREAD):
        if doc["session_id"] == session_id and doc.get("scope") == ROOT:
            return doc
    return None


def _session_dir(ctx: Context, view: Snapshot, session: dict[str, Any]) -> str:
    """Where a session's panes start: its root worktree, else the main checkout."""
    if session.get("root_worktree_id"):
        wt = view.read(WORKTREE, session["root_worktree_id"])
        if wt is not None and wt["status"] == WorktreeStatus.ACTIVE and os.path.isdir(wt["path"]):
            return str(wt["path"])
    return checkouts.main_checkout(ctx.store.repo)


def _root_answer(
    ctx: Context,
    view: Snapshot,
    me: dict[str, Any],
    root: dict[str, Any],
    srv: tmux.Tmux,
    children: str,
    *,
    launched: bool,
) -> dict[str, Any]:
    info = root.get("tmux") or {}
    session = sessions.present(ctx, view.read(SESSION, me["id"]) or me)
    extra = [
        p.pane_id
        for p in srv.panes().values()
        if p.session == info.get("session") and p.pane_id != info.get("pane")
    ]
    return {
        "session": session,
        "root_thread": root,
        "launched": launched,
        "tmux": {"socket": srv.socket, "version": srv.version(), "session": info.get("session")},
        "attach_info": attach_info(srv.socket, info.get("session", ""), info.get("pane")),
        "child_tmux_session": children,
        "child_attach_hint": attach_info(srv.socket, children)["attach_read_only"],
        "extra_panes": extra,
    }


def child_spawn(
    ctx: Context,
    *,
    session_id: str | None = None,
    parent_thread_id: str | None = None,
    worktree_id: str | None = None,
    task_id: str | None = None,
    role: str = "worker",
    title: str | None = None,
    objective: str | None = None,
    agent_guide_path: str | None = None,
    agent_override: str | None = None,
    launch_command: str | list[str] | None = None,
    split_direction: str = "vertical",
    ensure_tmux: bool = True,
    auto_install: bool = True,
    tmux_session_name: str | None = None,
    tmux_window_name: str | None = None,
    initial_prompt: str | None = None,
    codex_command: str | list[str] | None = None,
    launch_codex: bool = True,
    max_concurrent_children: int = DEFAULT_MAX_CHILDREN,
) -> dict[str, Any]:
    """A child agent in a pane of the session's child tmux session, in its worktree."""
    srv = server(ctx, ensure_tmux=ensure_tmux, auto_install=auto_install)
    view = ctx.read()
    me = sessions.require(view, session_id, ctx.session, "session_id")
    guide = _guide(ctx, agent_guide_path)
    prompt = _prompt(objective, initial_prompt, guide)
    argv, profile, mode = _argv(
        ctx,
        agent_override=agent_override,
        launch_command=launch_command,
        codex_command=codex_command,
        launch_codex=launch_codex,
        prompt=prompt,
    )
    parent = (
        entities.find(view, THREAD, parent_thread_id, "parent_thread_id")
        if parent_thread_id
        else root_of(view, me["id"])
    )
    if parent is not None and parent["session_id"] != me["id"]:
        sessions.must_own(parent, "session_id", me, "thread")
    # Dead panes give their slots back before anything is counted.
    reclaimed = _reclaim(
        ctx, srv, [d for d in entities.load_all(view, THREAD) if d["session_id"] == me["id"]]
    )
    worktree = _child_worktree(ctx, view, me, worktree_id, task_id)
    parent_id = parent["id"] if parent else None
    values = _values(me, parent_id, worktree["id"], role, title, objective, argv, profile)

    def record(tx: Transaction) -> dict[str, Any]:
        live = [
            d
            for d in entities.load_all(tx, THREAD)
            if d["session_id"] == me["id"] and d.get("scope") == CHILD and d["status"] in LIVE
        ]
        if len(live) >= max_concurrent_children:
            raise Conflict(
                f"session {me['id']} already runs {len(live)} child thread(s), the limit"
                f" (max_concurrent_children={max_concurrent_children}); stop one first",
                {"live": [d["id"] for d in live], "limit": max_concurrent_children},
            )
        return entities.create(ctx, tx, THREAD, values)

    doc = ctx.transact(record)
    name = (
        tmux.session_name(tmux_session_name)
        if tmux_session_name
        else _child_session_of(ctx, view, me)
    )
    window = tmux.session_name(tmux_window_name or CHILD_WINDOW)
    cwd = worktree["path"]

    def make_pane() -> str:
        if srv.has_session(name):
            return srv.new_pane(name, window, cwd, split_direction)
        return srv.new_session(name, window, cwd)

    running = _launch(
        ctx, srv, doc, make_pane, cwd, prompt, mode, {"session": name, "window": window}
    )
    info = running["tmux"]
    return {
        "thread": observe(running, srv.panes()),
        "worktree": worktree,
        "reclaimed": reclaimed,
        "tmux": {"socket": srv.socket, "session": name, "pane": info["pane"]},
        "attach_info": attach_info(srv.socket, name, info["pane"]),
    }


def _child_session_of(ctx: Context, view: Snapshot, me: dict[str, Any]) -> str:
    root = root_of(view, me["id"])
    named = ((root or {}).get("tmux") or {}).get("child_session")
    return str(named) if named else children_session_name(ctx, me["id"])


def _child_worktree(
    ctx: Context, view: Snapshot, me: dict[str, Any], worktree_id: str | None, task_id: str | None
) -> dict[str, Any]:
    """The worktree a child works in: named, made for its task, else the session's root."""
    if worktree_id:
        wt = entities.find(view, WORKTREE, worktree_id, "worktree_id")
        sessions.must_own(wt, "session_id", me, "worktree")
    elif task_id:
        from gitorch.domain import worktrees

        if not me.get("root_worktree_id"):
            raise PreconditionFailed(
                f"session {me['id']} has no root worktree to branch the task's worktree from",
                {"session_id": me["id"]},
            )
        made = worktrees.spawn(
            ctx, parent_worktree_id=me["root_worktree_id"], session_id=me["id"], task_id=task_id
        )
        wt = made["worktree"]
    elif me.get("root_worktree_id"):
        wt = entities.load(view, WORKTREE, me["root_worktree_id"])
    else:
        raise InvalidParams(
            "worktree_id: the session has no root worktree; name --worktree-id or --task-id",
            {"param": "worktree_id"},
        )
    if wt["status"] != WorktreeStatus.ACTIVE or not os.path.isdir(wt["path"]):
        raise PreconditionFailed(
            f"worktree {wt['id']} is {wt['status']}"
            + ("" if os.path.isdir(wt["path"]) else ", not on disk"),
            {"worktree_id": wt["id"]},
        )
    return wt


def _abandoned(ctx: Context, doc: dict[str, Any]) -> bool:
    """A ``starting`` record whose spawn never finished: killed between record and pane."""
    from gitorch.model.clock import parse_ts

    started = parse_ts(doc["updated_at"]) or 0
    return ctx.clock.now_ms() - started > SPAWN_GRACE_SECONDS * 1000


def _reclaim(ctx: Context, srv: tmux.Tmux, docs: list[dict[str, Any]]) -> list[str]:
    """Close the dead panes of ``docs``' children and record them exited; their ids."""
    panes = srv.panes()
    done = []
    for doc in docs:
        if doc.get("scope") != CHILD or doc["status"] not in LIVE:
            continue
        if not (doc.get("tmux") or {}).get("pane") and _abandoned(ctx, doc):
            reason = "the spawning process ended before its pane existed"
            _record(ctx, doc["id"], {"status": ThreadStatus.FAILED.value, "reason": reason})
            done.append(doc["id"])
            continue
        if not _here(doc):
            continue
        if doc["tmux"]["socket"] != srv.socket:
            continue
        seen = observe(doc, panes)
        if seen["alive"]:
            continue
        if seen.get("pane_state") == "dead":
            srv.kill_pane(doc["tmux"]["pane"])
        _record(
            ctx,
            doc["id"],
            {"status": ThreadStatus.EXITED.value, "exit_status": seen.get("exit_status")},
        )
        done.append(doc["id"])
    return done


def child_list(
    ctx: Context,
    view: Snapshot,
    *,
    session_id: str | None = None,
    parent_thread_id: str | None = None,
    status: ThreadStatus | None = None,
    role: str | None = None,
) -> dict[str, Any]:
    """A session's child threads as tmux shows them now, oldest first."""
    me = sessions.find_named(view, session_id, ctx.session, "session_id")
    parent = entities.resolve_optional(view, THREAD, parent_thread_id, "parent_thread_id")
    docs = [
        d
        for d in entities.load_all(view, THREAD)
        if d["session_id"] == me["id"]
        and d.get("scope") == CHILD
        and (parent is None or d.get("parent_thread_id") == parent)
        and (role is None or d["role"] == role)
    ]
    seen = [d for d in observed(ctx, docs, strict=True) if status is None or d["status"] == status]
    seen.sort(key=lambda d: (d["created_at"], d["id"]))
    return {"threads": seen}


def child_status(
    ctx: Context,
    view: Snapshot,
    *,
    thread_id: str,
    window_ms: int = 500,
    lines: int = 20,
) -> dict[str, Any]:
    """A thread's state from tmux: alive, exit status, busy or idle, its last lines."""
    doc = entities.find(view, THREAD, thread_id, "thread_id")
    if not _here(doc):
        return {
            "thread": observe(doc, None),
            "activity": "unknown",
            "last_lines": [],
            "at_prompt": False,
        }
    srv = _server_of(doc)
    seen = observe(doc, srv.panes())
    log = doc["tmux"].get("log")
    if not seen["alive"]:
        return {
            "thread": seen,
            "activity": "exited",
            "at_prompt": False,
            "last_lines": _log_tail(log, lines),
        }
    pane = doc["tmux"]["pane"]
    first = srv.screen(pane)
    size = _size(log)
    time.sleep(window_ms / 1000)
    second = srv.screen(pane)
    changed = first != second or _size(log) != size
    profile = _profile_of(ctx, doc)
    profile_markers = profile.idle if profile else ()
    shown = [line for line in second if line.strip()]
    at_prompt = any(marker in line for line in shown[-3:] for marker in profile_markers)
    activity = "busy" if changed else "idle"
    if activity == "idle" and seen["status"] in (ThreadStatus.RUNNING, ThreadStatus.INTERRUPTED):
        seen["status"] = (
            ThreadStatus.IDLE.value if at_prompt or not profile_markers else seen["status"]
        )
    history = [tmux.plain_text(line) for line in srv.screen(pane, lines)]
    while history and not history[-1].strip():
        history.pop()
    return {
        "thread": seen,
        "activity": activity,
        "at_prompt": at_prompt,
        "last_lines": history[-lines:],
    }


def _profile_of(ctx: Context, doc: dict[str, Any]) -> agents.Profile | None:
    """The profile a thread was launched with, as this machine's config has it now."""
    try:
        return agents.profiles(ctx.store.repo).get(doc.get("profile") or "")
    except InvalidParams:  # a broken profile in git config: the thread still answers
        return None


def _size(path: str | None) -> int:
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


def _log_tail(path: str | None, lines: int) -> list[str]:
    """The last ``lines`` lines a pane printed, from its log."""
    if not path:
        return []
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            end = handle.tell()
            handle.seek(max(0, end - 256 * 1024))
            raw = handle.read().decode("utf-8", "replace")
    except OSError:
        return []
    text = tmux.plain_text(raw).split("\n")
    while text and not text[-1].strip():
        text.pop()
    return text[-lines:]


def child_send(ctx: Context, *, thread_id: str, text: str, enter: bool = True) -> dict[str, Any]:
    """Type ``text`` into a live child's pane, literally, then Enter."""
    doc = entities.find(ctx.read(), THREAD, thread_id, "thread_id")
    srv, seen = _live(doc)
    srv.send_text(doc["tmux"]["pane"], text, enter=enter)
    return {"result": "sent", "thread": seen, "characters": len(text)}


def child_interrupt(ctx: Context, *, thread_id: str) -> dict[str, Any]:
    """Ctrl-C in a live child's pane."""
    doc = entities.find(ctx.read(), THREAD, thread_id, "thread_id")
    srv, _ = _live(doc)
    srv.send_key(doc["tmux"]["pane"], "C-c")
    done = _record(ctx, doc["id"], {"status": ThreadStatus.INTERRUPTED.value})
    return {"result": "interrupt_sent", "thread": observe(done, srv.panes())}


def child_stop(
    ctx: Context, *, thread_id: str, terminate_pane: bool = False, grace_seconds: int = 5
) -> dict[str, Any]:
    """The agent's quit input, a grace period, then (``terminate_pane``) the pane closed."""
    doc = entities.find(ctx.read(), THREAD, thread_id, "thread_id")
    srv = _server_of(doc)
    seen = observe(doc, srv.panes())
    pane = doc["tmux"]["pane"]
    if seen["alive"]:
        profile = _profile_of(ctx, doc)
        quit_input = profile.quit if profile else "exit"  # no agent: a shell
        if quit_input:
            srv.send_text(pane, quit_input, enter=True)
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline:
            seen = observe(doc, srv.panes())
            if not seen["alive"]:
                break
            time.sleep(0.05)
    if seen["alive"] and not terminate_pane:
        return {"result": "quit_sent", "thread": seen}
    if terminate_pane and seen.get("pane_state") in ("alive", "dead"):
        srv.kill_pane(pane)
    done = _record(
        ctx,
        doc["id"],
        {"status": ThreadStatus.STOPPED.value, "exit_status": seen.get("exit_status")},
    )
    return {"result": "stopped", "thread": observe(done, srv.panes())}


def thread_attach_info(
    ctx: Context, view: Snapshot, *, session_id: str | None = None, thread_id: str | None = None
) -> dict[str, Any]:
    """How to watch a session's root pane, or one thread's pane."""
    _binary()
    if thread_id:
        doc = entities.find(view, THREAD, thread_id, "thread_id")
    else:
        me = sessions.find_named(view, session_id, ctx.session, "session_id")
        found = root_of(view, me["id"])
        if found is None:
            raise PreconditionFailed(
                f"session {me['id']} has no root thread; `git orch thread.root.ensure` makes it",
                {"session_id": me["id"]},
            )
        doc = found
    info = doc.get("tmux") or {}
    if not info.get("pane"):
        raise PreconditionFailed(
            f"thread {doc['id']} has no pane ({doc['status']})", {"thread_id": doc["id"]}
        )
    return {
        "thread": doc,
        "attach_info": attach_info(info["socket"], info["session"], info["pane"]),
    }
