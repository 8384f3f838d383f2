"""pydantic v2 <-> Django ORM: which schema serves which action, and moving data between them."""

from djfapi.schemas.orm import check_write_schema, transfer_to_orm
from djfapi.schemas.sets import Schemas, partial_schema

__all__ = ["Schemas", "check_write_schema", "partial_schema", "transfer_to_orm"]
