"""JWTBearer: every way a token can be wrong is the same 401 (WWW-Authenticate: Bearer
error="invalid_token", expiry alone told apart); a claim of the wrong type is such a token; a
valid token without the action's scopes is a 403 naming them; decoding touches no database."""

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.test import override_settings

from djfapi.exceptions import ImproperlyConfigured
from djfapi.permissions import JWTBearer
from djfapi.permissions.jwt import INVALID_TOKEN
from djfapi.testing import Client, make_token
from tests.testapp import secured
from tests.testapp.factories import CompanyFactory

READ = ["business.companies.read.any"]


@pytest.fixture
def client(secured_app):
    return Client(secured_app, share_connections=False)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def other_key() -> str:
    return ec.generate_private_key(ec.SECP521R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def unsigned_token() -> str:
    claims = {"sub": "u", "ten": "tenant-a", "scope": " ".join(READ), "exp": int(time.time()) + 60,
              "iss": settings.JWT_ISSUER}
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def hs256_with_public_key() -> str:
    """The classic key-confusion attack: HS256 "signed" with the server's public key."""
    import hashlib
    import hmac

    claims = {"sub": "u", "ten": "tenant-a", "scope": " ".join(READ), "exp": int(time.time()) + 60,
              "iss": settings.JWT_ISSUER}
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims)}"
    signature = hmac.new(settings.JWT_PUBLIC_KEY.encode(), signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{base64.urlsafe_b64encode(signature.digest()).rstrip(b'=').decode()}"


def signed_raw(**claims) -> str:
    """A properly signed token whose claims PyJWT's encoder would refuse to write."""
    payload = {"sub": "u", "ten": "tenant-a", "scope": " ".join(READ), "exp": int(time.time()) + 60,
               "iss": settings.JWT_ISSUER, **claims}
    return jwt.api_jws.encode(json.dumps(payload).encode(), settings.JWT_PRIVATE_KEY, algorithm="ES512")


def test_a_bearer_may_accept_tokens_without_a_user():
    bearer = JWTBearer(require_sub=False)
    claims = bearer.decode(make_token(READ, tenant="tenant-a", user=None))
    bearer.check_claims(claims)  # no error: a service token
    assert "sub" not in claims


BAD_TOKENS = {
    "malformed": lambda: "not.a.token",
    "garbage": lambda: "abc",
    "bad signature": lambda: make_token(READ, tenant="tenant-a", key=other_key()),
    "expired": lambda: make_token(READ, tenant="tenant-a", expires_in=-10),
    "not yet valid": lambda: make_token(READ, tenant="tenant-a", nbf=int(time.time()) + 3600),
    "wrong issuer": lambda: make_token(READ, tenant="tenant-a", iss="https://evil.example"),
    "no issuer": lambda: make_token(READ, tenant="tenant-a", iss=None),
    "alg none": unsigned_token,
    "HS256 with the public key": hs256_with_public_key,
    "no exp": lambda: make_token(READ, tenant="tenant-a", exp=None),
    # claims djfapi reads, of the wrong type: never a made-up tenant, user or scope, never a 500
    "tenant as a list": lambda: make_token(READ, tenant=["tenant-a"]),
    "tenant as a number": lambda: make_token(READ, tenant=7),
    "tenant empty": lambda: make_token(READ, tenant=""),
    "tenant as an object": lambda: make_token(READ, tenant={"id": "tenant-a"}),
    "sub as a number": lambda: make_token(READ, tenant="tenant-a", user=12),
    "sub as a list": lambda: make_token(READ, tenant="tenant-a", user=["u"]),
    "scope as an int": lambda: make_token(READ, tenant="tenant-a", scope=7),
    "scope as a bool": lambda: make_token(READ, tenant="tenant-a", scope=True),
    "scope as a dict": lambda: make_token(READ, tenant="tenant-a", scope={READ[0]: True}),
    "scope list with a number": lambda: make_token(READ, tenant="tenant-a", scope=[READ[0], 1]),
    "exp as a string": lambda: make_token(READ, tenant="tenant-a", exp="tomorrow"),
    "iss as a list": lambda: signed_raw(iss=[settings.JWT_ISSUER]),
    "nbf as a string": lambda: make_token(READ, tenant="tenant-a", nbf="now"),
    "no tenant where tenancy applies": lambda: make_token(READ, tenant=None),
    "tenant with a NUL": lambda: make_token(READ, tenant="tenant-a\x00"),
    "sub with a NUL": lambda: make_token(READ, tenant="tenant-a", user="u\x00"),
    "tenant with a lone surrogate": lambda: signed_raw(ten="tenant-\ud800"),
    "sub with a lone surrogate": lambda: signed_raw(sub="\udfff"),
    "no sub": lambda: make_token(READ, tenant="tenant-a", user=None),
    "exp as a numeric string": lambda: signed_raw(exp=str(int(time.time()) + 60)),
    "exp as true": lambda: signed_raw(exp=True),
    "nbf as true": lambda: signed_raw(nbf=True),
    "iat as a string": lambda: signed_raw(iat="0"),
    "exp beyond a float": lambda: signed_raw(exp=10**400),
    "iat beyond a float": lambda: signed_raw(iat=-(10**400)),
    "nbf beyond a float": lambda: signed_raw(nbf=-(10**400)),
}


@pytest.mark.parametrize("name", list(BAD_TOKENS))
def test_bad_tokens_are_one_401_with_a_bearer_challenge(client, name, query_log, caplog):
    token = BAD_TOKENS[name]()
    with caplog.at_level("DEBUG", logger="djfapi.auth"):
        response = client.get("/api/companies", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": INVALID_TOKEN}  # the same body whatever failed
    challenge = 'Bearer error="invalid_token"'
    if name == "expired":  # told apart in the header alone (RFC 6750), so clients know to refresh
        challenge += ', error_description="The token has expired."'
    assert response.headers["WWW-Authenticate"] == challenge
    assert query_log == []  # refused before any database work
    assert [r.message for r in caplog.records if r.name == "djfapi.auth"]  # the reason is logged


def test_a_scope_list_of_strings_and_a_tenant_string_pass(client):
    CompanyFactory(tenant_id="tenant-a", name="Acme")
    token = make_token(READ, tenant="tenant-a", scope=READ)
    response = client.get("/api/companies", headers={"Authorization": f"Bearer {token}"})
    assert [c["name"] for c in response.json()["items"]] == ["Acme"]


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwdw==", "Token abc"])
def test_missing_token_is_401(client, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/companies", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated: send `Authorization: Bearer <token>`."}


def test_wrong_audience_is_401():
    guarded = JWTBearer(audience="https://api.djfapi.test")
    ok = make_token(READ, aud="https://api.djfapi.test")
    wrong = make_token(READ, aud="https://other.example")
    assert guarded.decode(ok)["aud"] == "https://api.djfapi.test"
    with pytest.raises(jwt.InvalidAudienceError):
        guarded.decode(wrong)


def test_audience_is_checked_over_http(client, monkeypatch):
    monkeypatch.setattr(secured.token, "audience", "https://api.djfapi.test")
    good = make_token(READ, tenant="tenant-a", aud="https://api.djfapi.test")
    bad = make_token(READ, tenant="tenant-a", aud="https://other.example")
    assert client.get("/api/companies", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    response = client.get("/api/companies", headers={"Authorization": f"Bearer {bad}"})
    assert response.status_code == 401
    assert response.json() == {"detail": INVALID_TOKEN}


def test_token_without_the_actions_scopes_is_403_naming_them(client):
    client.authenticate(["business.companies.create"], tenant="tenant-a")
    response = client.get("/api/companies")
    assert response.status_code == 403
    assert response.json() == {"detail": "The token holds none of the scopes this action needs: "
                                         "business.companies.read.any, business.companies.read.own."}
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_any_one_listed_scope_grants(client):
    CompanyFactory(tenant_id="tenant-a")
    for scope in ("business.companies.read.any", "business.companies.read.own"):
        client.authenticate([scope], tenant="tenant-a")
        assert client.get("/api/companies").status_code == 200


def test_scopes_may_come_as_a_list_or_from_aud():
    bearer = JWTBearer(scopes_claim="aud")
    token = make_token(READ, scopes_claim="aud")
    claims = bearer.decode(token)
    assert bearer.granted_scopes(claims) == frozenset(READ)
    as_list = JWTBearer()
    assert as_list.granted_scopes({"scope": ["a.b.c", "d.e.f"]}) == {"a.b.c", "d.e.f"}
    assert as_list.granted_scopes({"scope": "a.b.c d.e.f"}) == {"a.b.c", "d.e.f"}


def test_settings_are_the_defaults():
    bearer = JWTBearer()
    assert (bearer.key, bearer.issuer, bearer.algorithms) == (
        settings.JWT_PUBLIC_KEY, settings.JWT_ISSUER, ["ES512"])


def test_no_algorithms_anywhere_refuses_to_start():
    with override_settings(JWT_ALGORITHMS=None), pytest.raises(ImproperlyConfigured, match="no algorithms"):
        JWTBearer()
    with pytest.raises(ImproperlyConfigured, match="refuses algorithm 'none'"):
        JWTBearer(algorithms=["none"])


def test_the_0_0_x_token_scheme_may_accept_tokens_without_a_user_too():
    from djfapi.security.jwt import JWTToken

    token = make_token(READ, tenant="tenant-a", user=None, scopes_claim="aud")
    JWTToken(require_sub=False).check_claims(JWTToken().decode(token))
    with pytest.raises(Exception, match="no 'sub' claim"):
        JWTToken().check_claims(JWTToken().decode(token))
