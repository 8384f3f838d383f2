"""Conditional requests: optimistic concurrency with ``ETag`` and ``If-Match``.

Every response that shows a row (retrieve, create, update) carries a strong ``ETag``: a hash of
the JSON the caller got, which is what the row's retrieve answers them. Then:

- ``GET`` with ``If-None-Match`` naming the current ETag (or ``*``) is a ``304`` with no body;
- ``PUT``, ``PATCH`` and ``DELETE`` with ``If-Match`` are a ``412`` unless it names the row's
  current ETag (or is ``*``), and with ``If-None-Match`` a ``412`` when it does. The check runs
  inside the write's transaction with the row locked (``SELECT ... FOR UPDATE``), so of two
  writes sent with the same ETag exactly one succeeds;
- a viewset with ``require_if_match = True`` answers those writes ``428`` without ``If-Match``.

Rows have no modification date, so ``If-Unmodified-Since`` on a write is a ``400`` that asks
for ``If-Match``; ``If-Modified-Since`` on a GET is ignored, as RFC 9110 prescribes then.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException

__all__ = ["Conditions", "etag"]

_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')


def etag(content: bytes) -> str:
    """The strong entity tag of a response body."""
    return f'"{hashlib.blake2b(content, digest_size=16).hexdigest()}"'


def _tags(header: str, value: str) -> tuple[str, ...]:
    """The entity tags of an If-Match / If-None-Match value, ``("*",)`` for ``*``; weak ones
    keep their ``W/``. A value that is neither is a 400."""
    if value.strip() == "*":
        return ("*",)
    tags, position = [], 0
    while position < len(value):
        match = _TAG.match(value, position)
        if match is None or match.end() == position:
            raise HTTPException(400, detail=(
                f"{header} must be * or entity tags in double quotes, as the ETag header of a "
                f"GET gives them; got {value[:100]!r}."))
        tags.append(f'{match.group(1) or ""}"{match.group(2)}"')
        position = match.end()
    if not tags:
        raise HTTPException(400, detail=f"{header} is empty; send * or the ETag of a GET.")
    return tuple(tags)


@dataclass(frozen=True)
class Conditions:
    """The preconditions a request sends, and (once dispatch knows how to render the row)
    ``current``: the row's ETag as its retrieve would answer this caller."""

    if_match: tuple[str, ...] | None = None
    if_none_match: tuple[str, ...] | None = None
    current: Callable[[Any], str] | None = None

    @classmethod
    def of(cls, headers: Mapping[str, str], *, write: bool) -> Conditions | None:
        """The request's preconditions, or None when it sends none."""
        if_match, if_none_match = headers.get("if-match"), headers.get("if-none-match")
        if write and if_match is None and headers.get("if-unmodified-since") is not None:
            raise HTTPException(400, detail=(
                "If-Unmodified-Since is not supported: rows have no modification date. Send "
                "If-Match with the ETag of a GET instead."))
        if if_match is None and if_none_match is None:
            return None
        return cls(_tags("If-Match", if_match) if if_match is not None else None,
                   _tags("If-None-Match", if_none_match) if if_none_match is not None else None)

    def not_modified(self, tag: str) -> bool:
        """Whether a GET whose body has ``tag`` is answered 304 (If-None-Match, weak comparison);
        412 when its If-Match names another ETag."""
        if self.if_match is not None and "*" not in self.if_match and tag not in self.if_match:
            raise HTTPException(412, detail="If-Match does not name the current ETag.", headers={"ETag": tag})
        if self.if_none_match is None:
            return False
        return "*" in self.if_none_match or _opaque(tag) in {_opaque(t) for t in self.if_none_match}

    def check_write(self, row: Any) -> None:
        """412 unless the preconditions hold for ``row`` (locked by the caller) as this caller
        sees it; ``current`` must be set."""
        if self.current is None:
            raise RuntimeError("Conditions.check_write needs `current`, set by the request's dispatch.")
        tag = self.current(row)
        if self.if_match is not None and "*" not in self.if_match and tag not in self.if_match:
            if f"W/{tag}" in self.if_match:
                raise HTTPException(412, detail=(
                    "If-Match compares strong ETags: send the ETag without W/."), headers={"ETag": tag})
            raise HTTPException(412, detail=(
                "The row changed since the ETag in If-Match was read: GET it again, and send "
                "the change with its new ETag."), headers={"ETag": tag})
        if self.if_none_match is not None and ("*" in self.if_none_match
                                               or _opaque(tag) in map(_opaque, self.if_none_match)):
            raise HTTPException(412, detail="If-None-Match names the row's current ETag.",
                                headers={"ETag": tag})


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")
