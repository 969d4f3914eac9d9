"""Engine construction with the settings the product uses everywhere."""

from __future__ import annotations

import sqlalchemy as sa


def make_engine(database_url: str, **kwargs: object) -> sa.Engine:
    return sa.create_engine(database_url, pool_pre_ping=True, future=True, **kwargs)
