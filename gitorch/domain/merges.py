"""Merge requests and their reviews: by a reviewer agent in tmux, or by a person.

A merge request names a feature task; the worktree made for it (when
there is one) gives the branch and the commit under review. The review
context is everything a reviewer needs in one answer: the request, the
feature, every descendant task at every depth, their case checkpoints,
and the diff stat against the target branch. A verdict sets the request
``approved`` or ``changes_requested`` and is also written as a git note
on the reviewed commit, so ``git log --notes=orchestrator`` shows it.
"""

from __future__ import annotations

import shlex

from gitorch.domain import checkouts, entities, landing, sessions, threads
from gitorch.domain.context import Context
from gitorch.model.enums import MergeStatus, TaskLevel, Verdict, WorktreeStatus
from gitorch.model.errors import GitorchError, InvalidParams, PreconditionFailed
from gitorch.model.kinds import MERGE_REQUEST, REVIEW, SESSION, TASK, THREAD, WORKTREE
from gitorch.store.notes import Notes
from gitorch.store.state import Snapshot, Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any


def _feature_worktree(view: Snapshot, task_id: str) -> dict[str, Any] | None:
    """The newest live worktree made for ``task_id``."""
    found = [
        wt
        for wt in entities.load_all(view, WORKTREE)
        if wt.get("task_id") == task_id and wt["status"] != WorktreeStatus.REMOVED
    ]
    found.sort(key=lambda wt: (wt["created_at"], wt["id"]))
    return found[-1] if found else None


def request(
    ctx: Context,
    tx: Transaction,
    *,
    feature_task_id: str,
    reviewer_session: str | None = None,
    notes_json: Any = None,
    session_id: str | None = None,
) -> dict[str, Any]:
    """A merge request for a feature task's work."""
    feature = entities.find(tx, TASK, feature_task_id, "feature_task_id")
    if feature["level"] in (TaskLevel.CASE, TaskLevel.STEP):
        raise InvalidParams(
            f"feature_task_id: {feature['id']} is a {feature['level']}; a merge request is for"
            " a feature (or epic, or test group)",
            {"param": "feature_task_id"},
        )
    reviewer = (
        entities.find(tx, SESSION, reviewer_session, "reviewer_session")["id"]
        if reviewer_session
        else None
    )
    requester = session_id or ctx.session
    worktree = _feature_worktree(tx, feature["id"])
    commit = None
    if worktree is not None:
        commit = checkouts.head(worktree["path"]).commit or landing.tip(
            ctx.store.repo, worktree["branch"]
        )
    doc = entities.create(
        ctx,
        tx,
        MERGE_REQUEST,
        {
            "feature_task_id": feature["id"],
            "reviewer_session": reviewer,
            "notes_json": notes_json,
            "status": MergeStatus.REQUESTED.value,
            "requester_session": requester,
            "worktree_id": worktree["id"] if worktree else None,
            "branch": worktree["branch"] if worktree else None,
            "commit": commit,
        },
    )
    return {"merge_request": doc}


def descendants(view: Snapshot, task_id: str) -> list[dict[str, Any]]:
    """Every task under ``task_id``, at every depth, parents before children."""
    children: dict[str, list[dict[str, Any]]] = {}
    for doc in entities.load_all(view, TASK):
        if doc.get("parent_id"):
            children.setdefault(doc["parent_id"], []).append(doc)
    out: list[dict[str, Any]] = []
    stack = [task_id]
    seen = {task_id}
    while stack:
        current = stack.pop(0)
        for child in sorted(children.get(current, []), key=lambda d: (d["created_at"], d["id"])):
            if child["id"] not in seen:
                seen.add(child["id"])
                out.append(child)
                stack.append(child["id"])
    return out


