"""The one error root and the contract's error codes.

Every layer raises a ``GitorchError`` subclass; the surfaces turn it into
``{"error": {...}}`` and an exit code in exactly one place.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any


class GitorchError(Exception):
    """A failure the caller can act on, with a contract error code."""

    code = "internal"
    exit_code = 1

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_json(self) -> dict[str, Any]:
        """The ``{"error": ...}`` object printed on stdout."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidParams(GitorchError):
    """The call's parameters are malformed, of the wrong type, or unknown."""

    code = "invalid_params"


class NotFound(GitorchError):
    """A named entity, method or repository does not exist."""

    code = "not_found"


class Conflict(GitorchError):
    """A lock or precondition is held by someone else."""

    code = "conflict"


class Forbidden(GitorchError):
    """A role or ownership rule refuses the caller."""

    code = "forbidden"


class PreconditionFailed(GitorchError):
    """The entity is in the wrong state for this step."""

    code = "precondition_failed"


class Unavailable(GitorchError):
    """A tool the method needs (git, tmux, a remote) is missing or failed."""

    code = "unavailable"


class InvalidState(GitorchError):
    """A state document does not parse or validate; the message names it."""

    code = "invalid_state"


class Internal(GitorchError):
    """A bug: anything that is not one of the above."""

    code = "internal"


class UsageError(GitorchError):
    """The command line could not be turned into a method call (exit 2)."""

    exit_code = 2

    def __init__(
        self, message: str, details: dict[str, Any] | None = None, code: str = "invalid_params"
    ) -> None:
        super().__init__(message, details)
        self.code = code
