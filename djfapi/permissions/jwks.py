"""``JWKS``: an identity provider's signing keys (Keycloak, Auth0, Okta, Entra ID, Cognito), fetched
from its JWKS document, cached, refreshed on rotation, and never fetched on the event loop::

    token = JWTBearer(jwks_url="https://idp.example/.well-known/jwks.json",
                      issuer="https://idp.example/", audience="my-api", algorithms=["RS256"])

A token's key is the one whose ``kid`` its header names. The keys are fetched again once they
are ``ttl`` seconds old, and when a token names a ``kid`` that is not among them (a rotation) —
but an unknown ``kid`` fetches at most once a ``cooldown``, and after a failed fetch nothing is
tried again for a ``cooldown``, so a flood of made-up ``kid``s costs one fetch, not one each.
Concurrent requests share the fetch in flight. A fetch that fails (refused, timed out, not a
200, not JSON, too large) keeps the keys that were good, while a JWKS the provider serves
replaces them, even with none (keys withdrawn); a token whose key is not
at hand while the provider cannot be reached raises :class:`KeysUnavailable` (the bearer's 503).

Only keys for public-key algorithms the bearer accepts are kept: a key whose ``alg`` is not
among them, whose type or curve does not fit, that is for encryption (``use: enc``) or that
carries private material is never used.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Final

import anyio.to_thread

from djfapi.exceptions import ImproperlyConfigured
from djfapi.permissions.fetching import fetch_json, url_problem

try:
    import jwt
    from jwt.algorithms import get_default_algorithms
except ImportError:  # pragma: no cover - the `jwt` extra is not installed; JWTBearer says so
    jwt = None  # type: ignore[assignment]

__all__ = ["DEFAULT_COOLDOWN", "DEFAULT_TTL", "FETCH_TIMEOUT", "JWKS", "MAX_BYTES", "KeysUnavailable",
           "SigningKey", "check_trust", "seconds", "url_problem"]

logger = logging.getLogger("djfapi.auth")

DEFAULT_TTL: Final = 300.0  # seconds the keys are used before they are fetched again
DEFAULT_COOLDOWN: Final = 30.0  # seconds between fetches for unknown kids, and after a failed fetch
FETCH_TIMEOUT: Final = 5.0  # seconds a fetch may wait on the network, and take to read the document
MAX_BYTES: Final = 1024 * 1024  # the largest JWKS (or discovery) document read

# The key a public-key algorithm verifies with: its JWK key type and, for EC, its curve.
KEY_TYPES: Final[dict[str, tuple[str, str | None]]] = {
    **{f"{family}{bits}": ("RSA", None) for family in ("RS", "PS") for bits in (256, 384, 512)},
    "ES256": ("EC", "P-256"), "ES256K": ("EC", "secp256k1"), "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"), "EdDSA": ("OKP", None),
}


class KeysUnavailable(Exception):
    """The token's key is not at hand and the identity provider's keys could not be fetched."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SigningKey:
    """One usable key of a JWKS: its ``kid``, the public key, and the algorithms it may verify."""

    kid: str
    key: Any = field(repr=False)
    algorithms: frozenset[str]


