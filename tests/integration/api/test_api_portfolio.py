"""Portfolios, transactions, CSV import, holdings and risk through the API on real PostgreSQL."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient


def _bars(ticker: str, closes: list[float], start: date) -> list[dict[str, Any]]:
    """Business-day bars with the given closes, from ``start``."""
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
            }
        )
        day += timedelta(days=1)
    return rows


class Investor:
    """A signed-in client with the CSRF header at hand."""

    def __init__(self, client: FlaskClient, auth: Any) -> None:
        self.client = client
        self.user = auth.register_and_login(client)
        self.headers = auth.csrf(client)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, headers=self.headers, **kwargs)

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def portfolio(self, name: str = "Main") -> int:
        response = self.post("/api/portfolios", json={"name": name})
        assert response.status_code == 201, response.get_json()
        return int(response.get_json()["id"])

    def record(self, portfolio_id: int, **tx: Any) -> Any:
        return self.post(f"/api/portfolios/{portfolio_id}/transactions", json=tx)

    def recorded(self, portfolio_id: int, **tx: Any) -> dict[str, Any]:
        response = self.record(portfolio_id, **tx)
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    def import_csv(self, portfolio_id: int, text: str, content_type: str = "text/csv") -> Any:
        return self.post(
            f"/api/portfolios/{portfolio_id}/transactions/import",
            data=text.encode(),
            content_type=content_type,
        )


@pytest.fixture
def investor(client: FlaskClient, auth: Any) -> Investor:
    return Investor(client, auth)


@pytest.fixture
def abc(seed_bars: Any) -> list[dict[str, Any]]:
    """ABC: 40 closes at 100 from 2024-01-01, then 125 and 130 (last bar 2024-02-27)."""
    rows = _bars("ABC", [100.0] * 40 + [125.0, 130.0], date(2024, 1, 1))
    seed_bars(rows)
    return rows


# --- portfolios ------------------------------------------------------------------------------


def test_create_list_and_get_portfolios(investor: Investor) -> None:
    response = investor.post(
        "/api/portfolios", json={"name": " Retirement ", "base_currency": "eur"}
    )
    assert response.status_code == 201
    created = response.get_json()
    assert created["name"] == "Retirement" and created["base_currency"] == "EUR"
    assert created["value"] == 0 and created["cash"] == 0 and created["as_of"] is None
    second = investor.portfolio("Trading")
    listed = investor.get("/api/portfolios").get_json()
    assert [p["name"] for p in listed] == ["Retirement", "Trading"]
    one = investor.get(f"/api/portfolios/{second}").get_json()
    assert one["id"] == second and one["base_currency"] == "USD"


def test_portfolio_names_are_unique_per_user_and_bounded(investor, app, auth) -> None:
    investor.portfolio("Main")
    duplicate = investor.post("/api/portfolios", json={"name": "Main"})
    assert duplicate.status_code == 409
    assert duplicate.get_json()["error"]["field"] == "name"
    for bad in ({"name": ""}, {"name": "x" * 81}, {"name": "ok", "base_currency": "EURO"}):
        response = investor.post("/api/portfolios", json=bad)
        assert response.status_code == 422, bad
    # Another investor may use the same name.
    other = Investor(app.test_client(), auth)
    other.portfolio("Main")


def test_an_unknown_portfolio_is_404(investor) -> None:
    assert investor.get("/api/portfolios/999999").status_code == 404


# --- transactions and holdings ---------------------------------------------------------------


def test_holdings_by_average_cost_computed_by_hand(investor, abc) -> None:
    pid = investor.portfolio()
    investor.recorded(pid, type="deposit", amount=5000, date="2024-01-02")
    buy = investor.recorded(
        pid, type="buy", ticker="abc", quantity=10, price=100, fee=1, date="2024-01-03"
    )
    assert buy["ticker"] == "ABC" and buy["cash_effect"] == -1001
    investor.recorded(pid, type="buy", ticker="ABC", quantity=10, price=110, date="2024-01-04")
    investor.recorded(
        pid, type="sell", ticker="ABC", quantity=5, price=120, fee=1, date="2024-01-05"
    )
    investor.recorded(pid, type="dividend", ticker="ABC", amount=7.5, date="2024-01-08")

    response = investor.get(f"/api/portfolios/{pid}/holdings")
    assert response.status_code == 200
    report = response.get_json()
    assert report["cost_method"] == "average_cost"
    assert report["as_of"] == "2024-02-27"
    (holding,) = report["holdings"]
    assert holding["ticker"] == "ABC" and holding["quantity"] == 15
    assert holding["average_cost"] == pytest.approx(105.05)  # (1001 + 1100) / 20
    assert holding["cost_basis"] == pytest.approx(1575.75)
    assert holding["last_price"] == 130 and holding["price_date"] == "2024-02-27"
    assert holding["market_value"] == pytest.approx(1950)
    assert holding["unrealised_pnl"] == pytest.approx(374.25)
    assert holding["realised_pnl"] == pytest.approx(73.75)  # 599 − 5 × 105.05
    assert holding["dividends"] == pytest.approx(7.5)
    assert holding["weight"] == pytest.approx(1.0)
    assert holding["day_change"] == pytest.approx(15 * 5)
    cash = 5000 - 1001 - 1100 + 599 + 7.5
    assert report["cash"] == pytest.approx(cash)
    assert report["total_value"] == pytest.approx(cash + 1950)

    summary = investor.get(f"/api/portfolios/{pid}").get_json()
    assert summary["value"] == pytest.approx(cash + 1950)
    assert summary["cash"] == pytest.approx(cash)
    assert summary["day_change"] == pytest.approx(75)
    assert summary["day_change_pct"] == pytest.approx(75 / (cash + 1950 - 75))
    assert summary["as_of"] == "2024-02-27" and summary["holdings"] == 1

    listed = investor.get(f"/api/portfolios/{pid}/transactions").get_json()
    assert [t["type"] for t in listed] == ["deposit", "buy", "buy", "sell", "dividend"]


def test_weights_split_the_holdings_value(investor, abc, seed_bars) -> None:
    seed_bars(_bars("XYZ", [10.0] * 42, date(2024, 1, 1)))
    pid = investor.portfolio()
    investor.recorded(pid, type="buy", ticker="ABC", quantity=1, price=100, date="2024-01-03")
    investor.recorded(pid, type="buy", ticker="XYZ", quantity=13, price=10, date="2024-01-03")
    investor.recorded(pid, type="buy", ticker="XYZ", quantity=2, price=10, date="2024-01-04")
    investor.recorded(pid, type="sell", ticker="XYZ", quantity=15, price=11, date="2024-01-05")
    report = investor.get(f"/api/portfolios/{pid}/holdings").get_json()
    assert [h["ticker"] for h in report["holdings"]] == ["ABC"]
    (closed,) = report["closed_positions"]
    assert closed["ticker"] == "XYZ" and closed["quantity"] == 0
    assert closed["realised_pnl"] == pytest.approx(15) and closed["weight"] is None
    assert report["cash"] == pytest.approx(-100 - 150 + 165)  # buys may go below zero


@pytest.mark.parametrize(
    ("tx", "field"),
    [
        ({"type": "sell", "ticker": "ABC", "quantity": 11, "price": 100}, "quantity"),
        ({"type": "buy", "ticker": "ABC", "quantity": 0, "price": 100}, "quantity"),
        ({"type": "buy", "ticker": "ABC", "quantity": -1, "price": 100}, "quantity"),
        ({"type": "buy", "ticker": "ABC", "quantity": 1, "price": 100, "fee": -1}, "fee"),
        ({"type": "buy", "ticker": "NOPE", "quantity": 1, "price": 100}, "ticker"),
        ({"type": "buy", "ticker": "ABC", "price": 100}, "quantity"),
        ({"type": "buy", "ticker": "ABC", "quantity": 1, "price": 1, "date": "2023-12-29"}, "date"),
        ({"type": "deposit", "amount": 10, "date": "2999-01-01"}, "date"),
        ({"type": "withdrawal", "amount": 1000.01}, "amount"),
        ({"type": "dividend", "ticker": "ABC"}, "amount"),
        ({"type": "deposit"}, "amount"),
        ({"type": "swap", "amount": 1}, "type"),
    ],
)
def test_transactions_that_break_a_rule_are_refused_and_not_stored(
    investor, abc, tx, field
) -> None:
    pid = investor.portfolio()
    investor.recorded(pid, type="deposit", amount=1000, date="2024-01-02")
    investor.recorded(pid, type="buy", ticker="ABC", quantity=10, price=50, date="2024-01-03")
    before = investor.get(f"/api/portfolios/{pid}/transactions").get_json()
    # 1000 − 500 = 500 cash; a withdrawal of 1000.01 exceeds it.
    response = investor.record(pid, **{"date": "2024-01-10", **tx})
    assert 400 <= response.status_code < 500
    assert response.get_json()["error"]["field"] == field, response.get_json()
    assert investor.get(f"/api/portfolios/{pid}/transactions").get_json() == before


def test_a_sale_is_checked_against_the_shares_held_at_its_date(investor, abc) -> None:
    pid = investor.portfolio()
    investor.recorded(pid, type="buy", ticker="ABC", quantity=10, price=100, date="2024-01-10")
    early = investor.record(
        pid, type="sell", ticker="ABC", quantity=1, price=100, date="2024-01-09"
    )
    assert early.status_code == 422
    assert early.get_json()["error"]["field"] == "quantity"
    investor.recorded(pid, type="sell", ticker="ABC", quantity=10, price=100, date="2024-02-01")
    # A backdated sale would leave the recorded one without its shares.
    backdated = investor.record(
        pid, type="sell", ticker="ABC", quantity=1, price=100, date="2024-01-15"
    )
    assert backdated.status_code == 422
    assert "already recorded" in backdated.get_json()["error"]["message"]


# --- CSV import ------------------------------------------------------------------------------


def test_csv_import_checks_rows_in_date_order(investor, abc) -> None:
    pid = investor.portfolio()
    text = (
        "Date,Type,Ticker,Quantity,Price,Fee,Amount\n"
        "2024-01-10,sell,ABC,5,120,1,\n"  # before its buy in the file, after it in time
        "2024-01-03,buy,abc,10,100,1,\n"
        "2024-01-02,deposit,,,,,2000\n"
    )
    response = investor.import_csv(pid, text)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"imported": 3, "errors": []}
    listed = investor.get(f"/api/portfolios/{pid}/transactions").get_json()
    assert [(t["date"], t["type"]) for t in listed] == [
        ("2024-01-02", "deposit"),
        ("2024-01-03", "buy"),
        ("2024-01-10", "sell"),
    ]
    holdings = investor.get(f"/api/portfolios/{pid}/holdings").get_json()
    assert holdings["holdings"][0]["quantity"] == 5
    assert holdings["realised_pnl"] == pytest.approx(599 - 5 * 100.1)


def test_a_csv_with_one_bad_row_stores_nothing_and_names_the_row(investor, abc) -> None:
    pid = investor.portfolio()
    text = (
        "date,type,ticker,quantity,price,fee\n"
        "2024-01-03,buy,ABC,10,100,0\n"
        "2024-01-04,sell,ABC,11,100,0\n"  # line 3: one more than held
        "2024-01-05,buy,ABC,1,100,0\n"
    )
    response = investor.import_csv(pid, text)
    assert response.status_code == 422
    body = response.get_json()
    assert body["imported"] == 0
    assert body["error"]["code"] == "import_rejected"
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(3, "quantity")]
    assert investor.get(f"/api/portfolios/{pid}/transactions").get_json() == []


def test_csv_import_reports_every_bad_row(investor, abc) -> None:
    pid = investor.portfolio()
    text = (
        "date,type,ticker,quantity,price,fee\n"
        "2024-01-03,buy,ABC,10,100,0\n"
        "2024-01-03,buy,NOPE,10,100,0\n"
        "2024-01-03,buy,ABC,ten,100,0\n"
        "2999-01-03,buy,ABC,1,100,0\n"
    )
    body = investor.import_csv(pid, text).get_json()
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (3, "ticker"),
        (4, "quantity"),
        (5, "date"),
    ]
    assert investor.get(f"/api/portfolios/{pid}/transactions").get_json() == []


def test_csv_import_wants_csv_of_a_sane_size(investor, abc) -> None:
    pid = investor.portfolio()
    header = "date,type,ticker,quantity,price,fee\n"
    wrong_type = investor.import_csv(pid, header, content_type="application/json")
    assert wrong_type.status_code == 415
    huge = header + "2024-01-03,buy,ABC,1,100,0\n" * 50_000
    assert investor.import_csv(pid, huge).status_code == 413
    assert investor.get(f"/api/portfolios/{pid}/transactions").get_json() == []


# --- risk ------------------------------------------------------------------------------------


def test_risk_of_an_empty_portfolio_explains_its_nulls(investor, abc) -> None:
    pid = investor.portfolio()
    response = investor.get(f"/api/portfolios/{pid}/risk")
    assert response.status_code == 200
    report = response.get_json()
    assert report["volatility_annualised"] is None and report["var_95_1d"] is None
    assert report["observations"] == 0 and report["explanation"]


def test_risk_of_one_holding_matches_its_own_returns(investor, seed_bars) -> None:
    rows = seed_bars.walk("ABC", 300, start=date(2023, 1, 2))
    seed_bars.walk("XYZ", 300, start=date(2023, 1, 2))
    pid = investor.portfolio()
    investor.recorded(pid, type="buy", ticker="ABC", quantity=10, price=100, date="2023-02-01")
    report = investor.get(f"/api/portfolios/{pid}/risk?window=100&benchmark=abc").get_json()

    closes = np.array([r["adj_close"] for r in rows[-101:]])
    returns = closes[1:] / closes[:-1] - 1
    assert report["observations"] == 100
    assert report["window_start"] == rows[-101]["date"].isoformat()
    assert report["window_end"] == rows[-1]["date"].isoformat() == report["as_of"]
    assert report["volatility_annualised"] == pytest.approx(
        returns.std(ddof=1) * math.sqrt(252), rel=1e-6
    )
    worst = np.sort(-returns)[::-1][:5]  # 5% of 100 days
    assert report["var_95_1d"] == pytest.approx(worst[-1], rel=1e-6)
    assert report["cvar_95_1d"] == pytest.approx(worst.mean(), rel=1e-6)
    path = np.cumprod(np.concatenate([[1.0], 1 + returns]))
    expected_drawdown = float(np.max(1 - path / np.maximum.accumulate(path)))
    assert report["max_drawdown"] == pytest.approx(expected_drawdown, rel=1e-6)
    assert report["benchmark"]["kind"] == "ticker" and report["benchmark"]["ticker"] == "ABC"
    assert report["beta"] == pytest.approx(1.0)
    assert report["concentration"]["herfindahl"] == pytest.approx(1.0)
    assert report["correlation"] == {"tickers": ["ABC"], "matrix": [[1.0]]}


def test_risk_of_two_holdings_against_the_equal_weight_index(investor, seed_bars) -> None:
    for symbol in ("ABC", "XYZ", "IDX"):
        seed_bars.walk(symbol, 300, start=date(2023, 1, 2))
    pid = investor.portfolio()
    investor.recorded(pid, type="buy", ticker="ABC", quantity=10, price=100, date="2023-02-01")
    investor.recorded(pid, type="buy", ticker="XYZ", quantity=30, price=100, date="2023-02-01")
    report = investor.get(f"/api/portfolios/{pid}/risk").get_json()
    assert report["benchmark"]["kind"] == "equal_weight_index"
    assert report["observations"] == 252
    assert report["beta"] is not None and 0 < report["beta"] < 3
    assert report["correlation"]["tickers"] == ["ABC", "XYZ"]
    matrix = report["correlation"]["matrix"]
    assert matrix[0][0] == matrix[1][1] == pytest.approx(1.0)
    assert matrix[0][1] == pytest.approx(matrix[1][0])
    weights = report["weights"]
    assert sum(weights.values()) == pytest.approx(1.0)
    concentration = report["concentration"]
    assert concentration["largest_weight"] == pytest.approx(max(weights.values()))
    assert concentration["herfindahl"] == pytest.approx(sum(w * w for w in weights.values()))
    assert 0 < report["var_95_1d"] <= report["cvar_95_1d"]


def test_risk_refuses_an_unknown_benchmark_and_a_silly_window(investor, abc) -> None:
    pid = investor.portfolio()
    unknown = investor.get(f"/api/portfolios/{pid}/risk?benchmark=NOPE")
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["field"] == "benchmark"
    short = investor.get(f"/api/portfolios/{pid}/risk?window=5")
    assert short.status_code == 422
    assert short.get_json()["error"]["field"] == "window"


def test_risk_explains_holdings_whose_prices_do_not_overlap(investor, abc, seed_bars) -> None:
    seed_bars(_bars("OLD", [10.0] * 30, date(2010, 1, 4)))
    pid = investor.portfolio()
    investor.recorded(pid, type="buy", ticker="ABC", quantity=1, price=100, date="2024-01-03")
    investor.recorded(pid, type="buy", ticker="OLD", quantity=1, price=10, date="2010-01-05")
    report = investor.get(f"/api/portfolios/{pid}/risk").get_json()
    assert report["volatility_annualised"] is None
    assert "overlap" in report["explanation"]
    assert report["concentration"] is not None  # weights need no history
    # Each holding is valued at its own last close, and the answer says how old it is.
    holdings = investor.get(f"/api/portfolios/{pid}/holdings").get_json()
    assert holdings["as_of"] == "2024-02-27"
    assert holdings["oldest_price_date"] == "2010-02-12"
    dates = {h["ticker"]: h["price_date"] for h in holdings["holdings"]}
    assert dates == {"ABC": "2024-02-27", "OLD": "2010-02-12"}


# --- the demo account ------------------------------------------------------------------------


def test_the_demo_seed_builds_a_usable_account_once(
    db_url, app, auth, seed_bars, monkeypatch
) -> None:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from api import seed

    # Familiar names over a shared period, one stale ticker, and a late-starting one.
    for symbol in ("MSFT", "AAPL", "KO", "ZZZ", "YYY"):
        seed_bars.walk(symbol, 600, start=date(2020, 1, 1))
    seed_bars.walk("OLD", 600, start=date(2001, 1, 1))
    engine = sa.create_engine(db_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            first = seed.seed(session)
        with Session(engine, expire_on_commit=False) as session:
            second = seed.seed(session)
    finally:
        engine.dispose()
    assert "created" in first[0] and "already there" in second[0]
    assert all("already there" in line for line in second if "password" not in line)

    browser = app.test_client()
    response = auth.login(browser, seed.DEMO_EMAIL, seed.DEMO_PASSWORD)
    assert response.status_code == 200
    (demo,) = browser.get("/api/portfolios").get_json()
    assert demo["name"] == "Demo portfolio" and demo["holdings"] == 5
    assert demo["cash"] > 0
    holdings = browser.get(f"/api/portfolios/{demo['id']}/holdings").get_json()
    assert "OLD" not in {h["ticker"] for h in holdings["holdings"]}
    transactions = browser.get(f"/api/portfolios/{demo['id']}/transactions").get_json()
    assert [t["type"] for t in transactions].count("buy") == 5  # the second run added none
    risk = browser.get(f"/api/portfolios/{demo['id']}/risk").get_json()
    assert risk["observations"] > 100 and risk["volatility_annualised"] > 0
    watchlist = browser.get("/api/watchlist").get_json()
    assert [t["ticker"] for t in watchlist["tickers"]][:3] == ["AAPL", "MSFT", "KO"]


def test_the_demo_seed_refuses_to_run_outside_development(db_url, monkeypatch, capsys) -> None:
    from api import seed

    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SESSION_SECRET", "a-real-looking-production-secret")
    assert seed.main() == 2
    assert "development only" in capsys.readouterr().err
