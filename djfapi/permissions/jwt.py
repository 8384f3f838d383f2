"""``JWTBearer``: a FastAPI security scheme that turns a bearer JWT into an ``Access``.

::

    token = JWTBearer(key=settings.JWT_PUBLIC_KEY, issuer="https://auth.example", algorithms=["ES512"])

    class CompanyViewSet(ModelViewSet):
        security = token
        scopes = Scopes(get=["business.companies.read.any"])

Decoding (PyJWT) needs no database and runs on the event loop before the request's ORM hop.
Every rejected token gets the same 401 (``WWW-Authenticate: Bearer error="invalid_token"``,
telling only expiry apart, as RFC 6750 allows); the reason is logged at debug level on the
``djfapi.auth`` logger. A valid token holding none of the action's scopes is a 403 that names
the scopes that would do.

Tokens from an identity provider are verified with the keys it publishes (see
:mod:`djfapi.permissions.jwks`), fetched off the event loop; a token whose key cannot be fetched
is a 503 with ``Retry-After``::

    token = JWTBearer(jwks_url="https://idp.example/.well-known/jwks.json", issuer="https://idp.example/",
                      audience="my-api", algorithms=["RS256"])
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from fastapi import HTTPException, Request
from fastapi.openapi.models import OpenIdConnect
from fastapi.security import HTTPBearer, SecurityScopes
from fastapi.security.base import SecurityBase

from djfapi.exceptions import ImproperlyConfigured
from djfapi.permissions.access import Access, AccessToken
from djfapi.permissions.jwks import DEFAULT_COOLDOWN, DEFAULT_TTL, JWKS, KeysUnavailable

__all__ = ["INVALID_TOKEN", "KEYS_UNAVAILABLE", "JWTBearer", "RouteSecurity"]

logger = logging.getLogger("djfapi.auth")

INVALID_TOKEN = "The token is invalid or has expired."
"""The ``detail`` of every 401 for a token that was sent but rejected, whatever the reason."""

KEYS_UNAVAILABLE = "The identity provider's signing keys could not be fetched; try again later."
"""The ``detail`` of the 503 for a token whose key is not at hand while the provider is unreachable."""

try:
    import jwt
except ImportError:  # pragma: no cover - the `jwt` extra is not installed
    jwt = None  # type: ignore[assignment]


def _numeric_exp(token: str) -> bool:
    """Whether the (verified, but rejected as expired) token's ``exp`` is a number."""
    exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    return isinstance(exp, int | float) and not isinstance(exp, bool)


