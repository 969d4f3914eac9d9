"""A ticker's prediction: from the cache when it is there, else from the model server.

The cache key is (model, production version, ticker, date of the ticker's latest bar). A
cached answer costs two indexed queries — the production version, then the cached row —
and no call to the model server, so it keeps answering while the server is down.

A fresh answer sends the ticker's recent bars and the equal-weight market return over the
same dates, computed in SQL from every ticker's bars exactly as the trainer computes it
(``quantcore.features.equal_weight_market``), so the market-relative features the model
sees at serving time are those it learned from.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.errors import ApiError, NotFoundError, UnavailableError
from api.predictions.client import InferenceUnavailable, inference_client
from api.predictions.schemas import PredictionOut
from api.predictions.tables import Prediction
from api.settings import ApiSettings
from quantcore.db.tables import daily_bars, model_versions
from quantcore.features import MIN_HISTORY_BARS

log = logging.getLogger("api.predictions")

# The features need MIN_HISTORY_BARS bars; the margin costs nothing and keeps every
# rolling window complete (the windows are finite, so more history changes nothing).
RECENT_BARS = 130
# Calendar days read before the first bar so that each ticker's first return in the
# window has its previous close (weekends, holidays, a missing day or two).
MARKET_LEAD_IN_DAYS = 14
UNAVAILABLE_CODE = "predictions_unavailable"
UNAVAILABLE_PREFIX = "Predictions are unavailable right now: "
_TICKER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-^=_]{0,23}$")


def default_label(horizon_days: int) -> str:
    return (
        f"prob_up is the probability that the ticker's {horizon_days}-day forward return "
        "beats the median of the market's tickers over the same days"
    )


@dataclass(frozen=True)
class ProductionVersion:
    model_name: str
    version: str
    horizon_days: int


def production_version(session: Session, model_name: str) -> ProductionVersion | None:
    """The version in production (one indexed row: a partial unique index guards it)."""
    row = session.execute(
        sa.select(model_versions.c.version, model_versions.c.horizon_days).where(
            model_versions.c.model_name == model_name,
            model_versions.c.status == "production",
        )
    ).first()
    if row is None:
        return None
    return ProductionVersion(model_name, row.version, row.horizon_days)


def version_label(session: Session, model_name: str, version: str) -> str | None:
    """What prob_up means, from the version's card (``label``)."""
    label = session.execute(
        sa.select(model_versions.c.card["label"].astext).where(
            model_versions.c.model_name == model_name, model_versions.c.version == version
        )
    ).scalar_one_or_none()
    return label if isinstance(label, str) and label else None


def normalise_ticker(ticker: str) -> str:
    symbol = ticker.strip().upper()
    if not _TICKER.match(symbol):
        raise NotFoundError(f"unknown ticker {ticker[:40]!r}", field="ticker")
    return symbol


def cached_prediction(
    session: Session, production: ProductionVersion, ticker: str
) -> Prediction | None:
    """The cached answer for the ticker's latest bar, if this version gave one."""
    latest = (
        sa.select(sa.func.max(daily_bars.c.date))
        .where(daily_bars.c.ticker == ticker)
        .scalar_subquery()
    )
    return session.execute(
        sa.select(Prediction).where(
            Prediction.model_name == production.model_name,
            Prediction.model_version == production.version,
            Prediction.ticker == ticker,
            Prediction.as_of == latest,
        )
    ).scalar_one_or_none()


def recent_bars(session: Session, ticker: str, count: int = RECENT_BARS) -> list[sa.Row[Any]]:
    """The ticker's last ``count`` daily bars, oldest first."""
    rows = session.execute(
        sa.select(
            daily_bars.c.date,
            daily_bars.c.open,
            daily_bars.c.high,
            daily_bars.c.low,
            daily_bars.c.close,
            daily_bars.c.adj_close,
            daily_bars.c.volume,
        )
        .where(daily_bars.c.ticker == ticker)
        .order_by(daily_bars.c.date.desc())
        .limit(count)
    ).all()
    return list(reversed(rows))


def bars_payload(bars: list[sa.Row[Any]]) -> dict[str, list[Any]]:
    """The bars in the server's column form.

    Prices are scaled by ``adj_close / close`` when every bar has an adjusted close, as the
    trainer's features do for such a ticker (splits and dividends must not look like
    crashes); the factor only enters the features as ratios, so its level is irrelevant.
    """
    adjusted = all(
        bar.adj_close is not None and bar.adj_close > 0 and bar.close > 0 for bar in bars
    )
    columns: dict[str, list[Any]] = {
        "date": [],
        "open": [],
        "high": [],
        "low": [],
        "close": [],
        "volume": [],
    }
    for bar in bars:
        factor = bar.adj_close / bar.close if adjusted else 1.0
        columns["date"].append(bar.date.isoformat())
        columns["open"].append(bar.open * factor)
        columns["high"].append(bar.high * factor)
        columns["low"].append(bar.low * factor)
        columns["close"].append(bar.close * factor)
        columns["volume"].append(bar.volume)
    return columns


