"""Unit-test fixtures: an app with no services behind it.

The engine connects lazily, so routes that need no database (the OpenAPI document, input
validation, the CSRF check, sign-in requirements) answer without PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from api.settings import ApiSettings

# Nothing listens here: a test that reaches the database by mistake fails fast.
UNREACHABLE_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1"


@pytest.fixture
def settings() -> ApiSettings:
    return ApiSettings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=UNREACHABLE_DATABASE,
        session_secret="unit-test-session-secret",
        aws_endpoint_url="http://127.0.0.1:9",
        inference_url="http://127.0.0.1:9",
    )


@pytest.fixture
def app(settings: ApiSettings) -> Iterator[Flask]:
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["db_engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def csrf_headers(client: FlaskClient) -> dict[str, str]:
    token = client.get("/api/auth/csrf").get_json()["csrf_token"]
    return {"X-CSRF-Token": token}
