"""The application factory."""

from __future__ import annotations

import logging

from flask import Flask

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
)


def register_blueprints(app: Flask) -> None:
    import importlib

    for name in BLUEPRINT_MODULES:
        app.register_blueprint(importlib.import_module(name).bp)
