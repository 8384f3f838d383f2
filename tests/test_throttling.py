"""Throttles, as DRF's: anonymous, per user (the token's ``sub``) and scoped rates, counted in
Django's cache (local memory and a real Redis), 429 with ``Retry-After``, a rate missing from
the settings refused at registration."""
from __future__ import annotations

import os
import uuid

import pytest
from django.core.cache import caches
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from djfapi import Router, ViewSet, action
from djfapi.exceptions import ImproperlyConfigured
from djfapi.testing import make_token
from djfapi.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle
from tests.testapp.secured import token

REDIS_URL = "redis://127.0.0.1:6379/0"


class Ping(BaseModel):
    ok: bool


class AnonPing(ViewSet):
    throttle_classes = [AnonRateThrottle]

    def list(self) -> list[Ping]:
        return [Ping(ok=True)]


class UserPing(ViewSet):
    security = token
    throttle_classes = [UserRateThrottle]

    def list(self) -> list[Ping]:
        return [Ping(ok=True)]


class ScopedPing(ViewSet):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "pings"

    def list(self) -> list[Ping]:
        return [Ping(ok=True)]

    @action(detail=False)
    def free(self) -> int:
        return 1

    def get_throttles(self):
        return [] if self.action == "free" else super().get_throttles()


# Hour windows: a window boundary falling inside a test (which would reset the counts) is
# 60 times rarer than with minutes.
RATES = {"anon": "2/hour", "user": "3/hour", "pings": "1/hour"}


@pytest.fixture(params=["locmem", "redis"])
def cache(request, settings):
    prefix = f"djfapi-test-{uuid.uuid4().hex}"
    if request.param == "locmem":
        config = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": prefix}
    else:
        config = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                  "KEY_PREFIX": prefix}
    settings.CACHES = {"default": config}
    settings.DJFAPI = {"DEFAULT_THROTTLE_RATES": RATES}
    if request.param == "redis":
        _require_redis()
    yield caches["default"]
    caches["default"].clear() if request.param == "locmem" else _delete_prefixed(prefix)


def _require_redis():
    try:
        caches["default"].get("probe")
    except Exception as error:  # connection refused: skip, unless Redis is required
        if os.environ.get("DJFAPI_REQUIRE_REDIS") == "1":
            raise
        pytest.skip(f"Redis on 127.0.0.1:6379 is not reachable ({error}); "
                    "DJFAPI_REQUIRE_REDIS=1 fails instead")


def _delete_prefixed(prefix):
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def client_for(*viewsets):
    router = Router()
    for viewset in viewsets:
        router.register(viewset.__name__.lower(), viewset)
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


