"""Portfolios, transactions and holdings as plain functions over a SQLAlchemy session.

Every function takes the signed-in user's id and looks the portfolio up WITH it: another
user's portfolio is a 404, never their data. Writes commit here. The ledger rules and the
average-cost maths live in :mod:`api.portfolio.ledger`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import ApiError, ConflictError, NotFoundError
from api.market.service import LastCloses, last_closes
from api.portfolio.csv_import import parse_transactions_csv
from api.portfolio.ledger import Entry, Ledger, Position, Violation, replay
from api.portfolio.schemas import (
    Holding,
    Holdings,
    ImportReport,
    ImportRowError,
    PortfolioCreate,
    PortfolioSummary,
    TransactionCreate,
    TransactionOut,
)
from api.portfolio.tables import Portfolio, PortfolioTransaction
from quantcore.db.tables import tickers

Ref = TypeVar("Ref")
MAX_ID = 2**31 - 1  # the id columns are INTEGER; a larger id names no portfolio


class ImportRejectedError(ApiError):
    """A CSV import with at least one bad row: nothing stored, every problem reported."""

    def __init__(self, report: ImportReport) -> None:
        count = len(report.errors)
        super().__init__(
            422,
            "import_rejected",
            f"{count} problem{'s' if count != 1 else ''} found; nothing was imported",
        )
        self.report = report

    def body(self) -> dict[str, object]:
        return {**super().body(), **self.report.model_dump(mode="json")}


@dataclass(frozen=True)
class Problem:
    """A transaction that cannot be recorded, and which of its fields is wrong."""

    field: str | None
    code: str
    message: str


# --- portfolios ------------------------------------------------------------------------------


def owned_portfolio(
    session: Session, user_id: int, portfolio_id: int, *, lock: bool = False
) -> Portfolio:
    """The user's portfolio; 404 when it does not exist or belongs to someone else."""
    if not 0 < portfolio_id <= MAX_ID:
        raise NotFoundError("no such portfolio", field="portfolio_id")
    stmt = sa.select(Portfolio).where(Portfolio.id == portfolio_id, Portfolio.user_id == user_id)
    if lock:
        # Serialises writers of one portfolio: two sales cannot both spend the same shares.
        stmt = stmt.with_for_update()
    portfolio = session.scalars(stmt).one_or_none()
    if portfolio is None:
        raise NotFoundError("no such portfolio", field="portfolio_id")
    return portfolio


def create_portfolio(session: Session, user_id: int, new: PortfolioCreate) -> PortfolioSummary:
    taken = session.scalar(
        sa.select(Portfolio.id).where(Portfolio.user_id == user_id, Portfolio.name == new.name)
    )
    if taken is not None:
        raise ConflictError(f"you already have a portfolio named {new.name!r}", field="name")
    portfolio = Portfolio(user_id=user_id, name=new.name, base_currency=new.base_currency)
    session.add(portfolio)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ConflictError(
            f"you already have a portfolio named {new.name!r}", field="name"
        ) from None
    return _summaries(session, [portfolio])[0]


def list_portfolios(session: Session, user_id: int) -> list[PortfolioSummary]:
    portfolios = list(
        session.scalars(
            sa.select(Portfolio).where(Portfolio.user_id == user_id).order_by(Portfolio.id)
        )
    )
    return _summaries(session, portfolios)


def get_portfolio(session: Session, user_id: int, portfolio_id: int) -> PortfolioSummary:
    return _summaries(session, [owned_portfolio(session, user_id, portfolio_id)])[0]


# --- valuation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Valuation:
    ledger: Ledger
    closes: dict[str, LastCloses]

    @property
    def open_positions(self) -> list[Position]:
        return sorted(
            (p for p in self.ledger.positions.values() if p.is_open), key=lambda p: p.ticker
        )

    @property
    def as_of(self) -> date | None:
        dates = [
            self.closes[p.ticker].as_of for p in self.open_positions if p.ticker in self.closes
        ]
        return max(dates, default=None)

    def market_value(self, position: Position) -> float | None:
        closes = self.closes.get(position.ticker)
        return position.quantity * closes.close if closes is not None else None

    def day_change(self, position: Position) -> float | None:
        closes = self.closes.get(position.ticker)
        if closes is None or closes.previous_close is None:
            return None
        return position.quantity * (closes.close - closes.previous_close)

    @property
    def holdings_value(self) -> float:
        return sum(self.market_value(p) or 0.0 for p in self.open_positions)

    @property
    def total_day_change(self) -> float | None:
        changes = [self.day_change(p) for p in self.open_positions]
        known = [c for c in changes if c is not None]
        return sum(known) if known else None