def review_context(ctx: Context, view: Snapshot, *, merge_request_id: str) -> dict[str, Any]:
    """The request, the feature, all its descendant tasks, their checkpoints, the diff stat."""
    doc = entities.find(view, MERGE_REQUEST, merge_request_id, "merge_request_id")
    feature = entities.load(view, TASK, doc["feature_task_id"])
    tasks = descendants(view, feature["id"])
    checkpoints = [
        {
            "case_id": task["parent_id"],
            "step_id": task["id"],
            "title": task["title"],
            "result": task.get("result"),
            "artifacts": task.get("artifacts") or [],
            "commit": task.get("commit"),
        }
        for task in tasks
        if task["level"] == TaskLevel.STEP
    ]
    target = view.config().get("protected_branch") or ctx.store.default_branch()
    stat = None
    if doc.get("commit") and landing.tip(ctx.store.repo, target):
        try:
            stat = landing.diff_stat(ctx.store.repo, target, doc["commit"])
        except GitorchError as exc:
            stat = f"(no diff: {exc.message})"
    reviews = [r for r in entities.load_all(view, REVIEW) if r["merge_request_id"] == doc["id"]]
    return {
        "merge_request": doc,
        "feature": feature,
        "tasks": tasks,
        "checkpoints": checkpoints,
        "target_branch": target,
        "diff_stat": stat,
        "reviews": sorted(reviews, key=lambda r: (r["created_at"], r["id"])),
    }


def _prompt(context: dict[str, Any], job: dict[str, Any]) -> str:
    """What a reviewer agent is told: what to review, and how to answer."""
    mr, feature = context["merge_request"], context["feature"]
    lines = [
        f"Review merge request {mr['id']} for feature {feature['id']}: {feature['title']}",
        f"Branch {mr.get('branch') or '(none)'} at {mr.get('commit') or '(no commit)'},"
        f" against {context['target_branch']}.",
        f"Full context: git orch merge.review_context --merge-request-id {mr['id']}",
    ]
    if context.get("diff_stat"):
        lines += ["", "Diff stat:", context["diff_stat"].rstrip()]
    if context["tasks"]:
        lines += ["", "Tasks:"]
        lines += [f"- {t['id']} {t['level']} {t['status']}: {t['title']}" for t in context["tasks"]]
    summary = shlex.quote("Reviewed: the work does what the feature asks.")
    submit = (
        f"merge.review.submit --review-job-id {job['id']} --verdict approve --summary {summary}"
    )
    lines += [
        "",
        "When you have decided, submit your verdict with one call; to approve:",
        f"$ git orch {submit}",
        "or, to ask for changes, the same with --verdict request_changes and what to change.",
    ]
    return "\n".join(lines)


def request_auto(
    ctx: Context,
    *,
    session_id: str | None = None,
    merge_request_id: str,
    reviewer_role: str = "reviewer",
    agent_guide_path: str | None = None,
    agent_override: str | None = None,
    ensure_tmux: bool = True,
    auto_install: bool = True,
    launch_command: str | list[str] | None = None,
) -> dict[str, Any]:
    """A review job and a reviewer child thread whose prompt carries the review context."""
    view = ctx.read()
    me = sessions.require(view, session_id, ctx.session, "session_id")
    srv = threads.server(ctx, ensure_tmux=ensure_tmux, auto_install=auto_install)
    context = review_context(ctx, view, merge_request_id=merge_request_id)
    mr = context["merge_request"]

    def record(tx: Transaction) -> dict[str, Any]:
        job = entities.create(
            ctx,
            tx,
            REVIEW,
            {
                "merge_request_id": mr["id"],
                "thread_id": None,
                "verdict": None,
                "summary": None,
                "reviewer_session": me["id"],
                "commit": mr.get("commit"),
            },
        )
        current = entities.load(tx, MERGE_REQUEST, mr["id"])
        if current["status"] == MergeStatus.REQUESTED:
            entities.change(
                ctx, tx, MERGE_REQUEST, current, {"status": MergeStatus.IN_REVIEW.value}
            )
        return job

    job = ctx.transact(record)
    del srv  # tmux is there; the spawn below uses it
    spawned = threads.child_spawn(
        ctx,
        session_id=me["id"],
        role=reviewer_role,
        title=f"review {mr['id']}",
        objective=_prompt(context, job),
        agent_guide_path=agent_guide_path,
        agent_override=agent_override,
        launch_command=launch_command,
        ensure_tmux=ensure_tmux,
        auto_install=auto_install,
    )

    def link(tx: Transaction) -> dict[str, Any]:
        current = entities.load(tx, REVIEW, job["id"])
        return entities.change(ctx, tx, REVIEW, current, {"thread_id": spawned["thread"]["id"]})

    job = ctx.transact(link)
    return {
        "review_job": job,
        "thread": spawned["thread"],
        "tmux": spawned["tmux"],
        "attach_info": spawned["attach_info"],
    }


