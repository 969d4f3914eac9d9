"""The assistant's tools: the app's own read-only service functions, for the signed-in user.

Scoping is structural, not a matter of prompting: the user id comes from the request's
session (:class:`ToolContext`), no input schema has a user id, and a portfolio id the model
names is looked up *with* the session user, so another user's id answers "not found". No
tool writes, trades or moves money. Text inside the data (a portfolio name, a note) is
returned as a JSON string value and can reach nothing the tools cannot.

Each result is compact JSON (floats to 6 significant digits, long series thinned) and
carries the ``as_of`` date of the data it rests on.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.settings import ApiSettings

log = logging.getLogger("api.chat.tools")

# Points of a price series shown to the model; the summary figures use every bar.
MAX_SERIES_POINTS = 40
MAX_LIST_ITEMS = 25
TICKER_PATTERN = r"^[A-Za-z0-9.\-^=]{1,24}$"


@dataclass(frozen=True)
class ToolContext:
    """What a tool may use: the database, the settings and the session's user."""

    session: Session
    settings: ApiSettings
    user_id: int


@dataclass(frozen=True)
class ToolOutcome:
    content: str  # the compact JSON the model reads
    data: Any  # the same, parsed (grounding reads it)
    summary: str  # one line for the stream and the stored message
    is_error: bool
    as_of: str | None


# --- inputs ----------------------------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TickerInput(_Input):
    ticker: str = Field(pattern=TICKER_PATTERN, description="Ticker symbol, e.g. AAPL")


class PriceHistoryInput(TickerInput):
    start: date | None = Field(
        default=None, description="First day (YYYY-MM-DD); default: 90 days before `end`"
    )
    end: date | None = Field(
        default=None, description="Last day (YYYY-MM-DD); default: the last bar held"
    )


class VersionInput(_Input):
    version: str | None = Field(
        default=None, max_length=64, description="Model version; default: the production one"
    )


class NoInput(_Input):
    pass


class PortfolioInput(_Input):
    portfolio_id: int = Field(ge=1, description="Id of one of the user's portfolios")


class RiskInput(PortfolioInput):
    benchmark: str | None = Field(
        default=None, pattern=TICKER_PATTERN, description="Benchmark ticker; default: configured"
    )
    window_days: int = Field(default=252, ge=20, le=2520, description="Trading days of returns")


class CompareInput(_Input):
    tickers: list[str] = Field(
        min_length=1, max_length=5, description="1 to 5 ticker symbols to compare"
    )
    window_days: int = Field(
        default=252, ge=5, le=2520, description="Trading days up to each ticker's last bar"
    )


# --- helpers ---------------------------------------------------------------------------------


def _round(value: float) -> float | int:
    if not math.isfinite(value):
        return value
    if float(value).is_integer() and abs(value) < 1e15:
        return int(value)
    return float(f"{value:.6g}")


def compact(item: Any, *, depth: int = 0, max_depth: int = 6) -> Any:
    """JSON-ready, short: floats to 6 significant digits, long lists cut, NaN as null."""
    if isinstance(item, BaseModel):
        item = item.model_dump(mode="json")
    if item is None or isinstance(item, bool | str):
        return item
    if isinstance(item, int):
        return item
    if isinstance(item, float):
        return _round(item) if math.isfinite(item) else None
    if isinstance(item, Decimal):
        return _round(float(item))
    if isinstance(item, datetime | date):
        return item.isoformat()
    if depth >= max_depth:
        return None
    if isinstance(item, dict):
        return {
            str(k): compact(v, depth=depth + 1, max_depth=max_depth)
            for k, v in item.items()
            if v is not None
        }
    if isinstance(item, list | tuple):
        values = [compact(v, depth=depth + 1, max_depth=max_depth) for v in item[:MAX_LIST_ITEMS]]
        if len(item) > MAX_LIST_ITEMS:
            values.append(f"... {len(item) - MAX_LIST_ITEMS} more")
        return values
    return str(item)


def _thin(points: list[Any], limit: int = MAX_SERIES_POINTS) -> list[Any]:
    """At most ``limit`` evenly spaced points, the first and the last always kept."""
    if len(points) <= limit:
        return points
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