_ENTRY_COLUMNS = (
    PortfolioTransaction.portfolio_id,
    PortfolioTransaction.id,
    PortfolioTransaction.type,
    PortfolioTransaction.date,
    PortfolioTransaction.ticker,
    PortfolioTransaction.quantity,
    PortfolioTransaction.price,
    PortfolioTransaction.fee,
    PortfolioTransaction.amount,
)


def _entries(session: Session, portfolio_ids: Sequence[int]) -> dict[int, list[Entry]]:
    """Every recorded transaction of these portfolios, in ledger order, in one query."""
    found: dict[int, list[Entry]] = {pid: [] for pid in portfolio_ids}
    if not portfolio_ids:
        return found
    rows = session.execute(
        sa.select(*_ENTRY_COLUMNS)
        .where(PortfolioTransaction.portfolio_id.in_(portfolio_ids))
        .order_by(
            PortfolioTransaction.portfolio_id, PortfolioTransaction.date, PortfolioTransaction.id
        )
    ).all()
    for pid, tid, kind, day, ticker, quantity, price, fee, amount in rows:
        found[pid].append(
            Entry(kind, day, ticker, quantity, price, fee or 0.0, amount, ref=tid, is_new=False)
        )
    return found


def valuations(session: Session, portfolio_ids: Sequence[int]) -> dict[int, Valuation]:
    """Ledgers of these portfolios valued at the last closes: two queries in all."""
    ledgers = {pid: replay(entries)[0] for pid, entries in _entries(session, portfolio_ids).items()}
    held = {p.ticker for ledger in ledgers.values() for p in ledger.positions.values() if p.is_open}
    closes = last_closes(session, held)
    return {pid: Valuation(ledger, closes) for pid, ledger in ledgers.items()}


def _summaries(session: Session, portfolios: list[Portfolio]) -> list[PortfolioSummary]:
    valued = valuations(session, [p.id for p in portfolios])
    summaries = []
    for portfolio in portfolios:
        valuation = valued[portfolio.id]
        holdings_value = valuation.holdings_value
        value = holdings_value + valuation.ledger.cash
        day_change = valuation.total_day_change
        before = value - day_change if day_change is not None else None
        summaries.append(
            PortfolioSummary(
                id=portfolio.id,
                name=portfolio.name,
                base_currency=portfolio.base_currency,
                created_at=portfolio.created_at,
                value=_money(value),
                cash=_money(valuation.ledger.cash),
                holdings_value=_money(holdings_value),
                day_change=_maybe_money(day_change),
                # A percentage of a value that was zero or negative (cash overdrawn by
                # buys) means nothing; the money amount still says it all.
                day_change_pct=(
                    _ratio(day_change / before)
                    if day_change is not None and before is not None and before > 0
                    else None
                ),
                holdings=len(valuation.open_positions),
                as_of=valuation.as_of,
            )
        )
    return summaries


def holdings(session: Session, user_id: int, portfolio_id: int) -> Holdings:
    """Open positions valued at their last close, closed ones with their realised P&L.

    Average-cost method (see :mod:`api.portfolio.ledger`); weights are shares of the
    holdings' market value, cash excluded.
    """
    portfolio = owned_portfolio(session, user_id, portfolio_id)
    valuation = valuations(session, [portfolio.id])[portfolio.id]
    ledger = valuation.ledger
    holdings_value = valuation.holdings_value
    open_positions = valuation.open_positions

    def holding(position: Position) -> Holding:
        closes = valuation.closes.get(position.ticker)
        value = valuation.market_value(position)
        unrealised = value - position.cost_basis if value is not None else None
        return Holding(
            ticker=position.ticker,
            source=closes.source if closes else None,
            quantity=round(position.quantity, 8),
            average_cost=_maybe_money(position.average_cost),
            cost_basis=_money(position.cost_basis),
            last_price=closes.close if closes and position.is_open else None,
            price_date=closes.as_of if closes and position.is_open else None,
            market_value=_maybe_money(value),
            unrealised_pnl=_maybe_money(unrealised),
            unrealised_pnl_pct=(
                _ratio(unrealised / position.cost_basis)
                if unrealised is not None and position.cost_basis > 0
                else None
            ),
            realised_pnl=_money(position.realised_pnl),
            dividends=_money(position.dividends),
            fees=_money(position.fees),
            weight=(
                _ratio(value / holdings_value)
                if value is not None and holdings_value > 0 and position.is_open
                else None
            ),
            day_change=_maybe_money(valuation.day_change(position)) if position.is_open else None,
        )

    closed = sorted((p for p in ledger.positions.values() if not p.is_open), key=lambda p: p.ticker)
    open_holdings = [holding(p) for p in open_positions]
    cost_basis = sum(p.cost_basis for p in open_positions)
    unrealised = sum(
        (valuation.market_value(p) or p.cost_basis) - p.cost_basis for p in open_positions
    )
    return Holdings(
        portfolio_id=portfolio.id,
        base_currency=portfolio.base_currency,
        as_of=valuation.as_of,
        oldest_price_date=min(
            (h.price_date for h in open_holdings if h.price_date is not None), default=None
        ),
        holdings=open_holdings,
        closed_positions=[holding(p) for p in closed],
        cash=_money(ledger.cash),
        holdings_value=_money(holdings_value),
        total_value=_money(holdings_value + ledger.cash),
        cost_basis=_money(cost_basis),
        unrealised_pnl=_money(unrealised),
        realised_pnl=_money(sum(p.realised_pnl for p in ledger.positions.values())),
        dividends=_money(sum(p.dividends for p in ledger.positions.values())),
        day_change=_maybe_money(valuation.total_day_change),
    )


