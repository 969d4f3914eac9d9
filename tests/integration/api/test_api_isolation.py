"""One investor never reaches another's portfolios, transactions, holdings, risk or watchlist.

User A owns a portfolio with transactions and a watchlist; user B tries every user-owned
endpoint with A's ids and must get exactly what a portfolio id that does not exist gets.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

SECRET_NAME = "A's private portfolio"
CSV = "date,type,ticker,quantity,price,fee\n2023-03-01,buy,ABC,1,100,0\n"


@pytest.fixture
def owner(client: FlaskClient, auth: Any, seed_bars: Any) -> dict[str, Any]:
    """User A: a portfolio with a deposit and a buy, and a watchlist."""
    seed_bars.walk("ABC", 120, start=date(2023, 1, 2))
    seed_bars.walk("XYZ", 120, start=date(2023, 1, 2))
    auth.register_and_login(client)
    headers = auth.csrf(client)
    created = client.post("/api/portfolios", json={"name": SECRET_NAME}, headers=headers)
    assert created.status_code == 201
    pid = created.get_json()["id"]
    for tx in (
        {"type": "deposit", "amount": 777_777, "date": "2023-02-01"},
        {"type": "buy", "ticker": "ABC", "quantity": 42, "price": 100, "date": "2023-02-02"},
    ):
        response = client.post(f"/api/portfolios/{pid}/transactions", json=tx, headers=headers)
        assert response.status_code == 201
    watch = client.put("/api/watchlist", json={"tickers": ["XYZ", "ABC"]}, headers=headers)
    assert watch.status_code == 200
    return {"id": pid, "client": client}


def _requests(pid: int) -> list[tuple[str, str, dict[str, Any]]]:
    base = f"/api/portfolios/{pid}"
    return [
        ("GET", base, {}),
        ("GET", f"{base}/transactions", {}),
        (
            "POST",
            f"{base}/transactions",
            {
                "json": {
                    "type": "sell",
                    "ticker": "ABC",
                    "quantity": 1,
                    "price": 1,
                    "date": "2023-03-01",
                }
            },
        ),
        (
            "POST",
            f"{base}/transactions",
            {"json": {"type": "withdrawal", "amount": 1, "date": "2023-03-01"}},
        ),
        ("POST", f"{base}/transactions/import", {"data": CSV, "content_type": "text/csv"}),
        ("GET", f"{base}/holdings", {}),
        ("GET", f"{base}/risk", {}),
        ("GET", f"{base}/risk?benchmark=XYZ&window=60", {}),
    ]


def _state(client: FlaskClient, pid: int) -> dict[str, Any]:
    return {
        "portfolio": client.get(f"/api/portfolios/{pid}").get_json(),
        "transactions": client.get(f"/api/portfolios/{pid}/transactions").get_json(),
        "holdings": client.get(f"/api/portfolios/{pid}/holdings").get_json(),
        "watchlist": client.get("/api/watchlist").get_json(),
    }


def test_another_investor_gets_404_for_every_portfolio_endpoint(
    owner: dict[str, Any], second_client: FlaskClient, auth: Any
) -> None:
    pid = owner["id"]
    before = _state(owner["client"], pid)
    headers = auth.csrf(second_client)
    missing = 10_000_000 + pid  # an id nobody has
    for (method, path, kwargs), (_, missing_path, missing_kwargs) in zip(
        _requests(pid), _requests(missing), strict=True
    ):
        response = second_client.open(path, method=method, headers=headers, **kwargs)
        assert response.status_code == 404, (method, path, response.get_json())
        text = response.get_data(as_text=True)
        assert SECRET_NAME not in text and "777777" not in text and "42" not in text
        # Exactly what an id that does not exist gets: nothing to tell them apart.
        absent = second_client.open(missing_path, method=method, headers=headers, **missing_kwargs)
        assert absent.status_code == 404
        assert response.get_json() == absent.get_json()
    assert _state(owner["client"], pid) == before


def test_another_investor_lists_only_their_own_portfolios(
    owner: dict[str, Any], second_client: FlaskClient, auth: Any
) -> None:
    assert second_client.get("/api/portfolios").get_json() == []
    headers = auth.csrf(second_client)
    # The same name is free for them: names are unique per investor only.
    mine = second_client.post("/api/portfolios", json={"name": SECRET_NAME}, headers=headers)
    assert mine.status_code == 201
    listed = second_client.get("/api/portfolios").get_json()
    assert [p["id"] for p in listed] == [mine.get_json()["id"]]
    assert listed[0]["value"] == 0


def test_watchlists_are_per_investor(
    owner: dict[str, Any], second_client: FlaskClient, auth: Any
) -> None:
    assert second_client.get("/api/watchlist").get_json() == {"tickers": [], "as_of": None}
    response = second_client.put(
        "/api/watchlist", json={"tickers": ["ABC"]}, headers=auth.csrf(second_client)
    )
    assert response.status_code == 200
    theirs = owner["client"].get("/api/watchlist").get_json()
    assert [t["ticker"] for t in theirs["tickers"]] == ["XYZ", "ABC"]
    assert [t["ticker"] for t in second_client.get("/api/watchlist").get_json()["tickers"]] == [
        "ABC"
    ]


def test_nobody_signed_in_reaches_any_of_it(owner: dict[str, Any], app: Any, auth: Any) -> None:
    stranger = app.test_client()
    headers = auth.csrf(stranger)
    for method, path, kwargs in [
        *_requests(owner["id"]),
        ("GET", "/api/portfolios", {}),
        ("POST", "/api/portfolios", {"json": {"name": "x"}}),
        ("GET", "/api/watchlist", {}),
        ("PUT", "/api/watchlist", {"json": {"tickers": ["ABC"]}}),
        ("GET", "/api/tickers", {}),
        ("GET", "/api/prices/ABC", {}),
    ]:
        response = stranger.open(path, method=method, headers=headers, **kwargs)
        assert response.status_code == 401, (method, path)