def test_anonymous_callers_are_refused_past_the_rate_with_retry_after(cache):
    client = client_for(AnonPing)
    assert [client.get("/anonping").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/anonping")
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert 1 <= seconds <= 3600
    assert refused.json() == {"detail": f"Request was throttled. Expected available in {seconds} seconds."}


def test_users_are_counted_by_token_subject(cache):
    client = client_for(UserPing)
    alice = {"Authorization": f"Bearer {make_token(user='alice')}"}
    bob = {"Authorization": f"Bearer {make_token(user='bob')}"}
    assert [client.get("/userping", headers=alice).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get("/userping", headers=bob).status_code == 200


def test_one_subject_in_two_tenants_is_two_callers(cache):
    client = client_for(UserPing)
    victim = {"Authorization": f"Bearer {make_token(user='victim', tenant='a')}"}
    namesake = {"Authorization": f"Bearer {make_token(user='victim', tenant='b')}"}
    assert [client.get("/userping", headers=namesake).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get("/userping", headers=victim).status_code == 200


def test_a_scoped_rate_and_an_action_left_out_by_get_throttles(cache):
    client = client_for(ScopedPing)
    assert [client.get("/scopedping").status_code for _ in range(2)] == [200, 429]
    assert 1 <= int(client.get("/scopedping").headers["Retry-After"]) <= 3600  # to the hour's end
    assert [client.get("/scopedping/free").status_code for _ in range(3)] == [200, 200, 200]


def test_throttle_classes_are_read_per_request_from_the_instance(cache):
    client = client_for(AnonPing)
    AnonPing.throttle_classes = [UserRateThrottle]  # as @action(throttle_classes=...) sets it
    try:
        assert [client.get("/anonping").status_code for _ in range(4)] == [200, 200, 200, 429]
    finally:
        AnonPing.throttle_classes = [AnonRateThrottle]


def test_openapi_shows_429_on_throttled_routes(cache):
    schema = client_for(AnonPing).get("/openapi.json").json()
    assert "429" in schema["paths"]["/anonping"]["get"]["responses"]


@pytest.mark.parametrize("rates", [{}, {"anon": "2/fortnight"}, {"anon": "many/min"}])
def test_a_missing_or_misspelt_rate_fails_at_registration(settings, rates):
    settings.DJFAPI = {"DEFAULT_THROTTLE_RATES": rates}
    with pytest.raises(ImproperlyConfigured, match="AnonRateThrottle.*AnonPing"):
        Router().register("anonping", AnonPing)


def test_x_forwarded_for_is_trusted_only_with_num_proxies(cache, settings):
    client = client_for(AnonPing)
    forwarded = [{"X-Forwarded-For": f"10.0.0.{n}"} for n in range(3)]
    codes = [client.get("/anonping", headers=headers).status_code for headers in forwarded]
    assert codes == [200, 200, 429]  # one client address, whatever the header says
    settings.DJFAPI = {"DEFAULT_THROTTLE_RATES": RATES, "NUM_PROXIES": 1}
    assert client.get("/anonping", headers={"X-Forwarded-For": "10.0.1.9"}).status_code == 200


class BurstPing(ViewSet):
    def list(self) -> list[Ping]:
        return [Ping(ok=True)]

    @action(detail=False, throttle_classes=[ScopedRateThrottle], throttle_scope="pings")
    def burst(self) -> int:
        return 1


def test_an_action_throttles_itself_with_its_own_throttle_classes(cache):
    client = client_for(BurstPing)
    assert [client.get("/burstping/burst").status_code for _ in range(2)] == [200, 429]
    assert [client.get("/burstping").status_code for _ in range(3)] == [200, 200, 200]
    paths = client.get("/openapi.json").json()["paths"]
    assert "429" in paths["/burstping/burst"]["get"]["responses"]
    assert "429" not in paths["/burstping"]["get"]["responses"]


def test_an_actions_throttle_without_a_rate_fails_at_registration(settings):
    settings.DJFAPI = {"DEFAULT_THROTTLE_RATES": {}}

    class Unrated(ViewSet):
        def list(self) -> list[Ping]:
            return []

        @action(detail=False, throttle_classes=[AnonRateThrottle])
        def hot(self) -> int:
            return 1

    with pytest.raises(ImproperlyConfigured, match="AnonRateThrottle"):
        Router().register("unrated", Unrated)


def test_the_limit_holds_across_worker_processes_sharing_redis(tmp_path):
    import httpx

    from tests.serving import ROOT, serve

    prefix = f"djfapi-workers-{uuid.uuid4().hex}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "THROTTLE_REDIS_URL": REDIS_URL,
           "THROTTLE_KEY_PREFIX": prefix}
    try:
        with serve("tests.throttled_workers:app", env=env, log_path=tmp_path / "a.log") as first, \
                serve("tests.throttled_workers:app", env=env, log_path=tmp_path / "b.log") as second:
            answers = [httpx.get(f"{server.base_url}/worker", timeout=10)
                       for server in (first, second, first, second, first, second, first)]
    except AssertionError as error:
        if "Connection refused" in str(error) and os.environ.get("DJFAPI_REQUIRE_REDIS") != "1":
            pytest.skip(f"Redis on 127.0.0.1:6379 is not reachable: {error}")
        raise
    finally:
        _delete_prefixed(prefix)
    assert [answer.status_code for answer in answers] == [200] * 5 + [429, 429]  # 5/hour in all
    assert len({answer.json()[0] for answer in answers[:2]}) == 2  # two processes answered


def test_a_cache_that_cannot_count_is_a_503_with_retry_after(settings):
    # Redis down: a port nothing listens on (a real RedisCache, its real connection error).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    settings.DJFAPI = {"DEFAULT_THROTTLE_RATES": RATES}
    client = client_for(AnonPing)
    response = client.get("/anonping")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json() == {"detail": "The request counts are unavailable; try again shortly."}