# --- transactions ----------------------------------------------------------------------------


def list_transactions(session: Session, user_id: int, portfolio_id: int) -> list[TransactionOut]:
    portfolio = owned_portfolio(session, user_id, portfolio_id)
    rows = session.scalars(
        sa.select(PortfolioTransaction)
        .where(PortfolioTransaction.portfolio_id == portfolio.id)
        .order_by(PortfolioTransaction.date, PortfolioTransaction.id)
    )
    return [_transaction_out(row) for row in rows]


def add_transaction(
    session: Session, user_id: int, portfolio_id: int, tx: TransactionCreate
) -> TransactionOut:
    """Record one transaction; a 422 naming the field when it breaks a rule, nothing stored."""
    portfolio = owned_portfolio(session, user_id, portfolio_id, lock=True)
    try:
        problems = _check_new(session, portfolio.id, [(None, tx)])
        if problems:
            _, problem = problems[0]
            raise ApiError(422, problem.code, problem.message, problem.field)
        row = _row(portfolio.id, tx)
        session.add(row)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return _transaction_out(row)


def import_transactions_csv(
    session: Session, user_id: int, portfolio_id: int, body: bytes
) -> ImportReport:
    """Import every row of a CSV file or none (see :mod:`api.portfolio.csv_import`).

    Rows are checked in date order against the portfolio as it stands, so a sale after
    its purchase in the same file is fine. Any problem: :class:`ImportRejectedError` (a 422
    with the row-by-row report) and nothing stored.
    """
    portfolio = owned_portfolio(session, user_id, portfolio_id, lock=True)
    try:
        parsed = parse_transactions_csv(body)
        errors = list(parsed.errors)
        if parsed.rows:
            for line, problem in _check_new(session, portfolio.id, parsed.rows):
                errors.append(
                    ImportRowError(row=line, field=problem.field, message=problem.message)
                )
        if errors:
            errors.sort(key=lambda e: (e.row is not None, e.row or 0))
            raise ImportRejectedError(ImportReport(imported=0, errors=errors))
        session.add_all(_row(portfolio.id, tx) for _, tx in parsed.rows)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return ImportReport(imported=len(parsed.rows), errors=[])


def _row(portfolio_id: int, tx: TransactionCreate) -> PortfolioTransaction:
    amount = tx.amount
    if tx.type == "dividend" and amount is None and tx.quantity and tx.price:
        amount = tx.quantity * tx.price
    return PortfolioTransaction(
        portfolio_id=portfolio_id,
        type=tx.type,
        date=tx.date,
        ticker=tx.ticker,
        quantity=tx.quantity,
        price=tx.price,
        fee=tx.fee,
        amount=amount,
    )


def _transaction_out(row: PortfolioTransaction) -> TransactionOut:
    entry = Entry(row.type, row.date, row.ticker, row.quantity, row.price, row.fee, row.amount)
    return TransactionOut(
        id=row.id,
        type=row.type,  # type: ignore[arg-type]  # the database's CHECK keeps it one of them
        date=row.date,
        ticker=row.ticker,
        quantity=row.quantity,
        price=row.price,
        fee=row.fee,
        amount=row.amount,
        cash_effect=_money(entry.cash_effect),
        created_at=row.created_at,
    )


