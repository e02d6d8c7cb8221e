"""What goes to stdout and stderr: one JSON object, or a table for people."""

from __future__ import annotations

import json
import os
import sys
from collections import namedtuple

from gitorch import __version__
from gitorch.contract.method import Method
from gitorch.model.errors import GitorchError, Internal

FORMATS = ("json", "table")


TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any, NamedTuple

if TYPE_CHECKING:

    class _OptionsFields(NamedTuple):
        repo: str | None = None
        pretty: bool = False
        format: str | None = None

else:
    _OptionsFields = namedtuple(
        "_OptionsFields",
        ("repo", "pretty", "format"),
        defaults=(
            None,
            False,
            None,
        ),
    )


class Options(_OptionsFields):
    """Options every command takes: where the repository is and how to print."""

    __slots__ = ()


class OutputClosed(Exception):
    """Standard output cannot be written (closed, or a device that refuses)."""


def write(text: str) -> None:
    """Write to stdout as UTF-8; a reader that went away (``| head``) is not an error."""
    data = text.encode("utf-8", "backslashreplace")
    stream = sys.stdout
    if stream is None:
        raise OutputClosed("standard output is closed")
    try:
        binary = getattr(stream, "buffer", None)
        if binary is None:  # a text stream put in its place (tests, embedding)
            stream.write(data.decode("utf-8"))
            stream.flush()
            return
        stream.flush()
        binary.write(data)
        binary.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError) as exc:
        raise OutputClosed(f"cannot write standard output: {exc}") from None


def to_json(obj: Any, pretty: bool = False) -> str:
    """JSON text of a result: never NaN or Infinity, lone surrogates escaped."""
    indent = 2 if pretty else None
    try:
        text = json.dumps(obj, ensure_ascii=False, indent=indent, allow_nan=False)
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(obj, ensure_ascii=True, indent=indent, allow_nan=False)
    return text


def emit_json(obj: Any, pretty: bool) -> None:
    """One JSON object and a newline."""
    write(to_json(obj, pretty) + "\n")


def emit(method: Method, result: dict[str, Any], options: Options) -> None:
    """Print a method's result in the format asked for (or the method's default)."""
    fmt = options.format or method.default_format
    if fmt == "json":
        emit_json(result, options.pretty)
        return
    from gitorch.surfaces.tables import render

    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    write(render(method, result, color))


def fail(exc: GitorchError) -> int:
    """Print an error as the contract says and return the exit code."""
    try:
        emit_json(exc.to_json(), pretty=False)
    except OutputClosed:
        pass  # the line on stderr still says it
    stderr(f"git orch: {exc.code}: {exc.message}")
    return exc.exit_code


def stderr(line: str) -> None:
    """One line for people on standard error, whatever can be written there."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(line.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")
        stream.flush()
    except (OSError, ValueError, UnicodeEncodeError):
        pass


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
