"""The OpenAPI document is valid, complete, and true: generated requests never get a 5xx.

The schemathesis run covers every operation the app serves when the suite runs, signed in
as a user with the CSRF header set, with a bounded number of examples per operation.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

# Enough to hit every validation branch of each operation; the whole run stays around a
# minute however many operations the API grows.
EXAMPLES_PER_OPERATION = 12
SEEDED_TICKERS = ("AAPL", "MSFT", "IBM")


def _rule_to_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>", r"{\1}", rule)


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_the_document_covers_every_api_route(app: Flask, client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    served = {
        (method.lower(), _rule_to_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {(method, path) for path, ops in paths.items() for method in ops}
    assert served - documented == set()
    assert documented - served == set()


def test_the_docs_page_renders_the_document(client: FlaskClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "/api/openapi.json" in response.get_data(as_text=True)


# --- the generated run --------------------------------------------------------------------


@pytest.fixture
def signed_in(app: Flask, auth: Any, seed_bars: Any) -> dict[str, str]:
    """The cookies of a signed-in browser (session and CSRF token); market data to read."""
    for ticker in SEEDED_TICKERS:
        seed_bars.walk(ticker, 260)
    browser = app.test_client()
    auth.register_and_login(browser)
    token = auth.csrf(browser)["X-CSRF-Token"]
    session = browser.get_cookie("session")
    assert session is not None
    return {"session": session.value, "csrf_token": token}


def _run_operation(operation: Any, cookies: dict[str, str], unavailable_ok: bool) -> None:
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        # Generated cookies and CSRF headers would replace the signed-in ones: ours win.
        case.headers = {
            key: value
            for key, value in (case.headers or {}).items()
            if key.lower() not in {"cookie", "x-csrf-token"}
        }
        case.cookies = dict(cookies)
        response = case.call(headers={"X-CSRF-Token": cookies["csrf_token"]})
        if unavailable_ok and response.status_code == 503:
            return
        case.validate_response(response, checks=[not_a_server_error])

    run()


def test_no_generated_request_gets_a_server_error(app: Flask, signed_in: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    document = app.test_client().get("/api/openapi.json").get_json()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    failures = []
    # Signing out mid-run would leave the operations after it unauthenticated: it goes last.
    operations.sort(key=lambda operation: operation.path == "/api/auth/logout")
    for operation in operations:
        try:
            # No model server runs here, so an operation that documents a 503 for an
            # unavailable dependency may answer it; any other 5xx is a failure.
            documented = document["paths"][operation.path][operation.method.lower()]["responses"]
            _run_operation(operation, signed_in, unavailable_ok="503" in documented)
        # Check failures come as a BaseExceptionGroup; every failing operation is reported.
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