def _scalars(document: Any, depth: int = 0) -> Any:
    """A model card without its long series: scalars, short lists and nested summaries."""
    if isinstance(document, dict):
        kept = {}
        for key, value in document.items():
            if isinstance(value, list) and len(value) > 12:
                continue  # equity curves, per-day series
            reduced = _scalars(value, depth + 1) if depth < 3 else None
            if reduced not in (None, {}, []):
                kept[key] = reduced
        return kept
    if isinstance(document, list):
        return [_scalars(v, depth + 1) for v in document] if depth < 3 else None
    return document


# --- the tools -------------------------------------------------------------------------------


def latest_quote(ctx: ToolContext, args: TickerInput) -> dict[str, Any]:
    from api.market import service as market

    return market.latest_quote(ctx.session, args.ticker).model_dump(mode="json")


def price_history(ctx: ToolContext, args: PriceHistoryInput) -> dict[str, Any]:
    from api.market import service as market

    start, end = args.start, args.end
    if start is None:
        if end is None:
            end = market.ticker_info(ctx.session, args.ticker, field="ticker").last_date
        start = end - timedelta(days=90)
    history = market.price_history(ctx.session, args.ticker, start, end)
    bars = history.bars
    result: dict[str, Any] = {
        "ticker": history.ticker,
        "source": history.source,
        "as_of": history.as_of.isoformat(),
        "start": history.start.isoformat(),
        "end": history.end.isoformat(),
        "bars": len(bars),
    }
    if bars:
        first, last = bars[0], bars[-1]
        result.update(
            first={"date": first.date.isoformat(), "close": first.close},
            last={"date": last.date.isoformat(), "close": last.close},
            change_pct=(last.close / first.close - 1) if first.close else None,
            high=max(b.high for b in bars),
            low=min(b.low for b in bars),
            closes=[[b.date.isoformat(), b.close] for b in _thin(bars)],
        )
    return result


def prediction(ctx: ToolContext, args: TickerInput) -> dict[str, Any]:
    from api.predictions import service as predictions

    answer = predictions.predict(ctx.session, ctx.settings, args.ticker).model_dump(mode="json")
    drivers = sorted(
        answer.get("drivers") or [],
        key=lambda d: abs(d.get("contribution") or 0.0),
        reverse=True,
    )
    answer["drivers"] = drivers[:6]
    return answer


def model_card(ctx: ToolContext, args: VersionInput) -> dict[str, Any]:
    from api.registry import service as registry

    if args.version is None:
        production = registry.production(ctx.session).model_dump(mode="json")
        production["card"] = _scalars(production.get("card") or {})
        return production
    found = registry.card(ctx.session, args.version).model_dump(mode="json")
    found.pop("markdown", None)
    found["card"] = _scalars(found.get("card") or {})
    return found


def track_record(ctx: ToolContext, args: VersionInput) -> dict[str, Any]:
    from api.predictions.track_record import track_record as record
    from api.registry import service as registry

    version = args.version or registry.production(ctx.session).version
    return compact(record(ctx.session, version))  # type: ignore[no-any-return]


def portfolios(ctx: ToolContext, args: NoInput) -> dict[str, Any]:
    from api.portfolio import service as portfolio

    found = portfolio.list_portfolios(ctx.session, ctx.user_id)
    dates = [p.as_of for p in found if p.as_of is not None]
    return {
        "as_of": max(dates).isoformat() if dates else None,
        "portfolios": [p.model_dump(mode="json") for p in found],
    }


def holdings(ctx: ToolContext, args: PortfolioInput) -> dict[str, Any]:
    from api.portfolio import service as portfolio

    return portfolio.holdings(ctx.session, ctx.user_id, args.portfolio_id).model_dump(mode="json")


def risk(ctx: ToolContext, args: RiskInput) -> dict[str, Any]:
    from api.portfolio.risk import risk_report

    report = risk_report(
        ctx.session,
        ctx.user_id,
        args.portfolio_id,
        benchmark=args.benchmark,
        window_days=args.window_days,
    )
    return compact(report)  # type: ignore[no-any-return]


def watchlist(ctx: ToolContext, args: NoInput) -> dict[str, Any]:
    from api.market import service as market

    return market.get_watchlist(ctx.session, ctx.user_id).model_dump(mode="json")


