"""What the portfolio, transaction, holdings and risk endpoints accept and answer."""

from __future__ import annotations

import unicodedata
from datetime import date as Date  # noqa: N812 - a field below is called ``date``
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from api.market.schemas import EARLIEST_DATE, normalise_symbol

TransactionType = Literal["buy", "sell", "dividend", "deposit", "withdrawal"]


# Big enough for any real portfolio, small enough for the NUMERIC(24, 8) columns.
MAX_AMOUNT = 1e12


def _name(value: str) -> str:
    name = value.strip()
    if not 1 <= len(name) <= 80:
        raise ValueError("the name must be 1 to 80 characters long")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise ValueError("the name cannot hold control characters")
    return name


def _symbol(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return normalise_symbol(value)


class PortfolioCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(max_length=200), AfterValidator(_name)] = Field(
        description="1 to 80 characters, unique among your portfolios", examples=["Retirement"]
    )
    base_currency: str = Field(
        default="USD",
        pattern=r"^[A-Za-z]{3}$",
        description="ISO 4217 code; a label only: prices are not converted",
    )

    @field_validator("base_currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class PortfolioSummary(BaseModel):
    id: int
    name: str
    base_currency: str
    created_at: datetime
    value: float = Field(description="Holdings at their last close plus cash")
    cash: float
    holdings_value: float
    day_change: float | None = Field(
        description="Change of the holdings' value between each one's last two closes"
    )
    day_change_pct: float | None = Field(description="day_change / the value before it")
    holdings: int = Field(description="Number of open positions")
    as_of: Date | None = Field(description="Date of the latest close used; null without any")


class TransactionCreate(BaseModel):
    """One transaction.

    - buy, sell: ``ticker``, ``quantity`` and ``price`` (per share); ``fee`` optional.
    - dividend: ``ticker`` and the cash received as ``amount``, or as ``quantity`` (shares)
      × ``price`` (dividend per share).
    - deposit, withdrawal: ``amount``.
    """

    model_config = ConfigDict(extra="forbid")

    type: TransactionType
    date: Date = Field(
        ge=EARLIEST_DATE,
        description="Trade date; not in the future, not before the ticker's prices",
    )
    ticker: str | None = Field(default=None, max_length=24)
    quantity: float | None = Field(default=None, gt=0, le=MAX_AMOUNT, allow_inf_nan=False)
    price: float | None = Field(default=None, gt=0, le=MAX_AMOUNT, allow_inf_nan=False)
    fee: float = Field(default=0.0, ge=0, le=MAX_AMOUNT, allow_inf_nan=False)
    amount: float | None = Field(
        default=None,
        gt=0,
        le=MAX_AMOUNT,
        allow_inf_nan=False,
        description="Cash of a deposit/withdrawal/dividend",
    )

    @field_validator("ticker")
    @classmethod
    def _ticker(cls, value: str | None) -> str | None:
        return _symbol(value)

    @field_validator("fee", mode="before")
    @classmethod
    def _no_fee(cls, value: Any) -> Any:
        return 0.0 if value is None else value


class TransactionOut(BaseModel):
    id: int
    type: TransactionType
    date: Date
    ticker: str | None
    quantity: float | None
    price: float | None
    fee: float
    amount: float | None
    cash_effect: float = Field(description="What it did to cash (positive: cash came in)")
    created_at: datetime


class ImportRowError(BaseModel):
    row: int | None = Field(description="Line of the file (the header is line 1)")
    field: str | None
    message: str


class ImportReport(BaseModel):
    imported: int
    errors: list[ImportRowError]


class Holding(BaseModel):
    ticker: str
    source: str | None
    quantity: float
    average_cost: float | None = Field(description="Cost basis / quantity, buy fees included")
    cost_basis: float
    last_price: float | None = Field(description="Last close on or before as_of")
    price_date: Date | None = Field(description="Date of last_price")
    market_value: float | None
    unrealised_pnl: float | None = Field(description="market value − cost basis")
    unrealised_pnl_pct: float | None
    realised_pnl: float = Field(description="From sales, their fees included")
    dividends: float
    fees: float
    weight: float | None = Field(description="Share of the holdings' market value (cash excluded)")
    day_change: float | None


class Holdings(BaseModel):
    portfolio_id: int
    base_currency: str
    cost_method: Literal["average_cost"] = "average_cost"
    as_of: Date | None = Field(description="Date of the latest close used")
    oldest_price_date: Date | None = Field(
        description="Date of the oldest close used: a holding whose prices stopped earlier "
        "is valued at its own last close (see each holding's price_date)"
    )
    holdings: list[Holding]
    closed_positions: list[Holding] = Field(description="Sold out; kept for their realised P&L")
    cash: float
    holdings_value: float
    total_value: float
    cost_basis: float
    unrealised_pnl: float
    realised_pnl: float
    dividends: float
    day_change: float | None


class RiskQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    benchmark: str | None = Field(
        default=None,
        max_length=24,
        description="A ticker; default: the configured benchmark, else an equal-weight index",
    )
    window: int = Field(default=252, ge=20, le=2520, description="Trading days of returns")

    @field_validator("benchmark")
    @classmethod
    def _ticker(cls, value: str | None) -> str | None:
        return _symbol(value)


class Benchmark(BaseModel):
    kind: Literal["ticker", "equal_weight_index"]
    ticker: str | None
    description: str


class Correlation(BaseModel):
    tickers: list[str]
    matrix: list[list[float | None]]


class Concentration(BaseModel):
    herfindahl: float = Field(description="Σ weight²: 1 is one holding, 1/n is n equal ones")
    effective_holdings: float = Field(description="1 / herfindahl")
    largest_weight: float
    largest_ticker: str


class RiskReport(BaseModel):
    portfolio_id: int
    as_of: Date | None
    window_start: Date | None
    window_end: Date | None
    observations: int = Field(description="Daily returns used")
    weights: dict[str, float] = Field(description="Current weights of the holdings (cash excluded)")
    benchmark: Benchmark | None
    volatility_annualised: float | None = Field(description="Std of daily returns × √252")
    beta: float | None
    max_drawdown: float | None = Field(description="Largest fall from a peak, a positive fraction")
    max_drawdown_peak: Date | None
    max_drawdown_trough: Date | None
    var_95_1d: float | None = Field(description="Historical 1-day VaR at 95%, a positive loss")
    cvar_95_1d: float | None = Field(description="Mean of the losses at or beyond the VaR")
    correlation: Correlation | None
    concentration: Concentration | None
    method: dict[str, str]
    explanation: str | None = Field(description="Why some figures are null, when they are")
