"""The accounts routes' guards, without a database: CSRF, sign-in required, input errors."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_the_csrf_endpoint_sets_a_readable_cookie_with_the_same_value(client: FlaskClient) -> None:
    response = client.get("/api/auth/csrf")
    assert response.status_code == 200
    token = response.get_json()["csrf_token"]
    cookie = client.get_cookie("csrf_token")
    assert cookie is not None and cookie.value == token
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("csrf_token"))
    assert "HttpOnly" not in header
    assert "SameSite=Lax" in header


def test_posting_without_the_csrf_header_is_forbidden(client: FlaskClient) -> None:
    client.get("/api/auth/csrf")
    response = client.post("/api/auth/login", json={"email": "a@example.com", "password": "x"})
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "csrf_failed"
    assert "X-CSRF-Token" in error["message"]


def test_a_header_without_the_cookie_is_forbidden(client: FlaskClient) -> None:
    token = client.get("/api/auth/csrf").get_json()["csrf_token"]
    client.delete_cookie("csrf_token")
    response = client.post("/api/auth/logout", headers={"X-CSRF-Token": token})
    assert response.status_code == 403


def test_bad_input_is_a_422_naming_the_field_before_any_database_work(
    client: FlaskClient, csrf_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/auth/register",
        json={"email": "a@example.com", "password": "short"},
        headers=csrf_headers,
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "password"
    response = client.post("/api/auth/login", data="not json", headers=csrf_headers)
    assert response.status_code == 415


def test_who_am_i_needs_a_session(client: FlaskClient) -> None:
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"
