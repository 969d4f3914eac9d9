"""``/api/portfolios``: portfolios, their transactions, holdings and risk."""

from __future__ import annotations

from flask import Blueprint, request

from api import db
from api.auth import current_user_id
from api.errors import ApiError
from api.openapi import operation
from api.portfolio import service
from api.portfolio.risk import risk_report
from api.portfolio.schemas import (
    Holdings,
    ImportReport,
    PortfolioCreate,
    PortfolioSummary,
    RiskQuery,
    RiskReport,
    TransactionCreate,
    TransactionOut,
)

bp = Blueprint("portfolios", __name__, url_prefix="/api/portfolios")

MAX_IMPORT_BYTES = 1024 * 1024
CSV_TYPES = {"text/csv", "application/csv", "text/plain"}
_NOT_FOUND = {404: "No such portfolio (or not yours)"}


@operation(
    bp,
    "",
    "POST",
    summary="Create a portfolio",
    body=PortfolioCreate,
    response=PortfolioSummary,
    status=201,
    errors={409: "You already have a portfolio with this name"},
)
def create_portfolio(body: PortfolioCreate) -> PortfolioSummary:
    return service.create_portfolio(db.session(), current_user_id(), body)


@operation(bp, "", summary="Your portfolios with their value", response=list[PortfolioSummary])
def list_portfolios() -> list[dict[str, object]]:
    found = service.list_portfolios(db.session(), current_user_id())
    return [portfolio.model_dump(mode="json") for portfolio in found]


@operation(
    bp,
    "/<int:portfolio_id>",
    summary="A portfolio's value, cash and day change",
    response=PortfolioSummary,
    errors=_NOT_FOUND,
)
def get_portfolio(portfolio_id: int) -> PortfolioSummary:
    return service.get_portfolio(db.session(), current_user_id(), portfolio_id)


@operation(
    bp,
    "/<int:portfolio_id>/transactions",
    "POST",
    summary="Record a transaction (buy, sell, dividend, deposit, withdrawal)",
    description=(
        "buy/sell: ticker, quantity, price (per share), fee. dividend: ticker and the cash "
        "received as `amount`, or `quantity` × `price` per share. deposit/withdrawal: "
        "`amount`. A 422 names the field when the transaction breaks a rule (selling more "
        "than held at that date, withdrawing more cash than held, a future date, a date "
        "before the ticker's first price, an unknown ticker); nothing is stored then."
    ),
    body=TransactionCreate,
    response=TransactionOut,
    status=201,
    errors=_NOT_FOUND,
)
def add_transaction(portfolio_id: int, body: TransactionCreate) -> TransactionOut:
    return service.add_transaction(db.session(), current_user_id(), portfolio_id, body)


@operation(
    bp,
    "/<int:portfolio_id>/transactions",
    summary="A portfolio's transactions, oldest first",
    response=list[TransactionOut],
    errors=_NOT_FOUND,
)
def list_transactions(portfolio_id: int) -> list[dict[str, object]]:
    found = service.list_transactions(db.session(), current_user_id(), portfolio_id)
    return [transaction.model_dump(mode="json") for transaction in found]


@operation(
    bp,
    "/<int:portfolio_id>/transactions/import",
    "POST",
    summary="Import transactions from CSV: every row or none",
    description=(
        "Header `date,type,ticker,quantity,price,fee` (any case; an `amount` column is "
        "optional), one transaction per line, ISO dates. Rows are checked in date order, "
        "so a sale after its purchase in the same file works. If any row fails, nothing is "
        "stored and the 422 answer lists every problem as `errors: [{row, field, message}]` "
        f"(rows are lines of the file, the header being 1). At most {MAX_IMPORT_BYTES} bytes."
    ),
    request_content="text/csv",
    response=ImportReport,
    status=201,
    errors={
        **_NOT_FOUND,
        413: "File too large",
        415: "Not text/csv",
        422: "Some rows are invalid: nothing imported",
    },
)
def import_transactions(portfolio_id: int) -> ImportReport:
    if request.mimetype not in CSV_TYPES:
        raise ApiError(415, "unsupported_media_type", "send the file as text/csv")
    if (request.content_length or 0) > MAX_IMPORT_BYTES:
        raise ApiError(413, "too_large", f"the file is over {MAX_IMPORT_BYTES} bytes")
    body = request.get_data(cache=False)
    if len(body) > MAX_IMPORT_BYTES:
        raise ApiError(413, "too_large", f"the file is over {MAX_IMPORT_BYTES} bytes")
    return service.import_transactions_csv(db.session(), current_user_id(), portfolio_id, body)


@operation(
    bp,
    "/<int:portfolio_id>/holdings",
    summary="Holdings at their last close, average cost, realised and unrealised P&L",
    response=Holdings,
    errors=_NOT_FOUND,
)
def get_holdings(portfolio_id: int) -> Holdings:
    return service.holdings(db.session(), current_user_id(), portfolio_id)


@operation(
    bp,
    "/<int:portfolio_id>/risk",
    summary="Volatility, beta, drawdown, VaR/CVaR, correlation and concentration",
    query=RiskQuery,
    response=RiskReport,
    errors={**_NOT_FOUND, 422: "Invalid window or unknown benchmark"},
)
def get_risk(portfolio_id: int, query: RiskQuery) -> RiskReport:
    return risk_report(db.session(), current_user_id(), portfolio_id, query.benchmark, query.window)
