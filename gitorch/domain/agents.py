"""Agent profiles: how to start an agent, hand it a prompt, make it quit, see it idle.

A profile is a command line (an argv list, never a shell text), how the
prompt is passed (``argument``: appended as the last argument; ``input``:
typed into the pane once it runs; ``none``), the input that makes the
agent quit, the screen markers that mean it waits for input, and
(optionally) the command that resumes its own last conversation. The
built-in profiles can be changed and new ones added in git config, which
is the machine's own (``orch.agent.<name>.command``, ``.prompt``,
``.quit``, ``.idle`` (repeatable), ``.resume``); a command is never read
from synced state.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from collections import namedtuple

from gitorch.domain import checkouts
from gitorch.model.errors import InvalidParams
from gitorch.store.repository import Repository

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import NamedTuple

    class _ProfileFields(NamedTuple):
        name: str
        command: tuple[str, ...]
        prompt: str
        quit: str
        idle: tuple[str, ...]
        resume: tuple[str, ...]

else:
    _ProfileFields = namedtuple(
        "_ProfileFields", ("name", "command", "prompt", "quit", "idle", "resume")
    )

PROMPT_MODES = ("argument", "input", "none")
DEFAULT_PROFILE = "codex"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_KEY = re.compile(r"^orch\.agent\.([^.]+)\.(command|prompt|quit|idle|resume)$")


class Profile(_ProfileFields):
    """One kind of agent."""

    __slots__ = ()

    def launch_argv(self, prompt: str | None, *, resume: bool = False) -> list[str]:
        """The argv that starts this agent (resuming its conversation when asked and known)."""
        if resume and self.resume:
            return list(self.resume)
        argv = list(self.command)
        if prompt and self.prompt == "argument":
            argv.append(prompt)
        return argv

    def to_json(self) -> dict[str, object]:
        """The profile as JSON."""
        return {
            "name": self.name,
            "command": list(self.command),
            "prompt": self.prompt,
            "quit": self.quit,
            "idle_markers": list(self.idle),
            "resume": list(self.resume),
        }


def _builtin() -> dict[str, Profile]:
    shell = os.environ.get("SHELL") or "/bin/sh"
    return {
        "codex": Profile(
            "codex",
            ("codex",),
            "argument",
            "/quit",
            ("›", "? for shortcuts"),
            ("codex", "resume", "--last"),
        ),
        "claude": Profile(
            "claude",
            ("claude",),
            "argument",
            "/exit",
            ("? for shortcuts", "│ >"),
            ("claude", "--continue"),
        ),
        "shell": Profile("shell", (shell,), "input", "exit", ("$", "#", "%"), ()),
        # the stand-in agent gitorch ships (tests, the demo): no real agent CLI needed
        "standin": Profile(
            "standin",
            (sys.executable, "-m", "gitorch.surfaces.standin"),
            "argument",
            "quit",
            ("standin>",),
            (sys.executable, "-m", "gitorch.surfaces.standin", "--resume"),
        ),
    }


def split_command(text: str | list[str], param: str) -> list[str]:
    """A command line split the way a shell splits words, with no expansion; or a JSON list."""
    if isinstance(text, list):
        argv = text
    else:
        stripped = text.strip()
        if stripped.startswith("["):
            try:
                argv = json.loads(stripped)
            except ValueError:
                raise InvalidParams(
                    f"{param}: not a JSON list of arguments", {"param": param}
                ) from None
            if not isinstance(argv, list) or not all(isinstance(word, str) for word in argv):
                raise InvalidParams(f"{param}: not a JSON list of strings", {"param": param})
        else:
            try:
                argv = shlex.split(stripped)
            except ValueError as exc:
                raise InvalidParams(f"{param}: {exc}", {"param": param}) from None
    if not argv or not argv[0]:
        raise InvalidParams(f"{param}: an empty command", {"param": param})
    if "=" in argv[0]:
        raise InvalidParams(
            f"{param}: a command's first word cannot contain '=' ({argv[0]!r})", {"param": param}
        )
    return argv


def profiles(repo: Repository) -> dict[str, Profile]:
    """The built-in profiles as git config changes them, and those it adds."""
    found = _builtin()
    settings: dict[str, dict[str, list[str]]] = {}
    for key, value in checkouts.config_matching(repo, r"^orch\.agent\."):
        match = _KEY.match(key)
        if match:
            settings.setdefault(match.group(1).lower(), {}).setdefault(match.group(2), []).append(
                value
            )
    for name, values in settings.items():
        if not _NAME.match(name):
            continue
        base = found.get(name) or Profile(name, (), "argument", "", (), ())
        command = (
            tuple(split_command(values["command"][-1], f"orch.agent.{name}.command"))
            if "command" in values
            else base.command
        )
        prompt = values["prompt"][-1].strip().lower() if "prompt" in values else base.prompt
        if prompt not in PROMPT_MODES:
            raise InvalidParams(
                f"git config orch.agent.{name}.prompt: {prompt!r} is not one of "
                + ", ".join(PROMPT_MODES),
                {"key": f"orch.agent.{name}.prompt"},
            )
        resume = (
            tuple(split_command(values["resume"][-1], f"orch.agent.{name}.resume"))
            if "resume" in values
            else base.resume
        )
        found[name] = Profile(
            name,
            command,
            prompt,
            values["quit"][-1] if "quit" in values else base.quit,
            tuple(values["idle"]) if "idle" in values else base.idle,
            resume,
        )
    return found


def profile(repo: Repository, name: str | None) -> Profile:
    """The profile called ``name`` (default ``codex``); ``invalid_params`` naming the known ones."""
    known = profiles(repo)
    chosen = (name or DEFAULT_PROFILE).strip().lower()
    found = known.get(chosen)
    if found is None or not found.command:
        raise InvalidParams(
            f"agent_override: no agent profile {chosen!r}; known: {', '.join(sorted(known))}"
            f" (add one with git config orch.agent.{chosen}.command)",
            {"param": "agent_override", "known": sorted(known)},
        )
    return found
