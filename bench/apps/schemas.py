"""The pydantic schemas of the two hand-written FastAPI apps (careful and idiomatic).

They read model instances (``from_attributes``); a reverse ForeignKey is a related manager, so
its field turns the manager into the list of its (prefetched) rows before validating.
"""

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def rows(value: Any) -> Any:
    """A related manager's rows (its prefetch cache), anything else as it is."""
    return list(value.all()) if hasattr(value, "all") else value


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CompanyOut(Out):
    id: int
    name: str
    archived: bool
    created_at: datetime


class CompanyRef(Out):
    id: int
    name: str


class DepartmentOut(Out):
    id: int
    name: str
    company: CompanyRef


class TeamOut(Out):
    id: int
    name: str


class DepartmentTree(Out):
    id: int
    name: str
    teams: Annotated[list[TeamOut], BeforeValidator(rows)]


class CompanyTree(Out):
    id: int
    name: str
    departments: Annotated[list[DepartmentTree], BeforeValidator(rows)]


class CompanyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    archived: bool = False


class CompanyPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    archived: bool | None = None


Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """djfapi's LimitOffsetPagination shape, so both answer the same JSON."""

    items: list[Item]
    total: int
    limit: int
    offset: int
