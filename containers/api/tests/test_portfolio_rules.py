"""What each transaction type needs, checked before any lookup."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from api.portfolio.schemas import PortfolioCreate, TransactionCreate
from api.portfolio.service import shape_problems

TODAY = date(2024, 6, 1)


def fields(**values: object) -> list[str | None]:
    tx = TransactionCreate.model_validate({"date": "2024-05-01", **values})
    return [p.field for p in shape_problems(tx, TODAY)]


def test_a_complete_buy_has_no_problems() -> None:
    assert fields(type="buy", ticker="abc", quantity=1, price=2, fee=0.5) == []


def test_a_buy_names_what_it_lacks() -> None:
    assert fields(type="buy", ticker="ABC") == ["quantity", "price"]
    assert fields(type="sell", quantity=1, price=1) == ["ticker"]


def test_a_future_date_is_refused() -> None:
    tx = TransactionCreate(type="deposit", date=date(2024, 6, 2), amount=10)
    assert [p.code for p in shape_problems(tx, TODAY)] == ["date_in_future"]


def test_cash_moves_need_an_amount_and_no_ticker() -> None:
    assert fields(type="deposit") == ["amount"]
    assert fields(type="withdrawal", amount=5, ticker="ABC") == ["ticker"]


def test_a_dividend_takes_an_amount_or_quantity_times_price() -> None:
    assert fields(type="dividend", ticker="ABC", amount=12) == []
    assert fields(type="dividend", ticker="ABC", quantity=100, price=0.12) == []
    assert fields(type="dividend", ticker="ABC") == ["amount"]
    assert fields(type="dividend", amount=3) == ["ticker"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"fee": -0.01}, "fee"),
        ({"price": 0}, "price"),
        ({"date": "2024-02-30"}, "date"),
        ({"type": "short"}, "type"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_values_name_their_field(values: dict[str, object], field: str) -> None:
    payload = {"type": "buy", "ticker": "ABC", "quantity": 1, "price": 1, "date": "2024-01-02"}
    with pytest.raises(ValidationError) as caught:
        TransactionCreate.model_validate({**payload, **values})
    assert caught.value.errors()[0]["loc"][0] == field


def test_portfolio_names_are_trimmed_and_limited() -> None:
    assert PortfolioCreate(name="  Retirement ").name == "Retirement"
    assert PortfolioCreate(name="x", base_currency="eur").base_currency == "EUR"
    for bad in ("", "   ", "x" * 81):
        with pytest.raises(ValidationError):
            PortfolioCreate(name=bad)


def test_names_and_tickers_refuse_control_characters_and_huge_amounts() -> None:
    for bad in ("Main\x00", "\udbcb"):
        with pytest.raises(ValidationError):
            PortfolioCreate(name=bad)
    payload = {"type": "buy", "ticker": "ABC", "quantity": 1, "price": 1, "date": "2024-01-02"}
    for values in ({"ticker": "A\x00"}, {"price": 1e307}, {"date": "0180-11-23"}):
        with pytest.raises(ValidationError):
            TransactionCreate.model_validate({**payload, **values})
