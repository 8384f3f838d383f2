"""An unhandled error over real HTTP (uvicorn in a process of its own, one keep-alive client):
a JSON 500, logged once, and the connection stays open for the client's next request."""

import os

import httpx
import pytest

from tests.serving import serve

FAILING = [
    pytest.param("GET", "/crash", None, "RuntimeError: the ledger is on fire", id="hand-written"),
    pytest.param("POST", "/api/companies", {"name": "fail after save"},
                 "RuntimeError: perform_create failed after saving", id="generated"),
]
ROUNDS = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJFAPI_TEST_")}
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"  # SQLite in a fresh temp folder
    log_path = tmp_path_factory.mktemp("served") / "server.log"
    with serve("tests.testapp.served:app", env=env, log_path=log_path) as running:
        yield running


def send(http: httpx.Client, method: str, path: str, body: object) -> tuple[httpx.Response, int]:
    """The response, and the client's port of the connection it came over."""
    with http.stream(method, path, json=body) as response:
        port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
        response.read()
    return response, port


@pytest.mark.parametrize(("method", "path", "body", "error"), FAILING)
def test_after_a_500_the_keep_alive_connection_serves_the_next_request(server, method, path, body, error):
    logged_before = server.log().count(error)
    outcomes, ports = [], set()
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        for _ in range(ROUNDS):
            for request in ((method, path, body), ("GET", "/api/companies", None)):
                try:
                    response, port = send(http, *request)
                except httpx.TransportError as exc:
                    outcomes.append(type(exc).__name__)
                    continue
                outcomes.append(response.status_code)
                ports.add(port)
                if response.status_code == 500:
                    assert response.json() == {"detail": "Internal server error."}
    assert outcomes == [500, 200] * ROUNDS
    assert len(ports) == 1, "each 500 closed the connection"
    log = server.log()
    assert log.count(error) - logged_before == ROUNDS  # once each, with its traceback
    assert log.count("Traceback (most recent call last)") == log.count("RuntimeError: ")
    assert "Exception in ASGI application" not in log  # not again by the server
