"""One JSON document fetched from an identity provider, within limits that hold whatever the
server does: https (or this machine's loopback) only, redirects to the same scheme only, a size
limit, and one deadline for the whole fetch — connect, TLS handshake, headers and body — so a
server that answers a byte at a time cannot hold a fetch longer than ``timeout``."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit

__all__ = ["LOOPBACK_HOSTS", "fetch_json", "url_problem"]

LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def url_problem(url: Any) -> str | None:
    """Why ``url`` may not be fetched (keys travel over https, or stay on this machine), or None."""
    if not isinstance(url, str):
        return f"{url!r} is not a URL"
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    return f"{url!r} is not an https:// URL (http:// is allowed only for 127.0.0.1, localhost and ::1)"


class _SameSchemeRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to a URL of the same scheme that :func:`url_problem` accepts."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        problem = url_problem(newurl)
        if problem is None and urlsplit(newurl).scheme != urlsplit(req.full_url).scheme:
            problem = f"{newurl!r} changes the scheme"
        if problem is not None:
            raise urllib.error.HTTPError(newurl, code, f"redirect refused: {problem}", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Deadline:
    """Ends a fetch that is not done within ``seconds``, wherever it waits (the TLS handshake, a
    header sent a byte at a time, the body): its sockets are shut down, so the blocked read
    fails. A socket timeout alone bounds each read, not the whole."""

    def __init__(self, seconds: float) -> None:
        self.sockets: list[socket.socket] = []
        self.expired = False
        self.timer = threading.Timer(seconds, self.expire)
        self.timer.daemon = True

    def connection(self, kind: type[http.client.HTTPConnection]) -> Callable[..., http.client.HTTPConnection]:
        """A factory of ``kind`` connections whose sockets this deadline ends, for urllib's ``do_open``."""
        def make(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
            made = kind(*args, **kwargs)
            made._create_connection = self.kept  # type: ignore[attr-defined]
            return made
        return make

    def kept(self, *args: Any, **kwargs: Any) -> socket.socket:
        """``socket.create_connection``, the socket kept to be shut down."""
        opened = socket.create_connection(*args, **kwargs)
        self.sockets.append(opened)
        if self.expired:
            self.expire()
        return opened

    def expire(self) -> None:
        self.expired = True
        for opened in self.sockets:
            with contextlib.suppress(OSError):
                opened.shutdown(socket.SHUT_RDWR)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(self.deadline.connection(http.client.HTTPConnection), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(self.deadline.connection(http.client.HTTPSConnection), req,
                            context=self._context)  # type: ignore[attr-defined]


def fetch_json(url: str, timeout: float, max_bytes: int) -> Any:
    """The JSON document at ``url``: one GET (redirects to the same scheme followed), all of it
    done within ``timeout`` seconds, at most ``max_bytes``."""
    deadline = _Deadline(timeout)
    handlers: list[Any] = [_SameSchemeRedirects, _HTTPHandler(deadline), _HTTPSHandler(deadline)]
    if urlsplit(url).hostname in LOOPBACK_HOSTS:
        handlers.append(urllib.request.ProxyHandler({}))  # a proxy cannot reach this machine's loopback
    request = urllib.request.Request(url, headers={"Accept": "application/json"}, method="GET")
    deadline.timer.start()
    try:
        body = _read(urllib.request.build_opener(*handlers), request, url, timeout, max_bytes)
    except (OSError, http.client.HTTPException) as error:
        if deadline.expired:  # the deadline shut the connection down
            raise TimeoutError(f"{url} took more than {timeout} s") from error
        raise
    finally:
        deadline.timer.cancel()
    if deadline.expired:  # shut down mid-answer, which can read as an answer cut short
        raise TimeoutError(f"{url} took more than {timeout} s")
    return json.loads(body)


def _read(opener: urllib.request.OpenerDirector, request: urllib.request.Request, url: str,
          timeout: float, max_bytes: int) -> bytes:
    """The body of a 200 answer to ``request``, refused past ``max_bytes``; ``timeout`` bounds
    the connect, which no deadline can cut short (there is no socket to shut down yet)."""
    with opener.open(request, timeout=timeout) as response:
        if response.status != 200:
            raise ValueError(f"HTTP {response.status} from {url}")
        if int(response.headers.get("Content-Length") or 0) > max_bytes:
            raise ValueError(f"{url} sends more than {max_bytes} bytes")
        body = b""
        while chunk := response.read1(64 * 1024):
            body += chunk
            if len(body) > max_bytes:
                raise ValueError(f"{url} sends more than {max_bytes} bytes")
        return body
