"""pydantic v2 <-> Django ORM: which schema serves which action, and moving data between them."""

from djfapi.schemas.fields import Field
from djfapi.schemas.generate import schema_for
from djfapi.schemas.reading import query_plan, transfer_from_orm
from djfapi.schemas.sets import Schemas, partial_schema
from djfapi.schemas.writing import OrmWriter, check_write_schema, server_owned_fields, transfer_to_orm

__all__ = [
    "Field",
    "OrmWriter",
    "Schemas",
    "check_write_schema",
    "partial_schema",
    "query_plan",
    "schema_for",
    "server_owned_fields",
    "transfer_from_orm",
    "transfer_to_orm",
]
