"""From checked bars to one answer per ticker: features, model, drivers.

All tickers go through the shared feature code and the model together (one batched call
each). Should a batch step fail, it is retried ticker by ticker so that one ticker whose
bars make the features or the model fail gets an error entry and the others an answer.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd

from inference.loading import FeatureLibrary, LoadedModel
from inference.payload import PredictionRequest, TickerBars, TickerProblem
from quantcore.explain import METHOD, Driver, top_drivers

log = logging.getLogger("inference.prediction")


def predict_request(
    model: LoadedModel, request: PredictionRequest, library: FeatureLibrary
) -> dict[str, Any]:
    """The response body for ``request``, answered by ``model``."""
    bundle = model.bundle
    problems: dict[int, TickerProblem] = {
        entry.position: entry for entry in request.entries if isinstance(entry, TickerProblem)
    }
    answers: dict[int, dict[str, Any]] = {}
    valid = request.valid
    if valid:
        rows, failed = _feature_rows(valid, request.market, library)
        problems.update(failed)
        answers = _score(model, valid, rows, request.max_drivers, problems)

    predictions: list[dict[str, Any]] = []
    for entry in request.entries:
        if entry.position in answers:
            predictions.append(answers[entry.position])
        else:
            predictions.append(problems[entry.position].as_json())
    return {
        "model_name": bundle.name,
        "model_version": bundle.version,
        "horizon_days": bundle.horizon_days,
        "drivers_method": METHOD,
        "market_supplied": request.market is not None,
        "predictions": predictions,
    }


def bars_frame(tickers: list[TickerBars]) -> pd.DataFrame:
    """The product's bar table (``date, ticker, open, high, low, close, volume``)."""
    lengths = [len(t.dates) for t in tickers]
    frame = pd.DataFrame(
        {
            "date": np.concatenate([t.dates for t in tickers]).astype("datetime64[ns]"),
            "ticker": np.repeat(np.array([t.ticker for t in tickers], dtype=object), lengths),
        }
    )
    for name in ("open", "high", "low", "close", "volume"):
        frame[name] = np.concatenate([t.columns[name] for t in tickers])
    return frame


def _feature_rows(
    tickers: list[TickerBars], market: pd.Series | None, library: FeatureLibrary
) -> tuple[pd.DataFrame, dict[int, TickerProblem]]:
    """The feature row of each ticker's last bar, indexed by position in the request."""
    failed: dict[int, TickerProblem] = {}
    features: pd.DataFrame | None
    try:
        features = library.compute(bars_frame(tickers), market)
    except Exception:
        log.warning("batch feature computation failed; retrying ticker by ticker", exc_info=True)
        parts = []
        for ticker in tickers:
            try:
                parts.append(library.compute(bars_frame([ticker]), market))
            except Exception as exc:
                failed[ticker.position] = _problem(ticker, "features_failed", exc)
        features = pd.concat(parts, ignore_index=True) if parts else None

    names = list(library.feature_names)
    positions = [t.position for t in tickers if t.position not in failed]
    if features is None or features.empty:
        rows = pd.DataFrame(columns=names, index=pd.Index([], dtype=int), dtype=float)
    else:
        last = (
            features.sort_values(["ticker", "date"], kind="mergesort")
            .drop_duplicates("ticker", keep="last")
            .set_index("ticker")
        )
        wanted = [t.ticker for t in tickers if t.position not in failed]
        rows = last.reindex(wanted).loc[:, names].astype(float)
        rows.index = pd.Index(positions)
    # A ratio over a zero (e.g. a constant volume series) may give ±inf: treat it like a
    # feature the bars cannot provide, which the model pipeline imputes.
    rows = rows.replace([np.inf, -np.inf], np.nan)
    for ticker in tickers:
        if ticker.position not in failed and ticker.position not in rows.index:
            failed[ticker.position] = TickerProblem(
                ticker.position,
                ticker.ticker,
                "features_failed",
                "the features produced no row for this ticker",
                f"series[{ticker.position}].bars",
            )
    return rows, failed


def _score(
    model: LoadedModel,
    tickers: list[TickerBars],
    rows: pd.DataFrame,
    max_drivers: int,
    problems: dict[int, TickerProblem],
) -> dict[int, dict[str, Any]]:
    bundle = model.bundle
    by_position = {t.position: t for t in tickers}
    if rows.empty:
        return {}
    try:
        scored, drivers = _predict_with_drivers(model, rows, max_drivers)
    except Exception:
        log.warning("batch prediction failed; retrying ticker by ticker", exc_info=True)
        parts: list[pd.DataFrame] = []
        drivers = []
        for position in rows.index:
            try:
                one, one_drivers = _predict_with_drivers(model, rows.loc[[position]], max_drivers)
            except Exception as exc:
                problems[position] = _problem(by_position[position], "prediction_failed", exc)
                continue
            parts.append(one)
            drivers.extend(one_drivers)
        if not parts:
            return {}
        scored = pd.concat(parts)

    answers: dict[int, dict[str, Any]] = {}
    for (position, prob_up, expected), row_drivers in zip(
        scored.itertuples(name=None), drivers, strict=True
    ):
        ticker = by_position[position]
        if not (math.isfinite(prob_up) and math.isfinite(expected)):
            problems[position] = TickerProblem(
                position,
                ticker.ticker,
                "prediction_failed",
                "the model gave no finite answer for these bars",
                f"series[{position}].bars",
            )
            continue
        answers[position] = {
            "ticker": ticker.ticker,
            "as_of": str(ticker.as_of),
            "horizon_days": bundle.horizon_days,
            "prob_up": float(prob_up),
            "expected_return": float(expected),
            "model_version": bundle.version,
            "drivers": [driver.as_dict() for driver in row_drivers],
        }
    return answers


def _predict_with_drivers(
    model: LoadedModel, rows: pd.DataFrame, max_drivers: int
) -> tuple[pd.DataFrame, list[list[Driver]]]:
    scored = model.bundle.predict(rows)
    drivers = top_drivers(
        model.bundle, rows, max_drivers, base=scored["prob_up"].to_numpy(dtype=float)
    )
    return scored.loc[:, ["prob_up", "expected_return"]], drivers


def _problem(ticker: TickerBars, code: str, exc: Exception) -> TickerProblem:
    return TickerProblem(
        ticker.position,
        ticker.ticker,
        code,
        f"these bars could not be turned into a prediction: {exc}",
        f"series[{ticker.position}].bars",
    )
