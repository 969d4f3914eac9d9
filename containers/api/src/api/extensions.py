"""Extensions created un-initialised; :func:`api.app.create_app` binds them to an app."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter


def client_address() -> str:
    # Behind CloudFront/App Runner the client is the first X-Forwarded-For hop; locally
    # the socket peer. Only the rate limiter uses it, never authorisation.
    forwarded = request.headers.get("X-Forwarded-For", "")
    return forwarded.split(",")[0].strip() or request.remote_addr or "unknown"


limiter = Limiter(key_func=client_address, default_limits=[], headers_enabled=True)
