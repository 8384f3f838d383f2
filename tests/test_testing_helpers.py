"""djfapi.testing: tokens, an authenticating client, and requests that see the test's own
transaction (pytest-django's `db` fixture and django.test.TestCase)."""

import threading

import pytest
from django.db import connections
from django.test import TestCase

from djfapi import request_signalling
from djfapi.testing import Client, make_token, shared_test_connections
from tests.testapp import models, secured
from tests.testapp.factories import CompanyFactory

READ_AND_CREATE = ["business.companies.read.any", "business.companies.create"]


def test_make_token_claims():
    from djfapi.permissions import JWTBearer

    claims = JWTBearer().decode(make_token(["a.b.c"], tenant="t1", user="u1", extra="x"))
    assert (claims["sub"], claims["ten"], claims["scope"], claims["extra"]) == ("u1", "t1", "a.b.c", "x")
    assert claims["exp"] > claims["iat"]


@pytest.mark.django_db
def test_pytest_django_db_data_is_visible_to_the_api(db, secured_app):
    CompanyFactory(tenant_id="t1", name="Made in the test")
    client = Client(secured_app).authenticate(READ_AND_CREATE, tenant="t1")
    assert [c["name"] for c in client.get("/api/companies").json()["items"]] == ["Made in the test"]
    assert client.post("/api/companies", json={"name": "Made by the API"}).status_code == 201
    assert models.Company.objects.count() == 2  # the test sees the API's write too


@pytest.mark.django_db
def test_without_sharing_the_api_cannot_see_the_tests_data(db, secured_app):
    CompanyFactory(tenant_id="t1")
    client = Client(secured_app, share_connections=False).authenticate(READ_AND_CREATE, tenant="t1")
    assert client.get("/api/companies").json()["total"] == 0  # fastapi#2075


def test_other_threads_use_the_tests_connections_only_for_their_orm_work():
    """What runs inside request_signalling() (a request's hop) uses them; the thread then gets
    its own back, as Django's live server threads take the test's over."""
    seen = {}

    def hop():
        with request_signalling():
            seen["inside"] = connections["default"]
        seen["after"] = connections["default"]

    with shared_test_connections():
        thread = threading.Thread(target=hop)
        thread.start()
        thread.join()
    assert seen["inside"] is connections["default"]
    assert seen["after"] is not connections["default"]


def test_the_previous_tests_were_rolled_back():
    assert not models.Company.objects.exists()


class CompanyApiTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        CompanyFactory(tenant_id="t1", name="From setUpTestData")

    def setUp(self):
        self.client_api = Client(secured.create_app()).authenticate(READ_AND_CREATE, tenant="t1")

    def test_a_sees_class_data_and_writes(self):
        body = self.client_api.get("/api/companies").json()
        self.assertEqual([c["name"] for c in body["items"]], ["From setUpTestData"])
        response = self.client_api.post("/api/companies", json={"name": "Written in test a"})
        self.assertEqual(response.status_code, 201)
        self.assertEqual(models.Company.objects.count(), 2)

    def test_b_the_write_of_test_a_was_rolled_back(self):
        self.assertEqual(self.client_api.get("/api/companies").json()["total"], 1)
