"""Reading and checking an ``/invocations`` body, fast and without trusting it.

Body (JSON object)::

    {
      "series": [                                   # required, at least one ticker
        {"ticker": "AAPL",
         "bars": [{"date": "2024-01-02", "open": 1, "high": 1, "low": 1,
                   "close": 1, "volume": 100}, ...]},
        {"ticker": "MSFT",                           # column form, same fields:
         "bars": {"date": [...], "open": [...], "high": [...], "low": [...],
                  "close": [...], "volume": [...]}}
      ],
      "as_of": "2024-06-28",                        # optional: predict for the last bar
                                                    # on or before this date
      "market": [{"date": "2024-01-02", "return": 0.004}, ...],   # optional, or
                                                    # {"date": [...], "return": [...]}
      "max_drivers": 5                              # optional, 0..50
    }

Without ``market`` the market-relative features are missing and the model pipeline imputes
them (with their training values), so such predictions lean on the other features.

What is checked, and where a problem lands:

- the body as a whole (not JSON, not an object, unknown top-level field, ``series`` not a
  non-empty list, bad ``as_of``/``market``/``max_drivers``) → :class:`RequestError`,
  answered 400 with the field path;
- one ticker (bad ticker name, duplicate ticker, missing/ill-typed bar fields, NaN,
  infinite or non-positive prices, negative volume, high < low, dates unsorted or
  duplicated, fewer bars than the features need) → a :class:`TickerProblem` in that
  ticker's place while the other tickers are answered.

Unknown fields inside a series entry or a bar are ignored (providers add columns such as
``adj_close``); unknown top-level fields are refused, since a misspelt ``as_of`` would
silently change the answer. Checks run per column with numpy — one pass over each
column, never one validation object per bar — so 60 000 bars are checked in milliseconds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

BAR_FIELDS = ("date", "open", "high", "low", "close", "volume")
PRICE_FIELDS = ("open", "high", "low", "close")
TOP_LEVEL_FIELDS = frozenset({"series", "as_of", "market", "max_drivers"})
DEFAULT_MAX_DRIVERS = 5
MAX_DRIVERS_LIMIT = 50
_TICKER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-^=_]{0,31}$")
_NUMBER_TYPES = frozenset({int, float})
# Daily bars in nanosecond timestamps (pandas) must lie well inside 1677..2262.
_EARLIEST = np.datetime64("1900-01-01", "D")
_LATEST = np.datetime64("2199-12-31", "D")


class RequestError(Exception):
    """A problem with the body as a whole: answered 400 (or ``status``)."""

    def __init__(self, code: str, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


@dataclass
class TickerProblem:
    """Why one ticker of the request gets no prediction."""

    position: int
    ticker: str | None
    code: str
    message: str
    field: str

    def as_json(self) -> dict[str, Any]:
        return {
            "ticker": self.ticker,
            "error": {"code": self.code, "message": self.message, "field": self.field},
        }


@dataclass
class TickerBars:
    """One ticker's checked bars, cut at ``as_of``."""

    position: int
    ticker: str
    dates: np.ndarray  # datetime64[D], strictly increasing
    columns: dict[str, np.ndarray]  # open/high/low/close/volume as float64

    @property
    def as_of(self) -> np.datetime64:
        return self.dates[-1]  # type: ignore[no-any-return]


@dataclass
class PredictionRequest:
    entries: list[TickerBars | TickerProblem]
    as_of: np.datetime64 | None
    market: pd.Series | None
    max_drivers: int

    @property
    def valid(self) -> list[TickerBars]:
        return [entry for entry in self.entries if isinstance(entry, TickerBars)]


class _TickerError(Exception):
    """A ticker-level problem found while checking columns."""

    def __init__(self, code: str, message: str, field: str):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def decode_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError("malformed_json", f"body is not valid JSON: {exc}") from None


def parse_request(body: bytes, *, min_history_bars: int) -> PredictionRequest:
    """Check ``body`` and return what can be predicted; raise RequestError for the body."""
    document = decode_json(body)
    if not isinstance(document, dict):
        raise RequestError("invalid_body", "body must be a JSON object", "body")
    unknown = sorted(str(key) for key in document if key not in TOP_LEVEL_FIELDS)
    if unknown:
        raise RequestError(
            "unknown_field",
            f"unknown field {unknown[0]!r}; expected some of {sorted(TOP_LEVEL_FIELDS)}",
            unknown[0],
        )

    as_of = _parse_as_of(document.get("as_of"))
    market = _parse_market(document["market"]) if document.get("market") is not None else None
    max_drivers = _parse_max_drivers(document.get("max_drivers", DEFAULT_MAX_DRIVERS))

    series = document.get("series")
    if series is None:
        raise RequestError("missing_field", "series is required", "series")
    if not isinstance(series, list):
        raise RequestError("invalid_type", "series must be a list of tickers", "series")
    if not series:
        raise RequestError("invalid_value", "series must hold at least one ticker", "series")

    entries: list[TickerBars | TickerProblem] = []
    seen: set[str] = set()
    for position, item in enumerate(series):
        entry = _parse_ticker(position, item, as_of, min_history_bars, seen)
        if isinstance(entry, TickerBars):
            seen.add(entry.ticker)
        entries.append(entry)
    return PredictionRequest(entries=entries, as_of=as_of, market=market, max_drivers=max_drivers)


