"""``/api/auth``: register, sign in and out, who am I, the CSRF token.

The blueprint also installs two app-wide hooks, so every feature is covered without its
code doing anything: the CSRF check on state-changing requests, and loading the signed-in
user from the session cookie into ``g.user_id``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, after_this_request, current_app, g, request

from api import db
from api.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, current_user_id, security, service
from api.auth.schemas import Account, Credentials, CsrfToken, Registration
from api.errors import ApiError
from api.extensions import limiter
from api.openapi import operation
from api.settings import ApiSettings

bp = Blueprint("auth", __name__, url_prefix="/api/auth")

_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A session token is 43 characters; anything much longer is not one of ours.
_MAX_TOKEN_LENGTH = 128


def _settings() -> ApiSettings:
    settings: ApiSettings = current_app.config["SETTINGS"]
    return settings


# --- hooks on every request --------------------------------------------------------------


@bp.before_app_request
def require_csrf_token() -> None:
    """Double submit: the ``X-CSRF-Token`` header must repeat the ``csrf_token`` cookie, and
    the cookie must be one this server minted. A cross-site form can send the cookie but
    can neither read it nor set the header."""
    if request.method not in _STATE_CHANGING or not request.path.startswith("/api/"):
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if (
        not cookie
        or not header
        or not security.same_token(cookie, header)
        or not security.csrf_token_is_genuine(cookie, _settings().session_secret)
    ):
        raise ApiError(
            403,
            "csrf_failed",
            f"missing or wrong CSRF token: GET /api/auth/csrf and send its value "
            f"in the {CSRF_HEADER} header",
        )


@bp.before_app_request
def load_signed_in_user() -> None:
    """``g.user_id`` = the owner of the session cookie, or None."""
    g.user_id = None
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > _MAX_TOKEN_LENGTH or not request.path.startswith("/api/"):
        return
    # Its own short connection: the request's ORM session stays untouched for the feature.
    with db.engine().connect() as conn:
        g.user_id = service.user_id_for_token(conn, token)


# --- cookies -----------------------------------------------------------------------------


def _set_session_cookie(signed_in: service.SignedIn) -> None:
    settings = _settings()

    @after_this_request
    def _cookie(response: Response) -> Response:
        response.set_cookie(
            SESSION_COOKIE,
            signed_in.token,
            max_age=settings.session_days * 86400,
            expires=signed_in.expires_at,
            path="/",
            httponly=True,
            secure=settings.cookie_secure,
            samesite="Lax",
        )
        return response


def _clear_session_cookie() -> None:
    settings = _settings()

    @after_this_request
    def _cookie(response: Response) -> Response:
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, secure=settings.cookie_secure, samesite="Lax"
        )
        return response


def _auth_rate_limit() -> str:
    return _settings().auth_rate_limit


_TOO_MANY = "too many attempts from this address; wait a minute and try again"


# --- routes ------------------------------------------------------------------------------


@operation(
    bp,
    "/csrf",
    summary="Get the CSRF token (also set as the readable csrf_token cookie)",
    response=CsrfToken,
    public=True,
)
def get_csrf() -> CsrfToken:
    settings = _settings()
    token = request.cookies.get(CSRF_COOKIE, "")
    # Keep a genuine token: two tabs asking at once must not invalidate each other.
    if not security.csrf_token_is_genuine(token, settings.session_secret):
        token = security.new_csrf_token(settings.session_secret)

    @after_this_request
    def _cookie(response: Response) -> Response:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            max_age=settings.session_days * 86400,
            path="/",
            httponly=False,  # the page's script reads it to fill the header
            secure=settings.cookie_secure,
            samesite="Lax",
        )
        return response

    return CsrfToken(csrf_token=token)


@operation(
    bp,
    "/register",
    "POST",
    summary="Create an account and sign in",
    body=Registration,
    response=Account,
    status=201,
    public=True,
    errors={409: "An account with this email exists", 429: "Too many attempts"},
)
@limiter.limit(_auth_rate_limit, error_message=_TOO_MANY)
def post_register(body: Registration) -> Any:
    session = db.session()
    user = service.register(session, body.email, body.password)
    signed_in = service.start_session(
        session, user, _settings().session_days, replacing=request.cookies.get(SESSION_COOKIE)
    )
    _set_session_cookie(signed_in)
    return Account.model_validate(user, from_attributes=True), 201


@operation(
    bp,
    "/login",
    "POST",
    summary="Sign in",
    body=Credentials,
    response=Account,
    public=True,
    errors={401: "Wrong email or password", 429: "Too many attempts"},
)
@limiter.limit(_auth_rate_limit, error_message=_TOO_MANY)
def post_login(body: Credentials) -> Account:
    session = db.session()
    user = service.authenticate(session, body.email, body.password)
    signed_in = service.start_session(
        session, user, _settings().session_days, replacing=request.cookies.get(SESSION_COOKIE)
    )
    _set_session_cookie(signed_in)
    return Account.model_validate(user, from_attributes=True)


@operation(
    bp,
    "/logout",
    "POST",
    summary="Sign out (ends the session on the server)",
    status=204,
    public=True,
)
def post_logout() -> Any:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_session(db.session(), token)
    _clear_session_cookie()
    return None, 204


@operation(bp, "/me", summary="The signed-in account", response=Account)
def get_me() -> Account:
    user = service.get_user(db.session(), current_user_id())
    return Account.model_validate(user, from_attributes=True)
