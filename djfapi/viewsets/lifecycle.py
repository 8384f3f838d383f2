"""What a viewset may do around its action, as DRF's ``initial()`` and ``finalize_response()``:

::

    class CompanyViewSet(ModelViewSet):
        def initial(self):                  # after permissions and throttles, before the action
            self.started = time.monotonic()

        def finalize_response(self, result):  # after the action, before the JSON is made
            self.headers["X-Took"] = f"{time.monotonic() - self.started:.3f}"
            return result

Both run in the request's one threadpool hop (the ORM may be used). ``self.headers`` and
``self.status_code`` set by them, or by the action, reach the client.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from fastapi import HTTPException

from djfapi.conf import api_setting
from djfapi.exceptions import ImproperlyConfigured
from djfapi.pagination import NoPagination
from djfapi.throttling import BaseThrottle

__all__ = ["NotPaginated", "RequestLifecycle"]


class RequestLifecycle:
    """The hooks around an action, and what the response gets from them."""

    status_code: int | None = None
    """The response's status, when set (by a hook or the action); else the route's own."""

    throttle_classes: Sequence[type[BaseThrottle]] | None = None
    """Throttles every request passes; None: ``DJFAPI["DEFAULT_THROTTLE_CLASSES"]``."""

    throttle_scope: str | None = None
    """The scope :class:`~djfapi.throttling.ScopedRateThrottle` counts this viewset's calls in."""

    def get_throttles(self) -> list[BaseThrottle]:
        """Defaults to instances of ``self.throttle_classes`` (read per request); override to
        vary them per action with ``self.action``."""
        return [throttle() for throttle in declared_throttles(self)]

    def check_throttles(self) -> None:
        """Raise 429 with ``Retry-After`` when a throttle refuses the request (after the
        permission checks, in the request's threadpool hop)."""
        request = getattr(self, "request", None)
        refused = [throttle for throttle in self.get_throttles() if not throttle.allow_request(request, self)]  # type: ignore[arg-type]
        if not refused:
            return
        waits = [wait for wait in (throttle.wait() for throttle in refused) if wait is not None]
        if not waits:
            raise HTTPException(429, detail="Request was throttled.")
        seconds = max(1, math.ceil(max(waits)))
        raise HTTPException(429, detail=f"Request was throttled. Expected available in {seconds} seconds.",
                            headers={"Retry-After": str(seconds)})

    @functools.cached_property
    def headers(self) -> dict[str, str]:
        """Headers the response is sent with (they win over djfapi's own, ``ETag`` included)."""
        return {}

    @property
    def user(self) -> Any:
        """The caller as a user, as ``self.request.user``: a Django user when a loader is set
        (``user_from_token``, ``DJFAPI["USER_FROM_TOKEN"]``), else a ``TokenUser`` from the
        token's claims, or ``AnonymousUser`` without security."""
        request = getattr(self, "request", None)
        return request.scope.get("user") if request is not None else None

    def initial(self) -> None:
        """Runs before the action: after the permission checks, the throttles, the parent lookup
        and the body's validation (in a write's transaction). Override to prepare or refuse
        (raise ``PermissionDenied``, ``HTTPException``...)."""

    def finalize_response(self, result: Any) -> Any:
        """Runs after the action with what it returned; returns what is answered. Override to
        set ``self.headers`` / ``self.status_code`` or to change the result."""
        return result


def declared_throttles(viewset: Any) -> Sequence[type[BaseThrottle]]:
    """``viewset``'s ``throttle_classes``, else the project's ``DEFAULT_THROTTLE_CLASSES``."""
    if viewset.throttle_classes is not None:
        return list(viewset.throttle_classes)
    return list(api_setting("DEFAULT_THROTTLE_CLASSES") or [])


class NotPaginated(NoPagination):
    """The paginator of an ``@action`` not declared paginated: paging in it is a mistake."""

    def __init__(self, owner: str) -> None:
        super().__init__()
        self.owner = owner

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Sequence[Any]:
        raise ImproperlyConfigured(
            f"{self.owner} pages rows but is not declared paginated: write "
            "@action(detail=False, paginated=True) so OpenAPI shows the page and its parameters.")
