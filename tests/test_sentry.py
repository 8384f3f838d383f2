"""djfapi.integrations.sentry, with sentry-sdk for real and a transport that keeps the envelopes."""

import inspect
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio.to_thread
import pytest
from django.db import OperationalError
from fastapi import FastAPI

import djfapi
from djfapi import Router, action
from djfapi.exceptions import ImproperlyConfigured
from djfapi.testing import Client
from tests.testapp import models, secured

try:
    import sentry_sdk
    from sentry_sdk.consts import ClientConstructor
    from sentry_sdk.envelope import Envelope
    from sentry_sdk.transport import Transport

    import djfapi.integrations.sentry
    from djfapi.integrations.sentry import DjfapiIntegration, scrub_event
except ImportError:
    pytest.skip("needs the sentry extra: pip install 'djfapi[sentry]'", allow_module_level=True)

DSN = "https://public@example.invalid/1"
FAILING = "/api/companies/{}/explode"


class CapturingTransport(Transport):
    """Keeps every envelope in memory instead of sending it."""

    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def payloads(self, kind: str) -> list[dict]:
        return [item.payload.json for envelope in self.envelopes for item in envelope.items
                if item.type == kind]

    @property
    def errors(self) -> list[dict]:
        return self.payloads("event")

    @property
    def transactions(self) -> list[dict]:
        return self.payloads("transaction")

    @property
    def sent_bytes(self) -> bytes:
        """Everything that would have gone over the wire."""
        return b"".join(envelope.serialize() for envelope in self.envelopes)


class FailingCompanyViewSet(secured.CompanyViewSet):
    @action(detail=True, methods=["post"], scopes=["business.companies.update.any"])
    def explode(self, instance):
        raise RuntimeError("the ledger is on fire")


def build_app(*, sentry: bool = True) -> FastAPI:
    router = Router()
    router.register("companies", FailingCompanyViewSet)
    router.register("departments", secured.DepartmentViewSet, parent=FailingCompanyViewSet)
    app = FastAPI()
    djfapi.install(app)
    if sentry:
        djfapi.integrations.sentry.install(app)
    app.include_router(router, prefix="/api")
    return app


def like_a_server(app):
    """The app as uvicorn runs it: an exception the app re-raises is logged on ``uvicorn.error``."""
    async def server(scope, receive, send):
        try:
            await app(scope, receive, send)
        except Exception:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")

    return server


@pytest.fixture
def start_sentry():
    """``start_sentry(**options)`` runs djfapi.integrations.sentry.init with a capturing transport;
    Sentry is switched off again after the test."""
    def start(*, plain: bool = False, **options) -> CapturingTransport:
        transport = CapturingTransport()
        options = {
            "dsn": DSN, "transport": transport, "traces_sample_rate": 1.0,
            # The test client is a caller of its own: it sends no trace of the test process along.
            "trace_propagation_targets": [],
            **options,
        }
        (sentry_sdk.init if plain else djfapi.integrations.sentry.init)(**options)
        return transport

    yield start
    stop_sentry()


def stop_sentry() -> None:
    sentry_sdk.get_client().close()
    sentry_sdk.Scope.get_global_scope().set_client(None)


@pytest.fixture
def company():
    return models.Company.objects.create(tenant_id="t1", name="Acme")


def client_for(app) -> Client:
    return Client(app, raise_server_exceptions=False).authenticate(secured.ALL_SCOPES, tenant="t1", user="u1")


def trace_id(response) -> str:
    return response.headers["X-Flow-ID"].split("-")[0]


def test_an_unhandled_error_is_reported_once_with_its_route_action_viewset_and_caller(start_sentry, company):
    transport = start_sentry()
    client = client_for(like_a_server(build_app()))
    response = client.post(FAILING.format(company.id))
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    [event] = transport.errors  # not again by the 500 handler's log line, nor by the server's
    [exception] = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("RuntimeError", "the ledger is on fire")
    assert exception["mechanism"]["handled"] is False
    assert exception["stacktrace"]["frames"][-1]["function"] == "explode"
    # named by sentry-sdk; older versions leave out the router's prefix under FastAPI >= 0.137
    assert event["transaction"].endswith("/companies/{company_id}/explode")
    assert event["tags"] == {
        "djfapi.route": "companies-explode",
        "djfapi.action": "explode",
        "djfapi.viewset": "tests.test_sentry.FailingCompanyViewSet",
        "tenant": "t1",
    }
    assert event["user"] == {"id": "u1"}
    assert event["contexts"]["djfapi"] == {
        "route": "companies-explode",
        "action": "explode",
        "viewset": "tests.test_sentry.FailingCompanyViewSet",
        "path": "/companies/{company_id}/explode",
        "operation_id": "companies_explode",
        "granted_by": "business.companies.update.any",
    }


