"""The watchlist (created by migration 0003)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from api.tables_base import Base


class WatchlistItem(Base):
    __tablename__ = "watchlist_items"

    user_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    ticker: Mapped[str] = mapped_column(
        sa.String(24), sa.ForeignKey("tickers.symbol", ondelete="CASCADE"), primary_key=True
    )
    # The order the user chose, 0 first.
    position: Mapped[int] = mapped_column(sa.Integer)