def shape_problems(tx: TransactionCreate, today: date) -> list[Problem]:
    """What a transaction lacks (or carries needlessly) for its type, before any lookup."""
    problems: list[Problem] = []

    def need(field: str, present: bool, what: str) -> None:
        if not present:
            problems.append(Problem(field, "validation_error", f"{field}: {what}"))

    def refuse(field: str, present: bool) -> None:
        if present:
            problems.append(
                Problem(
                    field, "validation_error", f"{field}: not used by a {tx.type}; leave it out"
                )
            )

    if tx.date > today:
        problems.append(
            Problem("date", "date_in_future", f"date: {tx.date} is in the future (today {today})")
        )
    if tx.type in ("buy", "sell"):
        need("ticker", tx.ticker is not None, f"a {tx.type} needs a ticker")
        need("quantity", tx.quantity is not None, f"a {tx.type} needs a quantity of shares")
        need("price", tx.price is not None, f"a {tx.type} needs the price per share")
        refuse("amount", tx.amount is not None)
    elif tx.type == "dividend":
        need("ticker", tx.ticker is not None, "a dividend needs the ticker that paid it")
        has_product = tx.quantity is not None and tx.price is not None
        need(
            "amount",
            tx.amount is not None or has_product,
            "a dividend needs the cash received as amount, or quantity × price per share",
        )
        if tx.amount is not None:
            refuse("quantity", tx.quantity is not None)
            refuse("price", tx.price is not None)
    else:
        need("amount", tx.amount is not None, f"a {tx.type} needs an amount")
        refuse("ticker", tx.ticker is not None)
        refuse("quantity", tx.quantity is not None)
        refuse("price", tx.price is not None)
    return problems


def _check_new(
    session: Session, portfolio_id: int, new: Iterable[tuple[Ref, TransactionCreate]]
) -> list[tuple[Ref, Problem]]:
    """Problems of ``new`` transactions against the portfolio's recorded ones.

    Checked in order: the shape of each one, then its ticker and date against the prices
    held, then the ledger replayed in date order with the new ones in place.
    """
    today = date.today()
    candidates = list(new)
    problems: list[tuple[Ref, Problem]] = []
    symbols = {tx.ticker for _, tx in candidates if tx.ticker}
    first_dates: dict[str, date] = {
        symbol: first
        for symbol, first in session.execute(
            sa.select(tickers.c.symbol, tickers.c.first_date).where(tickers.c.symbol.in_(symbols))
        )
    }
    fresh: list[Entry] = []
    for ref, tx in candidates:
        found = shape_problems(tx, today)
        if not found and tx.ticker is not None:
            if tx.ticker not in first_dates:
                found.append(
                    Problem(
                        "ticker", "unknown_ticker", f"ticker: no prices are held for {tx.ticker!r}"
                    )
                )
            elif tx.date < first_dates[tx.ticker]:
                found.append(
                    Problem(
                        "date",
                        "date_before_prices",
                        f"date: {tx.date} is before the first price held for {tx.ticker} "
                        f"({first_dates[tx.ticker]})",
                    )
                )
        if found:
            problems.extend((ref, problem) for problem in found)
            continue
        fresh.append(
            Entry(
                tx.type,
                tx.date,
                tx.ticker,
                tx.quantity,
                tx.price,
                tx.fee,
                tx.amount,
                ref=ref,
                is_new=True,
            )
        )
    recorded = _entries(session, [portfolio_id])[portfolio_id]
    _, violations = replay([*recorded, *fresh])
    problems.extend(_blame(violation, fresh) for violation in violations)
    return problems


def _blame(violation: Violation, fresh: list[Entry]) -> tuple[Any, Problem]:
    """The new transaction a violation is due to.

    A recorded sale can only break because a new, earlier transaction of the same ticker
    took shares away: the latest such one carries the blame.
    """
    entry = violation.entry
    if entry.is_new:
        return entry.ref, Problem(violation.field, violation.code, violation.message)
    culprits = [e for e in fresh if e.ticker == entry.ticker and e.date <= entry.date] or fresh
    culprit = max(culprits, key=lambda e: e.date)
    message = (
        f"quantity: this leaves too few {entry.ticker} for the sale of "
        f"{entry.quantity:g} on {entry.date} already recorded"
    )
    return culprit.ref, Problem("quantity", violation.code, message)


def _money(value: float) -> float:
    return round(value, 6) + 0.0  # + 0.0 turns -0.0 into 0.0


def _maybe_money(value: float | None) -> float | None:
    return None if value is None else _money(value)


def _ratio(value: float) -> float:
    return round(value, 8) + 0.0
