"""What a thread's pane runs: the agent, then its exit status written down.

``python -m gitorch.surfaces.launch STATUS_FILE -- ARGV...`` starts ARGV
(no shell) as its child, in the pane's terminal and process group, so
keys typed into the pane (Ctrl-C included) reach the agent alone; it
passes a hang-up or a terminate signal on, waits, writes the agent's exit
status (or ``-N`` for a signal) to STATUS_FILE, and exits the same way.
tmux reports a pane's exit status too, but it can miss the child's end
and leave it unreaped; this file is what ``thread.child.status`` trusts.
"""

from __future__ import annotations

import os
import signal
import sys


def main(argv: list[str]) -> int:
    """Run the agent; its exit status."""
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: python -m gitorch.surfaces.launch STATUS_FILE -- ARGV...\n")
        return 2
    status_file, command = argv[0], argv[2:]
    try:
        pid = os.fork()
    except OSError as exc:
        sys.stderr.write(f"launch: {exc}\n")
        return 126
    if pid == 0:
        try:
            os.execvp(command[0], command)  # noqa: S606 (an argv list: no shell, by design)
        except OSError as exc:
            sys.stderr.write(f"launch: {command[0]}: {exc.strerror}\n")
            os._exit(127)
    for name in ("SIGINT", "SIGQUIT", "SIGTSTP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)  # the agent's keys, not ours

    def forward(signum: int, frame: object) -> None:
        os.kill(pid, signum)

    signal.signal(signal.SIGHUP, forward)
    signal.signal(signal.SIGTERM, forward)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            status = 0
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    try:
        partial = status_file + ".tmp"
        with open(partial, "w", encoding="ascii") as handle:
            handle.write(f"{code}\n")
        os.replace(partial, status_file)
    except OSError:
        pass
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
