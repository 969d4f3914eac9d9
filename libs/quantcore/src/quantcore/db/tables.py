"""Tables the trainer writes and the api reads.

The schema is created only by Alembic migrations (``quantcore-db upgrade``); these
definitions are what the code queries with.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

tickers = sa.Table(
    "tickers",
    metadata,
    sa.Column("symbol", sa.String(24), primary_key=True),
    # One source per ticker: series from different providers are never stitched.
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("first_date", sa.Date, nullable=False),
    sa.Column("last_date", sa.Date, nullable=False),
    sa.Column("bars", sa.Integer, nullable=False),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

daily_bars = sa.Table(
    "daily_bars",
    metadata,
    sa.Column(
        "ticker",
        sa.String(24),
        sa.ForeignKey("tickers.symbol", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("date", sa.Date, primary_key=True),
    sa.Column("open", sa.Float, nullable=False),
    sa.Column("high", sa.Float, nullable=False),
    sa.Column("low", sa.Float, nullable=False),
    sa.Column("close", sa.Float, nullable=False),
    sa.Column("adj_close", sa.Float, nullable=True),
    sa.Column("volume", sa.Float, nullable=False),
    sa.Column("source", sa.String(40), nullable=False),
    sa.CheckConstraint("low > 0 AND high >= low AND volume >= 0", name="sane_bar"),
)

ingest_runs = sa.Table(
    "ingest_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("tickers", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_checked", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_accepted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_changed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("report", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
)

MODEL_STATUSES = ("candidate", "production", "rejected", "retired")

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
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
    sa.UniqueConstraint("model_name", "version", name="uq_model_versions_name_version"),
    sa.CheckConstraint(
        "status IN ('candidate', 'production', 'rejected', 'retired')", name="known_status"
    ),
)

# At most one production version per model name, enforced by the database itself.
sa.Index(
    "uq_model_versions_one_production",
    model_versions.c.model_name,
    unique=True,
    postgresql_where=model_versions.c.status == "production",
)
