"""Portfolios and their transactions (created by migration 0003)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from api.tables_base import Base

TRANSACTION_TYPES = ("buy", "sell", "dividend", "deposit", "withdrawal")

# Stored exactly (NUMERIC), computed with as floats: the prices they meet are floats anyway.
_Amount = sa.Numeric(24, 8, asdecimal=False)


class Portfolio(Base):
    __tablename__ = "portfolios"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "name", name="uq_portfolios_user_id_name"),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 80", name="name_length"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(80))
    base_currency: Mapped[str] = mapped_column(sa.String(3), server_default="USD")
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class PortfolioTransaction(Base):
    """One entry of a portfolio's ledger: a trade, a dividend, or cash moving in or out."""

    __tablename__ = "transactions"
    __table_args__ = (
        sa.Index("ix_transactions_portfolio_id_date", "portfolio_id", "date"),
        sa.Index("ix_transactions_ticker", "ticker"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("portfolios.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(sa.String(16))
    date: Mapped[date] = mapped_column(sa.Date)
    ticker: Mapped[str | None] = mapped_column(
        sa.String(24), sa.ForeignKey("tickers.symbol", ondelete="RESTRICT"), nullable=True
    )
    quantity: Mapped[float | None] = mapped_column(_Amount, nullable=True)
    price: Mapped[float | None] = mapped_column(_Amount, nullable=True)
    fee: Mapped[float] = mapped_column(_Amount, server_default="0")
    amount: Mapped[float | None] = mapped_column(_Amount, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
