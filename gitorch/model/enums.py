"""Enumerations of the contract and the one rule for reading them.

Inputs are case-insensitive and accept ``-`` or a space for ``_``; outputs
always use the lower snake_case value.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from gitorch.model.errors import InvalidParams

E = TypeVar("E", bound=StrEnum)


class TaskLevel(StrEnum):
    """Task levels, from the widest to the narrowest."""

    EPIC = "epic"
    FEATURE = "feature"
    TEST_GROUP = "test_group"
    CASE = "case"
    STEP = "step"


class TaskStatus(StrEnum):
    """Where a task is in its life."""

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"


LEVEL_RANK = {level: rank for rank, level in enumerate(TaskLevel)}


def normalize_enum_text(raw: str) -> str:
    """``Test-Group`` and ``test group`` both read as ``test_group``."""
    return raw.strip().lower().replace("-", "_").replace(" ", "_")


def parse_enum(enum_cls: type[E], raw: object, param: str) -> E:
    """Read ``raw`` as a member of ``enum_cls`` or raise ``invalid_params``."""
    allowed = [member.value for member in enum_cls]
    if isinstance(raw, str):
        text = normalize_enum_text(raw)
        for member in enum_cls:
            if member.value == text:
                return member
    raise InvalidParams(
        f"{param}: {raw!r} is not one of {', '.join(allowed)}",
        {"param": param, "value": raw, "allowed": allowed},
    )
