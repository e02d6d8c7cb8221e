"""The stand-in agent's scripted worker: the agent loop, done through ``git orch``.

``--work``: claim the top ready slice (``graph.ready --claim``), take a
lease on its file (waiting while another session holds it), bring the
landed work in (``git merge`` of the protected branch), record a case,
edit and commit, check the step, complete the case, queue the work for
main (``merge.main.request``), release the lease. ``--hold`` keeps the
lease until the queue has landed the work; ``--fail`` writes work the
land check refuses; ``--stall`` stops after its first step, as an agent
that died would. ``--finish``: a session that took over a dead one
(``resume.candidates.attach``) finishes its case from ``work.current_ref``.

Every call is a ``git orch`` process reading JSON back, as a real agent's
would be; every step is printed, so the pane (and its log) tell the story.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

POLL = 0.25
_idle = [False]


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


TIMINGS: list[str] = []  # ``--log=FILE``: every call's method and seconds go there


def orch(*args: str, ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """One ``git orch`` call, its JSON answer (the error object when it failed)."""
    started = time.monotonic()
    done = subprocess.run(["git", "orch", *args], capture_output=True, text=True, check=False)
    if TIMINGS:
        line = {"method": args[0], "seconds": time.monotonic() - started, "exit": done.returncode}
        with open(TIMINGS[0], "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
        if "Traceback" in done.stderr:
            with open(TIMINGS[0], "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"traceback": done.stderr[-2000:]}) + "\n")
    try:
        out: dict[str, Any] = json.loads(done.stdout or "{}")
    except ValueError:
        out = {"error": {"code": "internal", "message": done.stdout + done.stderr}}
    if done.returncode not in ok:
        raise RuntimeError(f"git orch {args[0]}: {out.get('error', {}).get('message', out)}")
    return out


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _lease(path: str) -> str:
    """Take the lease on ``path``, waiting while another session holds it."""
    waited = False
    while True:
        out = orch("lock.acquire", "--scope-type", "file", "--scope-path", path, ok=(0, 1))
        if "lock" in out:
            if waited:
                _say(f"lease on {path} is mine now")
            return str(out["lock"]["id"])
        if out.get("error", {}).get("code") != "conflict":
            raise RuntimeError(out["error"]["message"])
        if not waited:
            _say(f"waiting: {out['error']['message']}")
            waited = True
        time.sleep(POLL)


def _edit(path: str, line: str) -> str:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    _git("add", path)
    _git("commit", "-q", "-m", line)
    return _git("rev-parse", "HEAD")


def _queue_and_wait(lease: str | None, hold: bool) -> None:
    entry = orch("merge.main.request", "--no-auto-review")
    request = entry["main_merge_request"]["id"]
    _say(f"queued {request} for main")
    if hold:
        while True:
            status = orch("merge.main.status", "--request-id", request)["main_merge_request"]
            if status["status"] in ("merged", "failed", "cancelled"):
                _say(f"{request} is {status['status']}")
                break
            time.sleep(POLL)
    if lease:
        orch("lock.release", "--lock-id", lease)
        _say("lease released")


def work(flags: set[str], prompt: str) -> int:
    """Run the scripted worker; its exit status."""
    del prompt  # the script is the prompt
    TIMINGS[:] = [flag.split("=", 1)[1] for flag in flags if flag.startswith("--log=")][:1]
    try:
        if "--finish" in flags:
            return _finish()
        if "--loop" in flags:  # keep taking work until none is ready
            while _work(flags) == 0 and not _idle[0]:
                pass
            return 0
        return _work(flags)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        _say(f"stuck: {exc}")
        return 1


def _work(flags: set[str]) -> int:
    out = orch("graph.ready", "--claim")
    item = out.get("claimed")
    if not item:
        _say("no ready work: done")
        _idle[0] = True
        return 0
    title = item["title"]
    path = (item.get("affected_files") or [f"src/{item['id']}.txt"])[0]
    _say(f"claimed {item['id']}: {title} ({path})")
    lease = _lease(path)
    protected = orch("config.get")["config"].get("protected_branch") or "main"
    _git("merge", "-q", "--no-edit", protected)  # build on what has landed
    case = orch("task.create", "--level", "case", "--title", title)["task"]["id"]
    orch("case.begin", "--case-id", case, "--input-contract", json.dumps({"slice": item["id"]}))
    outcome = "BROKEN" if "--fail" in flags else "done"
    text = f"{title}: {outcome} by {os.environ.get('GIT_ORCH_SESSION')}"
    commit = _edit(path, text)
    if TIMINGS:
        with open(TIMINGS[0], "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"commit": commit, "slice": item["id"]}) + "\n")
    orch("step.check", "--case-id", case, "--step-title", f"edit {path}", "--result", "pass",
         "--artifacts", path)  # fmt: skip
    _say(f"step 1 of {case} checked")
    if "--stall" in flags:
        _say("stalled (an agent that died here loses nothing: its case and commit are recorded)")
        while True:
            time.sleep(60)
    return _complete(case, item["id"], lease, "--hold" in flags)


def _complete(case: str, node: str, lease: str | None, hold: bool) -> int:
    orch("step.check", "--case-id", case, "--step-title", "self-review", "--result", "pass")
    orch("case.complete", "--case-id", case, "--summary", "slice done", "--next-action", "land")
    orch("graph.node.update", "--node-id", node, "--status", "in_review")
    _say(f"{case} complete")
    _queue_and_wait(lease, hold)
    _say("done")
    return 0


def _finish() -> int:
    ref = orch("work.current_ref")["ref"]
    case = (ref.get("case") or {}).get("id")
    if not case:
        _say("nothing to resume: done")
        return 0
    got = orch("task.get", "--task-id", case)["task"]
    node = str((got.get("input_contract") or {}).get("slice") or "")
    step = (ref.get("last_step") or {}).get("title") or "its start"
    _say(f"resumed {case} after {step}")
    lease = next((lock["id"] for lock in ref.get("locks") or []), None)
    return _complete(case, node, lease, False)


if __name__ == "__main__":
    sys.exit(work(set(sys.argv[1:]), ""))
