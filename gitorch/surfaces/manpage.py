"""The ``git-orch(1)`` man page, generated from the registry.

``git orch --help`` is turned by git itself into ``man git-orch``, so the
page must exist where ``man`` looks: ``share/man/man1`` beside the ``bin``
directory that holds ``git-orch`` (man-db derives its search path from
``PATH``). ``python -m gitorch.surfaces.manpage man/git-orch.1`` writes it;
the package installs it there; a test fails when it is behind the registry.
"""

from __future__ import annotations

import sys

from gitorch import __version__
from gitorch.contract.registry import METHODS
from gitorch.surfaces.helptext import GLOBAL_OPTIONS, synopsis


def _roff(text: str) -> str:
    """Text as roff: backslashes and leading dots or quotes escaped."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(
        ("\\&" + line) if line.startswith((".", "'")) else line for line in text.splitlines()
    )


def page() -> str:
    """The whole man page."""
    out = [
        f'.TH GIT\\-ORCH 1 "" "gitorch {__version__}" "Git Manual"',
        ".SH NAME",
        "git\\-orch \\- coordinate several coding agents on one git repository",
        ".SH SYNOPSIS",
        ".nf",
        _roff("git orch [-C PATH] [--pretty] [--format json|table] METHOD [--param VALUE ...]"),
        _roff("git orch call METHOD --params JSON|@FILE|-"),
        _roff("git orch methods"),
        _roff("git orch help [METHOD]"),
        ".fi",
        ".SH DESCRIPTION",
        _roff(
            "Every piece of coordination state is a YAML document committed on "
            "refs/orchestrator/state inside the repository, changed atomically, so it "
            "travels with every clone. Each call prints one JSON object on standard output; "
            'an error prints {"error": {"code", "message", "details"}} and exits 1 (the method '
            "refused) or 2 (the command line could not be read)."
        ),
        ".SH OPTIONS",
    ]
    for flag, text in GLOBAL_OPTIONS:
        out += [".TP", f"\\fB{_roff(flag)}\\fR", _roff(text)]
    out.append(".SH METHODS")
    for method in METHODS.values():
        out += [".TP", f"\\fB{_roff(method.name)}\\fR", _roff(method.summary)]
        out += [".br", _roff(synopsis(method))]
    out += [
        ".SH EXIT STATUS",
        _roff("0 on success; 1 when the method refused the call; 2 for a usage error."),
        ".SH SEE ALSO",
        _roff("git orch methods (every method's JSON Schema); README.md of gitorch."),
    ]
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    """Write the page to each file named, or to standard output."""
    text = page()
    if not argv:
        sys.stdout.write(text)
    for path in argv:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