def test_only_the_app_sentry_is_installed_on_is_reported(start_sentry, company):
    transport = start_sentry()
    reported, other = client_for(build_app()), client_for(build_app(sentry=False))
    responses = [
        other.post(FAILING.format(company.id)),
        reported.post(FAILING.format(company.id)),
        other.get(f"/api/companies/{company.id}"),
        other.get("/api/companies/999999"),
        reported.get(f"/api/companies/{company.id}"),
    ]
    assert [response.status_code for response in responses] == [500, 500, 200, 404, 200]
    assert ["X-Flow-ID" in response.headers for response in responses] == [False, True, False, False, True]
    [event] = transport.errors
    assert event["tags"]["djfapi.route"] == "companies-explode"
    assert event["contexts"]["trace"]["trace_id"] == trace_id(responses[1])
    assert [t["contexts"]["trace"]["trace_id"] for t in transport.transactions] == [
        trace_id(responses[1]), trace_id(responses[4])]


def test_installing_on_an_app_that_serves_already_is_refused():
    app = build_app(sentry=False)
    assert client_for(app).get("/api/companies").status_code == 200
    with pytest.raises(ImproperlyConfigured, match="before its first request"):
        djfapi.integrations.sentry.install(app)


def test_a_5xx_http_error_is_reported_as_handled(start_sentry, company, monkeypatch):
    """djfapi's 503 when the database is unavailable, as sentry-sdk's Starlette integration did."""
    transport = start_sentry()
    monkeypatch.setattr(models.Company.objects, "get_queryset", fail_with_database_down)
    response = client_for(build_app()).get("/api/companies")
    assert response.status_code == 503 and response.headers["X-Flow-ID"]
    [event] = transport.errors
    cause, exception = event["exception"]["values"]
    assert cause["value"] == "the database is down"
    assert (exception["value"], exception["mechanism"]["handled"]) == (
        "The database is unavailable; try again shortly.", True)
    assert event["tags"]["djfapi.route"] == "companies-list"


def fail_with_database_down():
    raise OperationalError("the database is down")


def test_each_request_has_its_own_route_and_caller(start_sentry, company):
    transport = start_sentry()
    app = build_app()
    client_for(app).get(f"/api/companies/{company.id}/departments")
    Client(app).authenticate(secured.ALL_SCOPES, tenant="t2", user="u2").get("/api/companies")
    first, second = transport.transactions
    assert (first["tags"]["djfapi.route"], first["tags"]["tenant"], first["user"]) == (
        "companies-departments-list", "t1", {"id": "u1"})
    assert first["tags"]["djfapi.viewset"] == "tests.testapp.secured.DepartmentViewSet"
    assert (second["tags"]["djfapi.route"], second["tags"]["tenant"], second["user"]) == (
        "companies-list", "t2", {"id": "u2"})


COLLECTING = [
    pytest.param({}, id="defaults"),
    pytest.param({"send_default_pii": True}, id="send_default_pii",
                 marks=pytest.mark.filterwarnings("ignore:The send_default_pii option is deprecated")),
    pytest.param({"data_collection": {"user_info": True, "http_bodies": ["incoming_request"]}},
                 id="data_collection", marks=pytest.mark.skipif(
                     "data_collection" not in inspect.signature(ClientConstructor.__init__).parameters,
                     reason="a sentry-sdk without data_collection")),
]


@pytest.mark.parametrize("collecting", COLLECTING)
def test_no_token_or_authorization_header_reaches_sentry(start_sentry, company, collecting):
    transport = start_sentry(**collecting)
    client = client_for(build_app()).authenticate(
        secured.ALL_SCOPES, tenant="t1", user="u1", email="u1@example.test")
    token = client.headers["Authorization"].removeprefix("Bearer ")
    client.post(FAILING.format(company.id))
    client.get(f"/api/companies/{company.id}")
    client.get("/api/companies", headers={"Authorization": "Bearer not-even-a-jwt"})  # a 401
    assert len(transport.errors) == 1 and len(transport.transactions) == 3
    sent = transport.sent_bytes
    for secret in (token, token.split(".")[2], "not-even-a-jwt", "u1@example.test"):
        assert secret.encode() not in sent
    for event in transport.errors + transport.transactions:
        headers = {name.lower() for name in event["request"]["headers"]}
        assert "authorization" not in headers
    # the frames' variables carried the ASGI scope with the header (scrubbed) and the Access,
    # whose repr leaves the claims out
    assert b"Bearer [Filtered]" in sent and b"Access(granted=" in sent
    assert b'"user":{"id":"u1"}' in sent  # the caller's id and tenant are what is kept