def compare(ctx: ToolContext, args: CompareInput) -> dict[str, Any]:
    """Return, annualised volatility and correlation of daily returns over a window."""
    from api.market import service as market

    symbols = list(dict.fromkeys(t.strip().upper() for t in args.tickers))
    series: dict[str, dict[date, float]] = {}
    rows: list[dict[str, Any]] = []
    for symbol in symbols:
        info = market.ticker_info(ctx.session, symbol, field="tickers")
        # Calendar days enough to hold the trading days asked for.
        start = info.last_date - timedelta(days=math.ceil(args.window_days * 7 / 5) + 10)
        bars = market.price_history(ctx.session, symbol, start, info.last_date).bars
        bars = bars[-(args.window_days + 1) :]
        closes = {b.date: (b.adj_close or b.close) for b in bars}
        series[symbol] = closes
        days = sorted(closes)
        returns = [closes[b] / closes[a] - 1 for a, b in itertools.pairwise(days)]
        rows.append(
            {
                "ticker": symbol,
                "as_of": info.last_date.isoformat(),
                "start": days[0].isoformat() if days else None,
                "observations": len(returns),
                "total_return": (closes[days[-1]] / closes[days[0]] - 1) if len(days) > 1 else None,
                "volatility_annualised": (
                    statistics.stdev(returns) * math.sqrt(252) if len(returns) > 2 else None
                ),
                "last_close": closes[days[-1]] if days else None,
            }
        )
    correlations = []
    for i, a in enumerate(symbols):
        for b in symbols[i + 1 :]:
            common = sorted(set(series[a]) & set(series[b]))
            ra = [series[a][y] / series[a][x] - 1 for x, y in itertools.pairwise(common)]
            rb = [series[b][y] / series[b][x] - 1 for x, y in itertools.pairwise(common)]
            value = None
            if len(ra) > 2:
                try:
                    value = statistics.correlation(ra, rb)
                except statistics.StatisticsError:
                    value = None
            correlations.append({"pair": [a, b], "correlation": value, "observations": len(ra)})
    as_of = max((r["as_of"] for r in rows), default=None)
    return {
        "as_of": as_of,
        "window_days": args.window_days,
        "method": "daily simple returns of adjusted closes; volatility = stdev × √252",
        "tickers": rows,
        "correlations": correlations,
    }


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_model: type[_Input]
    run: Callable[[ToolContext, Any], dict[str, Any]]

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": _schema(self.input_model),
        }


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema without the titles pydantic adds (they only cost tokens)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "title"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    schema = strip(model.model_json_schema())
    schema.setdefault("properties", {})
    schema["additionalProperties"] = False
    return schema  # type: ignore[no-any-return]


TOOLS: tuple[Tool, ...] = (
    Tool(
        "get_latest_quote",
        "Latest daily close of a ticker, the previous close and the change (change_pct is a "
        "fraction), with the date of the close.",
        TickerInput,
        latest_quote,
    ),
    Tool(
        "get_price_history",
        "Daily closes of a ticker over a date range (default: the 90 days up to its last "
        "bar): first and last close, change_pct (a fraction), high, low and up to 40 "
        "evenly spaced closes.",
        PriceHistoryInput,
        price_history,
    ),
    Tool(
        "get_prediction",
        "The production model's prediction for a ticker: probability of the labelled event "
        "(prob_up), expected return relative to the market over horizon_days, and the "
        "features that drove it (contribution = change in prob_up).",
        TickerInput,
        prediction,
    ),
    Tool(
        "get_model_card",
        "Model card of a model version (default: production): out-of-sample metrics "
        "against baselines, leak checks and backtest after costs.",
        VersionInput,
        model_card,
    ),
    Tool(
        "get_track_record",
        "Live track record of a model version (default: production): how its served "
        "predictions did once prices arrived, next to its out-of-sample figures.",
        VersionInput,
        track_record,
    ),
    Tool(
        "list_portfolios",
        "The user's portfolios with id, value, cash, day change and number of holdings.",
        NoInput,
        portfolios,
    ),
    Tool(
        "get_holdings",
        "Holdings of one of the user's portfolios: quantity, cost basis, last price, market "
        "value, unrealised and realised P&L, weights, cash and totals.",
        PortfolioInput,
        holdings,
    ),
    Tool(
        "get_risk_report",
        "Risk of one of the user's portfolios over a window: annualised volatility, beta, "
        "max drawdown, 1-day 95% VaR and CVaR, correlations and concentration.",
        RiskInput,
        risk,
    ),
    Tool(
        "compare_tickers",
        "Compare 1 to 5 tickers over the same window: total return, annualised volatility "
        "and the correlation of daily returns of each pair.",
        CompareInput,
        compare,
    ),
    Tool(
        "get_watchlist",
        "The user's watchlist with each ticker's latest close and change.",
        NoInput,
        watchlist,
    ),
)
TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}


