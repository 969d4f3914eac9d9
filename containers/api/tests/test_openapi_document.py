"""The OpenAPI document: valid 3.1, and it describes every /api route the app serves."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate


def _document(client: FlaskClient) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document: dict = response.get_json()  # type: ignore[type-arg]
    return document


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    document = _document(client)
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_api_route_is_described(app: Flask, client: FlaskClient) -> None:
    paths = _document(client)["paths"]
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:  # type: ignore[operator]
            assert method.lower() in paths.get(path, {}), f"{method} {path} is undocumented"


def test_the_accounts_operations_say_how_to_authenticate(client: FlaskClient) -> None:
    document = _document(client)
    paths = document["paths"]
    login = paths["/api/auth/login"]["post"]
    assert login["security"] == [{"csrfHeader": []}]
    assert {"401", "403", "422", "429"} <= set(login["responses"])
    assert paths["/api/auth/register"]["post"]["responses"]["201"]
    assert "409" in paths["/api/auth/register"]["post"]["responses"]
    assert paths["/api/auth/me"]["get"]["security"] == [{"sessionCookie": []}]
    assert "security" not in paths["/api/auth/csrf"]["get"]
    schemes = document["components"]["securitySchemes"]
    assert schemes["sessionCookie"] == {"type": "apiKey", "in": "cookie", "name": "session"}
    assert schemes["csrfHeader"]["name"] == "X-CSRF-Token"
