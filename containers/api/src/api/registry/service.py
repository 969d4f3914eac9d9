"""Model versions as the trainer registered them (``model_versions``, read only).

Models are not user-owned: every signed-in user sees the same registry. ``model_name``
narrows to one model when several are trained; without it the newest rows win.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.errors import NotFoundError
from api.registry.schemas import (
    HeadlineMetrics,
    ModelCardOut,
    ModelVersionOut,
    ProductionModelOut,
)
from quantcore.card import render_markdown
from quantcore.db.tables import model_versions

_SUMMARY_COLUMNS = (
    model_versions.c.model_name,
    model_versions.c.version,
    model_versions.c.family,
    model_versions.c.status,
    model_versions.c.trained_at,
    model_versions.c.created_at,
    model_versions.c.promoted_at,
    model_versions.c.promotion_reason,
    model_versions.c.horizon_days,
    model_versions.c.feature_set,
    model_versions.c.metrics,
    model_versions.c.card["leak_check"]["passed"].as_boolean().label("leak_check_passed"),
)
# Newest first; the production row first among equals.
_NEWEST = (
    model_versions.c.created_at.desc(),
    model_versions.c.id.desc(),
)


def headline_metrics(metrics: dict[str, Any] | None) -> HeadlineMetrics:
    """The headline numbers of a version's metrics; what is absent or not a number is None."""
    values: dict[str, Any] = {}
    for name, field in HeadlineMetrics.model_fields.items():
        value = (metrics or {}).get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if field.annotation == (int | None):
            values[name] = int(value)
        else:
            values[name] = float(value)
    return HeadlineMetrics(**values)


def _summary(row: Any) -> dict[str, Any]:
    return {
        "model_name": row.model_name,
        "version": row.version,
        "family": row.family,
        "status": row.status,
        "trained_at": row.trained_at,
        "created_at": row.created_at,
        "promoted_at": row.promoted_at,
        "promotion_reason": row.promotion_reason,
        "horizon_days": row.horizon_days,
        "feature_set": row.feature_set,
        "leak_check_passed": row.leak_check_passed,
        "metrics": headline_metrics(row.metrics),
    }


def list_versions(session: Session, model_name: str | None = None) -> list[ModelVersionOut]:
    """Every registered version, newest first."""
    query = sa.select(*_SUMMARY_COLUMNS).order_by(*_NEWEST)
    if model_name is not None:
        query = query.where(model_versions.c.model_name == model_name)
    return [ModelVersionOut(**_summary(row)) for row in session.execute(query)]


def production(session: Session, model_name: str | None = None) -> ProductionModelOut:
    """The version in production, with its card; 404 when none is promoted yet."""
    query = (
        sa.select(*_SUMMARY_COLUMNS, model_versions.c.card)
        .where(model_versions.c.status == "production")
        .order_by(model_versions.c.promoted_at.desc().nulls_last(), *_NEWEST)
        .limit(1)
    )
    if model_name is not None:
        query = query.where(model_versions.c.model_name == model_name)
    row = session.execute(query).first()
    if row is None:
        raise NotFoundError("no model version is in production yet: run the trainer")
    label = row.card.get("label") if isinstance(row.card, dict) else None
    return ProductionModelOut(
        **_summary(row), label=label if isinstance(label, str) else None, card=row.card
    )


def find_version(session: Session, version: str, model_name: str | None = None) -> sa.Row[Any]:
    """The registry row of ``version`` (the production one if two models share the name)."""
    query = (
        sa.select(model_versions)
        .where(model_versions.c.version == version)
        .order_by((model_versions.c.status == "production").desc(), *_NEWEST)
        .limit(1)
    )
    if model_name is not None:
        query = query.where(model_versions.c.model_name == model_name)
    row = session.execute(query).first()
    if row is None:
        raise NotFoundError(f"no model version {version!r}", field="version")
    return row


def card(session: Session, version: str, model_name: str | None = None) -> ModelCardOut:
    """A version's model card as stored in the registry, and as readable Markdown."""
    row = find_version(session, version, model_name)
    document = row.card if isinstance(row.card, dict) else {}
    return ModelCardOut(
        model_name=row.model_name,
        version=row.version,
        status=row.status,
        card=document,
        markdown=render_markdown(document),
    )