def definitions() -> list[dict[str, Any]]:
    """The tool list sent to the model, identical on every request."""
    return [tool.definition() for tool in TOOLS]


_AS_OF_KEYS = ("as_of", "data_as_of", "last_as_of", "window_end", "trained_at")


def _as_of(data: Any, depth: int = 0) -> str | None:
    """The date the result rests on: its own ``as_of``-like field, else a nested one."""
    if not isinstance(data, dict):
        return None
    for key in _AS_OF_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value[:10]
    if depth < 1:
        for value in data.values():
            found = _as_of(value, depth + 1)
            if found:
                return found
    return None


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def run_tool(ctx: ToolContext, name: str, arguments: Any) -> ToolOutcome:
    """Run one tool call; every failure becomes an error result the model can read."""
    tool = TOOLS_BY_NAME.get(name)
    if tool is None:
        return _error(f"no tool named {name!r}", "unknown_tool")
    try:
        args = tool.input_model.model_validate(arguments if isinstance(arguments, dict) else {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "input"
        return _error(f"{where}: {first.get('msg', 'invalid')}", "invalid_input")
    try:
        data = compact(tool.run(ctx, args))
    except ApiError as exc:
        ctx.session.rollback()
        return _error(exc.message, exc.code)
    except Exception:
        ctx.session.rollback()
        log.exception("tool %s failed", name)
        return _error("the tool failed; the data is unavailable right now", "tool_failed")
    if not isinstance(data, dict):
        data = {"result": data}
    as_of = _as_of(data)
    if "as_of" not in data:
        data = {"as_of": as_of, **data}
    return ToolOutcome(
        content=_dumps(data),
        data=data,
        summary=summarise(name, data),
        is_error=False,
        as_of=as_of,
    )


def _error(message: str, code: str) -> ToolOutcome:
    data = {"error": {"code": code, "message": message}}
    return ToolOutcome(
        content=_dumps(data), data=data, summary=f"error: {message}", is_error=True, as_of=None
    )


def _pct(value: Any) -> str:
    return f"{value * 100:+.2f}%" if isinstance(value, int | float) else "n/a"


def summarise(name: str, data: dict[str, Any]) -> str:
    """One short line about a result, for the stream and the stored message."""
    get = data.get
    as_of = get("as_of")
    suffix = f" (as of {as_of})" if as_of else ""
    if name == "get_latest_quote":
        return f"{get('ticker')} closed at {get('close')} {_pct(get('change_pct'))}{suffix}"
    if name == "get_price_history":
        span = f"{get('start')}..{get('end')}"
        return f"{get('ticker')}: {get('bars')} bars {span}, change {_pct(get('change_pct'))}"
    if name == "get_prediction":
        odds = f"prob_up {get('prob_up')} over {get('horizon_days')} days"
        return f"{get('ticker')}: {odds}, model {get('model_version')}{suffix}"
    if name in ("get_model_card", "get_track_record"):
        version = get("version") or get("model_version")
        return f"model {get('model_name')} {version} ({get('status')})"
    if name == "list_portfolios":
        return f"{len(get('portfolios') or [])} portfolio(s){suffix}"
    if name == "get_holdings":
        count = len(get("holdings") or [])
        value = get("total_value")
        return f"portfolio {get('portfolio_id')}: {count} holding(s), value {value}{suffix}"
    if name == "get_risk_report":
        figures = f"volatility {get('volatility_annualised')}, max drawdown {get('max_drawdown')}"
        return f"portfolio {get('portfolio_id')}: {figures}{suffix}"
    if name == "compare_tickers":
        names = ", ".join(str(r.get("ticker")) for r in get("tickers") or [])
        return f"compared {names} over {get('window_days')} days{suffix}"
    if name == "get_watchlist":
        return f"{len(get('tickers') or [])} ticker(s) on the watchlist{suffix}"
    return f"{name} answered{suffix}"
