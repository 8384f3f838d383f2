"""JWTBearer(jwks_url=...): tokens verified with the keys an identity provider publishes, served
here by a real JWKS server on 127.0.0.1 that the tests control. Keys are fetched once and
cached, fetched again on rotation and after the TTL, a flood of unknown kids costs one fetch a
cooldown, an outage keeps the keys that were good (and is a 503 for a token whose key is not at
hand), keys that do not fit the bearer's algorithms are never used, and the fetch never holds
the event loop."""

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.test import override_settings
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

import djfapi
from djfapi import Router, ViewSet
from djfapi.exceptions import ImproperlyConfigured
from djfapi.permissions import JWTBearer, Scopes
from djfapi.permissions.fetching import _SameSchemeRedirects
from djfapi.permissions.jwt import INVALID_TOKEN, KEYS_UNAVAILABLE

ISSUER = "https://idp.djfapi.test/realms/acme"
AUDIENCE = "djfapi-api"
SCOPE = "api.things.read"


class IdentityProvider:
    """A JWKS (and OpenID Connect discovery) server on 127.0.0.1: it publishes the keys the test
    sets, answers as ``mode`` says (``ok`` or one of the failures in ``answer``), after ``delay``
    seconds, and counts the requests per path."""

    def __init__(self):
        self.keys, self.mode, self.delay, self.requests = [], "ok", 0.0, Counter()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                provider.requests[self.path] += 1
                time.sleep(provider.delay)
                provider.answer(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def answer(self, handler):
        """The document asked for, as ``mode`` says: the failures other than ``close``, ``redirect``
        and ``not json`` carry the real document, so only the fetch's own limits refuse it."""
        if self.mode == "close":
            return  # the connection closes without an answer
        if self.mode == "trickled headers":  # a tarpit: the status line, then a byte every 0.1 s
            with contextlib.suppress(OSError):
                handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for _ in range(100):
                    handler.wfile.write(b"X")
                    handler.wfile.flush()
                    time.sleep(0.1)
            return
        if handler.path == "/moved" or self.mode == "redirect":
            handler.send_response(302)
            elsewhere = "file:///etc/passwd" if self.mode == "redirect" else f"{self.url}/jwks"
            handler.send_header("Location", elsewhere)
            handler.end_headers()
            return
        document = {"/jwks": {"keys": self.keys},
                    "/.well-known/openid-configuration": {"issuer": ISSUER, "jwks_uri": f"{self.url}/jwks"}}
        body = json.dumps(document.get(handler.path, {})).encode()
        body = {"not json": b"<html>maintenance</html>", "huge": b" " * (2 * 1024 * 1024) + body,
                "huge, no length": b" " * (2 * 1024 * 1024) + body,
                "no usable key": json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "a"}]}).encode(),
                }.get(self.mode, body)
        handler.send_response(500 if self.mode == "500" else 200)
        handler.send_header("Content-Type", "application/json")
        if self.mode != "huge, no length":  # HTTP/1.0: the body ends when the connection closes
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        pieces = 10 if self.mode == "drip" else 1  # drip: a second to send it, a tenth at a time
        for index in range(pieces):
            handler.wfile.write(body[index * len(body) // pieces:(index + 1) * len(body) // pieces])
            handler.wfile.flush()
            if pieces > 1:
                time.sleep(0.1)

    def publish(self, *keys):
        self.keys = [key.jwk for key in keys]

    @property
    def fetches(self):
        return self.requests["/jwks"]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Key:
    """A signing key of the provider: the private half signs tokens, ``jwk`` is what it publishes."""

    def __init__(self, kid, kind="EC", **jwk):
        self.kid, self.algorithm = kid, "ES256" if kind == "EC" else "RS256"
        if kind == "EC":
            self.private = ec.generate_private_key(ec.SECP256R1())
            public = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            public = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        self.jwk = {**public, "kid": kid, "use": "sig", "alg": self.algorithm, **jwk}

    def token(self, kid=None, **claims):
        payload = {"sub": "user-1", "ten": "tenant-a", "scope": SCOPE, "iss": ISSUER, "aud": AUDIENCE,
                   "exp": int(time.time()) + 300, **claims}
        return jwt.encode(payload, self.private, algorithm=self.algorithm,
                          headers={"kid": kid or self.kid})


class Clock:
    """A monotonic clock the test moves on."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def app_for(bearer):
    """A small API whose one viewset is guarded by ``bearer``, and an unguarded async endpoint."""

    class ThingViewSet(ViewSet):
        security = bearer
        scopes = Scopes(get=[SCOPE])

        def list(self) -> list[str]:
            return [self.access.user_id]

    router = Router()
    router.register("things", ThingViewSet)
    app = FastAPI()
    app.state.bearer = bearer
    djfapi.install(app)
    app.include_router(router)

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    return app


@pytest.fixture
def idp():
    provider = IdentityProvider()
    yield provider
    provider.stop()


@pytest.fixture
def key_a():
    return Key("a")


@pytest.fixture
def clock():
    return Clock()


def bearer_for(idp, clock, **options):
    """A bearer on ``idp``'s keys, for ES256 tokens, whose cache runs on ``clock``."""
    bearer = JWTBearer(jwks_url=f"{idp.url}/jwks", issuer=ISSUER, audience=AUDIENCE, algorithms=["ES256"],
                       **options)
    bearer.jwks.clock = clock
    return bearer


@pytest.fixture
def client(idp, clock):
    with TestClient(app_for(bearer_for(idp, clock, jwks_ttl=300, jwks_cooldown=30))) as client:
        yield client


def get(client, token):
    return client.get("/things", headers={"Authorization": f"Bearer {token}"})


def settled(bearer):
    """Wait until the refresh running in the background (stale keys are served meanwhile) ends."""
    deadline = time.monotonic() + 10
    while bearer.jwks._in_flight is not None:
        assert time.monotonic() < deadline, "the refresh did not end"
        time.sleep(0.01)


def test_a_token_is_verified_with_the_providers_key_fetched_once(idp, client, key_a):
    idp.publish(key_a)
    response = get(client, key_a.token())
    assert (response.status_code, response.json()) == (200, ["user-1"])
    assert idp.fetches == 1
    for _ in range(20):
        assert get(client, key_a.token()).status_code == 200
    assert idp.fetches == 1  # cached


def test_a_rotated_key_is_fetched_once_and_the_keys_again_after_the_ttl(idp, client, key_a, clock):
    key_b = Key("b")
    idp.publish(key_a)
    assert get(client, key_a.token()).status_code == 200
    idp.publish(key_a, key_b)  # the provider rotates: B signs from now on
    clock.now += 5  # well within the TTL
    assert get(client, key_b.token()).status_code == 200
    assert idp.fetches == 2  # exactly one refresh, for the unknown kid
    assert [get(client, key.token()).status_code for key in (key_a, key_b)] == [200, 200]
    assert idp.fetches == 2
    idp.publish(key_b)  # A is withdrawn: it is honoured until the keys are fetched again
    assert get(client, key_a.token()).status_code == 200
    clock.now += 300
    assert get(client, key_a.token()).status_code == 200  # stale keys answer while they are fetched
    settled(client.app.state.bearer)
    assert idp.fetches == 3  # the TTL passed: fetched again
    assert get(client, key_a.token()).status_code == 401  # withdrawn: now an unknown kid, one refresh
    assert get(client, key_b.token()).status_code == 200
    assert idp.fetches == 4


def test_a_flood_of_unknown_kids_costs_one_fetch_a_cooldown(idp, key_a, clock):
    idp.publish(key_a)
    stranger = Key("stranger")
    app = app_for(bearer_for(idp, clock, jwks_cooldown=30))
    with TestClient(app) as client:
        assert get(client, key_a.token()).status_code == 200
    idp.delay = 0.2  # the flood arrives while the one fetch it causes is in flight

    async def flood():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await asyncio.gather(*(
                client.get("/things", headers={"Authorization": f"Bearer {stranger.token(uuid.uuid4().hex)}"})
                for _ in range(200)))

    responses = asyncio.run(flood())
    assert Counter(response.status_code for response in responses) == {401: 200}
    assert {response.json()["detail"] for response in responses} == {INVALID_TOKEN}
    assert idp.fetches == 2  # the first key, and one refresh for the whole flood
    idp.delay = 0
    with TestClient(app) as client:
        assert get(client, stranger.token(uuid.uuid4().hex)).status_code == 401
        assert idp.fetches == 2  # still within the cooldown
        clock.now += 30
        assert get(client, stranger.token(uuid.uuid4().hex)).status_code == 401
        assert idp.fetches == 3  # one more after the cooldown
        assert get(client, key_a.token()).status_code == 200


OUTAGES = ["refused", "500", "close", "not json", "huge", "huge, no length", "timeout", "drip",
           "trickled headers", "redirect"]


def break_down(idp, bearer, outage):
    if outage == "refused":
        idp.stop()
    elif outage == "timeout":
        bearer.jwks.timeout, idp.delay = 0.3, 1.0
    elif outage in ("drip", "trickled headers"):
        bearer.jwks.timeout, idp.mode = 0.5, outage
    else:
        idp.mode = outage


@pytest.mark.parametrize("outage", OUTAGES)
def test_an_outage_keeps_the_cached_keys(idp, key_a, clock, outage):
    idp.publish(key_a)
    bearer = bearer_for(idp, clock)
    with TestClient(app_for(bearer)) as client:
        assert get(client, key_a.token()).status_code == 200
        key_c = Key("c")
        idp.publish(key_a, key_c)  # what a fetch would find, if it succeeded
        break_down(idp, bearer, outage)
        assert get(client, key_a.token()).status_code == 200  # cached: the provider is not asked
        unknown = get(client, key_c.token())  # a refresh is tried, and fails
        assert (unknown.status_code, unknown.json()) == (503, {"detail": KEYS_UNAVAILABLE})
        if outage != "refused":
            assert idp.fetches == 2
        assert get(client, key_a.token()).status_code == 200  # the failed refresh evicted nothing
        clock.now += 330  # past the TTL and the cooldown: fetched again, failing again
        assert get(client, key_a.token()).status_code == 200
        settled(bearer)
        assert get(client, key_a.token()).status_code == 200
        if outage != "refused":
            assert idp.fetches == 3
    assert bearer.jwks.error is not None and list(bearer.jwks.keys) == ["a"]


@pytest.mark.parametrize("outage", ["refused", "500", "timeout"])
def test_an_outage_without_the_tokens_key_is_a_503_with_retry_after(idp, key_a, clock, outage):
    idp.publish(key_a)
    bearer = bearer_for(idp, clock, jwks_cooldown=30)
    break_down(idp, bearer, outage)
    with TestClient(app_for(bearer)) as client:
        response = get(client, key_a.token())
        assert (response.status_code, response.json()) == (503, {"detail": KEYS_UNAVAILABLE})
        assert 1 <= int(response.headers["Retry-After"]) <= 30
        clock.now += 10
        again = get(client, key_a.token())
        assert again.status_code == 503
        assert 1 <= int(again.headers["Retry-After"]) <= 20
        if outage != "refused":
            assert idp.fetches == 1  # no second try within the cooldown
            idp.mode, idp.delay = "ok", 0
            clock.now += 20
            assert get(client, key_a.token()).status_code == 200  # the provider is back


def test_keys_that_do_not_fit_the_bearers_algorithms_are_never_used(idp, client, key_a):
    rsa_key = Key("r", kind="RSA")  # alg RS256; the bearer takes ES256 only
    rsa_without_alg = Key("r2", kind="RSA")
    del rsa_without_alg.jwk["alg"]
    encryption = Key("enc", use="enc")
    mislabelled = Key("m", alg="ES384")  # a P-256 key that claims another algorithm
    idp.publish(key_a, rsa_key, rsa_without_alg, encryption, mislabelled)
    assert get(client, key_a.token()).status_code == 200
    for key in (rsa_key, rsa_without_alg, encryption, mislabelled):
        response = get(client, key.token())
        assert (key.kid, response.status_code, response.json()) == (key.kid, 401, {"detail": INVALID_TOKEN})
    assert idp.fetches == 2  # the first; then one refresh for an unusable kid, none for the others


@pytest.mark.parametrize("secret", ["pem", "jwk"])
def test_an_hs256_token_signed_with_the_published_key_is_refused(idp, client, key_a, secret):
    idp.publish(key_a)
    assert get(client, key_a.token()).status_code == 200
    pem = key_a.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    material = pem if secret == "pem" else json.dumps(key_a.jwk).encode()
    payload = {"sub": "mallory", "scope": SCOPE, "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60}
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 'a'})}.{b64(payload)}"
    signature = hmac.new(material, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    response = get(client, forged)
    assert (response.status_code, response.json()) == (401, {"detail": INVALID_TOKEN})


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_the_fetch_does_not_hold_the_event_loop(idp, key_a, clock):
    key_b = Key("b")
    idp.publish(key_a)
    app = app_for(bearer_for(idp, clock))
    with TestClient(app) as client:
        assert get(client, key_a.token()).status_code == 200
    idp.publish(key_a, key_b)
    idp.delay = 1.0  # the refresh B needs takes a second

    async def run():
        done, ticks = [], 0
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            async def call(name, path, token=None):
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                response = await client.get(path, headers=headers)
                done.append((name, response.status_code, time.monotonic() - started))

            started = time.monotonic()
            rotated = asyncio.create_task(call("b", "/things", key_b.token()))
            await asyncio.sleep(0.2)  # B's fetch is in flight
            await asyncio.gather(call("a", "/things", key_a.token()), call("ping", "/ping"))
            while not rotated.done():
                ticks += 1
                await asyncio.sleep(0.01)
            await rotated
        return done, ticks

    done, ticks = asyncio.run(run())
    assert sorted((name, status) for name, status, _ in done[:2]) == [("a", 200), ("ping", 200)]
    assert done[2][:2] == ("b", 200)  # the request that waited for the fetch finished last
    assert all(elapsed < 0.8 for name, _, elapsed in done if name != "b")
    assert ticks > 20  # the loop kept running while the fetch waited on the slow provider
    assert idp.fetches == 2


def test_concurrent_requests_for_a_new_key_share_one_fetch(idp, key_a, clock):
    idp.publish(key_a)
    app = app_for(bearer_for(idp, clock))
    idp.delay = 0.3

    headers = {"Authorization": f"Bearer {key_a.token()}"}

    async def run():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await asyncio.gather(*(client.get("/things", headers=headers) for _ in range(30)))

    assert {response.status_code for response in asyncio.run(run())} == {200}
    assert idp.fetches == 1


def test_verify_works_synchronously_with_the_keys_at_hand(idp, key_a, clock):
    idp.publish(key_a)
    bearer = bearer_for(idp, clock)
    with pytest.raises(HTTPException) as rejected:  # no key at hand yet, and verify() never fetches
        bearer.verify(key_a.token())
    assert rejected.value.status_code == 401 and idp.fetches == 0
    asyncio.run(bearer.ensure_keys(key_a.token()))
    assert bearer.verify(key_a.token()).user_id == "user-1"
    assert idp.fetches == 1


def test_discovery_names_the_keys_and_the_issuer(idp, key_a):
    idp.publish(key_a)
    # The test settings' JWT_ISSUER is another issuer: the discovery document's wins over it.
    bearer = JWTBearer(openid_configuration_url=f"{idp.url}/.well-known/openid-configuration",
                       audience=AUDIENCE, algorithms=["ES256"])
    with TestClient(app_for(bearer)) as client:
        assert get(client, key_a.token()).status_code == 200
        assert get(client, key_a.token(iss="https://other.example")).status_code == 401
        assert get(client, key_a.token()).status_code == 200
    assert idp.requests == {"/.well-known/openid-configuration": 1, "/jwks": 1}
    assert (bearer.jwks.issuer, bearer.jwks.url) == (ISSUER, f"{idp.url}/jwks")


def test_an_explicit_issuer_wins_over_the_discovered_one(idp, key_a):
    idp.publish(key_a)
    bearer = JWTBearer(openid_configuration_url=f"{idp.url}/.well-known/openid-configuration",
                       issuer="https://sts.example/tenant", audience=AUDIENCE, algorithms=["ES256"])
    with TestClient(app_for(bearer)) as client:
        assert get(client, key_a.token()).status_code == 401
        assert get(client, key_a.token(iss="https://sts.example/tenant")).status_code == 200


def test_a_redirect_to_the_jwks_is_followed(idp, key_a, clock):
    idp.publish(key_a)
    bearer = JWTBearer(jwks_url=f"{idp.url}/moved", issuer=ISSUER, audience=AUDIENCE, algorithms=["ES256"])
    with TestClient(app_for(bearer)) as client:
        assert get(client, key_a.token()).status_code == 200
    assert idp.requests == {"/moved": 1, "/jwks": 1}


@pytest.mark.parametrize(("target", "refused"), [
    ("https://idp.example/keys", None),
    ("http://127.0.0.1/jwks", "changes the scheme"),
    ("http://idp.example/jwks", "not an https:// URL"),
    ("file:///etc/passwd", "not an https:// URL"),
])
def test_redirects_keep_to_https(target, refused):
    request, redirects = urllib.request.Request("https://idp.example/jwks"), _SameSchemeRedirects()
    if refused is None:
        assert redirects.redirect_request(request, None, 302, "Found", {}, target).full_url == target
        return
    with pytest.raises(urllib.error.HTTPError, match=refused):
        redirects.redirect_request(request, None, 302, "Found", {}, target)


def scheme_of(bearer):
    return app_for(bearer).openapi()["components"]["securitySchemes"]["JWTBearer"]


def test_openapi_says_where_tokens_come_from(idp):
    discovery = f"{idp.url}/.well-known/openid-configuration"
    assert scheme_of(JWTBearer(openid_configuration_url=discovery, algorithms=["RS256"])) == {
        "type": "openIdConnect", "openIdConnectUrl": discovery}
    jwks = scheme_of(JWTBearer(jwks_url=f"{idp.url}/jwks", algorithms=["RS256"]))
    assert (jwks["type"], jwks["scheme"], jwks["bearerFormat"]) == ("http", "bearer", "JWT")
    assert f"{idp.url}/jwks" in jwks["description"]
    assert idp.requests == {}  # documenting fetches nothing


@pytest.mark.parametrize(("options", "message"), [
    ({"key": "-----BEGIN PUBLIC KEY-----", "jwks_url": "https://idp.example/jwks"}, "key= and jwks_url="),
    ({"jwks_url": "https://idp.example/jwks", "openid_configuration_url": "https://idp.example/.well-known"},
     "jwks_url= and openid_configuration_url="),
    ({"jwks_url": "http://idp.example/jwks"}, "not an https:// URL .*127.0.0.1, localhost and ::1"),
    ({"openid_configuration_url": "http://10.0.0.1/.well-known"}, "openid_configuration_url=.*not an https://"),
    ({"jwks_url": "file:///etc/jwks.json"}, "not an https:// URL"),
    ({"jwks_url": "https://idp.example/jwks", "algorithms": ["ES256", "HS256"]}, r"\['HS256'\].*public-key"),
    ({"jwks_url": "https://idp.example/jwks", "algorithms": ["none"]}, "refuses algorithm 'none'"),
    ({"jwks_url": "https://idp.example/jwks", "jwks_ttl": "300"}, r"jwks_ttl='300'\): give a number"),
    ({"jwks_url": "https://idp.example/jwks", "jwks_ttl": float("nan")}, r"jwks_ttl=nan\)"),
    ({"jwks_url": "https://idp.example/jwks", "jwks_cooldown": 0}, r"jwks_cooldown=0\)"),
])
def test_misconfiguration_is_refused_at_construction(options, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        JWTBearer(**{"algorithms": ["ES256"], **options})


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/jwks", "http://localhost/jwks", "http://[::1]:9/jwks",
                                 "https://idp.example/jwks"])