_MARKET_RETURNS = sa.text(
    """
    WITH priced AS (
        SELECT date, close, adj_close,
               lag(close) OVER w AS prev_close,
               lag(adj_close) OVER w AS prev_adj
        FROM daily_bars
        WHERE date BETWEEN :lead_in AND :last
        WINDOW w AS (PARTITION BY ticker ORDER BY date)
    )
    SELECT date,
           avg(CASE WHEN adj_close > 0 AND prev_adj > 0 THEN adj_close / prev_adj
                    ELSE close / prev_close END - 1.0) AS market_return
    FROM priced
    WHERE date >= :first AND prev_close > 0 AND close > 0
    GROUP BY date
    ORDER BY date
    """
)


def market_returns(session: Session, first: date, last: date) -> dict[str, list[Any]]:
    """The equal-weight mean of every ticker's daily return, per date in [first, last]."""
    rows = session.execute(
        _MARKET_RETURNS,
        {"lead_in": first - timedelta(days=MARKET_LEAD_IN_DAYS), "first": first, "last": last},
    ).all()
    market: dict[str, list[Any]] = {"date": [], "return": []}
    for day, value in rows:
        if value is not None and math.isfinite(value) and value > -1.0:
            market["date"].append(day.isoformat())
            market["return"].append(float(value))
    return market


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _drivers(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    drivers = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get("feature"), str):
            drivers.append(
                {
                    "feature": item["feature"],
                    "value": _as_float(item.get("value")),
                    "reference": _as_float(item.get("reference")),
                    "contribution": _as_float(item.get("contribution")),
                }
            )
    return drivers


def _out(row: Prediction, *, cached: bool) -> PredictionOut:
    return PredictionOut(
        ticker=row.ticker,
        as_of=row.as_of,
        horizon_days=row.horizon_days,
        prob_up=row.prob_up,
        expected_return=row.expected_return,
        model_version=row.model_version,
        drivers=row.drivers,  # type: ignore[arg-type]
        label=row.label or default_label(row.horizon_days),
        cached=cached,
        data_as_of=row.as_of,
    )


def unavailable(reason: str) -> UnavailableError:
    return UnavailableError(UNAVAILABLE_PREFIX + reason, code=UNAVAILABLE_CODE)


def predict(session: Session, settings: ApiSettings, ticker: str) -> PredictionOut:
    """The production model's prediction for ``ticker`` as of its latest daily bar.

    404 for an unknown ticker, 422 when its history is too short for the features, 503
    (``predictions_unavailable``) when the model server cannot answer and nothing is cached.
    A fresh answer is stored in the cache: the session is committed.
    """
    symbol = normalise_ticker(ticker)
    production = production_version(session, settings.model_name)
    if production is None:
        raise unavailable("no model version is in production yet (run the trainer)")

    hit = cached_prediction(session, production, symbol)
    if hit is not None:
        return _out(hit, cached=True)

    bars = recent_bars(session, symbol)
    if not bars:
        raise NotFoundError(f"unknown ticker {symbol}: no daily prices are stored for it", "ticker")
    if len(bars) < MIN_HISTORY_BARS:
        raise ApiError(
            422,
            "insufficient_history",
            f"{symbol} has {len(bars)} daily bars; the model needs at least "
            f"{MIN_HISTORY_BARS} to compute its features",
            "ticker",
        )
    market = market_returns(session, bars[0].date, bars[-1].date)
    # The reads are done: end the transaction (this function commits its session anyway)
    # so that its connection goes back to the pool while the model computes.
    session.commit()
    try:
        answer = inference_client(settings).predict(
            [{"ticker": symbol, "bars": bars_payload(bars)}], market=market
        )
    except InferenceUnavailable as exc:
        log.warning("prediction for %s unavailable: %s", symbol, exc.reason)
        raise unavailable(exc.reason) from None

    entry = answer["predictions"][0]
    if not isinstance(entry, dict):
        raise unavailable("the model server's answer is malformed")
    if isinstance(entry.get("error"), dict):
        message = entry["error"].get("message") or "its prices were refused"
        raise ApiError(
            422, "prediction_refused", f"The model cannot predict {symbol}: {message}", "ticker"
        )
    prob_up = _as_float(entry.get("prob_up"))
    expected_return = _as_float(entry.get("expected_return"))
    version = entry.get("model_version") or answer.get("model_version")
    horizon = entry.get("horizon_days") or answer.get("horizon_days") or production.horizon_days
    try:
        as_of = date.fromisoformat(str(entry.get("as_of")))
    except ValueError:
        as_of = None
    if (
        prob_up is None
        or not 0.0 <= prob_up <= 1.0
        or expected_return is None
        or not isinstance(version, str)
        or not isinstance(horizon, int)
        or as_of is None
    ):
        raise unavailable("the model server's answer is malformed")

    # During a promotion the server may already (or still) serve another version than the
    # registry's production row: the answer is stored under the version that gave it.
    label = version_label(session, production.model_name, version)
    values = {
        "ticker": symbol,
        "as_of": as_of,
        "model_name": production.model_name,
        "model_version": version,
        "horizon_days": horizon,
        "prob_up": prob_up,
        "expected_return": expected_return,
        "drivers": _drivers(entry.get("drivers")),
        "label": label or default_label(horizon),
    }
    stored = session.execute(
        insert(Prediction)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_predictions_model_name")
        .returning(Prediction.id)
    ).scalar_one_or_none()
    session.commit()
    if stored is None:
        # A concurrent request stored the same answer first; it is the same fact.
        log.debug("prediction for %s %s already cached", symbol, as_of)
    row = Prediction(**values)
    return _out(row, cached=False)
