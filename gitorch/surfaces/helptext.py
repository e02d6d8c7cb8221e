"""Help for people: ``git orch help`` and ``git orch help METHOD``."""

from __future__ import annotations

import textwrap

from gitorch import __version__
from gitorch.contract.method import Method
from gitorch.contract.registry import METHODS

GLOBAL_OPTIONS = (
    ("-C, --repo PATH", "the repository (default: the one of the current directory)"),
    ("--pretty", "indent the JSON output"),
    ("--format json|table", "print JSON (default) or a table for people"),
)


def synopsis(method: Method) -> str:
    """``git orch task.get --task-id TEXT`` with optional parameters in brackets."""
    parts = [f"git orch {method.name}"]
    for param in method.params:
        if param.kind.flag:
            word = f"{param.option}/--no-{param.option[2:]}"
        else:
            word = f"{param.option} {param.kind.synopsis()}"
        parts.append(word if param.required else f"[{word}]")
    return " ".join(parts)


def method_text(method: Method) -> str:
    """Everything a person needs to call one method."""
    lines = [synopsis(method), "", textwrap.fill(method.summary, 78), ""]
    if method.params:
        lines.append("parameters:")
        for param in method.params:
            flags = ["required"] if param.required else []
            if param.default is not None:
                flags.append(f"default {param.default}")
            suffix = f" ({', '.join(flags)})" if flags else ""
            lines.append(f"  {param.option:<22} {param.help}{suffix}")
        lines.append("")
    keys = ", ".join(f'"{key}": ...' for key in method.result_keys())
    lines.append(f"result: {{{keys}}}   schema: git orch {method.name} --help")
    return "\n".join(lines) + "\n"


def overview() -> str:
    """``git orch help``: what there is and how to call it."""
    width = max(len(name) for name in METHODS)
    lines = [
        f"git orch {__version__}: coordinate coding agents on one git repository.",
        "",
        "usage: git orch [-C PATH] [--pretty] [--format json|table] METHOD [--param VALUE ...]",
        "       git orch call METHOD --params JSON|@FILE|-",
        "       git orch methods            every method with its JSON Schema",
        "       git orch help METHOD        how to call one method",
        "",
        "methods:",
        *(f"  {name.ljust(width)}  {method.summary}" for name, method in METHODS.items()),
        "",
        "options:",
        *(f"  {flag:<22} {text}" for flag, text in GLOBAL_OPTIONS),
        "",
        'Every call prints one JSON object on stdout; errors print {"error": {...}}',
        "and exit 1 (the method refused) or 2 (the command line was wrong).",
    ]
    return "\n".join(lines) + "\n"
