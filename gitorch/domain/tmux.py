"""tmux, behind a small adapter: the server gitorch uses, its panes, and what they show.

libtmux runs the commands (it is imported here only, and only by the
thread methods). Every command is an argv list: a prompt or a title is
never parsed by a shell. A pane gitorch makes starts as a placeholder
that does nothing, is told to stay on screen after its program exits
(``remain-on-exit``, so the exit status can be read) and to copy
everything it prints to a log file (``pipe-pane``), and only then is
respawned with the agent's argv: no output is lost, however fast the
agent exits.

Which server: local git config ``orch.tmux.socket`` (a path, or a name
under tmux's socket directory), else the server of the tmux the caller
runs inside (``$TMUX``), else tmux's default server, which honours
``TMUX_TMPDIR``.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections import namedtuple

from gitorch.model.errors import Unavailable

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import NamedTuple

    class _PaneFields(NamedTuple):
        pane_id: str
        pid: int
        dead: bool
        exit_status: int | None
        session: str
        window: str
        command: str

else:
    _PaneFields = namedtuple(
        "_PaneFields", ("pane_id", "pid", "dead", "exit_status", "session", "window", "command")
    )

_PANE_FORMAT = "\t".join(
    (
        "#{pane_id}",
        "#{pane_pid}",
        "#{pane_dead}",
        "#{pane_dead_status}",
        "#{session_name}",
        "#{window_name}",
        "#{pane_current_command}",
    )
)
# What keeps a fresh pane busy until the agent replaces it.
_PLACEHOLDER = ("sleep", "2147483647")
# CSI, OSC and the other escape sequences a terminal program prints.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[PX^_][^\x1b]*\x1b\\"  # DCS, SOS, PM, APC
    r"|\x1b[@-Z\\-_]"  # two-character sequences
)
_NAME = re.compile(r"[^A-Za-z0-9_-]+")
# what tmux says when no server (or one with no session left) answers
_NO_SERVER = (
    "no server running",
    "error connecting",
    "No such file",
    "no current target",
    "server exited",
    "lost server",
)
CHUNK = 8192  # characters per set-buffer call when sending text


class Pane(_PaneFields):
    """One pane as tmux reports it."""

    __slots__ = ()


def binary(path: str | None = None) -> str | None:
    """Where tmux is on ``path`` (default ``$PATH``)."""
    return shutil.which("tmux", path=path)


def version_of(binary: str) -> str:
    """``tmux -V`` of the tmux at ``binary``, without the word tmux."""
    import subprocess

    try:
        done = subprocess.run(
            [binary, "-V"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip().removeprefix("tmux ") or "unknown"


def session_name(*parts: str) -> str:
    """A tmux session name from ``parts``: no ``.`` or ``:``, which tmux reads as targets."""
    return "-".join(_NAME.sub("-", part).strip("-") for part in parts if part)[:120]


def socket_path(configured: str | None) -> str:
    """The socket of the server gitorch uses (see the module's text)."""
    if configured:
        if "/" in configured:
            return os.path.abspath(os.path.expanduser(configured))
        return os.path.join(_socket_dir(), configured)
    inside = os.environ.get("TMUX", "")
    if inside:
        return inside.split(",", 1)[0]
    return os.path.join(_socket_dir(), "default")


def _socket_dir() -> str:
    base = os.environ.get("TMUX_TMPDIR") or "/tmp"  # noqa: S108 (tmux's own default)
    return os.path.join(base, f"tmux-{os.getuid()}")


def exit_file(log: str) -> str:
    """Where the launcher writes the exit status of the program a pane ran."""
    return log.removesuffix(".log") + ".exit"


def exit_status(log: str | None) -> int | None:
    """The exit status the launcher wrote (``-N``: killed by signal N); None while unknown."""
    if not log:
        return None
    try:
        with open(exit_file(log), encoding="ascii") as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return int(text) if text.lstrip("-").isdigit() else None


def plain_text(raw: str) -> str:
    """Terminal output without escape sequences and carriage returns."""
    text = _ESCAPES.sub("", raw)
    # a carriage return inside a line rewrote it: what stays is the text after the last one
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


class Tmux:
    """One tmux server, reached through its socket."""

    def __init__(self, tmux_binary: str, socket: str, *, ours: bool = False) -> None:
        import libtmux

        self.binary = tmux_binary
        self.socket = socket
        if ours:
            # tmux makes its own socket directory only for -L names: for the path we pass,
            # we do (never for a socket a record names: records come from other clones)
            os.makedirs(os.path.dirname(socket), mode=0o700, exist_ok=True)
        self._server = libtmux.Server(socket_path=socket, tmux_bin=tmux_binary)

    def attempt(self, *args: str) -> tuple[int, list[str], list[str]]:
        """Run a tmux command: exit status, stdout lines, stderr lines."""
        from libtmux.exc import LibTmuxException

        try:
            result = self._server.cmd(*args)
        except (OSError, LibTmuxException) as exc:  # a missing binary is libtmux's own error
            raise Unavailable(f"tmux could not run: {exc}", {"tmux": self.binary}) from None
        return int(result.returncode or 0), list(result.stdout), list(result.stderr)

    def run(self, *args: str) -> list[str]:
        """Run a tmux command; ``unavailable`` with tmux's message when it fails."""
        code, out, err = self.attempt(*args)
        if code != 0:
            raise Unavailable(
                f"tmux {args[0]} failed: {' '.join(err) or f'exit {code}'}",
                {"command": args[0], "stderr": err[-5:], "socket": self.socket},
            )
        return out

    def pane_of(self, out: list[str], command: str) -> str:
        """The pane id a command printed (``-P -F '#{pane_id}'``)."""
        if not out or not out[0].strip().startswith("%"):
            raise Unavailable(f"tmux {command} printed no pane id", {"socket": self.socket})
        return out[0].strip()

    def version(self) -> str:
        """``tmux -V`` without the word tmux."""
        return version_of(self.binary)

    def panes(self) -> dict[str, Pane]:
        """Every pane of the server by id; none when no server runs."""
        code, out, err = self.attempt("list-panes", "-a", "-F", _PANE_FORMAT)
        if code != 0:
            text = " ".join(err)
            if any(sign in text for sign in _NO_SERVER):
                return {}
            raise Unavailable(f"tmux list-panes failed: {text}", {"socket": self.socket})
        found = {}
        for line in out:
            fields = line.split("\t")
            if len(fields) != 7 or not fields[1].isdigit():
                continue
            status = fields[3]
            found[fields[0]] = Pane(
                fields[0],
                int(fields[1]),
                fields[2] == "1",
                int(status) if status.lstrip("-").isdigit() else None,
                fields[4],
                fields[5],
                fields[6],
            )
        return found

    def has_session(self, name: str) -> bool:
        """Whether a tmux session is called exactly ``name``."""
        code, _, _ = self.attempt("has-session", "-t", f"={name}")
        return code == 0

    def new_session(self, name: str, window: str, cwd: str) -> str:
        """A new detached session of one placeholder pane; its pane id."""
        out = self.run(
            "new-session", "-d", "-s", name, "-n", window, "-x", "220", "-y", "60",
            "-c", cwd, "-P", "-F", "#{pane_id}", "--", *_PLACEHOLDER,
        )  # fmt: skip
        return self.pane_of(out, "new-session")

    def new_pane(self, session: str, window: str, cwd: str, direction: str) -> str:
        """A placeholder pane in ``session``'s ``window``: split, or a new window when full."""
        target = f"={session}:{window}"
        code, out, _ = self.attempt(
            "split-window", "-d", "-h" if direction == "horizontal" else "-v",
            "-t", target, "-c", cwd, "-P", "-F", "#{pane_id}", "--", *_PLACEHOLDER,
        )  # fmt: skip
        if code == 0 and out:
            self.attempt("select-layout", "-t", target, "tiled")
            return self.pane_of(out, "split-window")
        out = self.run(
            "new-window", "-d", "-t", f"={session}:", "-n", window, "-c", cwd,
            "-P", "-F", "#{pane_id}", "--", *_PLACEHOLDER,
        )  # fmt: skip
        return self.pane_of(out, "new-window")

    def launch(self, pane_id: str, cwd: str, argv: list[str], env: dict[str, str], log: str) -> int:
        """Keep ``pane_id`` after exit, log it, run ``argv`` in it; the new process id."""
        import shlex

        self.run("set-option", "-p", "-t", pane_id, "remain-on-exit", "on")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        try:
            os.unlink(exit_file(log))  # a relaunch: the last run's status is not this one's
        except FileNotFoundError:
            pass
        # pipe-pane's command is shell text: the one place a shell runs, on our own path, quoted
        self.run("pipe-pane", "-t", pane_id, f"exec cat >> {shlex.quote(log)}")
        words = ["env", "-u", "GIT_DIR", "-u", "GIT_WORK_TREE", "-u", "GIT_INDEX_FILE", "--"]
        words += [f"{key}={value}" for key, value in sorted(env.items())]
        program = argv if argv else [os.environ.get("SHELL") or "/bin/sh"]
        words += [sys.executable, "-m", "gitorch.surfaces.launch", exit_file(log), "--", *program]
        self.run("respawn-pane", "-k", "-t", pane_id, "-c", cwd, "--", *words)
        out = self.run("display-message", "-p", "-t", pane_id, "#{pane_pid}")
        return int(out[0]) if out and out[0].strip().isdigit() else 0

    def kill_pane(self, pane_id: str) -> None:
        """Close a pane (its process gets SIGHUP); a pane already gone is fine."""
        self.attempt("kill-pane", "-t", pane_id)

    def send_text(self, pane_id: str, text: str, *, enter: bool) -> None:
        """Type ``text`` into a pane literally (pasted, bracketed when the program asks)."""
        buffer = f"orch-{pane_id.lstrip('%')}-{os.getpid()}"
        for start in range(0, len(text), CHUNK):
            self.run(
                "set-buffer",
                "-b",
                buffer,
                *(["-a"] if start else []),
                "--",
                text[start : start + CHUNK],
            )
        if text:
            self.run("paste-buffer", "-d", "-p", "-r", "-b", buffer, "-t", pane_id)
        if enter:
            self.run("send-keys", "-t", pane_id, "Enter")

    def send_key(self, pane_id: str, key: str) -> None:
        """Press one key (``C-c``) in a pane."""
        self.run("send-keys", "-t", pane_id, key)

    def screen(self, pane_id: str, lines: int = 0) -> list[str]:
        """What a pane shows (with ``lines``: that much history too), as plain text."""
        args = ["capture-pane", "-p", "-J", "-t", pane_id]
        if lines:
            args += ["-S", f"-{lines}"]
        return self.run(*args)
