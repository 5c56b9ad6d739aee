"""Hostile input from the OpenAPI schema itself: no 500, and every answer as documented.

Schemathesis reads ``/api/schema/`` from the WSGI application in-process (no network) and
generates valid and invalid requests for every operation, sent as a member and as a finance
user. Each response must not be a server error and must conform to the schema: a documented
status code and content type, documented headers, and a body of the documented shape.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import client_for, staff
from tests.factories import MemberFactory, TariffFactory, VehicleFactory, ZoneFactory
from tests.hostile.conftest import SENT

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# About 23 operations x 2 roles: a few hundred generated requests, plus schemathesis'
# deterministic examples and boundary cases.
EXAMPLES_PER_OPERATION = 5
HYPOTHESIS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def keep_the_test_transaction():
    """Keep each in-process request inside the test's transaction, as Django's test client does.

    A real WSGI request closes "old" connections when it starts and finishes; inside the
    test's transaction that would close the test's own connection on PostgreSQL.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db, keep_the_test_transaction):
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    VehicleFactory(zone=zone)
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


def _authorization(user) -> str:
    return client_for(user)._credentials["HTTP_AUTHORIZATION"]


@pytest.fixture
def member_authorization(db):
    return _authorization(MemberFactory().user)


@pytest.fixture
def finance_authorization(db):
    return _authorization(staff("finance"))


def call_and_check(case, *, role: str, authorization: str) -> None:
    headers = {"Authorization": authorization}
    response = case.call(headers=headers)
    SENT[role, response.status_code] += 1
    case.validate_response(response, checks=CHECKS, headers=headers)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@HYPOTHESIS
def test_every_operation_as_a_member_answers_as_documented(case, member_authorization):
    call_and_check(case, role="member", authorization=member_authorization)


@schema.parametrize()
@HYPOTHESIS
def test_every_operation_as_finance_answers_as_documented(case, finance_authorization):
    call_and_check(case, role="finance", authorization=finance_authorization)


@pytest.mark.parametrize(
    "path", ["/api/rentals/-1/", "/api/rentals/abc/end/", "/api/zones/a,b/", "/api/nothing/"]
)
def test_a_malformed_id_in_an_api_path_gets_a_json_404(member_client, path):
    response = member_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
