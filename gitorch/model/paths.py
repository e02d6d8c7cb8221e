"""Repository paths as locks name them: normalised, relative, confined to the repository."""

from __future__ import annotations

from gitorch.model.errors import InvalidParams


def normalise(text: str, param: str, *, prefix: bool) -> str:
    """``text`` as a repository path: ``/`` separators, no ``.``/``..`` parts, never absolute.

    For a prefix, ``""`` and ``.`` name the whole tree and a trailing ``/``
    is accepted. Anything else that is not a plain relative path is
    ``invalid_params``: a lock never names a place outside the repository.
    """
    if "\0" in text:
        raise InvalidParams(f"{param}: contains a NUL character", {"param": param})
    if prefix and text in ("", ".", "./"):
        return ""
    if not text:
        raise InvalidParams(f"{param}: a file lock needs a path", {"param": param})
    if text.startswith("/"):
        raise InvalidParams(
            f"{param}: {text!r} is absolute; name a path relative to the repository",
            {"param": param, "value": text},
        )
    body = text[:-1] if prefix and text.endswith("/") else text
    parts = body.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise InvalidParams(
            f"{param}: {text!r} is not a normalised repository path (no empty, '.' or '..' parts)",
            {"param": param, "value": text},
        )
    return body


def covers(scope_type: str, scope_path: str, path: str) -> bool:
    """Whether a lock of ``scope_type`` on ``scope_path`` covers the file or prefix ``path``."""
    if scope_type == "file":
        return path == scope_path
    return scope_path == "" or path == scope_path or path.startswith(scope_path + "/")


def overlap(a_type: str, a_path: str, b_type: str, b_path: str) -> bool:
    """Two locks conflict (for different sessions) when either covers the other."""
    return covers(a_type, a_path, b_path) or covers(b_type, b_path, a_path)
