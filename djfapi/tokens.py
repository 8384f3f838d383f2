"""Tokens signed with the project's own key, as ``manage.py djfapi_token`` prints them::

    token = sign_token(["business.companies.read.any"], user="alice", tenant="a", expires_in=900)

The key, the algorithm and the issuer are read from settings ``JWT_PRIVATE_KEY``, the first of
``JWT_ALGORITHMS`` and ``JWT_ISSUER``, the counterparts of what :class:`djfapi.permissions.JWTBearer`
verifies with, and the claims are the ones it reads (``sub``, ``ten``, ``scope``), so it accepts
the token. It makes the same tokens as :func:`djfapi.testing.make_token`, without the test
client that module brings (and the httpx it needs).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings

__all__ = ["sign_token"]


def sign_token(
    scopes: Sequence[str] = (),
    *,
    tenant: str | None = "tenant",
    user: str | None = "user",
    key: Any = None,
    algorithm: str | None = None,
    expires_in: int = 3600,
    scopes_claim: str = "scope",
    **claims: Any,
) -> str:
    """A signed token; ``key`` defaults to settings ``JWT_PRIVATE_KEY``, ``algorithm`` to the
    first of ``JWT_ALGORITHMS``, the issuer to ``JWT_ISSUER``. ``claims`` override any claim;
    a claim given as None is left out (``exp=None`` makes a token without expiry)."""
    import jwt

    now = int(time.time())
    payload: dict[str, Any] = {"iat": now, "nbf": now, "exp": now + expires_in}
    if getattr(settings, "JWT_ISSUER", None):
        payload["iss"] = settings.JWT_ISSUER
    if user is not None:
        payload["sub"] = user
    if tenant is not None:
        payload["ten"] = tenant
    payload[scopes_claim] = list(scopes) if scopes_claim == "aud" else " ".join(scopes)
    payload.update(claims)
    return jwt.encode(
        {name: value for name, value in payload.items() if value is not None},
        key if key is not None else settings.JWT_PRIVATE_KEY,
        algorithm=algorithm or settings.JWT_ALGORITHMS[0],
    )
