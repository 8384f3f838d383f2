"""``@action``: extra routes on a viewset, beside the model actions.

::

    @action(detail=True, methods=["post"])
    def archive(self, instance):
        instance.archived = True
        instance.save(update_fields=["archived"])
        return instance          # answered with the `get` schema

    @action(detail=False, response_model=Summary)
    def summary(self, year: int | None = None):   # extra parameters work as in FastAPI
        return {"count": self.get_queryset().count()}

A detail action receives the object a retrieve would return, checks included, as ``instance``.
What a method declares (its parameters, what it answers) is read once, when its routes are
bound, by :func:`read_signature`.
"""

from __future__ import annotations

import enum
import inspect
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from django.db import models
from pydantic import BaseModel
from starlette.responses import Response

from djfapi.exceptions import ImproperlyConfigured
from djfapi.permissions.access import SAFE_METHODS, ScopeList, scope_tuple

__all__ = ["INSTANCE", "RESERVED_PARAMETERS", "ActionSignature", "ExtraAction", "action", "check_action",
           "extra_actions", "read_signature"]

RESERVED_PARAMETERS: Final = frozenset({"request", "body", "paginator", "access", "list_query", "json_body",
                                        "instance"})
"""Names of the endpoint parameters djfapi passes itself; an ``@action`` may not use them."""


class _Instance(enum.Enum):
    INSTANCE = "INSTANCE"

    def __repr__(self) -> str:
        return "INSTANCE"


INSTANCE: Final = _Instance.INSTANCE
"""What an ``@action`` that declares no response answers: a model instance, shown with the
viewset's ``get`` schema (anything else it returns is sent as plain JSON)."""

_MARK = "_djfapi_action"


@dataclass(frozen=True)
class ExtraAction:
    """What ``@action`` recorded about one method."""

    name: str
    detail: bool
    methods: tuple[str, ...]
    path: str
    scopes: tuple[str, ...] | None
    response_model: type[BaseModel] | Any | None
    func: Callable[..., Any]
    url_name: str = ""  # the route's name is ``<basename>-<url_name>``
    paginated: bool = False  # a list-level action answering a page; takes the pagination's parameters
    response_class: type[Response] | None = None  # what it returns, as FastAPI's response_class=
    # Viewset attributes set on the instance for this action only (DRF's initkwargs).
    overrides: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_async(self) -> bool:
        """Whether the method is ``async def``: it is awaited on the event loop."""
        return inspect.iscoroutinefunction(self.func)

    @property
    def writes(self) -> bool:
        """Whether a method other than GET/HEAD/OPTIONS is allowed, so the action runs atomically."""
        return any(method not in SAFE_METHODS for method in self.methods)


