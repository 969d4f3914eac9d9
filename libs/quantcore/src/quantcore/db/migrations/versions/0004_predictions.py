"""Predictions: every answer served (the cache, shared by all users) and its later score.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        # No foreign key to tickers: a served prediction stays a fact of the track record
        # even if a ticker is later re-ingested from another source or removed.
        sa.Column("ticker", sa.String(24), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("horizon_days", sa.Integer, nullable=False),
        sa.Column("prob_up", sa.Float, nullable=False),
        sa.Column("expected_return", sa.Float, nullable=False),
        sa.Column("drivers", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        # What prob_up means, from the version's card when it was served.
        sa.Column("label", sa.Text, nullable=True),
        sa.Column(
            "served_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        # Filled once the prices of the horizon are known (scoring is idempotent).
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exit_date", sa.Date, nullable=True),
        sa.Column("realised_return", sa.Float, nullable=True),
        sa.Column("outcome_up", sa.Boolean, nullable=True),
        sa.Column("outcome_basis", sa.String(16), nullable=True),
        sa.Column("cross_section_size", sa.Integer, nullable=True),
        sa.Column("cross_section_median", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_predictions"),
        # The cache key; also serves the track record's look-up by version.
        sa.UniqueConstraint(
            "model_name",
            "model_version",
            "ticker",
            "as_of",
            name="uq_predictions_model_name",
        ),
        sa.CheckConstraint("prob_up >= 0 AND prob_up <= 1", name="ck_predictions_probability"),
        sa.CheckConstraint("horizon_days >= 1", name="ck_predictions_horizon"),
        sa.CheckConstraint(
            "outcome_basis IS NULL OR outcome_basis IN ('cross_section', 'sign')",
            name="ck_predictions_known_basis",
        ),
        sa.CheckConstraint(
            "(scored_at IS NULL) = (realised_return IS NULL)", name="ck_predictions_scored_whole"
        ),
    )
    # What still waits for its prices: scoring looks only here, so it is cheap when idle.
    op.create_index(
        "ix_predictions_pending",
        "predictions",
        ["as_of"],
        postgresql_where=sa.text("scored_at IS NULL"),
    )
    # The equal-weight market return and the scoring cross-section read all tickers of a
    # date range; the primary key (ticker, date) cannot serve a look-up by date alone.
    op.create_index("ix_daily_bars_date", "daily_bars", ["date"])


def downgrade() -> None:
    op.drop_index("ix_daily_bars_date", table_name="daily_bars")
    op.drop_index("ix_predictions_pending", table_name="predictions")
    op.drop_table("predictions")
