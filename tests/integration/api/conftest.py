"""Fixtures of the API's integration tests, in the Flask tutorial's style.

``api_settings`` points a fresh app at this test's own database and buckets; ``client``
keeps cookies like a browser; ``auth`` signs a client in through the real endpoints
(CSRF dance included); ``seed_bars`` puts market data where the trainer would.
"""

from __future__ import annotations

import itertools
import math
import random
import secrets
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

# The model server's fixtures live in their own module. Imported, not listed in
# ``pytest_plugins``: pytest refuses that in a conftest below the rootdir.
from inference_fixture import (  # noqa: F401
    inference_model,
    inference_sample,
    inference_server,
    inference_switch,
    inference_url,
    production_model,
    stopped_inference,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from api.app import create_app
from api.settings import ApiSettings
from devstack.testing import Buckets
from devstack.waiting import free_port

DEFAULT_PASSWORD = "correct horse battery"
_emails = itertools.count(1)


@pytest.fixture
def api_settings(request: pytest.FixtureRequest, db_url: str, buckets: Buckets) -> ApiSettings:
    """Settings for this test's database and buckets (never the developer's stack).

    A test that also asks for ``inference_url`` gets an app that calls that model server;
    any other test gets an address where nothing listens.
    """
    if "inference_url" in request.fixturenames:
        inference_url = request.getfixturevalue("inference_url")
    else:
        inference_url = f"http://127.0.0.1:{free_port()}"
    return ApiSettings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=db_url,
        session_secret=secrets.token_urlsafe(32),
        aws_endpoint_url=buckets.endpoint_url,
        aws_region=buckets.region,
        lake_bucket=buckets.lake,
        models_bucket=buckets.models,
        inference_transport="http",
        inference_url=inference_url,
        inference_timeout_seconds=5.0,
        # Roomy, so tests that sign many users in are not throttled; the rate-limit test
        # sets its own.
        auth_rate_limit="1000 per minute",
        rate_limit_storage_uri="memory://",
        # Never the developer's real key: without one the assistant is the offline one;
        # chat tests point it at the Messages API test server.
        anthropic_api_key=None,
        anthropic_base_url=None,
    )


