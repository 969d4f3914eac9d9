"""Market data (tickers, daily bars, ingest runs) and the model registry.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickers",
        sa.Column("symbol", sa.String(24), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("first_date", sa.Date, nullable=False),
        sa.Column("last_date", sa.Date, nullable=False),
        sa.Column("bars", sa.Integer, nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("symbol", name="pk_tickers"),
    )
    op.create_table(
        "daily_bars",
        sa.Column("ticker", sa.String(24), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("open", sa.Float, nullable=False),
        sa.Column("high", sa.Float, nullable=False),
        sa.Column("low", sa.Float, nullable=False),
        sa.Column("close", sa.Float, nullable=False),
        sa.Column("adj_close", sa.Float, nullable=True),
        sa.Column("volume", sa.Float, nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("ticker", "date", name="pk_daily_bars"),
        sa.ForeignKeyConstraint(
            ["ticker"],
            ["tickers.symbol"],
            name="fk_daily_bars_ticker_tickers",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "low > 0 AND high >= low AND volume >= 0", name="ck_daily_bars_sane_bar"
        ),
    )
    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tickers", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_checked", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_accepted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_changed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("report", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_runs"),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("family", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("horizon_days", sa.Integer, nullable=False),
        sa.Column("feature_set", sa.String(32), nullable=False),
        sa.Column("artifact_key", sa.String(512), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data_sha256", sa.String(64), nullable=False),
        sa.Column("metrics", JSONB, nullable=False),
        sa.Column("card", JSONB, nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("promotion_reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_model_versions"),
        sa.UniqueConstraint("model_name", "version", name="uq_model_versions_name_version"),
        sa.CheckConstraint(
            "status IN ('candidate', 'production', 'rejected', 'retired')",
            name="ck_model_versions_known_status",
        ),
    )
    op.create_index(
        "uq_model_versions_one_production",
        "model_versions",
        ["model_name"],
        unique=True,
        postgresql_where=sa.text("status = 'production'"),
    )


def downgrade() -> None:
    op.drop_index("uq_model_versions_one_production", table_name="model_versions")
    op.drop_table("model_versions")
    op.drop_table("ingest_runs")
    op.drop_table("daily_bars")
    op.drop_table("tickers")
