"""``runtime.tmux.ensure``: tmux is there, or is installed without a prompt, or how to get it.

An install runs only through the platform's package manager, only when it
cannot ask for a password (as root, or ``sudo -n``), with no terminal on
its input and a time limit; every attempt is logged in the answer. When
nothing works the answer is ``manual_required`` with the exact commands.
"""

from __future__ import annotations

import os
import shutil

from gitorch.domain import tmux

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

# package manager -> the commands that install tmux with it, in order
MANAGERS: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    ("apt-get", (("apt-get", "update", "-q"), ("apt-get", "install", "-y", "-q", "tmux"))),
    ("dnf", (("dnf", "install", "-y", "tmux"),)),
    ("yum", (("yum", "install", "-y", "tmux"),)),
    ("apk", (("apk", "add", "--no-cache", "tmux"),)),
    ("pacman", (("pacman", "-S", "--noconfirm", "tmux"),)),
    ("zypper", (("zypper", "--non-interactive", "install", "tmux"),)),
    ("brew", (("brew", "install", "tmux"),)),
)
INSTALL_TIMEOUT = 600.0
MANUAL = [
    "Debian/Ubuntu: sudo apt-get install tmux",
    "Fedora/RHEL: sudo dnf install tmux",
    "Alpine: sudo apk add tmux",
    "Arch: sudo pacman -S tmux",
    "openSUSE: sudo zypper install tmux",
    "macOS: brew install tmux",
    "then: git orch runtime.tmux.ensure",
]


def ensure_tmux(
    ctx: object, *, session_id: str | None = None, auto_install: bool = True
) -> dict[str, Any]:
    """Ready (and its version), installed now, or ``manual_required`` with instructions."""
    del ctx, session_id  # the acting session counts as a heartbeat; nothing else depends on it
    return check(auto_install=auto_install)


def check(*, auto_install: bool, path: str | None = None) -> dict[str, Any]:
    """The answer of ``runtime.tmux.ensure`` for the ``PATH`` given (default ``$PATH``)."""
    found = tmux.binary(path)
    attempts: list[dict[str, Any]] = []
    installed = False
    if found is None and auto_install:
        attempts = _install(path)
        found = tmux.binary(path)
        installed = found is not None
    if found is None:
        return {
            "status": "manual_required",
            "tmux": None,
            "attempts": attempts,
            "instructions": MANUAL,
            "message": "tmux is not installed"
            + ("" if auto_install else " (auto_install is off)")
            + ("; no package manager could install it without a password" if auto_install else ""),
        }
    version = tmux.version_of(found)
    return {
        "status": "ready",
        "tmux": {"path": found, "version": version, "installed_now": installed},
        "attempts": attempts,
        "instructions": [],
    }


def _install(path: str | None) -> list[dict[str, Any]]:
    """Try each package manager found on ``path``; the log of what ran."""
    import subprocess

    attempts: list[dict[str, Any]] = []
    root = os.geteuid() == 0
    sudo = None if root else shutil.which("sudo", path=path)
    for manager, commands in MANAGERS:
        program = shutil.which(manager, path=path)
        if program is None:
            continue
        if not root and sudo is None and manager != "brew":
            attempts.append(
                {"manager": manager, "command": None, "exit_code": None,
                 "output": "needs root, and sudo is not installed"}
            )  # fmt: skip
            continue
        ok = True
        for words in commands:
            argv = [program, *words[1:]]
            if not root and manager != "brew":
                assert sudo is not None
                argv = [sudo, "-n", *argv]  # -n: fail rather than ask for a password
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            if path is not None:
                env["PATH"] = path
            try:
                done = subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=INSTALL_TIMEOUT,
                    env=env,
                    check=False,
                )
                code, output = done.returncode, (done.stdout + done.stderr)[-2000:]
            except (OSError, subprocess.SubprocessError) as exc:
                code, output = None, str(exc)
            attempts.append(
                {"manager": manager, "command": argv, "exit_code": code, "output": output}
            )
            if code != 0:
                ok = False
                break
        if ok and tmux.binary(path) is not None:
            break
    if not attempts:
        attempts.append(
            {"manager": None, "command": None, "exit_code": None,
             "output": "no known package manager on PATH"}
        )  # fmt: skip
    return attempts
