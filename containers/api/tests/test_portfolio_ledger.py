"""The average-cost ledger on hand-computed cases."""

from __future__ import annotations

from datetime import date

import pytest

from api.portfolio.ledger import Entry, replay

D1, D2, D3, D4 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5)


def buy(day: date, quantity: float, price: float, fee: float = 0.0, **kw: object) -> Entry:
    return Entry("buy", day, "ABC", quantity, price, fee, **kw)  # type: ignore[arg-type]


def sell(day: date, quantity: float, price: float, fee: float = 0.0, **kw: object) -> Entry:
    return Entry("sell", day, "ABC", quantity, price, fee, **kw)  # type: ignore[arg-type]


def test_average_cost_realised_and_unrealised_by_hand() -> None:
    # buy 10 @ 100 fee 1  -> cost 1001, average 100.10
    # buy 10 @ 110        -> cost 2101 for 20, average 105.05
    # sell 5 @ 120 fee 1  -> proceeds 599, cost out 5 × 105.05 = 525.25, realised 73.75
    ledger, violations = replay([buy(D1, 10, 100, 1), buy(D2, 10, 110), sell(D3, 5, 120, 1)])
    assert violations == []
    position = ledger.positions["ABC"]
    assert position.quantity == pytest.approx(15)
    assert position.average_cost == pytest.approx(105.05)
    assert position.cost_basis == pytest.approx(1575.75)
    assert position.realised_pnl == pytest.approx(73.75)
    assert position.fees == pytest.approx(2)
    assert ledger.cash == pytest.approx(-1001 - 1100 + 599)
    # At a last close of 130: market value 1950, unrealised 1950 − 1575.75.
    assert 15 * 130 - position.cost_basis == pytest.approx(374.25)


def test_selling_everything_closes_the_position_and_keeps_its_realised_pnl() -> None:
    ledger, violations = replay([buy(D1, 3, 10, 0.5), sell(D2, 3, 12, 0.5)])
    assert violations == []
    position = ledger.positions["ABC"]
    assert not position.is_open
    assert position.average_cost is None
    assert position.cost_basis == 0
    assert position.realised_pnl == pytest.approx(36 - 0.5 - 30.5)


def test_selling_more_than_held_at_that_date_is_refused_and_not_applied() -> None:
    entries = [buy(D1, 10, 100), sell(D2, 11, 100, is_new=True), buy(D3, 5, 100)]
    ledger, violations = replay(entries)
    assert [(v.field, v.code) for v in violations] == [("quantity", "insufficient_shares")]
    assert "10 held" in violations[0].message
    assert ledger.positions["ABC"].quantity == 15  # the bad sale left no trace


def test_entries_apply_in_date_order_whatever_order_they_come_in() -> None:
    # The sale is listed first but dated after the buy.
    ledger, violations = replay([sell(D3, 4, 50), buy(D1, 4, 40)])
    assert violations == []
    assert ledger.positions["ABC"].realised_pnl == pytest.approx(40)


def test_a_backdated_sale_that_breaks_a_later_recorded_sale_is_found() -> None:
    recorded = [buy(D1, 10, 100, ref=1), sell(D4, 10, 100, ref=2)]
    _, violations = replay([*recorded, sell(D2, 5, 100, ref="new", is_new=True)])
    assert len(violations) == 1
    assert violations[0].entry.ref == 2  # the recorded sale no longer has its shares


def test_cash_moves_and_withdrawals_beyond_the_cash_held_are_refused() -> None:
    entries = [
        Entry("deposit", D1, amount=1000, fee=2),
        Entry("buy", D2, "ABC", 5, 100, 1),
        Entry("dividend", D3, "ABC", amount=20, fee=0.5),
        Entry("withdrawal", D4, amount=600, is_new=True),  # 998 − 501 + 19.5 = 516.5 held
        Entry("withdrawal", D4, amount=500, fee=1, is_new=True),
    ]
    ledger, violations = replay(entries)
    assert [(v.field, v.code) for v in violations] == [("amount", "insufficient_cash")]
    assert ledger.cash == pytest.approx(516.5 - 501)
    assert ledger.positions["ABC"].dividends == pytest.approx(19.5)
    assert ledger.deposits == pytest.approx(998)


def test_a_dividend_given_as_quantity_times_price_pays_the_product() -> None:
    entry = Entry("dividend", D1, "ABC", quantity=100, price=0.25)
    assert entry.cash_effect == pytest.approx(25)


def test_buys_may_take_cash_below_zero() -> None:
    ledger, violations = replay([buy(D1, 2, 50, 1)])
    assert violations == []
    assert ledger.cash == pytest.approx(-101)
