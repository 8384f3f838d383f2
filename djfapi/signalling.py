"""Django's request signals around ORM work that runs outside Django's own handlers.

Django opens a database connection per thread and relies on ``request_started`` and
``request_finished`` to close (or recycle, with ``CONN_MAX_AGE``) it. FastAPI never sends
them, so ORM work in a FastAPI threadpool leaks connections. Wrap that work::

    with request_signalling():
        companies = list(Company.objects.all())

    @request_signalling()
    def load_companies():
        return list(Company.objects.all())

Both signals are sent in the thread that runs the ORM work, ``request_finished`` also when
the block raises.
"""

from __future__ import annotations

import inspect
from contextlib import ContextDecorator
from types import TracebackType
from typing import Any

from django.core import signals

__all__ = ["request_signalling"]


class request_signalling(ContextDecorator):
    """Send ``request_started`` on entry and ``request_finished`` on exit, in this thread."""

    def __call__(self, func: Any) -> Any:
        if inspect.iscoroutinefunction(func):
            raise TypeError(
                f"request_signalling() cannot wrap the coroutine {func.__qualname__}: the ORM work "
                "must run in one thread. Wrap a plain function and run it with "
                "anyio.to_thread.run_sync."
            )
        return super().__call__(func)

    def __enter__(self) -> request_signalling:
        signals.request_started.send(sender=type(self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        signals.request_finished.send(sender=type(self))
