"""The application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from api.db import init_db
from api.errors import register_error_handlers
from api.extensions import limiter
from api.settings import ApiSettings, get_settings


def create_app(settings: ApiSettings | None = None) -> Flask:
    settings = settings or get_settings()
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,
        RATELIMIT_STORAGE_URI=settings.rate_limit_storage_uri,
        RATELIMIT_HEADERS_ENABLED=True,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Ids are PostgreSQL integers: a larger number in a URL is no resource (404), not an
    # out-of-range error from the database.
    app.url_map.converters["int"] = DatabaseIdConverter
    # Flask's own cookie session is unused; keep its name clear of the API's session cookie.
    app.config["SESSION_COOKIE_NAME"] = "flask_unused"
    if settings.trusted_proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxy_hops, x_proto=settings.trusted_proxy_hops
        )
    init_db(app, settings.database_url)
    limiter.init_app(app)
    register_error_handlers(app)
    register_blueprints(app)
    return app


# One blueprint per feature, each in its module's ``bp``.
BLUEPRINT_MODULES = (
    "api.health",
    "api.docs",
    "api.auth.routes",
    "api.market.routes",
    "api.portfolio.routes",
    "api.predictions.routes",
    "api.registry.routes",
    "api.chat.routes",
)


class DatabaseIdConverter(IntegerConverter):
    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    import importlib

    for name in BLUEPRINT_MODULES:
        app.register_blueprint(importlib.import_module(name).bp)
