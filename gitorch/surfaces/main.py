"""``git orch``: the entry point, and the one boundary that turns errors into JSON."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from gitorch.contract.method import Method
from gitorch.model.errors import GitorchError, UsageError
from gitorch.surfaces import output
from gitorch.surfaces.output import Options

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any


def run_method(
    method: Method, params: Mapping[str, Any], options: Options, *, from_command_line: bool
) -> int:
    """Call one method for the command line: print its result or its error; the exit code."""
    if method.name == "status" and params.get("watch") in (True, "true"):
        return _watch(method, params, options)
    return _run_once(method, params, options, from_command_line=from_command_line)


def _watch(method: Method, params: Mapping[str, Any], options: Options) -> int:
    """``git orch status --watch``: the board redrawn in place until Ctrl-C."""
    import time

    raw = params.get("interval", 2)
    interval = int(raw) if str(raw).isdigit() else 2
    try:
        while True:
            if sys.stdout.isatty():
                output.write("\x1b[H\x1b[2J")
            code = _run_once(method, params, options, from_command_line=True)
            if code != 0:
                return code
            time.sleep(max(1, interval))
    except KeyboardInterrupt:
        return 0


def _run_once(
    method: Method, params: Mapping[str, Any], options: Options, *, from_command_line: bool
) -> int:
    orch = None
    try:
        from gitorch.api import Orchestrator

        orch = Orchestrator(options.repo)
        result = orch.call_method(method, params, from_command_line=from_command_line)
    except GitorchError as exc:
        return output.fail(exc)
    except Exception as exc:  # noqa: BLE001 - the boundary: anything else is a bug, reported
        return output.fail(output.internal(exc, _log_dir(orch)))
    finally:
        if orch is not None:
            orch.close()
    try:
        output.emit(method, result, options)
    except output.OutputClosed as exc:
        # The call is done (a change is committed): say so where it can be read.
        output.stderr(f"git orch: {method.name} succeeded, but its result was lost: {exc}")
        return 1
    return 0


def _log_dir(orch: Any) -> str | None:
    try:
        return os.path.join(orch.repo.orch_dir, "log") if orch is not None else None
    except Exception:  # noqa: BLE001 - no repository, no log
        return None


def main(argv: list[str] | None = None) -> int:
    """Run ``git orch`` with ``argv`` (default: the process's arguments)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if sys.stdout is None:
        # Started with standard output closed: nobody could read an answer, so
        # nothing is done (a change made now would be reported to no one).
        output.stderr("git orch: standard output is closed; nothing was done")
        return 1
    from gitorch.surfaces.argv import expand_aliases, leading_globals, parse

    try:
        args = expand_aliases(args)
        leading = leading_globals(args)
        if leading is not None and args[leading[0] : leading[0] + 1] == ["demo"]:
            from gitorch.surfaces.demo import main as demo_main

            return demo_main(args[leading[0] + 1 :])
        if leading is not None and args[leading[0] : leading[0] + 1] == ["mcp"]:
            from gitorch.surfaces.mcp import main as mcp_main

            start, options = leading
            if options.get("format") not in (None, *output.FORMATS):
                raise UsageError(f"--format: {options['format']!r} is not json or table", {})
            return mcp_main(args[start + 1 :], Options(**options))
        call = parse(args)
    except GitorchError as exc:
        return output.fail(exc)
    if call is not None:
        return run_method(call.method, call.params, call.options, from_command_line=True)
    from gitorch.surfaces.cli import run

    return run(args)
