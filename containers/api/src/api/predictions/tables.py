"""Served predictions: the cache and the forward track record (created by migration 0004).

One row per (model, version, ticker, as-of date): a prediction is a fact about a ticker,
shared by every user, and nothing user-specific is stored with it. Once the prices of
``horizon_days`` more bars are known, the row is scored in place.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.tables_base import Base

# How a served prediction's outcome was judged.
BASIS_CROSS_SECTION = "cross_section"  # beat the median of the day's tickers (the label)
BASIS_SIGN = "sign"  # too few tickers that day: the forward return's sign


class Prediction(Base):
    __tablename__ = "predictions"
    __table_args__ = (
        sa.UniqueConstraint(
            "model_name", "model_version", "ticker", "as_of", name="uq_predictions_model_name"
        ),
        sa.CheckConstraint("prob_up >= 0 AND prob_up <= 1", name="probability"),
        sa.CheckConstraint("horizon_days >= 1", name="horizon"),
        sa.CheckConstraint(
            "outcome_basis IS NULL OR outcome_basis IN ('cross_section', 'sign')",
            name="known_basis",
        ),
        sa.CheckConstraint("(scored_at IS NULL) = (realised_return IS NULL)", name="scored_whole"),
        sa.Index("ix_predictions_pending", "as_of", postgresql_where=sa.text("scored_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    ticker: Mapped[str] = mapped_column(sa.String(24))
    as_of: Mapped[date] = mapped_column(sa.Date)
    model_name: Mapped[str] = mapped_column(sa.String(64))
    model_version: Mapped[str] = mapped_column(sa.String(64))
    horizon_days: Mapped[int] = mapped_column(sa.Integer)
    prob_up: Mapped[float] = mapped_column(sa.Float)
    expected_return: Mapped[float] = mapped_column(sa.Float)
    drivers: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=sa.text("'[]'::jsonb")
    )
    label: Mapped[str | None] = mapped_column(sa.Text)
    served_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    scored_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    exit_date: Mapped[date | None] = mapped_column(sa.Date)
    realised_return: Mapped[float | None] = mapped_column(sa.Float)
    outcome_up: Mapped[bool | None] = mapped_column(sa.Boolean)
    outcome_basis: Mapped[str | None] = mapped_column(sa.String(16))
    cross_section_size: Mapped[int | None] = mapped_column(sa.Integer)
    cross_section_median: Mapped[float | None] = mapped_column(sa.Float)