def test_https_or_loopback_urls_are_accepted(url):
    assert JWTBearer(jwks_url=url, algorithms=["ES256"]).jwks.url == url


def test_settings_name_the_jwks_instead_of_a_public_key(idp, key_a):
    idp.publish(key_a)
    with override_settings(JWT_PUBLIC_KEY=None, JWT_JWKS_URL=f"{idp.url}/jwks", JWT_ALGORITHMS=["ES256"],
                           JWT_ISSUER=ISSUER):
        bearer = JWTBearer(audience=AUDIENCE)
        with TestClient(app_for(bearer)) as client:
            assert get(client, key_a.token()).status_code == 200
    assert bearer.key is None and idp.fetches == 1
    with override_settings(JWT_JWKS_URL=f"{idp.url}/jwks"), \
            pytest.raises(ImproperlyConfigured, match="JWT_PUBLIC_KEY and JWT_JWKS_URL both set"):
        JWTBearer()
    with override_settings(JWT_JWKS_URL=f"{idp.url}/jwks"):  # an explicit key= wins over the settings
        assert JWTBearer(key=key_a.private.public_key()).jwks is None


@pytest.mark.parametrize("header", [{"kid": ["a"]}, {"kid": {"a": 1}}, {"kid": "a", "alg": ["ES256"]},
                                    {"kid": "a", "alg": {"ES256": 1}}, {"kid": 7}, {"kid": "a" * 10_000}, {}])
