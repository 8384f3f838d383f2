"""``JWTToken``: djfapi 0.0.x's token scheme, on :class:`~djfapi.permissions.JWTBearer`,
once at ``djfapi.security.jwt``.

Reads ``settings.JWT_PUBLIC_KEY`` / ``JWT_ISSUER``, takes the token from the ``Authorization``
header with or without the ``Bearer`` prefix, reads the scopes from ``aud`` and yields the same
``Access`` as ``JWTBearer``. OpenAPI shows it, as 0.0.x did, as an API key in that header.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException, Request
from fastapi.openapi.models import APIKey, APIKeyIn

from djfapi.permissions import JWTBearer

__all__ = ["JWTToken"]


class JWTToken(JWTBearer):
    """``JWTToken(name='Authorization', scheme_name=None, auto_error=True, key=None,
    issuer=None, algorithm='ES512', require_sub=True)``."""

    def __init__(
        self,
        *,
        name: str = "Authorization",
        scheme_name: str | None = None,
        auto_error: bool = True,
        key: Any = None,
        issuer: str | None = None,
        algorithm: str | Sequence[str] = "ES512",
        require_sub: bool = True,
    ) -> None:
        algorithms = [algorithm] if isinstance(algorithm, str) else list(algorithm)
        super().__init__(key=key, algorithms=algorithms, issuer=issuer, scopes_claim="aud",
                         scheme_name=scheme_name, require_sub=require_sub)
        self.header = name
        self.auto_error = auto_error
        self.model = APIKey(**{"in": APIKeyIn.header}, name=name)  # type: ignore[arg-type,assignment]

    def credentials(self, request: Request) -> str | None:
        """The token of the header, with or without ``Bearer``; None without one when
        ``auto_error`` is off, else 401."""
        token = request.headers.get(self.header, "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token and not self.auto_error:
            return None
        if not token:
            raise HTTPException(401, detail=f"Not authenticated: send the token in the {self.header} header.",
                                headers={"WWW-Authenticate": "Bearer"})
        return token
