"""Declarative base of the API's own tables, on the one metadata the migrations describe.

The tables the trainer writes (tickers, daily_bars, model_versions) are Core tables in
``quantcore.db.tables``; the API's own tables are ORM classes in each feature's
``tables.py``. Both are created only by the Alembic migrations in quantcore.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from quantcore.db.tables import metadata


class Base(DeclarativeBase):
    metadata = metadata