def action(
    *,
    detail: bool,
    methods: Sequence[str] = ("get",),
    path: str | None = None,
    scopes: ScopeList | None = None,
    response_model: Any = None,
    url_path: str | None = None,
    url_name: str | None = None,
    paginated: bool = False,
    response_class: type[Response] | None = None,
    **overrides: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a viewset method as an extra route at ``<prefix>[/{id}]/<url_path>`` (``path`` is
    the same), named ``<basename>-<url_name>``. ``scopes`` grant it when the viewset's ``Scopes``
    do not name it (``ANY_VALID_TOKEN``: any token). ``paginated``: a list-level action that
    answers ``self.get_paginated_response(self.paginate_queryset(qs))``. ``response_class``
    (or ``-> PlainTextResponse``): the Response it returns, documented with that media type.
    Other keywords (``permission_classes=[...]``) set viewset attributes for this action only."""
    granting = scope_tuple(scopes, "@action", "scopes") if scopes is not None else None
    if path is not None and url_path is not None:
        raise ImproperlyConfigured("@action takes path or url_path (the same), not both.")

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        setattr(func, _MARK, ExtraAction(
            name=func.__name__,
            detail=detail,
            methods=tuple(method.upper() for method in methods),
            path=(url_path or path or func.__name__).strip("/"),
            scopes=granting,
            response_model=response_model,
            func=func,
            url_name=url_name or func.__name__,
            paginated=paginated,
            response_class=response_class,
            overrides=overrides,
        ))
        return func

    return decorator


def extra_actions(viewset: type) -> list[ExtraAction]:
    """The ``@action`` methods of ``viewset`` (inherited ones included), in name order."""
    return [
        getattr(member, _MARK)
        for _, member in inspect.getmembers(viewset, inspect.isfunction)
        if hasattr(member, _MARK)
    ]


@dataclass(frozen=True)
class ActionSignature:
    """What an ``@action`` method declares, resolved once when its routes are bound."""

    response: Any  # a schema or type, None (answered 204) or INSTANCE
    parameters: tuple[inspect.Parameter, ...]  # its own, beyond self and instance, keyword-only

    @property
    def status_code(self) -> int:
        """200, or 204 for an ``@action`` annotated ``-> None``."""
        return 204 if self.response is None else 200


def read_signature(viewset: type, extra: ExtraAction, taken: frozenset[str]) -> ActionSignature:
    """The signature of ``extra`` on ``viewset``; ImproperlyConfigured for a method that cannot
    become an endpoint (async, wrong leading parameters, a parameter named like one of ``taken``:
    :data:`RESERVED_PARAMETERS` and the route's path values)."""
    func, owner = extra.func, f"{viewset.__name__}.{extra.func.__name__}"
    check_action(viewset, extra, owner)
    positional = list(inspect.signature(func).parameters)
    expected = ["self", "instance"] if extra.detail else ["self"]
    if extra.detail and getattr(viewset, "lookup_value_passed", False) and len(positional) > 1:
        expected[1] = positional[1]  # a ViewSet's detail method takes the path value, named as it likes
    if positional[: len(expected)] != expected:
        raise ImproperlyConfigured(f"{owner} must start with ({', '.join(expected)}) as a "
                                   f"{'detail' if extra.detail else 'list-level'} action.")
    clash = taken & set(positional[len(expected):])
    if clash:
        raise ImproperlyConfigured(f"{owner} has parameters {sorted(clash)} that djfapi passes itself; "
                                   "rename them.")
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except NameError as exc:
        raise ImproperlyConfigured(f"{owner}: an annotation cannot be resolved ({exc}); define the "
                                   "type at module level.") from None
    parameters = tuple(
        parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY,
                          annotation=hints.get(parameter.name, parameter.annotation))
        for parameter in list(inspect.signature(func).parameters.values())[len(expected):]
    )
    return ActionSignature(_declared_response(extra, hints), parameters)


_PAGING_HOOKS: Final = frozenset({"paginate_queryset", "get_paginated_response"})


def check_action(viewset: type, extra: ExtraAction, owner: str) -> None:
    """ImproperlyConfigured for options ``extra`` cannot have on ``viewset``: an override of an
    attribute the viewset has not (or of a method), ``paginated`` on a detail action, paging
    hooks called in an action not declared paginated."""
    for name in extra.overrides:
        static = inspect.getattr_static(viewset, name, None)
        if not hasattr(viewset, name) or inspect.isfunction(static) or isinstance(
                static, classmethod | staticmethod | property):
            raise ImproperlyConfigured(
                f"@action on {owner} got {name}=...: {viewset.__name__} has no attribute {name!r} to "
                "set for this action. Pass viewset attributes (permission_classes, ...) only.")
    if extra.paginated and extra.detail:
        raise ImproperlyConfigured(f"{owner}: paginated=True is for list-level actions (detail=False).")
    if not extra.paginated and _PAGING_HOOKS & set(extra.func.__code__.co_names):
        raise ImproperlyConfigured(
            f"{owner} calls self.paginate_queryset / get_paginated_response but is not declared "
            "paginated: write @action(detail=False, paginated=True) so OpenAPI shows the page and "
            "its parameters.")


def _declared_response(extra: ExtraAction, hints: dict[str, Any]) -> Any:
    """``response_model``, else the return annotation (None for ``-> None``), else INSTANCE."""
    if extra.response_model is not None:
        return extra.response_model
    if extra.response_class is not None:
        return extra.response_class
    returns = hints.get("return", INSTANCE)
    if returns is type(None):
        return None
    if isinstance(returns, type) and issubclass(returns, models.Model):
        return INSTANCE
    return returns