def test_without_djfapis_scrubbing_sentry_sends_the_token(start_sentry, company):
    """Why the scrubbing is there: sentry-sdk, without scrub_event as its hooks, sends it in
    the frames' variables."""
    transport = start_sentry(plain=True, integrations=[DjfapiIntegration()])
    client = client_for(build_app())
    client.post(FAILING.format(company.id))
    assert client.headers["Authorization"].removeprefix("Bearer ").encode() in transport.sent_bytes


def test_your_before_send_gets_the_scrubbed_event_and_may_drop_it(start_sentry, company):
    seen = []

    def before_send(event, hint):
        seen.append(json.dumps(event))
        return None

    transport = start_sentry(before_send=before_send)
    client = client_for(build_app())
    client.post(FAILING.format(company.id))
    token = client.headers["Authorization"].removeprefix("Bearer ")
    assert len(seen) == 1 and token not in seen[0] and "Bearer [Filtered]" in seen[0]
    assert transport.errors == []


@pytest.mark.parametrize("traces_sample_rate", [1.0, None], ids=["tracing", "errors-only"])
def test_the_trace_header_names_the_trace_of_the_requests_error(start_sentry, company, traces_sample_rate):
    transport = start_sentry(traces_sample_rate=traces_sample_rate)
    client = client_for(build_app())
    failed = client.post(FAILING.format(company.id))
    [event] = transport.errors
    assert trace_id(failed) == event["contexts"]["trace"]["trace_id"]
    if traces_sample_rate:  # one trace a request (without tracing, sentry-sdk's choice)
        assert trace_id(failed) == transport.transactions[0]["contexts"]["trace"]["trace_id"]
        assert trace_id(client.post(FAILING.format(company.id))) != trace_id(failed)


def test_the_trace_header_continues_the_callers_trace(start_sentry, company):
    transport = start_sentry()
    incoming = "771a43a4192642f0b136d5159a501700"
    response = client_for(build_app()).get(
        f"/api/companies/{company.id}", headers={"sentry-trace": f"{incoming}-b6d2f1f2a6cb4c4d-1"})
    assert response.status_code == 200
    assert trace_id(response) == incoming
    assert transport.transactions[0]["contexts"]["trace"]["trace_id"] == incoming


def test_handled_errors_are_answered_not_reported(start_sentry, company):
    transport = start_sentry()
    app = build_app()
    client = client_for(app)
    responses = [
        client.get("/api/companies/999999"),                                          # 404
        client.post("/api/companies", json={}),                                        # 422
        client.post("/api/companies", json={"name": "Acme"}),                          # 409
        Client(app).get("/api/companies"),                                             # 401
        Client(app).authenticate(["business.tags.read.any"]).get("/api/companies"),    # 403
    ]
    assert [response.status_code for response in responses] == [404, 422, 409, 401, 403]
    assert transport.errors == []
    assert all(response.headers["X-Flow-ID"] for response in responses)
    assert [t["contexts"]["trace"]["trace_id"] for t in transport.transactions] == [
        trace_id(response) for response in responses]


