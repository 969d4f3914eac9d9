"""``GET /api/health``: the database, the object store and the model server, separately."""

from __future__ import annotations

import time
from typing import Literal

import sqlalchemy as sa
from flask import Blueprint, current_app
from pydantic import BaseModel

from api import db
from api.openapi import operation

bp = Blueprint("health", __name__, url_prefix="/api")


class Check(BaseModel):
    status: Literal["ok", "down"]
    detail: str | None = None
    latency_ms: float | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Check
    object_store: Check
    inference: Check


def _timed(check: object) -> Check:
    began = time.perf_counter()
    try:
        detail = check()  # type: ignore[operator]
    except Exception as exc:  # a health probe reports every failure, whatever its kind
        return Check(status="down", detail=f"{type(exc).__name__}: {exc}"[:300])
    return Check(
        status="ok", detail=detail, latency_ms=round((time.perf_counter() - began) * 1000, 2)
    )


def _database() -> str | None:
    with db.engine().connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    return None


def _object_store() -> str | None:
    from api.storage import models_store

    models_store().ensure_readable()
    return None


def _inference() -> str | None:
    from api.predictions.client import inference_client

    return inference_client(current_app.config["SETTINGS"]).ping()


@operation(
    bp,
    "/health",
    summary="Health of the database, object store and model server",
    response=Health,
    public=True,
)
def get_health() -> Health:
    checks = {
        "database": _timed(_database),
        "object_store": _timed(_object_store),
        "inference": _timed(_inference),
    }
    healthy = all(c.status == "ok" for c in checks.values())
    overall: Literal["ok", "degraded"] = "ok" if healthy else "degraded"
    return Health(status=overall, **checks)
