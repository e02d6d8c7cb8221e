"""What goes to stdout and stderr: one JSON object, or a table for people."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, NamedTuple

from gitorch import __version__
from gitorch.contract.method import Method
from gitorch.model.errors import GitorchError, Internal

FORMATS = ("json", "table")


class Options(NamedTuple):
    """Options every command takes: where the repository is and how to print."""

    repo: str | None = None
    pretty: bool = False
    format: str | None = None


def write(text: str) -> None:
    """Write to stdout; a reader that went away (``| head``) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def emit_json(obj: Any, pretty: bool) -> None:
    """One JSON object and a newline."""
    write(json.dumps(obj, ensure_ascii=False, indent=2 if pretty else None) + "\n")


def emit(method: Method, result: dict[str, Any], options: Options) -> None:
    """Print a method's result in the format asked for (or the method's default)."""
    fmt = options.format or method.default_format
    if fmt == "json":
        emit_json(result, options.pretty)
        return
    from gitorch.surfaces.tables import render

    write(render(method, result))


def fail(exc: GitorchError) -> int:
    """Print an error as the contract says and return the exit code."""
    emit_json(exc.to_json(), pretty=False)
    try:
        sys.stderr.write(f"git orch: {exc.code}: {exc.message}\n")
    except BrokenPipeError:
        pass
    return exc.exit_code


def internal(exc: BaseException, log_dir: str | None) -> Internal:
    """An unexpected exception as an ``internal`` error, its traceback logged."""
    import traceback

    details: dict[str, Any] = {"version": __version__, "type": type(exc).__name__}
    text = "".join(traceback.format_exception(exc))
    if log_dir is not None:
        try:
            os.makedirs(log_dir, exist_ok=True)
            path = os.path.join(log_dir, "internal.log")
            with open(path, "a", encoding="utf-8") as log:
                log.write(f"--- gitorch {__version__}\n{text}")
            details["log"] = path
        except OSError:
            pass
    if os.environ.get("GIT_ORCH_DEBUG"):
        sys.stderr.write(text)
    return Internal(f"internal error ({type(exc).__name__}: {exc}); gitorch {__version__}", details)