def _job_for(
    view: Snapshot, review_job_id: str | None, merge_request_id: str | None
) -> dict[str, Any] | None:
    if review_job_id:
        return entities.find(view, REVIEW, review_job_id, "review_job_id")
    if not merge_request_id:
        raise InvalidParams(
            "give --review-job-id or --merge-request-id", {"param": "review_job_id"}
        )
    mr = entities.find(view, MERGE_REQUEST, merge_request_id, "merge_request_id")
    jobs = [r for r in entities.load_all(view, REVIEW) if r["merge_request_id"] == mr["id"]]
    jobs.sort(key=lambda r: (r["created_at"], r["id"]))
    return jobs[-1] if jobs else None


def submit(
    ctx: Context,
    *,
    verdict: Verdict,
    summary: str,
    review_job_id: str | None = None,
    merge_request_id: str | None = None,
    session_id: str | None = None,
) -> dict[str, Any]:
    """Record a verdict: the request approved or changes requested, a note on its commit."""
    view = ctx.read()
    found = _job_for(view, review_job_id, merge_request_id)
    mr_id = (
        found["merge_request_id"]
        if found
        else entities.resolve_id(view, MERGE_REQUEST, merge_request_id or "", "merge_request_id")
    )
    reviewer = session_id or ctx.session

    def record(tx: Transaction) -> tuple[dict[str, Any], dict[str, Any]]:
        mr = entities.load(tx, MERGE_REQUEST, mr_id)
        if mr["status"] in (MergeStatus.MERGED, MergeStatus.CANCELLED, MergeStatus.REJECTED):
            raise PreconditionFailed(
                f"merge request {mr['id']} is {mr['status']}; it takes no verdict",
                {"merge_request_id": mr["id"], "status": mr["status"]},
            )
        values = {"verdict": verdict.value, "summary": summary}
        if found is None or found.get("verdict"):
            job = entities.create(
                ctx,
                tx,
                REVIEW,
                {
                    "merge_request_id": mr["id"],
                    "thread_id": found.get("thread_id") if found else None,
                    "reviewer_session": reviewer,
                    "commit": mr.get("commit"),
                    **values,
                },
            )
        else:
            job = entities.change(ctx, tx, REVIEW, entities.load(tx, REVIEW, found["id"]), values)
        status = (
            MergeStatus.APPROVED if verdict == Verdict.APPROVE else MergeStatus.CHANGES_REQUESTED
        )
        mr = entities.change(ctx, tx, MERGE_REQUEST, mr, {"status": status.value})
        return job, mr

    job, mr = ctx.transact(record)
    noted = None
    if mr.get("commit"):
        text = f"review {job['id']} of {mr['id']}: {verdict.value}\n{summary}".rstrip()
        Notes(ctx.store).add(mr["commit"], text, message=f"{ctx.method} {job['id']}")
        noted = mr["commit"]
    return {"review_job": job, "merge_request": mr, "note_commit": noted}


def thread_status(
    ctx: Context,
    view: Snapshot,
    *,
    review_job_id: str | None = None,
    merge_request_id: str | None = None,
) -> dict[str, Any]:
    """A review job and its reviewer thread as tmux shows it now."""
    job = _job_for(view, review_job_id, merge_request_id)
    if job is None:
        raise PreconditionFailed(
            "that merge request has no review job yet", {"merge_request_id": merge_request_id}
        )
    thread = None
    if job.get("thread_id"):
        doc = entities.load(view, THREAD, job["thread_id"])
        thread = threads.observed(ctx, [doc])[0]
    return {"review_job": job, "thread": thread}
