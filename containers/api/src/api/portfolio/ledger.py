"""The ledger maths: replay a portfolio's transactions into cash and positions.

Cost method: **average cost**. A buy adds its price × quantity plus its fee to the
position's cost basis; a sale takes out the average cost of the shares sold, so its
realised profit is ``quantity × (price − average cost) − fee``. Selling never changes
the average cost of the shares that remain.

Cash: deposits and sale proceeds add to it, buys and withdrawals take from it, every fee
is paid from it. A buy may take cash below zero (trades are often recorded without the
deposit that paid for them); a withdrawal may not take out more than is held at its date.

Pure functions on plain values, so the rules are tested by hand-computed cases without
a database. Transactions are applied in (date, then recording order) order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Quantities and money are floats; anything closer to zero than this is zero.
EPSILON = 1e-9


@dataclass(frozen=True)
class Entry:
    """One transaction as the ledger sees it; ``ref`` says where it came from (an id, a row)."""

    type: str
    date: date
    ticker: str | None = None
    quantity: float | None = None
    price: float | None = None
    fee: float = 0.0
    amount: float | None = None
    ref: Any = None
    is_new: bool = False

    @property
    def cash_amount(self) -> float:
        """The cash of a deposit, withdrawal or dividend: ``amount``, else quantity × price."""
        if self.amount is not None:
            return self.amount
        if self.quantity is not None and self.price is not None:
            return self.quantity * self.price
        return 0.0

    @property
    def cash_effect(self) -> float:
        """What this entry does to cash (positive: cash comes in)."""
        if self.type == "buy":
            return -((self.quantity or 0.0) * (self.price or 0.0) + self.fee)
        if self.type == "sell":
            return (self.quantity or 0.0) * (self.price or 0.0) - self.fee
        if self.type in ("deposit", "dividend"):
            return self.cash_amount - self.fee
        if self.type == "withdrawal":
            return -(self.cash_amount + self.fee)
        raise ValueError(f"unknown transaction type {self.type!r}")


@dataclass
class Position:
    ticker: str
    quantity: float = 0.0
    cost_basis: float = 0.0  # what the shares still held cost, buy fees included
    realised_pnl: float = 0.0  # sales only, their fees included; dividends are apart
    dividends: float = 0.0  # net of their fees
    fees: float = 0.0  # every fee paid on this ticker
    invested: float = 0.0  # everything ever paid for it, fees included

    @property
    def average_cost(self) -> float | None:
        return self.cost_basis / self.quantity if self.quantity > EPSILON else None

    @property
    def is_open(self) -> bool:
        return self.quantity > EPSILON


@dataclass(frozen=True)
class Violation:
    """A rule an entry breaks; the entry is not applied."""

    entry: Entry
    field: str
    code: str
    message: str


@dataclass
class Ledger:
    cash: float = 0.0
    positions: dict[str, Position] = field(default_factory=dict)
    deposits: float = 0.0
    withdrawals: float = 0.0

    def held(self, ticker: str) -> float:
        position = self.positions.get(ticker)
        return position.quantity if position is not None else 0.0

    def position(self, ticker: str) -> Position:
        if ticker not in self.positions:
            self.positions[ticker] = Position(ticker)
        return self.positions[ticker]

    def check(self, entry: Entry) -> Violation | None:
        """The rule ``entry`` would break if applied now, if any."""
        if entry.type == "sell":
            assert entry.ticker is not None and entry.quantity is not None
            held = self.held(entry.ticker)
            if entry.quantity > held + EPSILON:
                return Violation(
                    entry,
                    "quantity",
                    "insufficient_shares",
                    f"cannot sell {_number(entry.quantity)} {entry.ticker} on {entry.date}: "
                    f"{_number(held)} held at that date",
                )
        elif entry.type == "withdrawal" and entry.is_new:
            # Only new withdrawals are checked: one already recorded was valid when made,
            # and a buy recorded later may take cash below zero (see the module docstring).
            needed = entry.cash_amount + entry.fee
            if needed > self.cash + EPSILON:
                return Violation(
                    entry,
                    "amount",
                    "insufficient_cash",
                    f"cannot withdraw {_number(needed)} (fee included) on {entry.date}: "
                    f"{_number(max(self.cash, 0.0))} cash held at that date",
                )
        return None

    def apply(self, entry: Entry) -> None:
        """Apply ``entry`` (checked first with :meth:`check` by the caller)."""
        self.cash += entry.cash_effect
        if entry.type == "buy":
            assert entry.ticker is not None and entry.quantity is not None
            position = self.position(entry.ticker)
            cost = entry.quantity * (entry.price or 0.0) + entry.fee
            position.quantity += entry.quantity
            position.cost_basis += cost
            position.invested += cost
            position.fees += entry.fee
        elif entry.type == "sell":
            assert entry.ticker is not None and entry.quantity is not None
            position = self.position(entry.ticker)
            average = position.cost_basis / position.quantity if position.quantity else 0.0
            sold_cost = average * entry.quantity
            proceeds = entry.quantity * (entry.price or 0.0) - entry.fee
            position.realised_pnl += proceeds - sold_cost
            position.fees += entry.fee
            position.quantity -= entry.quantity
            position.cost_basis -= sold_cost
            if position.quantity <= EPSILON:
                position.quantity = 0.0
                position.cost_basis = 0.0
        elif entry.type == "dividend":
            assert entry.ticker is not None
            position = self.position(entry.ticker)
            position.dividends += entry.cash_amount - entry.fee
            position.fees += entry.fee
        elif entry.type == "deposit":
            self.deposits += entry.cash_amount - entry.fee
        elif entry.type == "withdrawal":
            self.withdrawals += entry.cash_amount + entry.fee


def replay(entries: Iterable[Entry]) -> tuple[Ledger, list[Violation]]:
    """Apply ``entries`` in date order (stable: same-date entries keep their order).

    An entry that breaks a rule is reported and skipped, so the rest still gets checked
    against a consistent state.
    """
    ledger = Ledger()
    violations: list[Violation] = []
    for entry in sorted(entries, key=lambda e: e.date):
        violation = ledger.check(entry)
        if violation is not None:
            violations.append(violation)
            continue
        ledger.apply(entry)
    return ledger, violations


def _number(value: float) -> str:
    return f"{value:,.8f}".rstrip("0").rstrip(".")
