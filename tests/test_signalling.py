"""request_signalling, and the one signalled threadpool hop every generated route makes."""

import threading

import anyio.to_thread
import pytest
from django.core import signals
from fastapi.testclient import TestClient

from djfapi import request_signalling
from tests.testapp.api import build_router, create_app
from tests.testapp.factories import CountryFactory, OfficeFactory, TeamFactory


@pytest.fixture
def signal_log():
    """Every request_started/request_finished sent, as (signal name, thread ident)."""
    log: list[tuple[str, int]] = []

    def started(**kwargs):
        log.append(("started", threading.get_ident()))

    def finished(**kwargs):
        log.append(("finished", threading.get_ident()))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield log
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


def test_context_manager_sends_both_signals_in_this_thread(signal_log):
    with request_signalling():
        assert signal_log == [("started", threading.get_ident())]
    assert signal_log == [("started", threading.get_ident()), ("finished", threading.get_ident())]


def test_decorator_sends_both_signals_also_when_the_function_raises(signal_log):
    @request_signalling()
    def failing():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        failing()
    assert [name for name, _ in signal_log] == ["started", "finished"]


def test_signals_and_every_query_of_a_nested_request_share_one_thread(client, signal_log, query_log):
    team = TeamFactory()
    department = team.department
    path = f"/api/companies/{department.company_id}/departments/{department.id}/teams/{team.id}"
    query_log.clear()
    response = client.patch(path, json={"name": "Renamed"})
    assert response.status_code == 200
    assert [name for name, _ in signal_log] == ["started", "finished"]
    threads = {ident for _, ident in signal_log} | {ident for ident, _ in query_log}
    assert len(threads) == 1
    assert threading.get_ident() not in threads  # the worker thread, not the test's
    statements = " ".join(sql for _, sql in query_log)
    # company and department looked up, then the team read and written, all on that thread
    assert '"testapp_company"' in statements
    assert '"testapp_department"' in statements
    assert "UPDATE" in statements


def test_signals_are_sent_when_the_action_fails(client, signal_log):
    response = client.get("/api/companies/12345")
    assert response.status_code == 404
    assert [name for name, _ in signal_log] == ["started", "finished"]
    assert len({ident for _, ident in signal_log}) == 1


def test_every_generated_route_makes_exactly_one_threadpool_call(monkeypatch):
    router = build_router()
    client = TestClient(create_app(router))
    team = TeamFactory()
    office = OfficeFactory(company=team.department.company)
    CountryFactory(code="DE")
    values = {
        "company_id": team.department.company_id,
        "department_id": team.department_id,
        "team_id": team.id,
        "office_id": office.id,
        "country_id": "DE",
    }
    calls = []
    original = anyio.to_thread.run_sync

    async def counting(*args, **kwargs):
        calls.append(args[0])
        return await original(*args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    routes = [route for route in router.routes if not route.options_route]  # OPTIONS: no call
    # Deletes last, deepest first, so the objects the other routes name still exist.
    routes.sort(key=lambda r: ("DELETE" in r.methods, -r.path.count("{")))
    assert len(routes) == 26 + 11  # and a HEAD twin of each of the 11 GET routes
    for route in routes:
        method = next(iter(route.methods))
        path = "/api" + route.path.format(**values)
        body = {"city": "Berlin"} if "/offices" in route.path else {"name": f"name for {route.name}"}
        calls.clear()
        response = client.request(method, path, json=body if method in ("POST", "PUT", "PATCH") else None)
        assert response.status_code < 300, (route.name, response.text)
        assert len(calls) == 1, (route.name, calls)


def test_the_decorator_refuses_coroutine_functions():
    with pytest.raises(TypeError, match="cannot wrap the coroutine"):
        @request_signalling()
        async def fetch():
            return None
