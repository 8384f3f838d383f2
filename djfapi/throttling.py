"""Throttles, as DRF's: a viewset's ``throttle_classes`` (or the project's
``DJFAPI["DEFAULT_THROTTLE_CLASSES"]``) each decide whether a request may go on; a request one
refuses is answered 429 with ``Retry-After``::

    DJFAPI = {"DEFAULT_THROTTLE_RATES": {"anon": "100/min", "user": "1000/hour", "uploads": "5/min"}}

    class CompanyViewSet(ModelViewSet):
        throttle_classes = [AnonRateThrottle, UserRateThrottle]

The counts live in Django's cache framework (``cache_name``, by default the ``default`` alias),
so they hold across worker processes when that cache is shared (Redis, Memcached, a database).

Counting is a fixed window: one counter per caller and window, created with ``cache.add`` and
raised with ``cache.incr``. Both are single atomic commands on Redis, so two workers never lose
a count, where DRF's list of timestamps (read, append, write back) does. The price: a caller
may send up to twice the rate across a window boundary.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar, Final, Protocol

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from fastapi import HTTPException
from starlette.requests import Request

from djfapi.conf import api_setting
from djfapi.exceptions import ImproperlyConfigured
from djfapi.permissions.access import Access

logger = logging.getLogger("djfapi")

__all__ = [
    "AnonRateThrottle",
    "BaseThrottle",
    "ScopedRateThrottle",
    "SimpleRateThrottle",
    "UserRateThrottle",
    "check_throttle_classes",
    "parse_rate",
]

DURATIONS: Final[dict[str, int]] = {"s": 1, "m": 60, "h": 3600, "d": 86400}
"""Seconds of a rate's period, by its first letter (``s``/``sec``/``second``, ``m``/``min``...)."""

_PERIODS: Final = {"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"}


class ThrottledView(Protocol):
    """What a throttle reads of the viewset: who asks, for which action."""

    request: Request | None
    access: Access | None
    action: str | None


def parse_rate(rate: str) -> tuple[int, int]:
    """``"100/min"`` as (100 requests, 60 seconds); ValueError when it is not such a rate."""
    number, _, period = rate.partition("/")
    period = period.strip().lower()
    if period not in _PERIODS and period.endswith("s"):  # "hours", "days"
        period = period[:-1]
    if not number.strip().isdigit() or period not in _PERIODS:
        raise ValueError(f"{rate!r} is not a rate; write it as '100/min' (s, min, hour or day)")
    return int(number), DURATIONS[period[0]]


class BaseThrottle:
    """Override :meth:`allow_request` (and :meth:`wait`, the seconds until a refused caller may
    try again)."""

    def allow_request(self, request: Request | None, view: ThrottledView) -> bool:
        """True when the request may go on."""
        raise NotImplementedError(".allow_request() must be overridden")

    def wait(self) -> float | None:
        """Seconds until the next request is allowed; None when unknown."""
        return None

    def get_ident(self, request: Request | None) -> str:
        """The client's address: the connection's, or with ``NUM_PROXIES`` set, the one that many
        proxies back in ``X-Forwarded-For`` (never trusted unless configured)."""
        remote = request.client.host if request is not None and request.client is not None else ""
        proxies = api_setting("NUM_PROXIES")
        forwarded = request.headers.get("x-forwarded-for") if request is not None else None
        if not proxies or not forwarded:
            return remote
        addresses = [address.strip() for address in forwarded.split(",")]
        return str(addresses[-min(int(proxies), len(addresses))])


