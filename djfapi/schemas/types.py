"""Looking inside type annotations: which pydantic models a field nests, and as one or as many."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

__all__ = ["collection_item", "is_model", "nested_model", "optional_inner"]

_COLLECTIONS = (list, set, frozenset, tuple, Iterable, typing.Sequence, typing.AbstractSet)


def is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def strip_annotated(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def optional_inner(annotation: Any) -> Any:
    """``X`` for ``X | None`` (and ``Optional[X]``); the annotation itself otherwise."""
    annotation = strip_annotated(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return strip_annotated(members[0])
    return annotation


def collection_item(annotation: Any) -> Any | None:
    """``X`` for ``list[X]``, ``set[X]``, ``tuple[X, ...]`` (optional or not); else None."""
    annotation = optional_inner(annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in _COLLECTIONS or (isinstance(origin, type) and origin in _COLLECTIONS):
        return strip_annotated(args[0]) if args else Any
    return None


def nested_model(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """The pydantic model a field nests and whether it nests many, or None for plain values."""
    inner = optional_inner(annotation)
    if is_model(inner):
        return inner, False
    item = collection_item(annotation)
    if item is not None and is_model(optional_inner(item)):
        return optional_inner(item), True
    return None
