"""A stand-in agent: a small terminal program that behaves enough like a coding agent.

``python -m gitorch.surfaces.standin [--resume] [PROMPT]`` prints who it
works for and its prompt (as JSON, so any text can be checked), then waits
at a ``standin>`` prompt for lines typed into it:

- ``quit``: says ``bye`` and exits 0; ``exit N`` exits with status N;
- ``busy SECONDS``: prints a dot every tenth of a second for that long
  (Ctrl-C stops it early);
- ``run ARGS``: runs ``git orch ARGS`` (split like shell words, never by a
  shell) and prints what it answered;
- anything else is echoed back as ``echo: <JSON text>``.

Lines of its prompt that start with ``$ git orch `` are run the same way
at start, which is how a prompt gitorch writes (a reviewer's, say) tells
an agent what to call. It is what the tests and ``git orch demo`` run in
tmux panes instead of a real agent CLI; ``--work`` and ``--finish`` run the
scripted worker of ``gitorch.surfaces.standin_work`` instead.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time

PROMPT = "standin> "


class _Interrupted(Exception):
    pass


def _on_interrupt(signum: int, frame: object) -> None:
    raise _Interrupted


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _orch(words: list[str]) -> int:
    try:
        done = subprocess.run(["git", "orch", *words], capture_output=True, text=True, check=False)
    except OSError as exc:
        _say(f"orch-error: {exc}")
        return 127
    _say(f"orch-exit: {done.returncode}")
    for line in (done.stdout + done.stderr).strip().splitlines()[-20:]:
        _say(f"orch: {line}")
    return done.returncode


def _busy(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sys.stdout.write(".")
        sys.stdout.flush()
        time.sleep(0.1)
    _say(" done")


def _handle(line: str) -> int | None:
    """Act on one typed line; an exit status when the agent should end."""
    word, _, rest = line.strip().partition(" ")
    if word == "quit":
        _say("bye")
        return 0
    if word == "exit" and rest.strip().lstrip("-").isdigit():
        return int(rest.strip())
    if word == "busy":
        try:
            _busy(float(rest or "1"))
        except ValueError:
            _say("busy: how many seconds?")
        return None
    if word == "run":
        try:
            _orch(shlex.split(rest))
        except ValueError as exc:
            _say(f"run: {exc}")
        return None
    _say("echo: " + json.dumps(line.rstrip("\n"), ensure_ascii=False))
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in agent; its exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    flags = set()
    while args and args[0].startswith("--"):
        flags.add(args.pop(0))
    resumed = "--resume" in flags
    prompt = args[0] if args else ""
    if "--work" in flags or "--finish" in flags:
        from gitorch.surfaces.standin_work import work

        return work(flags, prompt)
    signal.signal(signal.SIGINT, _on_interrupt)
    _say(
        f"standin: session={os.environ.get('GIT_ORCH_SESSION', '')}"
        f" thread={os.environ.get('GIT_ORCH_THREAD', '')} cwd={os.getcwd()}"
        + (" resumed" if resumed else "")
    )
    if prompt:
        _say("prompt: " + json.dumps(prompt, ensure_ascii=False))
        for line in prompt.splitlines():
            if line.startswith("$ git orch "):
                try:
                    _orch(shlex.split(line[len("$ git orch ") :]))
                except ValueError as exc:
                    _say(f"run: {exc}")
    while True:
        try:
            sys.stdout.write(PROMPT)
            sys.stdout.flush()
            line = sys.stdin.readline()
            if not line:
                _say("eof")
                return 0
            status = _handle(line)
            if status is not None:
                return status
        except _Interrupted:
            _say("^C interrupted")


if __name__ == "__main__":
    sys.exit(main())
