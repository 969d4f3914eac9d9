"""Ticker search, price history and the watchlist, through the API on a real PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient


def _bars(ticker: str, closes: list[float], start: date, source: str = "test") -> list[dict]:
    """Business-day bars with the given closes."""
    rows, day = [], start
    for close in closes:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        rows.append(
            {
                "ticker": ticker,
                "date": day,
                "open": close,
                "high": close * 1.01,
                "low": close * 0.99,
                "close": close,
                "adj_close": close,
                "volume": 1000.0,
                "source": source,
            }
        )
        day += timedelta(days=1)
    return rows


@pytest.fixture
def signed_in(client: FlaskClient, auth: Any) -> FlaskClient:
    auth.register_and_login(client)
    return client


# --- tickers ---------------------------------------------------------------------------------


def test_ticker_search_puts_prefix_matches_before_contains(signed_in, seed_bars) -> None:
    for symbol in ("AAPL", "AAL", "MSFT", "BAAP", "AA"):
        seed_bars.walk(symbol, 5)
    response = signed_in.get("/api/tickers?q=aa")
    assert response.status_code == 200
    found = response.get_json()
    assert [t["symbol"] for t in found] == ["AA", "AAL", "AAPL", "BAAP"]
    first = found[0]
    assert set(first) == {"symbol", "source", "first_date", "last_date", "bars"}
    assert first["bars"] == 5 and first["source"] == "test"

    limited = signed_in.get("/api/tickers?limit=2").get_json()
    assert [t["symbol"] for t in limited] == ["AA", "AAL"]
    wildcard = signed_in.get("/api/tickers?q=%25")  # never "everything"
    assert wildcard.status_code == 422 and wildcard.get_json()["error"]["field"] == "q"
    assert [t["symbol"] for t in signed_in.get("/api/tickers?q=a_").get_json()] == []


def test_ticker_search_refuses_bad_limits_and_strangers(signed_in, client, app) -> None:
    response = signed_in.get("/api/tickers?limit=0")
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "limit"
    assert app.test_client().get("/api/tickers").status_code == 401


# --- prices ----------------------------------------------------------------------------------


def test_price_history_defaults_to_the_last_year_held(signed_in, seed_bars) -> None:
    rows = seed_bars.walk("ABC", 400, start=date(2022, 1, 3))
    last = rows[-1]["date"]
    response = signed_in.get("/api/prices/abc")
    assert response.status_code == 200
    history = response.get_json()
    assert history["ticker"] == "ABC" and history["source"] == "test"
    assert history["as_of"] == last.isoformat()
    assert history["end"] == last.isoformat()
    assert history["start"] == (last - timedelta(days=365)).isoformat()
    expected = [r for r in rows if last - timedelta(days=365) <= r["date"] <= last]
    assert len(history["bars"]) == len(expected)
    bar = history["bars"][-1]
    assert bar["date"] == last.isoformat()
    assert bar["close"] == pytest.approx(rows[-1]["close"])
    assert set(bar) == {"date", "open", "high", "low", "close", "adj_close", "volume"}


def test_price_history_of_a_chosen_range(signed_in, seed_bars) -> None:
    seed_bars(_bars("ABC", [10, 11, 12, 13, 14], date(2024, 1, 1)))
    history = signed_in.get("/api/prices/ABC?start=2024-01-02&end=2024-01-04").get_json()
    assert [b["close"] for b in history["bars"]] == [11, 12, 13]
    assert history["as_of"] == "2024-01-05"  # what is held, whatever range was asked


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("start=2024-13-01", 422, "start"),
        ("end=tomorrow", 422, "end"),
        ("start=2024-01-05&end=2024-01-01", 400, "start"),
        ("start=1990-01-01&end=2024-01-01", 400, "start"),
        ("colour=red", 422, "colour"),
    ],
)
def test_price_history_refuses_bad_ranges(signed_in, seed_bars, query, status, field) -> None:
    seed_bars(_bars("ABC", [10, 11], date(2024, 1, 1)))
    response = signed_in.get(f"/api/prices/ABC?{query}")
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["field"] == field


def test_an_unknown_ticker_has_no_prices(signed_in) -> None:
    response = signed_in.get("/api/prices/NOPE")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


# --- watchlist -------------------------------------------------------------------------------


def test_watchlist_keeps_order_drops_duplicates_and_shows_the_last_close(
    signed_in, auth, seed_bars
) -> None:
    seed_bars(_bars("ABC", [100, 110], date(2024, 3, 4)))
    seed_bars(_bars("XYZ", [50, 45, 40], date(2024, 3, 4), source="other"))
    assert signed_in.get("/api/watchlist").get_json() == {"tickers": [], "as_of": None}

    response = signed_in.put(
        "/api/watchlist", json={"tickers": ["xyz", "ABC", "XYZ"]}, headers=auth.csrf(signed_in)
    )
    assert response.status_code == 200, response.get_json()
    watchlist = signed_in.get("/api/watchlist").get_json()
    assert watchlist == response.get_json()
    xyz, abc = watchlist["tickers"]
    assert xyz["ticker"] == "XYZ" and xyz["source"] == "other"
    assert xyz["close"] == 40 and xyz["change"] == -5
    assert xyz["change_pct"] == pytest.approx(-5 / 45)
    assert xyz["as_of"] == "2024-03-06"
    assert abc["ticker"] == "ABC" and abc["as_of"] == "2024-03-05"
    assert watchlist["as_of"] == "2024-03-06"


def test_watchlist_refuses_unknown_tickers_and_keeps_the_old_one(
    signed_in, auth, seed_bars
) -> None:
    seed_bars(_bars("ABC", [100, 110], date(2024, 3, 4)))
    headers = auth.csrf(signed_in)
    first = signed_in.put("/api/watchlist", json={"tickers": ["ABC"]}, headers=headers)
    assert first.status_code == 200
    response = signed_in.put("/api/watchlist", json={"tickers": ["ABC", "NOPE"]}, headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["field"] == "tickers.1" and "NOPE" in error["message"]
    too_many = signed_in.put(
        "/api/watchlist", json={"tickers": [f"T{i}" for i in range(51)]}, headers=headers
    )
    assert too_many.status_code == 422
    assert too_many.get_json()["error"]["field"] == "tickers"
    assert [t["ticker"] for t in signed_in.get("/api/watchlist").get_json()["tickers"]] == ["ABC"]


def test_watchlist_changes_need_the_csrf_token(signed_in, seed_bars) -> None:
    seed_bars(_bars("ABC", [100, 110], date(2024, 3, 4)))
    response = signed_in.put("/api/watchlist", json={"tickers": ["ABC"]})
    assert response.status_code == 403
    assert signed_in.get("/api/watchlist").get_json()["tickers"] == []