def test_hostile_token_headers_are_a_401(idp, client, key_a, header):
    idp.publish(key_a)
    assert get(client, key_a.token()).status_code == 200
    signed = key_a.token().split(".")
    token = ".".join([b64({"alg": "ES256", "typ": "JWT", **header}), *signed[1:]])
    response = get(client, token)
    assert (response.status_code, response.json()) == (401, {"detail": INVALID_TOKEN})


@pytest.mark.parametrize("published", [[], [{"kty": "oct", "k": "c2VjcmV0", "kid": "a"}]])
def test_keys_the_provider_withdraws_are_refused_after_the_next_fetch(idp, key_a, clock, published):
    """A JWKS the provider serves is its word, even with no key this bearer can use: an
    emergency revocation or a move to another algorithm ends the old key (not a failed fetch)."""
    idp.publish(key_a)
    bearer = bearer_for(idp, clock)
    with TestClient(app_for(bearer)) as client:
        assert get(client, key_a.token()).status_code == 200
        idp.keys = published
        clock.now += 300
        assert get(client, key_a.token()).status_code == 200  # stale keys answer while fetched again
        settled(bearer)
        assert bearer.jwks.keys == {} and bearer.jwks.error is None
        assert get(client, key_a.token()).status_code == 401


def test_a_tarpit_ends_at_the_timeout_and_stale_keys_do_not_wait_for_it(idp, key_a, clock):
    """A provider that sends its headers a byte at a time (each read is quick, the whole never
    ends) is cut off at the timeout; a cached kid does not wait for the refresh at all."""
    idp.publish(key_a)
    bearer = bearer_for(idp, clock)
    bearer.jwks.timeout = 1.5
    with TestClient(app_for(bearer)) as client:
        assert get(client, key_a.token()).status_code == 200
        idp.mode = "trickled headers"
        clock.now += 300
        started = time.monotonic()
        assert get(client, key_a.token()).status_code == 200
        assert time.monotonic() - started < 1  # served from the stale keys
        settled(bearer)
        assert "took more than 1.5 s" in bearer.jwks.error
        clock.now += 30
        started = time.monotonic()
        unknown = get(client, Key("b").token())
        assert unknown.status_code == 503
        assert time.monotonic() - started < 4  # the tarpit would hold it 10 s


def test_keys_without_an_issuer_to_check_are_refused_and_no_audience_is_warned_of(settings, caplog):
    settings.JWT_ISSUER = None
    with pytest.raises(ImproperlyConfigured, match="has no issuer: pass issuer="):
        JWTBearer(jwks_url="https://idp.example/jwks", audience=AUDIENCE, algorithms=["ES256"])
    with caplog.at_level("WARNING", logger="djfapi.auth"):
        JWTBearer(jwks_url="https://idp.example/jwks", issuer=ISSUER, algorithms=["ES256"])
    assert "no audience= accepts tokens the provider issued to any of its applications" in caplog.text
    JWTBearer(openid_configuration_url="https://idp.example/.well-known/openid-configuration",
              audience=AUDIENCE, algorithms=["ES256"])  # the document names the issuer