def seconds(name: str, value: Any) -> float:
    """``value`` as a number of seconds above 0; ImproperlyConfigured for anything else (a string
    from the environment would fail every request; NaN would never refresh, 0 never cool down)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ImproperlyConfigured(f"JWTBearer({name}={value!r}): give a number of seconds above 0.")
    return float(value)


def check_trust(url: str | None, issuer: str | None, audience: Any) -> None:
    """ImproperlyConfigured for keys at ``url`` with no issuer to check (any token the provider
    signs, for any of its applications, would do); a warning without an audience."""
    if url is not None and not issuer:
        raise ImproperlyConfigured(
            "JWTBearer(jwks_url=...) has no issuer: pass issuer= (or use openid_configuration_url=, "
            "whose document names it). Without it, a token signed by any issuer that shares the keys "
            "would do.")
    if audience is None:
        logger.warning("JWTBearer with an identity provider's keys and no audience= accepts tokens the "
                       "provider issued to any of its applications: pass the API's identifier as audience=.")


def check_algorithms(algorithms: Sequence[str]) -> None:
    """ImproperlyConfigured unless every algorithm verifies with a public key."""
    refused = [algorithm for algorithm in algorithms if algorithm not in KEY_TYPES]
    if refused:
        raise ImproperlyConfigured(
            f"JWTBearer(jwks_url=...) has algorithms {refused}: with an identity provider's keys only "
            f"public-key algorithms verify ({', '.join(KEY_TYPES)}). An HS* key from a JWKS would let "
            "anyone who reads it sign tokens: drop them from algorithms=."
        )


def fits(jwk: dict[str, Any], algorithm: str) -> bool:
    """Whether ``jwk`` has the key type (and curve) ``algorithm`` verifies with, and no other ``alg``."""
    kty, crv = KEY_TYPES[algorithm]
    return jwk.get("kty") == kty and crv in (None, jwk.get("crv")) and jwk.get("alg", algorithm) == algorithm


def signing_key(jwk: Any, algorithms: Sequence[str]) -> SigningKey | None:
    """``jwk`` as a key that verifies some of ``algorithms``, or None when it may verify none."""
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or "d" in jwk:
        return None  # no kid to find it by, or a private key published by mistake
    if jwk.get("use", "sig") != "sig":
        return None
    fitting = [algorithm for algorithm in algorithms if fits(jwk, algorithm)]
    if not fitting:
        return None
    try:
        key = get_default_algorithms()[fitting[0]].from_jwk(jwk)
    except Exception as error:  # whatever PyJWT makes of a malformed key, it is skipped
        logger.debug("JWKS key %r skipped: %s: %s", jwk["kid"], type(error).__name__, error)
        return None
    return SigningKey(jwk["kid"], key, frozenset(fitting))


def usable_keys(document: Any, algorithms: Sequence[str]) -> dict[str, SigningKey]:
    """The keys of a JWKS document that verify some of ``algorithms``, by ``kid`` (the first of a
    ``kid`` wins); ValueError when it is no JWKS. A JWKS with no such key is the provider's word
    that none is valid (all withdrawn, or another algorithm now): no keys, not a failed fetch."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the document is not a JWKS: it has no 'keys' list")
    keys: dict[str, SigningKey] = {}
    for entry in entries:
        key = signing_key(entry, algorithms)
        if key is not None:
            keys.setdefault(key.kid, key)
    if not keys:
        logger.warning("the identity provider's JWKS holds none of %d keys that verifies %s: every token "
                       "is refused until it publishes one", len(entries), list(algorithms))
    return keys


def token_kid(token: str) -> str | None:
    """The ``kid`` the token's (unverified) header names, or None."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    return kid if isinstance(kid, str) else None


async def joined(fetch: Future[None]) -> None:
    """Wait for a fetch another request runs, holding neither the event loop nor a worker thread."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio: wait in a worker thread
        await anyio.to_thread.run_sync(fetch.result)
        return
    await asyncio.shield(asyncio.wrap_future(fetch, loop=loop))  # one waiter cancelled cancels no fetch