def is_text(value: Any) -> bool:
    """A non-empty string a database can store: no NUL, no lone surrogate."""
    if not isinstance(value, str) or not value or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _is_time(value: Any) -> bool:
    """A number of seconds: finite, and within what a float holds (``10**400`` is no time)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


class Rejected(Exception):
    """A token that decoded but whose claims djfapi cannot use; the message is for the log."""


def key_source(key: Any, jwks_url: str | None, discovery_url: str | None) -> tuple[Any, str | None]:
    """The static key or the JWKS URL a bearer verifies with: one of ``key=``, ``jwks_url=`` and
    ``openid_configuration_url=`` as passed; when none is, settings ``JWT_JWKS_URL`` or
    ``JWT_PUBLIC_KEY``. None of them, or two, is an ImproperlyConfigured."""
    passed = [name for name, value in (("key", key), ("jwks_url", jwks_url),
                                       ("openid_configuration_url", discovery_url)) if value is not None]
    if len(passed) > 1:
        raise ImproperlyConfigured(
            f"JWTBearer got {' and '.join(f'{name}=' for name in passed)}: pass one, a static key= or "
            "where the identity provider publishes its keys (jwks_url= or openid_configuration_url=).")
    if passed:
        return key, jwks_url
    static, url = getattr(settings, "JWT_PUBLIC_KEY", None), getattr(settings, "JWT_JWKS_URL", None)
    if static is not None and url is not None:
        raise ImproperlyConfigured("JWTBearer() found settings JWT_PUBLIC_KEY and JWT_JWKS_URL both set: "
                                   "keep the one tokens are verified with, or pass key= or jwks_url=.")
    if static is None and url is None:
        raise ImproperlyConfigured("JWTBearer has no key: pass key= (or jwks_url=) or set JWT_PUBLIC_KEY "
                                   "(or JWT_JWKS_URL) in the Django settings.")
    return static, url


class JWTBearer(HTTPBearer):
    """Bearer JWTs verified with PyJWT; key, issuer and algorithms default to Django settings
    ``JWT_PUBLIC_KEY``, ``JWT_ISSUER`` and ``JWT_ALGORITHMS``. A token must name its user
    (``sub``) unless ``require_sub=False``, for service tokens that name none.

    Instead of a key, ``jwks_url=`` (or settings ``JWT_JWKS_URL``) or ``openid_configuration_url=``
    (whose document names the JWKS and the issuer) verifies tokens with an identity provider's
    keys, as :class:`~djfapi.permissions.jwks.JWKS` fetches them: used ``jwks_ttl`` seconds, a
    ``kid`` not among them fetched at most once a ``jwks_cooldown``."""

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
        require_sub: bool = True,
        *,
        jwks_url: str | None = None,
        openid_configuration_url: str | None = None,
        jwks_ttl: float = DEFAULT_TTL,
        jwks_cooldown: float = DEFAULT_COOLDOWN,
    ) -> None:
        if jwt is None:
            raise ImproperlyConfigured("JWTBearer needs PyJWT: pip install 'djfapi[jwt]'.")
        self.key, jwks_url = key_source(key, jwks_url, openid_configuration_url)
        self.algorithms = list(algorithms or getattr(settings, "JWT_ALGORITHMS", None) or [])
        # issuer= wins; else the discovery document's (get_issuer), else settings JWT_ISSUER.
        self.issuer = issuer if issuer is not None or openid_configuration_url else getattr(
            settings, "JWT_ISSUER", None)
        if not self.algorithms:
            raise ImproperlyConfigured(
                "JWTBearer has no algorithms: pass algorithms=['ES512'] (or the ones your issuer "
                "signs with) or set JWT_ALGORITHMS in the Django settings."
            )
        if "none" in (algorithm.lower() for algorithm in self.algorithms):
            raise ImproperlyConfigured("JWTBearer refuses algorithm 'none': tokens must be signed.")
        self.jwks = None if self.key is not None else JWKS(
            jwks_url, self.algorithms, discovery_url=openid_configuration_url, ttl=jwks_ttl,
            cooldown=jwks_cooldown, issuer=self.issuer, audience=audience)
        self.audience, self.leeway, self.require_sub = audience, leeway, require_sub
        self.scopes_claim, self.tenant_claim = scopes_claim, tenant_claim
        described = f"A JWT signed with a key of the JWKS at {jwks_url}." if jwks_url else None
        super().__init__(bearerFormat="JWT", scheme_name=scheme_name, description=described, auto_error=True)
        if openid_configuration_url is not None:  # OpenAPI clients find the provider (and its keys) there
            self.model = OpenIdConnect(openIdConnectUrl=openid_configuration_url)  # type: ignore[assignment]

    def get_issuer(self) -> str | None:
        """The issuer tokens must name: ``issuer``, else the one the OpenID Connect discovery
        document names, else settings ``JWT_ISSUER``."""
        return self.issuer if self.issuer is not None or self.jwks is None else self.jwks.issuer

    def decode(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``; PyJWT's errors propagate. With an identity provider's
        keys, only those at hand are used: :meth:`ensure_keys` fetches them."""
        key, algorithms = (self.key, self.algorithms) if self.jwks is None else self.jwks.signing_key(token)
        issuer = self.get_issuer()
        required = ["exp"] + (["iss"] if issuer else []) + (["aud"] if self.audience else [])
        return jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=issuer,
            audience=self.audience,
            leeway=self.leeway,
            options={"require": required, "verify_aud": self.audience is not None},
        )

    def granted_scopes(self, claims: dict[str, Any]) -> frozenset[str]:
        """The scopes the claims grant: a space-separated string or a list of strings."""
        value = claims.get(self.scopes_claim)
        if value is None:
            return frozenset()
        if isinstance(value, str):
            return frozenset(value.split())
        if isinstance(value, list) and all(isinstance(scope, str) for scope in value):
            return frozenset(value)
        raise Rejected(f"the {self.scopes_claim!r} claim is a {type(value).__name__}, "
                        "not a string or a list of strings")

    def check_claims(self, claims: dict[str, Any], *, require_tenant: bool = False) -> None:
        """Raise ``Rejected`` unless the claims djfapi reads have the types they must have:
        ``sub`` (required unless ``require_sub=False``) and the tenant claim non-empty text
        (no NUL, valid Unicode), ``exp``/``nbf``/``iat`` finite numbers, the tenant present if
        ``require_tenant``."""
        if self.require_sub and claims.get("sub") is None:
            raise Rejected("the token has no 'sub' claim")
        for name in ("sub", self.tenant_claim):
            value = claims.get(name)
            if value is not None and not is_text(value):
                raise Rejected(f"the {name!r} claim is {type(value).__name__} {value!r}, "
                                "not a non-empty string of valid text")
        for name in ("exp", "nbf", "iat"):
            value = claims.get(name)
            if value is not None and not _is_time(value):
                raise Rejected(f"the {name!r} claim is {type(value).__name__} {str(value)[:40]!r}, "
                                "not a time")
        if require_tenant and claims.get(self.tenant_claim) is None:
            raise Rejected(f"the token has no {self.tenant_claim!r} (tenant) claim, "
                            "and tenancy applies here")

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> Access | None:  # type: ignore[override]
        return await RouteSecurity(self)(request, security_scopes)

    async def ensure_keys(self, token: str) -> None:
        """With an identity provider's keys: fetch them, off the event loop, if ``token`` needs
        them; 503 with ``Retry-After`` when its key is not at hand and they cannot be fetched."""
        if self.jwks is None:
            return
        try:
            await self.jwks.ensure(token)
        except KeysUnavailable as error:
            raise HTTPException(503, detail=KEYS_UNAVAILABLE,
                                headers={"Retry-After": str(error.retry_after)}) from None

    def credentials(self, request: Request) -> str | None:
        """The bearer token of ``request``; 401 when there is none."""
        authorization = request.headers.get("Authorization", "")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise HTTPException(401, detail="Not authenticated: send `Authorization: Bearer <token>`.",
                                headers={"WWW-Authenticate": "Bearer"})
        return credentials.strip()

    def verify(self, token: str, scopes: Sequence[str] = (), *, check_scopes: bool = True,
               require_tenant: bool = False) -> Access:
        """The ``Access`` of ``token``: 401 unless it is valid (and names a tenant, if
        ``require_tenant``), 403 unless it holds one of ``scopes`` (when given and checked)."""
        try:
            claims = self.decode(token)
            self.check_claims(claims, require_tenant=require_tenant)
            granted = self.granted_scopes(claims)
        except jwt.ExpiredSignatureError:  # PyJWT reads `"exp": true` as 1: that is malformed, not expired
            raise self.unauthorized("expired", expired=_numeric_exp(token)) from None
        except (jwt.PyJWTError, Rejected) as exc:
            raise self.unauthorized(f"{type(exc).__name__}: {exc}") from None
        access = Access(AccessToken(claims), granted, tenant_claim=self.tenant_claim)
        if not check_scopes or not scopes:
            return access
        access = access.for_action(scopes)
        if not access.scopes:
            raise HTTPException(
                403,
                detail=f"The token holds none of the scopes this action needs: {', '.join(scopes)}.",
                headers={"WWW-Authenticate":
                         f'Bearer error="insufficient_scope", scope="{" ".join(scopes)}"'},
            )
        return access

    def unauthorized(self, reason: str, *, expired: bool = False) -> HTTPException:
        """The one 401 for every rejected token; ``reason`` goes to the log, not to the client."""
        logger.debug("token rejected: %s", reason)
        challenge = 'Bearer error="invalid_token"'
        if expired:
            challenge += ', error_description="The token has expired."'
        return HTTPException(401, detail=INVALID_TOKEN, headers={"WWW-Authenticate": challenge})


class RouteSecurity(SecurityBase):
    """What one route asks of a :class:`JWTBearer`: the same scheme in OpenAPI and the same
    token, checked the route's way. ``check_scopes=False`` where a permission looks the
    scopes up itself inside the request's hop (``DjangoModelPermissions``);
    ``require_tenant=True`` where tenancy applies, so a token without a tenant is a 401."""

    def __init__(self, bearer: JWTBearer, *, check_scopes: bool = True, require_tenant: bool = False) -> None:
        self.bearer, self.check_scopes, self.require_tenant = bearer, check_scopes, require_tenant
        self.model = bearer.model
        self.scheme_name = bearer.scheme_name

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> Access | None:
        token = self.bearer.credentials(request)
        if token is None:  # a scheme that lets anonymous calls through (auto_error=False)
            return None
        await self.bearer.ensure_keys(token)
        return self.bearer.verify(token, security_scopes.scopes, check_scopes=self.check_scopes,
                                  require_tenant=self.require_tenant)
