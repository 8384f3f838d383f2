"""``JWTBearer``: a FastAPI security scheme that turns a bearer JWT into an ``Access``.

::

    token = JWTBearer(key=settings.JWT_PUBLIC_KEY, issuer="https://auth.example", algorithms=["ES512"])

    class CompanyViewSet(ModelViewSet):
        security = token
        scopes = Scopes(get=["business.companies.read.any"])

Decoding (PyJWT) needs no database and runs on the event loop before the request's ORM hop.
Every failure is a 401 with ``WWW-Authenticate: Bearer``; a valid token holding none of the
action's scopes is a 403 that names the scopes that would do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from fastapi import HTTPException, Request
from fastapi.security import HTTPBearer, SecurityScopes

from djfapi.exceptions import ImproperlyConfigured
from djfapi.permissions.access import Access, AccessToken

__all__ = ["JWTBearer"]

try:
    import jwt
except ImportError:  # pragma: no cover - the `jwt` extra is not installed
    jwt = None  # type: ignore[assignment]

_ERRORS = (  # PyJWT's error classes, most specific first, with what a client is told
    ("ExpiredSignatureError", "The token has expired."),
    ("ImmatureSignatureError", "The token is not valid yet."),
    ("InvalidIssuerError", "The token's issuer is not accepted."),
    ("InvalidAudienceError", "The token's audience is not accepted."),
    ("InvalidAlgorithmError", "The token's algorithm is not allowed."),
    ("InvalidSignatureError", "The token's signature does not verify."),
    ("MissingRequiredClaimError", "The token lacks a required claim."),
    ("DecodeError", "The token is malformed."),
)


class JWTBearer(HTTPBearer):
    """Bearer JWTs verified with PyJWT; key, issuer and algorithms default to Django settings
    ``JWT_PUBLIC_KEY``, ``JWT_ISSUER`` and ``JWT_ALGORITHMS``."""

    def __init__(
        self,
        key: Any = None,
        algorithms: Sequence[str] | None = None,
        issuer: str | None = None,
        audience: str | Sequence[str] | None = None,
        leeway: float = 0,
        scopes_claim: str = "scope",
        tenant_claim: str = "ten",
        scheme_name: str | None = None,
        *,
        check_scopes: bool = True,
    ) -> None:
        if jwt is None:
            raise ImproperlyConfigured("JWTBearer needs PyJWT: pip install 'djfapi[jwt]'.")
        self.key: Any = key if key is not None else getattr(settings, "JWT_PUBLIC_KEY", None)
        self.algorithms = list(algorithms or getattr(settings, "JWT_ALGORITHMS", None) or [])
        self.issuer = issuer if issuer is not None else getattr(settings, "JWT_ISSUER", None)
        if not self.algorithms:
            raise ImproperlyConfigured(
                "JWTBearer has no algorithms: pass algorithms=['ES512'] (or the ones your issuer "
                "signs with) or set JWT_ALGORITHMS in the Django settings."
            )
        if self.key is None:
            raise ImproperlyConfigured(
                "JWTBearer has no key: pass key= or set JWT_PUBLIC_KEY in the Django settings."
            )
        if "none" in (algorithm.lower() for algorithm in self.algorithms):
            raise ImproperlyConfigured("JWTBearer refuses algorithm 'none': tokens must be signed.")
        self.audience = audience
        self.leeway = leeway
        self.scopes_claim = scopes_claim
        self.tenant_claim = tenant_claim
        self.check_scopes = check_scopes
        super().__init__(bearerFormat="JWT", scheme_name=scheme_name, auto_error=True)

    def without_scope_check(self) -> JWTBearer:
        """The same scheme, authenticating only: for permissions that look the scopes up
        themselves inside the request's hop (``DjangoModelPermissions``)."""
        clone = object.__new__(JWTBearer)
        clone.__dict__.update(self.__dict__, check_scopes=False)
        return clone

    def decode(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``; PyJWT's errors propagate."""
        required = ["exp"] + (["iss"] if self.issuer else []) + (["aud"] if self.audience else [])
        return jwt.decode(  # type: ignore[no-any-return]
            token,
            self.key,
            algorithms=self.algorithms,
            issuer=self.issuer,
            audience=self.audience,
            leeway=self.leeway,
            options={"require": required, "verify_aud": self.audience is not None},
        )

    def granted_scopes(self, claims: dict[str, Any]) -> frozenset[str]:
        """The scopes the claims grant: a space-separated string or a list."""
        value = claims.get(self.scopes_claim) or ()
        return frozenset(value.split() if isinstance(value, str) else map(str, value))

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> Access:  # type: ignore[override]
        authorization = request.headers.get("Authorization", "")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise self.unauthorized("Not authenticated: send `Authorization: Bearer <token>`.")
        return await self.verify(credentials.strip(), security_scopes)

    async def verify(self, token: str, security_scopes: SecurityScopes) -> Access:
        """The ``Access`` of ``token``, checked for the scopes the action needs."""
        try:
            claims = self.decode(token)
        except jwt.PyJWTError as exc:
            raise self.unauthorized(_message(exc)) from None
        access = Access(AccessToken(claims), self.granted_scopes(claims), tenant_claim=self.tenant_claim)
        if not self.check_scopes or not security_scopes.scopes:
            return dataclasses.replace(access, scopes=())
        access = access.for_action(security_scopes.scopes)
        if not access.scopes:
            raise HTTPException(
                403,
                detail="The token holds none of the scopes this action needs: "
                f"{', '.join(security_scopes.scopes)}.",
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", '
                                             f'scope="{security_scopes.scope_str}"'},
            )
        return access

    def unauthorized(self, detail: str) -> HTTPException:
        return HTTPException(401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def _message(exc: Exception) -> str:
    for name, message in _ERRORS:
        if isinstance(exc, getattr(jwt, name)):
            return message
    return "The token is invalid."