def test_the_orm_work_stays_in_one_threadpool_call_and_shows_in_the_requests_trace(
    start_sentry, company, monkeypatch
):
    transport = start_sentry()
    client = client_for(build_app())
    calls = []
    original = anyio.to_thread.run_sync

    async def counting(*args, **kwargs):
        calls.append(args[0])
        return await original(*args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    response = client.get(f"/api/companies/{company.id}/departments")
    assert response.status_code == 200 and len(calls) == 1
    [transaction] = transport.transactions
    queries = [span for span in transaction["spans"] if span["op"] == "db"]
    assert any('"testapp_company"' in span["description"] for span in queries)
    assert {span["trace_id"] for span in queries} == {trace_id(response)}


@pytest.mark.skipif("enable_logs" not in inspect.signature(ClientConstructor.__init__).parameters,
                    reason="a sentry-sdk without Sentry logs")
def test_sentry_logs_are_scrubbed_too(start_sentry):
    transport = start_sentry(enable_logs=True)
    jwt = "eyJhbGciOiJFUzUxMiJ9.eyJzdWIiOiJ1MSJ9.c2ln"
    sentry_sdk.logger.warning("retrying with Bearer {token}", token=jwt)
    sentry_sdk.get_client().flush()
    sent = transport.sent_bytes
    assert b"retrying with Bearer [Filtered]" in sent and b"eyJ" not in sent


def test_the_trace_header_can_be_renamed_or_left_out(start_sentry, company):
    start_sentry(trace_header="X-Trace-Id")
    renamed = client_for(build_app()).get(f"/api/companies/{company.id}")
    assert renamed.headers["X-Trace-Id"] and "X-Flow-ID" not in renamed.headers
    start_sentry(trace_header=None)
    left_out = client_for(build_app()).get(f"/api/companies/{company.id}")
    assert left_out.status_code == 200 and "X-Flow-ID" not in left_out.headers


def test_a_bad_trace_header_name_is_refused():
    with pytest.raises(ImproperlyConfigured, match="letters, digits and dashes"):
        djfapi.integrations.sentry.init(DSN, trace_header="X Flow: ID")


def test_once_sentry_is_closed_responses_are_plain_again(start_sentry, company):
    transport = start_sentry()
    app = build_app()
    stop_sentry()
    response = client_for(app).post(FAILING.format(company.id))
    assert response.status_code == 500 and "X-Flow-ID" not in response.headers
    assert transport.envelopes == []


@pytest.mark.parametrize("text, expected", [
    ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [Filtered]"),
    ("basic dXNlcjpwYXNz, then", "basic [Filtered], then"),
    ("token eyJhbGciOiJFUzUxMiJ9.eyJzdWIiOiJ1MSJ9.c2ln and more", "token [Filtered] and more"),
    ("cut short: eyJhbGciOiJFUzUxMiJ9.eyJzdW...", "cut short: [Filtered]..."),
    ("Call(access=Access(token={'sub': 'u1', 'email': 'e'}, granted=frozenset()))",
     "Call(access=Access(token=[Filtered], granted=frozenset()))"),
    ("Access(token={'sub': 'u1', 'nested': {'email': 'e'}, 'cut': 'sho",
     "Access(token=[Filtered]"),
    ("nothing secret here", "nothing secret here"),
])
def test_scrub_event_filters_credentials_wherever_they_are(text, expected):
    event = {
        "message": text,
        "breadcrumbs": {"values": [{"message": text, "data": {"cookie": "session=1"}}]},
        "request": {"headers": {"Authorization": text, "Cookie": "a=b", "Accept": "*/*"}},
    }
    scrubbed = scrub_event(event)
    assert scrubbed["message"] == scrubbed["breadcrumbs"]["values"][0]["message"] == expected
    assert scrubbed["breadcrumbs"]["values"][0]["data"] == {"cookie": "[Filtered]"}
    assert scrubbed["request"]["headers"] == {"Accept": "*/*"}
    assert event["request"]["headers"]["Authorization"] == text  # the original is left alone


# -- without sentry-sdk ----------------------------------------------------------------------

def run_python(*parts: str) -> subprocess.CompletedProcess:
    """The code ``parts`` in a fresh interpreter on the test settings (SQLite, a fresh database)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJFAPI_TEST_")}
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    code = "\n".join(textwrap.dedent(part) for part in parts)
    return subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent.parent,
                          env=env, capture_output=True, text=True, timeout=120)


SERVE = """
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", run_syncdb=True, verbosity=0)

    import djfapi
    from djfapi.testing import Client
    from tests.testapp import secured

    client = Client(secured.create_app(), share_connections=False)
    client.authenticate(secured.ALL_SCOPES, tenant="t1", user="u1")
    created = client.post("/api/companies", json={"name": "Acme"})
    assert created.status_code == 201, created.text
    listed = client.get("/api/companies")
    assert listed.json()["total"] == 1 and "X-Flow-ID" not in listed.headers
"""


def test_djfapi_imports_and_serves_without_sentry_sdk():
    result = run_python("""
        import sys
        sys.modules["sentry_sdk"] = None  # as if not installed: importing it raises ImportError
    """, SERVE, """
        try:
            import djfapi.integrations.sentry
        except djfapi.exceptions.ImproperlyConfigured as exc:
            print(exc)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "djfapi.integrations.sentry needs sentry-sdk: pip install 'djfapi[sentry]'.")


def test_serving_requests_does_not_import_sentry_sdk():
    result = run_python(SERVE, """
        import sys
        print("sentry_sdk" in sys.modules)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_with_a_plain_sentry_sdk_init_an_unhandled_error_is_reported_once():
    """Without djfapi's integration (never imported), djfapi's 500 is reported by its log line."""
    result = run_python("""
        import sys
        import django
        django.setup()
        import sentry_sdk
        from fastapi import FastAPI
        from fastapi.testclient import TestClient
        from sentry_sdk.transport import Transport
        import djfapi

        class Keeping(Transport):
            events = []
            def capture_envelope(self, envelope):
                self.events += [item.payload.json for item in envelope.items if item.type == "event"]

        sentry_sdk.init(dsn="https://public@example.invalid/1", transport=Keeping())
        app = FastAPI()
        djfapi.install(app)

        @app.get("/crash")
        def crash():
            raise RuntimeError("the ledger is on fire")

        response = TestClient(app, raise_server_exceptions=False).get("/crash")
        assert response.status_code == 500, response.text
        assert "djfapi.integrations.sentry" not in sys.modules
        print([event["exception"]["values"][-1]["value"] for event in Keeping.events])
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['the ledger is on fire']"
