"""Accounts as a browser meets them: register, sign in and out, sessions, CSRF, throttling."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from api.settings import ApiSettings


def _flags(response, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header.lower()
    raise AssertionError(f"no {name} cookie set: {response.headers.getlist('Set-Cookie')}")


def _session_token(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


# --- registration and sign-in -------------------------------------------------------------


def test_registering_signs_the_new_investor_in(client: FlaskClient, auth) -> None:
    response = auth.register(
        client, email="  New.Investor@Example.COM ", password="a long password"
    )
    assert response.status_code == 201
    account = response.get_json()
    assert account["email"] == "new.investor@example.com"
    assert set(account) == {"id", "email", "created_at"}
    me = client.get("/api/auth/me")
    assert me.status_code == 200
    assert me.get_json() == account


def test_an_investor_signs_in_with_any_case_of_their_email(app: Flask, auth) -> None:
    first = app.test_client()
    account = auth.register_and_login(first, email="carol@example.com")
    browser = app.test_client()
    assert browser.get("/api/auth/me").status_code == 401
    response = auth.login(browser, "CAROL@example.com")
    assert response.status_code == 200
    assert response.get_json()["id"] == account["id"]
    assert browser.get("/api/auth/me").get_json()["email"] == "carol@example.com"


def test_wrong_password_and_unknown_email_get_the_same_answer(app: Flask, auth) -> None:
    auth.register_and_login(app.test_client(), email="dave@example.com")
    browser = app.test_client()
    wrong_password = auth.login(browser, "dave@example.com", "not the password")
    unknown_email = auth.login(browser, "nobody@example.com", "not the password")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.get_json() == unknown_email.get_json()
    assert wrong_password.get_json()["error"]["code"] == "invalid_credentials"
    assert browser.get_cookie("session") is None
    assert browser.get("/api/auth/me").status_code == 401


def test_an_email_can_hold_only_one_account(client: FlaskClient, auth) -> None:
    auth.register_and_login(client, email="erin@example.com")
    again = auth.register(client, email="Erin@Example.com", password="another password")
    assert again.status_code == 409
    assert again.get_json()["error"]["field"] == "email"


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"email": "frank@example.com", "password": "short"}, "password", "10 to 128"),
        ({"email": "frank@example.com", "password": "x" * 129}, "password", "10 to 128"),
        ({"email": "not-an-email", "password": "a long password"}, "email", "email address"),
        ({"email": "frank@example.com"}, "password", "required"),
        (
            {"email": "frank@example.com", "password": "a long password", "admin": True},
            "admin",
            "not permitted",
        ),
    ],
)
def test_registration_explains_what_is_wrong(
    client: FlaskClient, auth, payload, field, words
) -> None:
    response = client.post("/api/auth/register", json=payload, headers=auth.csrf(client))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["field"] == field
    assert words in error["message"].lower()


def test_passwords_are_stored_as_argon2id_hashes(client: FlaskClient, auth, db_url: str) -> None:
    auth.register_and_login(client, email="grace@example.com", password="my secret phrase")
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT password_hash FROM users WHERE email = 'grace@example.com'")
        ).scalar_one()
    engine.dispose()
    assert stored.startswith("$argon2id$")
    assert "my secret phrase" not in stored


def test_signing_in_upgrades_a_hash_made_with_old_parameters(app: Flask, auth, db_url: str) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("an old password")
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO users (email, password_hash) VALUES (:e, :h)"),
            {"e": "henry@example.com", "h": weak},
        )
    browser = app.test_client()
    assert auth.login(browser, "henry@example.com", "an old password").status_code == 200
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT password_hash FROM users WHERE email = 'henry@example.com'")
        ).scalar_one()
    engine.dispose()
    assert stored != weak
    assert not PasswordHasher().check_needs_rehash(stored)
    # …and the new hash still opens the account.
    assert auth.login(app.test_client(), "henry@example.com", "an old password").status_code == 200


# --- sessions -----------------------------------------------------------------------------


def test_signing_out_ends_the_session_on_the_server(app: Flask, auth) -> None:
    browser = app.test_client()
    auth.register_and_login(browser)
    stolen = _session_token(browser)
    assert stolen

    response = auth.logout(browser)
    assert response.status_code == 204
    assert "max-age=0" in _flags(response, "session") or "expires=thu, 01 jan 1970" in _flags(
        response, "session"
    )
    assert browser.get("/api/auth/me").status_code == 401

    # Replaying the old cookie from elsewhere no longer works either.
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/api/auth/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_the_session_cookie_is_a_random_token_stored_only_hashed(
    client: FlaskClient, auth, db_url: str
) -> None:
    account = auth.register_and_login(client)
    token = _session_token(client)
    assert token and len(token) >= 43
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT token_hash, user_id, expires_at - created_at AS life FROM sessions")
        ).all()
    engine.dispose()
    assert [(r.token_hash, r.user_id) for r in rows] == [
        (hashlib.sha256(token.encode()).hexdigest(), account["id"])
    ]
    assert rows[0].life.days == 14


def test_an_expired_session_signs_no_one_in(client: FlaskClient, auth, db_url: str) -> None:
    auth.register_and_login(client)
    assert client.get("/api/auth/me").status_code == 200
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE sessions SET expires_at = now() - interval '1 second'"))
    engine.dispose()
    assert client.get("/api/auth/me").status_code == 401


def test_signing_in_replaces_the_browsers_previous_session(app: Flask, auth) -> None:
    browser = app.test_client()
    account = auth.register_and_login(browser)
    before = _session_token(browser)
    assert auth.login(browser, account["email"]).status_code == 200
    after = _session_token(browser)
    assert after and after != before
    old = app.test_client()
    old.set_cookie("session", before or "")
    assert old.get("/api/auth/me").status_code == 401
    assert browser.get("/api/auth/me").status_code == 200


def test_each_client_sees_its_own_account(client: FlaskClient, second_client, auth) -> None:
    mine = auth.register_and_login(client)
    assert client.get("/api/auth/me").get_json()["id"] == mine["id"]
    assert second_client.get("/api/auth/me").get_json()["id"] == second_client.user["id"]
    assert mine["id"] != second_client.user["id"]


def test_a_forged_session_cookie_is_ignored(client: FlaskClient) -> None:
    client.set_cookie("session", secrets.token_urlsafe(32))
    assert client.get("/api/auth/me").status_code == 401
    client.set_cookie("session", "x" * 500)
    assert client.get("/api/auth/me").status_code == 401


# --- cookies' flags -----------------------------------------------------------------------


def test_cookies_are_httponly_samesite_and_not_secure_in_development(
    client: FlaskClient, auth
) -> None:
    csrf = client.get("/api/auth/csrf")
    csrf_flags = _flags(csrf, "csrf_token")
    assert "samesite=lax" in csrf_flags
    assert "httponly" not in csrf_flags  # the page must read it
    assert "secure" not in csrf_flags
    response = auth.register(client)
    session_flags = _flags(response, "session")
    assert "httponly" in session_flags
    assert "samesite=lax" in session_flags
    assert "path=/" in session_flags
    assert "secure" not in session_flags


def test_cookies_are_secure_in_production(api_settings: ApiSettings, auth) -> None:
    production = api_settings.model_copy(update={"environment": "production"})
    app = create_app(production)
    try:
        browser = app.test_client()
        csrf = browser.get("/api/auth/csrf")
        assert "secure" in _flags(csrf, "csrf_token")
        token = csrf.get_json()["csrf_token"]
        response = browser.post(
            "/api/auth/register",
            json={"email": auth.new_email(), "password": auth.password},
            headers={"X-CSRF-Token": token},
        )
        assert response.status_code == 201
        flags = _flags(response, "session")
        assert "secure" in flags
        assert "httponly" in flags
        assert "samesite=lax" in flags
    finally:
        app.extensions["db_engine"].dispose()


# --- CSRF ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/auth/register", {"email": "ivy@example.com", "password": "a long password"}),
        ("POST", "/api/auth/login", {"email": "ivy@example.com", "password": "a long password"}),
        ("POST", "/api/auth/logout", None),
        ("POST", "/api/portfolios", {"name": "Growth"}),
        ("PUT", "/api/watchlist", {"tickers": []}),
        ("PUT", "/api/anything", {}),
        ("PATCH", "/api/anything", {}),
        ("DELETE", "/api/anything", None),
    ],
)
def test_state_changing_requests_without_the_csrf_token_are_refused(
    app: Flask, auth, method: str, path: str, body: object
) -> None:
    browser = app.test_client()
    auth.register_and_login(browser)
    token = browser.get("/api/auth/csrf").get_json()["csrf_token"]
    cases = {
        "no header": {},
        "wrong header": {"X-CSRF-Token": auth.csrf(app.test_client())["X-CSRF-Token"]},
        "empty header": {"X-CSRF-Token": ""},
    }
    for case, headers in cases.items():
        response = browser.open(path, method=method, json=body, headers=headers)
        assert response.status_code == 403, case
        assert response.get_json()["error"]["code"] == "csrf_failed", case
    # The session survived every refused attempt (logout did not happen).
    assert browser.get("/api/auth/me").status_code == 200
    # With the right header the request gets past the CSRF check.
    response = browser.open(path, method=method, json=body, headers={"X-CSRF-Token": token})
    assert response.status_code != 403


def test_a_cookie_and_header_pair_made_up_by_an_attacker_is_refused(client: FlaskClient) -> None:
    forged = secrets.token_urlsafe(18) + "." + "0" * 64
    client.set_cookie("csrf_token", forged)
    response = client.post(
        "/api/auth/register",
        json={"email": "judy@example.com", "password": "a long password"},
        headers={"X-CSRF-Token": forged},
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_the_csrf_token_is_kept_across_calls_and_reads_need_none(client: FlaskClient) -> None:
    first = client.get("/api/auth/csrf").get_json()["csrf_token"]
    second = client.get("/api/auth/csrf").get_json()["csrf_token"]
    assert first == second
    assert client.get_cookie("csrf_token").value == first
    assert client.get("/api/health").status_code == 200


# --- throttling ---------------------------------------------------------------------------


def test_repeated_sign_in_attempts_are_throttled(api_settings: ApiSettings, auth) -> None:
    app = create_app(api_settings.model_copy(update={"auth_rate_limit": "3 per minute"}))
    try:
        browser = app.test_client()
        headers = auth.csrf(browser)
        attempt = {"email": "mallory@example.com", "password": "guess number one"}
        statuses = [
            browser.post("/api/auth/login", json=attempt, headers=headers).status_code
            for _ in range(3)
        ]
        assert statuses == [401, 401, 401]
        blocked = browser.post("/api/auth/login", json=attempt, headers=headers)
        assert blocked.status_code == 429
        assert blocked.get_json()["error"]["code"] == "too_many_requests"
        assert "try again" in blocked.get_json()["error"]["message"]
        assert int(blocked.headers["Retry-After"]) > 0
        # A made-up X-Forwarded-For does not get around the limit: no proxy is trusted.
        spoofed = browser.post(
            "/api/auth/login",
            json=attempt,
            headers={**headers, "X-Forwarded-For": "198.51.100.7"},
        )
        assert spoofed.status_code == 429
        # Another address is not throttled by this one's attempts.
        other = browser.post(
            "/api/auth/login",
            json=attempt,
            headers=headers,
            environ_base={"REMOTE_ADDR": "198.51.100.8"},
        )
        assert other.status_code == 401
    finally:
        app.extensions["db_engine"].dispose()


def test_behind_a_trusted_proxy_the_appended_address_counts(
    api_settings: ApiSettings, auth
) -> None:
    app = create_app(
        api_settings.model_copy(update={"auth_rate_limit": "1 per minute", "trusted_proxy_hops": 1})
    )
    try:
        browser = app.test_client()
        headers = auth.csrf(browser)
        attempt = {"email": "mallory@example.com", "password": "guess number one"}

        def login_from(address: str) -> int:
            return browser.post(
                "/api/auth/login",
                json=attempt,
                headers={**headers, "X-Forwarded-For": f"203.0.113.9, {address}"},
            ).status_code

        assert login_from("198.51.100.1") == 401
        assert login_from("198.51.100.1") == 429
        assert login_from("198.51.100.2") == 401
    finally:
        app.extensions["db_engine"].dispose()


def test_registration_is_throttled_too(api_settings: ApiSettings, auth) -> None:
    app = create_app(api_settings.model_copy(update={"auth_rate_limit": "2 per minute"}))
    try:
        browser = app.test_client()
        headers = auth.csrf(browser)
        codes = [
            browser.post(
                "/api/auth/register",
                json={"email": auth.new_email(), "password": auth.password},
                headers=headers,
            ).status_code
            for _ in range(3)
        ]
        assert codes == [201, 201, 429]
    finally:
        app.extensions["db_engine"].dispose()


# --- start-up -----------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["change-me", "development"])
def test_a_placeholder_session_secret_stops_start_up_outside_development(
    db_url: str, secret: str, tmp_path: Path
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SESSION_SECRET", "ENVIRONMENT"}
    }
    env.update(
        ENVIRONMENT="production",
        SESSION_SECRET=secret,
        DATABASE_URL=db_url,
        API_PORT="1",  # never reached: the settings are refused first
    )
    serve = Path(sys.executable).with_name("api-serve")
    result = subprocess.run(
        [str(serve)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "SESSION_SECRET" in lines[0]
    assert "placeholder" in lines[0]


def test_the_local_stack_runs_the_api_with_a_secret_of_its_own(
    pg_url: str, s3_endpoint: str, tmp_path: Path
) -> None:
    from sqlalchemy.engine import make_url

    from devstack.config import StackSettings
    from devstack.services import api_server
    from devstack.waiting import free_port, port_accepts

    settings = StackSettings(
        _env_file=None,  # type: ignore[call-arg]
        aia_var_dir=tmp_path,
        pgport=make_url(pg_url).port,
        aia_s3_port=int(s3_endpoint.rsplit(":", 1)[1]),
        aia_api_port=free_port(),
        aia_inference_port=free_port(),
    )
    service = api_server(settings)
    assert service.start() is True
    try:
        with urllib.request.urlopen(service.url + "/api/health", timeout=10) as response:
            health = json.loads(response.read())
        assert health["database"]["status"] == "ok"
        secret_file = tmp_path / "session_secret"
        assert secret_file.stat().st_mode & 0o777 == 0o600
        secret = secret_file.read_text().strip()
        assert len(secret) >= 32
        # Already healthy: a second start leaves it alone and keeps the secret.
        assert service.start() is False
        assert secret_file.read_text().strip() == secret
    finally:
        assert service.stop() is True
    assert not port_accepts(settings.host, settings.aia_api_port)
    assert "Shutting down" in service.log_file.read_text() or "Handling signal" in (
        service.log_file.read_text()
    )
