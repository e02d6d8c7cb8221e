"""Declarations of the git hooks methods: install, uninstall, status, and the checks."""

from __future__ import annotations

from gitorch.contract.method import EFFECTS, Method
from gitorch.contract.params import Param, Text

_STATUS = {
    "type": "object",
    "description": "Per hook (pre-commit, pre-push): installed, chained, path.",
}
_CHECK = {"type": "string", "enum": ["allow", "warn"], "description": "What the hook decided."}
_H = "gitorch.domain.hooks"

METHODS = (
    Method(
        "hooks.install",
        "Install the pre-commit and pre-push shims (an existing hook is kept and chained).",
        (),
        "hooks",
        _STATUS,
        f"{_H}:install",
        access=EFFECTS,
        more_results=(("hooks_dir", {"type": "string"}), ("mode", {"type": "string"})),
    ),
    Method(
        "hooks.uninstall",
        "Remove the shims and put chained hooks back byte for byte.",
        (),
        "hooks",
        _STATUS,
        f"{_H}:uninstall",
        access=EFFECTS,
        more_results=(("hooks_dir", {"type": "string"}), ("mode", {"type": "string"})),
    ),
    Method(
        "hooks.status",
        "Which hooks are installed and chained, and the mode (enforce or warn).",
        (),
        "hooks",
        _STATUS,
        f"{_H}:status",
        access=EFFECTS,
        more_results=(("hooks_dir", {"type": "string"}), ("mode", {"type": "string"})),
    ),
    Method(
        "hook.pre_commit",
        "The pre-commit check: staged paths locked by another session are refused.",
        (),
        "verdict",
        _CHECK,
        f"{_H}:pre_commit",
        access=EFFECTS,
        more_results=(("violations", {"type": "array", "items": {"type": "object"}}),),
    ),
    Method(
        "hook.pre_push",
        "The pre-push check: pushed commits changing paths locked by another session are refused.",
        (
            Param("remote", Text(1000), "The remote's name (git passes it)."),
            Param("url", Text(4096), "The remote's URL (git passes it)."),
        ),
        "verdict",
        _CHECK,
        f"{_H}:pre_push",
        access=EFFECTS,
        more_results=(("violations", {"type": "array", "items": {"type": "object"}}),),
    ),
)
