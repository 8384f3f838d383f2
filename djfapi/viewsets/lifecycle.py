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
from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet

from djfapi.exceptions import ImproperlyConfigured
from djfapi.pagination import NoPagination

__all__ = ["NotPaginated", "RequestLifecycle"]


class RequestLifecycle:
    """The hooks around an action, and what the response gets from them."""

    status_code: int | None = None
    """The response's status, when set (by a hook or the action); else the route's own."""

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


class NotPaginated(NoPagination):
    """The paginator of an ``@action`` not declared paginated: paging in it is a mistake."""

    def __init__(self, owner: str) -> None:
        super().__init__()
        self.owner = owner

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Sequence[Any]:
        raise ImproperlyConfigured(
            f"{self.owner} pages rows but is not declared paginated: write "
            "@action(detail=False, paginated=True) so OpenAPI shows the page and its parameters.")
