"""Entity ids: short, random, unique across clones without coordination.

An id is ``<prefix>-<8 characters>`` from a 32-letter alphabet without
look-alike letters (i, l, o, u), so 40 random bits: a clone that creates
100,000 entities meets another clone's id with odds of about 1 in 200.
The first two characters of the random part shard the state tree.
"""

from __future__ import annotations

import os

from gitorch.model.errors import InvalidParams

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Protocol

    class Kind(Protocol):
        """What ids need of an entity kind (see gitorch.model.kinds)."""

        name: str
        prefix: str


ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
RANDOM_LEN = 8
SHARD_LEN = 2


_LETTERS = frozenset(ALPHABET)


def new_id(kind: Kind, random_bytes: bytes | None = None) -> str:
    """A fresh id of ``kind``; ``random_bytes`` (5 bytes) makes it deterministic."""
    raw = random_bytes if random_bytes is not None else os.urandom(5)
    number = int.from_bytes(raw[:5], "big")
    chars = []
    for _ in range(RANDOM_LEN):
        number, digit = divmod(number, 32)
        chars.append(ALPHABET[digit])
    return f"{kind.prefix}-{''.join(chars)}"


def is_id(text: str) -> bool:
    """Whether ``text`` is a complete, well-formed id."""
    prefix, dash, rest = text.partition("-")
    return (
        len(prefix) == 3
        and prefix.isascii()
        and prefix.isalpha()
        and prefix.islower()
        and bool(dash)
        and len(rest) == RANDOM_LEN
        and _LETTERS.issuperset(rest)
    )


def shard_of(entity_id: str) -> str:
    """The shard directory of an id: two characters of its random part."""
    return entity_id.split("-", 1)[1][:SHARD_LEN]


def parse_prefix(kind: Kind, text: str, param: str) -> str | None:
    """The random-part prefix ``text`` names (``tsk-4k2m`` or ``4k2m``).

    None when ``text`` cannot name any entity of ``kind`` (another kind's
    prefix, letters outside the id alphabet, too long): such a text matches
    nothing, so its caller answers ``not_found``, as for any other text that
    matches no entity. An empty text names nothing at all: ``invalid_params``.
    """
    candidate = text.strip().lower() if isinstance(text, str) else ""
    given_kind, dash, rest = candidate.rpartition("-")
    if not candidate or (dash and not rest):
        raise InvalidParams(
            f"{param}: an id is needed (form {kind.prefix}-{'x' * RANDOM_LEN}, "
            "or a unique prefix of it)",
            {"param": param, "value": text},
        )
    if (
        len(rest) > RANDOM_LEN
        or not _LETTERS.issuperset(rest)
        or (dash and given_kind != kind.prefix)
    ):
        return None
    return rest
