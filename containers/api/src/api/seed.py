"""``api-seed``: the demo account, for local development only.

Creates (once; running it again changes nothing) the account ``demo@example.com`` with
the documented password ``demo-investor``, a portfolio "Demo portfolio" holding a deposit
and buys of four or five tickers present in the database, and a watchlist of six. Tickers
and dates come from the prices held: the buys are a year before the end of the period the
tickers share, at that day's close. It refuses to run unless
``ENVIRONMENT=development``: a known password has no place anywhere else.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.auth import service as auth_service
from api.auth.tables import User
from api.market import service as market
from api.portfolio import service as portfolio_service
from api.portfolio.schemas import PortfolioCreate, TransactionCreate
from api.portfolio.tables import Portfolio
from api.settings import ApiSettings, get_settings
from quantcore.db.engine import make_engine
from quantcore.db.tables import daily_bars, tickers

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-investor"  # noqa: S105 - published on purpose; development only
PORTFOLIO_NAME = "Demo portfolio"
# Familiar names first, when the database holds them.
FAMILIAR = ("AAPL", "MSFT", "AMZN", "GOOG", "NVDA", "IBM", "JPM", "XOM", "JNJ", "KO", "PG")
HOLDINGS = 5
MIN_HOLDINGS = 4
WATCHLIST = 6
POSITION_SIZE = 10_000.0  # roughly what each buy costs
FEE = 1.0
MIN_SHARED_DAYS = 400  # calendar days the holdings' histories must share


@dataclass(frozen=True)
class Candidate:
    symbol: str
    first_date: date
    last_date: date
    bars: int


def choose_holdings(candidates: list[Candidate], count: int = HOLDINGS) -> list[Candidate]:
    """Up to ``count`` tickers, familiar ones first, whose price histories share at least
    :data:`MIN_SHARED_DAYS` days, so the demo's risk report has returns to work with.

    Tickers whose prices end on the same day are preferred (at least four of them), so the
    whole portfolio is valued on one date; otherwise any that overlap will do.
    """
    rank = {symbol: i for i, symbol in enumerate(FAMILIAR)}
    ordered = sorted(candidates, key=lambda c: (rank.get(c.symbol, len(rank)), -c.bars, c.symbol))
    same_end = _greedy(ordered, count, same_last_date=True)
    return same_end if len(same_end) >= MIN_HOLDINGS else _greedy(ordered, count, False)


def _greedy(ordered: list[Candidate], count: int, same_last_date: bool) -> list[Candidate]:
    chosen: list[Candidate] = []
    for candidate in ordered:
        if same_last_date and chosen and candidate.last_date != chosen[0].last_date:
            continue
        trial = [*chosen, candidate]
        start = max(c.first_date for c in trial)
        end = min(c.last_date for c in trial)
        if (end - start).days >= MIN_SHARED_DAYS:
            chosen = trial
        if len(chosen) == count:
            break
    return chosen


def _candidates(session: Session) -> list[Candidate]:
    rows = session.execute(
        sa.select(tickers.c.symbol, tickers.c.first_date, tickers.c.last_date, tickers.c.bars)
    ).all()
    return [Candidate(*row) for row in rows]


def _demo_user(session: Session) -> tuple[int, bool]:
    existing = session.scalar(sa.select(User.id).where(User.email == DEMO_EMAIL))
    if existing is not None:
        return existing, False
    user = auth_service.register(session, DEMO_EMAIL, DEMO_PASSWORD)
    return user.id, True


def _first_close_on_or_after(session: Session, symbol: str, day: date) -> tuple[date, float]:
    row = session.execute(
        sa.select(daily_bars.c.date, daily_bars.c.close)
        .where(daily_bars.c.ticker == symbol, daily_bars.c.date >= day)
        .order_by(daily_bars.c.date)
        .limit(1)
    ).one()
    return row[0], float(row[1])


def _demo_portfolio(session: Session, user_id: int, chosen: list[Candidate]) -> tuple[int, bool]:
    existing = session.scalar(
        sa.select(Portfolio.id).where(
            Portfolio.user_id == user_id, Portfolio.name == PORTFOLIO_NAME
        )
    )
    if existing is not None:
        return existing, False
    start = max(c.first_date for c in chosen)
    end = min(c.last_date for c in chosen)
    buy_from = max(start, end - timedelta(days=365))
    buys = []
    for candidate in chosen:
        day, close = _first_close_on_or_after(session, candidate.symbol, buy_from)
        quantity = max(1, math.floor(POSITION_SIZE / close))
        buys.append((candidate.symbol, day, quantity, close))
    cost = sum(quantity * price + FEE for _, _, quantity, price in buys)
    deposit = math.ceil(cost * 1.2 / 1000) * 1000
    created = portfolio_service.create_portfolio(
        session, user_id, PortfolioCreate(name=PORTFOLIO_NAME)
    )
    first_day = min(day for _, day, _, _ in buys)
    portfolio_service.add_transaction(
        session,
        user_id,
        created.id,
        TransactionCreate(type="deposit", date=first_day, amount=deposit),
    )
    for symbol, day, quantity, price in buys:
        portfolio_service.add_transaction(
            session,
            user_id,
            created.id,
            TransactionCreate(
                type="buy",
                date=day,
                ticker=symbol,
                quantity=quantity,
                price=round(price, 4),
                fee=FEE,
            ),
        )
    return created.id, True


def _demo_watchlist(
    session: Session, user_id: int, chosen: list[Candidate], candidates: list[Candidate]
) -> bool:
    if market.get_watchlist(session, user_id).tickers:
        return False
    present = {c.symbol for c in candidates}
    symbols = [s for s in FAMILIAR if s in present][:WATCHLIST]
    for candidate in chosen:
        if len(symbols) < WATCHLIST and candidate.symbol not in symbols:
            symbols.append(candidate.symbol)
    market.set_watchlist(session, user_id, symbols)
    return True


def seed(session: Session) -> list[str]:
    """Create what is missing of the demo account; returns what was done, line by line."""
    candidates = _candidates(session)
    if not candidates:
        raise SystemExit(
            "api-seed: the database holds no prices yet; run `trainer ingest sample` first"
        )
    chosen = choose_holdings(candidates)
    if not chosen:
        raise SystemExit("api-seed: no tickers with enough price history for a demo portfolio")
    user_id, new_user = _demo_user(session)
    portfolio_id, new_portfolio = _demo_portfolio(session, user_id, chosen)
    new_watchlist = _demo_watchlist(session, user_id, chosen, candidates)
    summary = portfolio_service.get_portfolio(session, user_id, portfolio_id)
    watchlist = market.get_watchlist(session, user_id)
    return [
        f"demo account: {DEMO_EMAIL} ({'created' if new_user else 'already there'})",
        f"  password:   {DEMO_PASSWORD}  (development only)",
        f"  portfolio:  {PORTFOLIO_NAME!r} id {portfolio_id} "
        f"({'created' if new_portfolio else 'already there'}): "
        f"{summary.holdings} holdings, value {summary.value:,.2f} as of {summary.as_of}",
        f"  watchlist:  {', '.join(q.ticker for q in watchlist.tickers)} "
        f"({'created' if new_watchlist else 'already there'})",
    ]


def main(argv: list[str] | None = None) -> int:
    settings: ApiSettings = get_settings()
    if settings.environment != "development":
        print(
            f"api-seed: refusing to run with ENVIRONMENT={settings.environment}: the demo "
            "account has a published password (development only)",
            file=sys.stderr,
        )
        return 2
    engine = make_engine(settings.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            lines = seed(session)
    finally:
        engine.dispose()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
