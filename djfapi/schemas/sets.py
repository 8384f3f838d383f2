"""``Schemas``: the pydantic models a viewset reads, creates and updates with.

Plain pydantic v2 models, no special base class::

    schemas = Schemas(get=CompanyOut, create=CompanyIn, update=CompanyUpdate)

PATCH bodies use :func:`partial_schema` of ``update``: every field optional, and only the
fields sent are changed.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

from pydantic import BaseModel, create_model

__all__ = ["Schemas", "partial_schema"]


@dataclass(frozen=True)
class Schemas:
    """The schemas of a viewset; an action whose schema is missing gets no route."""

    get: type[BaseModel] | None = None
    create: type[BaseModel] | None = None
    update: type[BaseModel] | None = None
    list: type[BaseModel] | None = None  # the item schema of list responses; defaults to get

    @property
    def list_item(self) -> type[BaseModel] | None:
        """The schema each item of a list response is answered with."""
        return self.list or self.get


@functools.cache
def partial_schema(schema: type[BaseModel]) -> type[BaseModel]:
    """``schema`` with every field optional, for PATCH.

    A field left out is not in ``model_fields_set`` and so is not changed; a field sent is
    validated exactly as in ``schema`` (an explicit null is refused where ``schema`` refuses it).
    """
    fields = {}
    for name, field in schema.model_fields.items():
        optional = copy.copy(field)
        optional.default = None
        optional.default_factory = None
        fields[name] = (field.annotation, optional)
    return create_model(  # type: ignore[call-overload,no-any-return]
        f"{schema.__name__}Partial",
        __base__=schema,
        __module__=schema.__module__,
        __doc__=f"{schema.__name__} with every field optional; only the fields sent change.",
        **fields,
    )