class SimpleRateThrottle(BaseThrottle):
    """A rate (``rate``, or ``DEFAULT_THROTTLE_RATES[scope]``) per :meth:`get_cache_key`."""

    scope: ClassVar[str | None] = None
    rate: ClassVar[str | None] = None
    cache_name: ClassVar[str] = "default"
    """The alias in ``settings.CACHES`` the counts are kept in."""
    cache_format: ClassVar[str] = "throttle_{scope}_{ident}"

    def __init__(self) -> None:
        self.waiting: float | None = None

    @property
    def cache(self) -> BaseCache:
        return caches[self.cache_name]

    def get_scope(self, view: ThrottledView | type[Any]) -> str | None:
        """Defaults to ``self.scope``."""
        return self.scope

    def get_rate(self, view: ThrottledView | type[Any]) -> str:
        """Defaults to ``self.rate``, else the project's rate for :meth:`get_scope`."""
        if self.rate is not None:
            return self.rate
        scope, rates = self.get_scope(view), api_setting("DEFAULT_THROTTLE_RATES") or {}
        if scope not in rates:
            raise ImproperlyConfigured(
                f"{type(self).__name__} on {_name(view)} has no rate for scope {scope!r}: add it to "
                f"settings.DJFAPI['DEFAULT_THROTTLE_RATES'] (known: {sorted(rates)}) or set rate.")
        return str(rates[scope])

    def get_cache_key(self, request: Request | None, view: ThrottledView) -> str | None:
        """The key the caller's count is kept under; None: not throttled by this class."""
        raise NotImplementedError(".get_cache_key() must be overridden")

    def allow_request(self, request: Request | None, view: ThrottledView) -> bool:
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        allowed, duration = parse_rate(self.get_rate(view))
        now = time.time()
        window = int(now // duration)
        count = self._counted(f"{key}_{duration}_{window}", duration)
        self.waiting = (window + 1) * duration - now
        return count <= allowed

    def _counted(self, key: str, duration: int) -> int:
        """The window's count after this request, created at 0 if new (atomic on Redis); a 503
        with ``Retry-After`` while the cache cannot count (Redis down or not answering)."""
        try:
            for _ in range(3):  # the counter may expire between add() and incr()
                self.cache.add(key, 0, timeout=duration + 1)
                try:
                    return int(self.cache.incr(key))
                except ValueError:
                    continue
        except Exception as exc:  # the cache backend's own errors: redis.ConnectionError, ...
            logger.warning("throttle cache unavailable, answered with 503: %r", exc)
            raise HTTPException(503, detail="The request counts are unavailable; try again shortly.",
                                headers={"Retry-After": "5"}) from exc
        raise RuntimeError(f"throttle counter {key!r} kept expiring")

    def wait(self) -> float | None:
        return self.waiting


class AnonRateThrottle(SimpleRateThrottle):
    """Callers without a token, by client address (rate ``anon``); callers with one go free."""

    scope = "anon"

    def get_cache_key(self, request: Request | None, view: ThrottledView) -> str | None:
        if view.access is not None and view.access.user_id is not None:
            return None
        return self.cache_format.format(scope=self.get_scope(view), ident=self.get_ident(request))


class UserRateThrottle(SimpleRateThrottle):
    """Each caller by the token's subject (``sub``) within its tenant (two tenants' callers with
    one ``sub`` are two callers), else by client address (rate ``user``)."""

    scope = "user"

    def get_cache_key(self, request: Request | None, view: ThrottledView) -> str | None:
        access = view.access
        user = access.user_id if access is not None else None
        tenant = access.tenant_id if access is not None else None
        ident = self.get_ident(request) if user is None else (
            f"user:{user}" if tenant is None else f"user:{len(str(tenant))}:{tenant}:{user}")
        return self.cache_format.format(scope=self.get_scope(view), ident=ident)


class ScopedRateThrottle(UserRateThrottle):
    """The viewset's ``throttle_scope`` at its rate, counted per caller as
    :class:`UserRateThrottle` does; a viewset without one is not throttled by it."""

    def get_scope(self, view: ThrottledView | type[Any]) -> str | None:
        return getattr(view, "throttle_scope", None)

    def get_cache_key(self, request: Request | None, view: ThrottledView) -> str | None:
        if self.get_scope(view) is None:
            return None
        return super().get_cache_key(request, view)


def check_throttle_classes(viewset: type[Any], throttle_classes: Any) -> None:
    """Raise ImproperlyConfigured when a throttle of ``viewset`` has no rate or a misspelt one."""
    for throttle_class in throttle_classes:
        throttle = throttle_class()
        if not isinstance(throttle, SimpleRateThrottle):
            continue
        if isinstance(throttle, ScopedRateThrottle) and throttle.get_scope(viewset) is None:
            continue
        rate = throttle.get_rate(viewset)
        try:
            parse_rate(rate)
        except ValueError as error:
            raise ImproperlyConfigured(f"{throttle_class.__name__} on {viewset.__name__}: {error}.") from None


def _name(view: Any) -> str:
    return view.__name__ if isinstance(view, type) else type(view).__name__