def _parse_as_of(value: Any) -> np.datetime64 | None:
    if value is None:
        return None
    parsed = _parse_one_date(value)
    if parsed is None:
        raise RequestError("invalid_date", "as_of must be a date as YYYY-MM-DD", "as_of")
    return parsed


def _parse_max_drivers(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= MAX_DRIVERS_LIMIT:
        raise RequestError(
            "invalid_value",
            f"max_drivers must be an integer from 0 to {MAX_DRIVERS_LIMIT}",
            "max_drivers",
        )
    return value


def _parse_one_date(value: Any) -> np.datetime64 | None:
    if type(value) is not str or len(value) != 10:
        return None
    try:
        parsed = np.datetime64(value, "D")
    except ValueError:
        return None
    return parsed if _EARLIEST <= parsed <= _LATEST else None


def _parse_market(value: Any) -> pd.Series:
    try:
        columns, path = _columns_of(value, ("date", "return"), "market")
        dates = _date_column(columns["date"], lambda row: path("date", row))
        returns = _number_column(columns["return"], lambda row: path("return", row))
        bad = np.flatnonzero(~np.isfinite(returns) | (returns <= -1.0))
        if bad.size:
            raise _TickerError(
                "invalid_value",
                "a market return must be a finite number above -1",
                path("return", int(bad[0])),
            )
        order = np.argsort(dates, kind="stable")
        sorted_dates = dates[order]
        repeated = np.flatnonzero(sorted_dates[1:] == sorted_dates[:-1])
        if repeated.size:
            raise _TickerError(
                "duplicate_date",
                f"market has two returns for {sorted_dates[repeated[0]]}",
                "market",
            )
    except _TickerError as problem:
        raise RequestError(problem.code, problem.message, problem.field) from None
    index = pd.DatetimeIndex(sorted_dates.astype("datetime64[ns]"), name="date")
    return pd.Series(returns[order], index=index, name="market_return")


def _parse_ticker(
    position: int,
    item: Any,
    as_of: np.datetime64 | None,
    min_history_bars: int,
    seen: set[str],
) -> TickerBars | TickerProblem:
    where = f"series[{position}]"
    if not isinstance(item, dict):
        return TickerProblem(
            position, None, "invalid_type", "a series entry must be an object", where
        )
    ticker = item.get("ticker")
    if type(ticker) is not str or not _TICKER.match(ticker):
        return TickerProblem(
            position,
            ticker if type(ticker) is str else None,
            "invalid_ticker",
            "ticker must be 1-32 letters, digits or . - ^ = _",
            f"{where}.ticker",
        )
    if ticker in seen:
        return TickerProblem(
            position,
            ticker,
            "duplicate_ticker",
            f"{ticker} appears more than once in series",
            f"{where}.ticker",
        )
    try:
        dates, columns = _check_bars(item.get("bars"), f"{where}.bars")
    except _TickerError as problem:
        return TickerProblem(position, ticker, problem.code, problem.message, problem.field)

    used = len(dates) if as_of is None else int(np.searchsorted(dates, as_of, side="right"))
    if used == 0:
        return TickerProblem(
            position,
            ticker,
            "no_bar_before_as_of",
            f"no bar on or before as_of {as_of}",
            f"{where}.bars",
        )
    if used < min_history_bars:
        return TickerProblem(
            position,
            ticker,
            "insufficient_history",
            f"the features need at least {min_history_bars} daily bars up to the "
            f"prediction date; {used} given",
            f"{where}.bars",
        )
    return TickerBars(
        position=position,
        ticker=ticker,
        dates=dates[:used],
        columns={name: values[:used] for name, values in columns.items()},
    )


def _columns_of(
    value: Any, fields: tuple[str, ...], where: str
) -> tuple[dict[str, list[Any]], Any]:
    """Columns of a row-form (list of objects) or column-form (object of lists) table.

    Also returns ``path(field, row=None)`` that names a cell in the caller's own form.
    """
    if isinstance(value, list):
        if not value:
            raise _TickerError("missing_field", f"{where} is empty", where)
        if not all(type(row) is dict for row in value):
            index = next(i for i, row in enumerate(value) if type(row) is not dict)
            raise _TickerError("invalid_type", "each entry must be an object", f"{where}[{index}]")
        columns = {name: [row.get(name) for row in value] for name in fields}

        def row_path(name: str, row: int | None = None) -> str:
            return f"{where}[{row}].{name}" if row is not None else where

        return columns, row_path
    if isinstance(value, dict):
        columns = {}
        length = None
        for name in fields:
            column = value.get(name)
            if not isinstance(column, list):
                raise _TickerError(
                    "missing_field" if column is None else "invalid_type",
                    f"{where}.{name} must be a list",
                    f"{where}.{name}",
                )
            if length is not None and len(column) != length:
                raise _TickerError(
                    "invalid_value",
                    f"{where}.{name} has {len(column)} values, {fields[0]} has {length}",
                    f"{where}.{name}",
                )
            length = len(column)
            columns[name] = column
        if not length:
            raise _TickerError("missing_field", f"{where} is empty", where)

        def column_path(name: str, row: int | None = None) -> str:
            return f"{where}.{name}[{row}]" if row is not None else f"{where}.{name}"

        return columns, column_path
    raise _TickerError(
        "missing_field" if value is None else "invalid_type",
        f"{where} must be a list of bars or an object of columns",
        where,
    )


def _number_column(values: list[Any], path: Any) -> np.ndarray:
    # type() rather than isinstance(): bool is an int subclass and is not a price.
    if not set(map(type, values)) <= _NUMBER_TYPES:
        index = next(i for i, v in enumerate(values) if type(v) not in _NUMBER_TYPES)
        missing = values[index] is None
        raise _TickerError(
            "missing_field" if missing else "invalid_type",
            "a number is required" if missing else f"expected a number, got {values[index]!r}",
            path(index),
        )
    try:
        return np.array(values, dtype=float)
    except OverflowError:
        index = next(i for i, v in enumerate(values) if not math.isfinite(float(v)))
        raise _TickerError("invalid_value", "number out of range", path(index)) from None


def _date_column(values: list[Any], path: Any) -> np.ndarray:
    if not all(type(v) is str and len(v) == 10 for v in values):
        index = next(i for i, v in enumerate(values) if not (type(v) is str and len(v) == 10))
        raise _TickerError("invalid_date", "a date as YYYY-MM-DD is required", path(index))
    try:
        dates = np.array(values, dtype="datetime64[D]")
    except ValueError:
        index = next(i for i, v in enumerate(values) if _parse_one_date(v) is None)
        raise _TickerError(
            "invalid_date", f"{values[index]!r} is not a date", path(index)
        ) from None
    bad = np.flatnonzero((dates < _EARLIEST) | (dates > _LATEST))
    if bad.size:
        raise _TickerError(
            "invalid_date",
            f"{values[int(bad[0])]!r} is outside {_EARLIEST}..{_LATEST}",
            path(int(bad[0])),
        )
    return dates


def _check_bars(value: Any, where: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    raw, path = _columns_of(value, BAR_FIELDS, where)
    dates = _date_column(raw["date"], lambda row: path("date", row))
    columns = {
        name: _number_column(raw[name], lambda row, name=name: path(name, row))
        for name in BAR_FIELDS[1:]
    }

    for name in PRICE_FIELDS:
        bad = np.flatnonzero(~(np.isfinite(columns[name]) & (columns[name] > 0)))
        if bad.size:
            raise _TickerError(
                "invalid_price",
                f"{name} must be a finite number above zero",
                path(name, int(bad[0])),
            )
    volume = columns["volume"]
    bad = np.flatnonzero(~(np.isfinite(volume) & (volume >= 0)))
    if bad.size:
        raise _TickerError(
            "invalid_volume",
            "volume must be a finite number, zero or more",
            path("volume", int(bad[0])),
        )
    bad = np.flatnonzero(columns["high"] < columns["low"])
    if bad.size:
        raise _TickerError("high_below_low", "high is below low", path("high", int(bad[0])))

    steps = np.diff(dates).astype(np.int64)
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        row = int(bad[0]) + 1
        duplicate = steps[bad[0]] == 0
        raise _TickerError(
            "duplicate_date" if duplicate else "unsorted_dates",
            f"bar {row} is dated {dates[row]}, "
            + ("the same as the bar before" if duplicate else "before the bar before")
            + "; dates must be strictly increasing",
            path("date", row),
        )
    return dates, columns
