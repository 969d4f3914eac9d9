"""Database access: one engine per app, one session per request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from quantcore.db.engine import make_engine


def init_db(app: Flask, database_url: str) -> None:
    engine = make_engine(database_url, pool_size=5, max_overflow=5)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessions"] = sessionmaker(engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def engine() -> sa.Engine:
    bound: sa.Engine = current_app.extensions["db_engine"]
    return bound


def session() -> Session:
    """The request's session; commit explicitly in service functions that write."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessions"]()
    current: Session = g.db_session
    return current


@contextmanager
def transaction() -> Iterator[Session]:
    """A unit of work: committed on success, rolled back on any error."""
    current = session()
    try:
        yield current
        current.commit()
    except BaseException:
        current.rollback()
        raise
