"""Settings base shared by every service.

Each service declares one subclass and loads it with :func:`load_settings`, which turns a
missing or invalid setting into a single line naming it instead of a traceback.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from pydantic import ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]


class CommonSettings(BaseSettings):
    """What every service needs to find the object store."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Environment = "development"
    aws_region: str = "us-east-1"
    # Set locally to the emulator (http://127.0.0.1:4566); unset in production.
    aws_endpoint_url: str | None = None
    lake_bucket: str = "aia-lake"
    models_bucket: str = "aia-models"
    model_name: str = "direction-5d"


class DatabaseSettings(CommonSettings):
    """Settings of a service that talks to PostgreSQL (api, trainer).

    ``DATABASE_URL`` names the database; where the password is rotated by the database
    service (RDS keeps it in Secrets Manager), the parts ``DATABASE_HOST``,
    ``DATABASE_PORT``, ``DATABASE_NAME``, ``DATABASE_USER`` and ``DATABASE_PASSWORD``
    are given instead and the URL is built from them.
    """

    database_url: str

    @model_validator(mode="before")
    @classmethod
    def _url_from_parts(cls, values: Any) -> Any:
        if not isinstance(values, dict) or values.get("database_url"):
            return values
        parts = {key: os.environ.get(f"DATABASE_{key.upper()}") for key in _URL_PARTS}
        if parts["host"] and parts["user"]:
            user = quote(parts["user"], safe="")
            password = f":{quote(parts['password'], safe='')}" if parts["password"] else ""
            port = parts["port"] or "5432"
            name = parts["name"] or "postgres"
            values = {
                **values,
                "database_url": (
                    f"postgresql+psycopg://{user}{password}@{parts['host']}:{port}/{name}"
                    "?sslmode=require"
                ),
            }
        return values


_URL_PARTS = ("host", "port", "name", "user", "password")


S = TypeVar("S", bound=BaseSettings)


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming every setting that is missing or invalid."""
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]).upper() or "settings"
        if error["type"] == "missing":
            problems.append(f"{name} is required but not set")
        else:
            problems.append(f"{name}: {error['msg']}")
    return "configuration error: " + "; ".join(problems)


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build settings from the environment; exit with one clear line when they are wrong."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        print(describe_validation_error(exc), file=sys.stderr)
        raise SystemExit(2) from None