@pytest.fixture
def app(api_settings: ApiSettings) -> Iterator[Flask]:
    application = create_app(api_settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["db_engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class AuthActions:
    """Sign clients in and out through the real endpoints, as the web app does."""

    password = DEFAULT_PASSWORD

    @staticmethod
    def new_email() -> str:
        return f"investor{next(_emails)}-{secrets.token_hex(3)}@example.com"

    def csrf(self, client: FlaskClient) -> dict[str, str]:
        """Headers carrying the client's CSRF token (fetching one sets the cookie)."""
        response = client.get("/api/auth/csrf")
        assert response.status_code == 200, response.get_data(as_text=True)
        return {"X-CSRF-Token": response.get_json()["csrf_token"]}

    def register(
        self, client: FlaskClient, email: str | None = None, password: str | None = None
    ) -> Any:
        return client.post(
            "/api/auth/register",
            json={"email": email or self.new_email(), "password": password or self.password},
            headers=self.csrf(client),
        )

    def login(self, client: FlaskClient, email: str, password: str | None = None) -> Any:
        return client.post(
            "/api/auth/login",
            json={"email": email, "password": password or self.password},
            headers=self.csrf(client),
        )

    def logout(self, client: FlaskClient) -> Any:
        return client.post("/api/auth/logout", headers=self.csrf(client))

    def register_and_login(
        self, client: FlaskClient, email: str | None = None, password: str | None = None
    ) -> dict[str, Any]:
        """A new account, signed in on ``client``; returns the account (id, email, …)."""
        response = self.register(client, email, password)
        assert response.status_code == 201, response.get_data(as_text=True)
        user: dict[str, Any] = response.get_json()
        return user


@pytest.fixture
def auth() -> AuthActions:
    return AuthActions()


@pytest.fixture
def second_client(app: Flask, auth: AuthActions) -> FlaskClient:
    """Another browser, signed in as another user (its account: ``second_client.user``)."""
    other = app.test_client()
    other.user = auth.register_and_login(other)  # type: ignore[attr-defined]
    return other


class BarSeeder:
    """Insert tickers and daily bars as the trainer's ingest would."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url

    def __call__(self, rows: Iterable[Mapping[str, Any]] | Any) -> int:
        """Insert bars: mappings (or a DataFrame) with ticker, date, open, high, low, close,
        volume and optionally adj_close and source. Returns the number of bars inserted."""
        from quantcore.db.tables import daily_bars, tickers

        if hasattr(rows, "to_dict"):
            rows = rows.to_dict("records")
        bars = []
        for row in rows:
            day = row["date"]
            bars.append(
                {
                    "ticker": str(row["ticker"]),
                    "date": day.date() if hasattr(day, "date") and callable(day.date) else day,
                    "open": float(row["open"]),
                    "high": float(row["high"]),
                    "low": float(row["low"]),
                    "close": float(row["close"]),
                    "adj_close": (
                        float(row["adj_close"]) if row.get("adj_close") is not None else None
                    ),
                    "volume": float(row["volume"]),
                    "source": str(row.get("source") or "test"),
                }
            )
        if not bars:
            return 0
        summary: dict[str, dict[str, Any]] = {}
        for bar in bars:
            entry = summary.setdefault(
                bar["ticker"],
                {"symbol": bar["ticker"], "source": bar["source"], "dates": []},
            )
            entry["dates"].append(bar["date"])
        engine = sa.create_engine(self.db_url)
        try:
            with engine.begin() as conn:
                for entry in summary.values():
                    dates = entry.pop("dates")
                    values = {
                        **entry,
                        "first_date": min(dates),
                        "last_date": max(dates),
                        "bars": len(dates),
                    }
                    insert = pg_insert(tickers).values(values)
                    conn.execute(
                        insert.on_conflict_do_update(
                            index_elements=["symbol"],
                            set_={
                                "first_date": sa.func.least(
                                    tickers.c.first_date, insert.excluded.first_date
                                ),
                                "last_date": sa.func.greatest(
                                    tickers.c.last_date, insert.excluded.last_date
                                ),
                                "bars": tickers.c.bars + insert.excluded.bars,
                            },
                        )
                    )
                conn.execute(daily_bars.insert(), bars)
        finally:
            engine.dispose()
        return len(bars)

    @staticmethod
    def random_walk(
        ticker: str,
        days: int = 300,
        *,
        start: date = date(2023, 1, 2),
        price: float = 100.0,
        seed: int | None = None,
    ) -> list[dict[str, Any]]:
        """Plausible business-day bars for ``ticker`` (a seeded random walk)."""
        rng = random.Random(seed if seed is not None else ticker)
        rows = []
        day = start
        while len(rows) < days:
            if day.weekday() < 5:
                change = math.exp(rng.gauss(0.0003, 0.015))
                open_ = price
                close = price * change
                high = max(open_, close) * (1 + abs(rng.gauss(0, 0.004)))
                low = min(open_, close) * (1 - abs(rng.gauss(0, 0.004)))
                rows.append(
                    {
                        "ticker": ticker,
                        "date": day,
                        "open": round(open_, 4),
                        "high": round(high, 4),
                        "low": round(low, 4),
                        "close": round(close, 4),
                        "adj_close": round(close, 4),
                        "volume": float(rng.randint(100_000, 5_000_000)),
                    }
                )
                price = close
            day += timedelta(days=1)
        return rows

    def walk(self, ticker: str, days: int = 300, **kwargs: Any) -> list[dict[str, Any]]:
        """Insert a :meth:`random_walk` and return its rows."""
        rows = self.random_walk(ticker, days, **kwargs)
        self(rows)
        return rows


@pytest.fixture
def seed_bars(db_url: str) -> BarSeeder:
    """``seed_bars(rows)`` inserts bars; ``seed_bars.walk("AAPL", 250)`` makes and inserts a
    random walk and returns its rows."""
    return BarSeeder(db_url)
