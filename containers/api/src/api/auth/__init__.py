"""Accounts: registration, sign-in with server-side sessions, CSRF protection.

Every feature reads the signed-in user with :func:`current_user_id`; the hooks in
:mod:`api.auth.routes` set it from the session cookie before each request.
"""

from __future__ import annotations

from flask import g

from api.errors import ApiError

SESSION_COOKIE = "session"
CSRF_COOKIE = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def current_user_id() -> int:
    """The signed-in user's id; a 401 in the API's error shape when nobody is signed in."""
    user_id: int | None = getattr(g, "user_id", None)
    if user_id is None:
        raise ApiError(401, "unauthenticated", "sign in first")
    return user_id


__all__ = ["CSRF_COOKIE", "CSRF_HEADER", "SESSION_COOKIE", "current_user_id"]