class JWKS:
    """The signing keys published at ``url`` (or at the ``jwks_uri`` of the OpenID Connect
    discovery document at ``discovery_url``, which also names the ``issuer``), for tokens
    signed with one of ``algorithms``. ``timeout``, ``max_bytes`` and ``clock`` may be set
    after construction."""

    def __init__(self, url: str | None, algorithms: Sequence[str], *, discovery_url: str | None = None,
                 ttl: float = DEFAULT_TTL, cooldown: float = DEFAULT_COOLDOWN, issuer: str | None = None,
                 audience: Any = None) -> None:
        check_algorithms(algorithms)
        check_trust(url if discovery_url is None else None, issuer, audience)
        ttl, cooldown = seconds("jwks_ttl", ttl), seconds("jwks_cooldown", cooldown)
        if (url is None) == (discovery_url is None):
            raise ImproperlyConfigured("JWKS takes one of url= and discovery_url=: where the keys are.")
        for name, value in (("jwks_url", url), ("openid_configuration_url", discovery_url)):
            if value is not None and (problem := url_problem(value)) is not None:
                raise ImproperlyConfigured(f"JWTBearer({name}=...): {problem}. Keys are fetched over https "
                                           "only, unless the provider runs on this machine.")
        self.url, self.discovery_url, self.algorithms = url, discovery_url, list(algorithms)
        self.ttl, self.cooldown = ttl, cooldown
        self.timeout, self.max_bytes = FETCH_TIMEOUT, MAX_BYTES
        self.clock: Callable[[], float] = time.monotonic
        self.issuer: str | None = None  # the discovery document's, once fetched
        self.keys: dict[str, SigningKey] = {}  # replaced whole by a good fetch, never emptied by a bad one
        self.error: str | None = None  # why the last fetch failed, None after a good one
        self._lock = threading.Lock()
        self._in_flight: Future[None] | None = None
        self._fetched_at: float | None = None  # when the fetch that gave ``keys`` started
        self._attempted_at = -math.inf  # when the last fetch started, good or bad
        self._missed_at = -math.inf  # when a kid not among fresh keys last started a fetch

    def __repr__(self) -> str:
        return f"JWKS({self.url or self.discovery_url!r}, keys={sorted(self.keys)})"

    def signing_key(self, token: str) -> tuple[Any, list[str]]:
        """The key at hand that verifies ``token`` and the one algorithm to verify it with (the
        token's own, if that key may verify it); ``jwt.InvalidTokenError`` when there is none."""
        header = jwt.get_unverified_header(token)
        kid, algorithm = header.get("kid"), header.get("alg")
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise jwt.InvalidKeyError(f"no key of {self!r} has the token's kid {kid!r}")
        if not isinstance(algorithm, str) or algorithm not in key.algorithms:
            raise jwt.InvalidAlgorithmError(f"key {kid!r} verifies {sorted(key.algorithms)}, "
                                            f"not the token's {algorithm!r}")
        return key.key, [algorithm]

    async def ensure(self, token: str) -> None:
        """Fetch the keys if ``token``'s kid needs it, in a thread of its own, and wait for that
        (or for the fetch in flight) only when the kid is not at hand: a known kid whose keys
        are stale is answered with them while they are fetched again. ``KeysUnavailable`` when
        the key is not at hand and the keys could not be fetched."""
        kid = token_kid(token)
        if kid is None:
            return  # no kid to look up: decoding rejects the token
        fetch, runs_it = self._fetch_for(kid)
        if runs_it and fetch is not None:
            threading.Thread(target=self._run, args=(fetch,), name="djfapi-jwks", daemon=True).start()
        if fetch is not None and kid not in self.keys:
            await joined(fetch)
        with self._lock:
            if kid not in self.keys and (self.error is not None or self._in_flight is not None):
                wait = self.cooldown - (self.clock() - self._attempted_at)
                raise KeysUnavailable(self.error or "the fetch is still running", max(1, math.ceil(wait)))

    def _fetch_for(self, kid: str) -> tuple[Future[None] | None, bool]:
        """The fetch a request for ``kid`` waits for, and whether it is a new one it starts."""
        with self._lock:
            now = self.clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self.ttl
            if self._in_flight is not None:
                return self._in_flight, False
            if kid in self.keys and not stale:
                return None, False
            # Precedence: after a failed fetch, nothing for a cooldown; else stale keys are fetched
            # again; else an unknown kid fetches, if no other did within a cooldown.
            if self.error is not None and now - self._attempted_at < self.cooldown:
                return None, False
            if not stale and now - self._missed_at < self.cooldown:
                return None, False
            if not stale:
                self._missed_at = now
            self._attempted_at = now
            self._in_flight = Future[None]()
            return self._in_flight, True

    def _run(self, fetch: Future[None]) -> None:
        """Fetch the keys (in a worker thread); whatever fails, the keys that were good stay."""
        started = self._attempted_at
        try:
            keys = usable_keys(fetch_json(self._jwks_url(), self.timeout, self.max_bytes), self.algorithms)
        except Exception as error:  # refused, timed out, not a 200, not JSON, no usable key...
            reason = f"{type(error).__name__}: {error}"
            logger.warning("the identity provider's keys could not be fetched from %s: %s; keeping %d "
                           "cached keys", self.url or self.discovery_url, reason, len(self.keys))
            with self._lock:
                self.error = reason
        else:
            logger.debug("fetched %d signing keys from %s: %s", len(keys), self.url, sorted(keys))
            with self._lock:
                self.keys, self._fetched_at, self.error = keys, started, None
        finally:
            with self._lock:
                self._in_flight = None
            fetch.set_result(None)

    def _jwks_url(self) -> str:
        """``url``, or the ``jwks_uri`` of the discovery document (read once, with its ``issuer``)."""
        if self.url is not None:
            return self.url
        document = fetch_json(str(self.discovery_url), self.timeout, self.max_bytes)
        jwks_uri = document.get("jwks_uri") if isinstance(document, dict) else None
        issuer = document.get("issuer") if isinstance(document, dict) else None
        if url_problem(jwks_uri) is not None or not isinstance(issuer, str) or not issuer:
            raise ValueError(f"the discovery document names no usable jwks_uri and issuer: "
                             f"{url_problem(jwks_uri) or 'no issuer'}")
        self.issuer, self.url = issuer, jwks_uri
        return str(jwks_uri)
