"""Who may call what, and which rows they see.

``JWTBearer`` authenticates (no database), ``Scopes`` says which scopes grant which action,
``Access`` is the caller as ``self.access`` sees it, and permission classes — two boolean
hooks, ``has_permission(viewset)`` and ``has_object_permission(viewset, obj)``, composable
with ``&``, ``|`` and ``~`` — run inside the request's ORM hop::

    class CompanyViewSet(ModelViewSet):
        security = JWTBearer()
        scopes = Scopes(get=["business.companies.read.any", "business.companies.read.own"])
        permission_classes = [IsOwner | IsStaff]
"""

from djfapi.permissions.access import ANY_VALID_TOKEN, Access, AccessScope, AccessToken, Scopes
from djfapi.permissions.base import AllowAny, BasePermission
from djfapi.permissions.classes import DjangoModelPermissions, HasScopes, IsAuthenticated
from djfapi.permissions.jwks import JWKS
from djfapi.permissions.jwt import JWTBearer
from djfapi.permissions.users import TokenUser, UserBySubject

__all__ = [
    "ANY_VALID_TOKEN",
    "JWKS",
    "Access",
    "AccessScope",
    "AccessToken",
    "AllowAny",
    "BasePermission",
    "DjangoModelPermissions",
    "HasScopes",
    "IsAuthenticated",
    "JWTBearer",
    "Scopes",
    "TokenUser",
    "UserBySubject",
]
