"""Watchlists, portfolios and their transactions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watchlist_items",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("ticker", sa.String(24), nullable=False),
        # The order the user chose, 0 first.
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "ticker", name="pk_watchlist_items"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_watchlist_items_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["ticker"],
            ["tickers.symbol"],
            name="fk_watchlist_items_ticker_tickers",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "portfolios",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("base_currency", sa.String(3), nullable=False, server_default="USD"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_portfolios"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_portfolios_user_id_users", ondelete="CASCADE"
        ),
        # Also the index every "this user's portfolios" lookup uses.
        sa.UniqueConstraint("user_id", "name", name="uq_portfolios_user_id_name"),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 80", name="ck_portfolios_name_length"),
    )
    op.create_table(
        "transactions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("portfolio_id", sa.Integer, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("ticker", sa.String(24), nullable=True),
        sa.Column("quantity", sa.Numeric(24, 8), nullable=True),
        sa.Column("price", sa.Numeric(24, 8), nullable=True),
        sa.Column("fee", sa.Numeric(24, 8), nullable=False, server_default="0"),
        # Cash amount of a deposit, withdrawal or dividend.
        sa.Column("amount", sa.Numeric(24, 8), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_transactions"),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name="fk_transactions_portfolio_id_portfolios",
            ondelete="CASCADE",
        ),
        # A user's records outlive nothing silently: a ticker they traded cannot vanish.
        sa.ForeignKeyConstraint(
            ["ticker"],
            ["tickers.symbol"],
            name="fk_transactions_ticker_tickers",
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint(
            "type IN ('buy', 'sell', 'dividend', 'deposit', 'withdrawal')",
            name="ck_transactions_known_type",
        ),
        sa.CheckConstraint("fee >= 0", name="ck_transactions_fee_not_negative"),
        sa.CheckConstraint(
            "(type NOT IN ('buy', 'sell')) OR (ticker IS NOT NULL AND quantity > 0 AND price > 0)",
            name="ck_transactions_trade_fields",
        ),
        sa.CheckConstraint(
            "(type NOT IN ('deposit', 'withdrawal', 'dividend')) OR (amount > 0)",
            name="ck_transactions_cash_amount",
        ),
        sa.CheckConstraint(
            "(type <> 'dividend') OR (ticker IS NOT NULL)", name="ck_transactions_dividend_ticker"
        ),
    )
    op.create_index("ix_transactions_portfolio_id_date", "transactions", ["portfolio_id", "date"])
    op.create_index("ix_transactions_ticker", "transactions", ["ticker"])


def downgrade() -> None:
    op.drop_index("ix_transactions_ticker", table_name="transactions")
    op.drop_index("ix_transactions_portfolio_id_date", table_name="transactions")
    op.drop_table("transactions")
    op.drop_table("portfolios")
    op.drop_table("watchlist_items")
