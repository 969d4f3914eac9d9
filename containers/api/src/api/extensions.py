"""Extensions created un-initialised; :func:`api.app.create_app` binds them to an app."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter


def client_address() -> str:
    # The socket peer, or — behind the trusted proxies counted by TRUSTED_PROXY_HOPS — the
    # address those proxies appended (werkzeug's ProxyFix, set up in create_app). Never
    # the client-controlled first X-Forwarded-For entry. Only the rate limiter uses it.
    return request.remote_addr or "unknown"


limiter = Limiter(key_func=client_address, default_limits=[], headers_enabled=True)
