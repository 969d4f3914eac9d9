"""Parse daily-price CSV files and check every row before anything reaches the lake.

Column names are matched case-insensitively, with common aliases ("Adj Close", "Symbol").
In strict mode (CSV import, live providers) one bad row rejects the whole file; in
lenient mode (the bundled sample, real history with a few quirks) bad rows are dropped
and reported as warnings. Checks are vectorised; an ``Issue`` object is built only for a
row that has a problem.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

Severity = Literal["error", "warning"]

BAR_FRAME_COLUMNS: tuple[str, ...] = (
    "date",
    "ticker",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "adj_close",
    "source",
)
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
REQUIRED_COLUMNS: tuple[str, ...] = ("date", "open", "high", "low", "close", "volume")

TICKER_PATTERN = re.compile(r"^[A-Za-z0-9._^-]+$")

# Relative slack for high/low against open/close: providers round prices independently.
_PRICE_TOLERANCE = 1e-6

_ALIASES: dict[str, str] = {
    "date": "date",
    "day": "date",
    "datetime": "date",
    "timestamp": "date",
    "time": "date",
    "ticker": "ticker",
    "symbol": "ticker",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
    "vol": "volume",
    "adj_close": "adj_close",
    "adjclose": "adj_close",
    "adjusted_close": "adj_close",
    "adj_close_price": "adj_close",
}

# Tried in order; the format that parses the most values wins (explicit formats are fast).
_DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y%m%d",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "ISO8601",
)


@dataclass(frozen=True)
class Issue:
    """One problem found in a file: file-level when ``row`` is None."""

    file: str
    row: int | None  # 1-based line number in the file; the header is line 1
    ticker: str | None
    column: str | None
    problem: str
    severity: Severity


@dataclass
class ValidationReport:
    issues: list[Issue] = field(default_factory=list)
    files_checked: int = 0
    rows_checked: int = 0
    rows_accepted: int = 0

    @property
    def ok(self) -> bool:
        return not any(issue.severity == "error" for issue in self.issues)

    @property
    def errors(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity == "warning"]

    def merge(self, other: ValidationReport) -> ValidationReport:
        self.issues.extend(other.issues)
        self.files_checked += other.files_checked
        self.rows_checked += other.rows_checked
        self.rows_accepted += other.rows_accepted
        return self

    def summary(self) -> str:
        return (
            f"{self.files_checked} file(s) checked, {self.rows_checked} row(s) checked, "
            f"{self.rows_accepted} accepted; {len(self.errors)} error(s), "
            f"{len(self.warnings)} warning(s)"
        )

    def render(self, max_rows: int = 50) -> str:
        """A plain-text table of the issues, grouped by file, ending with a summary line."""
        lines: list[str] = []
        by_file: dict[str, list[Issue]] = defaultdict(list)
        for issue in self.issues:
            by_file[issue.file].append(issue)
        shown = 0
        for file_name, issues in by_file.items():
            if shown >= max_rows:
                break
            errors = sum(issue.severity == "error" for issue in issues)
            lines.append(f"{file_name}: {errors} error(s), {len(issues) - errors} warning(s)")
            lines.append(f"  {'line':>7}  {'ticker':<10} {'column':<10} {'severity':<8} problem")
            for issue in issues:
                if shown >= max_rows:
                    break
                row = "-" if issue.row is None else str(issue.row)
                lines.append(
                    f"  {row:>7}  {issue.ticker or '-':<10} {issue.column or '-':<10} "
                    f"{issue.severity:<8} {issue.problem}"
                )
                shown += 1
        if len(self.issues) > shown:
            lines.append(f"... and {len(self.issues) - shown} more issue(s)")
        lines.append(self.summary())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "files_checked": self.files_checked,
            "rows_checked": self.rows_checked,
            "rows_accepted": self.rows_accepted,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "issues": [asdict(issue) for issue in self.issues],
        }


@dataclass
class ValidatedFile:
    """A parsed file: its accepted bars plus what is needed to cut raw per-ticker bodies.

    ``rows`` has one entry per non-blank data row (accepted or not): its line number,
    normalised ticker (None if unknown) and parsed date (NaT if unparseable).
    """

    filename: str
    source: str
    bars: pd.DataFrame
    report: ValidationReport
    lines: list[bytes]
    rows: pd.DataFrame
    has_ticker_column: bool

    @property
    def rejected(self) -> bool:
        return not self.report.ok

    def raw_body(
        self,
        ticker: str,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> bytes:
        """The header line plus this ticker's original lines (within the dates), byte for byte."""
        if not self.lines:
            return b""
        rows = self.rows
        mask = (rows["ticker"] == ticker).to_numpy(dtype=bool)
        if start is not None or end is not None:
            dates = rows["date"]
            in_window = dates.notna()
            if start is not None:
                in_window &= dates >= start
            if end is not None:
                in_window &= dates <= end
            mask = mask & in_window.to_numpy(dtype=bool)
        elif not self.has_ticker_column:
            # A single-ticker file, unfiltered: exactly the bytes that were received.
            return b"".join(self.lines)
        line_numbers = rows["line"].to_numpy()[mask]
        return self.lines[0] + b"".join(self.lines[n - 1] for n in line_numbers)


def empty_bars() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.Series([], dtype="datetime64[ns]"),
            "ticker": pd.Series([], dtype=object),
            "open": pd.Series([], dtype=float),
            "high": pd.Series([], dtype=float),
            "low": pd.Series([], dtype=float),
            "close": pd.Series([], dtype=float),
            "volume": pd.Series([], dtype=float),
            "adj_close": pd.Series([], dtype=float),
            "source": pd.Series([], dtype=object),
        }
    )


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "line": pd.Series([], dtype=np.int64),
            "ticker": pd.Series([], dtype=object),
            "date": pd.Series([], dtype="datetime64[ns]"),
        }
    )


def parse_and_validate(
    body: bytes,
    *,
    filename: str,
    source: str,
    default_ticker: str | None,
    strict: bool,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Clean bars of one CSV file and the report of everything found in it."""
    checked = validate_file(
        body, filename=filename, source=source, default_ticker=default_ticker, strict=strict
    )
    return checked.bars, checked.report


def validate_file(
    body: bytes,
    *,
    filename: str,
    source: str,
    default_ticker: str | None,
    strict: bool,
) -> ValidatedFile:
    report = ValidationReport(files_checked=1)

    def rejected(problem: str, lines: list[bytes] | None = None) -> ValidatedFile:
        report.issues.append(Issue(filename, None, default_ticker, None, problem, "error"))
        return ValidatedFile(
            filename, source, empty_bars(), report, lines or [], _empty_rows(), False
        )

    garbage = _describe_garbage(body)
    if garbage is not None:
        return rejected(garbage)

    lines = body.splitlines(keepends=True)
    table = _read_table(body, len(lines))
    if isinstance(table, str):
        return rejected(table, lines)
    frame, line_numbers = table

    columns, column_issues = _map_columns([str(c) for c in frame.columns])
    for column, problem in column_issues:
        report.issues.append(Issue(filename, 1, None, column, problem, "warning"))
    has_ticker_column = "ticker" in columns
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if not has_ticker_column and default_ticker is None:
        missing.append("ticker")
    if missing:
        found = ", ".join(str(c).strip() for c in frame.columns)
        return rejected(
            f"missing required column(s): {', '.join(missing)} (found: {found or 'none'})",
            lines,
        )

    text = {canonical: frame.iloc[:, position] for canonical, position in columns.items()}
    # Rows whose every field is empty are blank lines: skipped, not reported.
    stripped = {name: values.str.strip() for name, values in text.items()}
    nonblank = np.zeros(len(frame), dtype=bool)
    for values in stripped.values():
        nonblank |= (values != "").to_numpy(dtype=bool)
    if not nonblank.all():
        stripped = {
            name: values[nonblank].reset_index(drop=True) for name, values in stripped.items()
        }
        line_numbers = line_numbers[nonblank]
    n_rows = len(line_numbers)
    report.rows_checked = n_rows
    if n_rows == 0:
        report.issues.append(Issue(filename, None, default_ticker, None, "no data rows", "warning"))
        return ValidatedFile(filename, source, empty_bars(), report, lines, _empty_rows(), False)

    severity: Severity = "error" if strict else "warning"
    bad = np.zeros(n_rows, dtype=bool)
    row_issues: list[tuple[int, str | None, Callable[[int], str]]] = []

    def flag(mask: np.ndarray, column: str | None, describe: Callable[[int], str]) -> None:
        nonlocal bad
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            bad |= mask
            for position in np.flatnonzero(mask):
                row_issues.append((int(position), column, describe))

    # Ticker.
    if has_ticker_column:
        raw_ticker = stripped["ticker"]
        tickers = raw_ticker.str.upper()
        ticker_missing = (raw_ticker == "").to_numpy(dtype=bool)
        ticker_invalid = ~ticker_missing & ~tickers.str.fullmatch(TICKER_PATTERN.pattern).to_numpy(
            dtype=bool
        )
        flag(ticker_missing, "ticker", lambda i: "missing ticker")
        flag(ticker_invalid, "ticker", lambda i: f"invalid ticker {raw_ticker.iat[i]!r}")
        ticker_values = np.array(tickers.to_numpy(dtype=object), dtype=object)
        ticker_values[ticker_missing | ticker_invalid] = None
    else:
        ticker_values = np.full(n_rows, str(default_ticker).upper(), dtype=object)

    # Date.
    raw_date = stripped["date"]
    dates = _parse_dates(raw_date)
    date_missing = (raw_date == "").to_numpy(dtype=bool)
    date_bad = dates.isna().to_numpy(dtype=bool) & ~date_missing
    flag(date_missing, "date", lambda i: "missing date")
    flag(date_bad, "date", lambda i: f"unparseable date {raw_date.iat[i]!r}")

    # Prices and volume.
    numbers: dict[str, np.ndarray] = {}
    for column in (*PRICE_COLUMNS, "volume"):
        raw = stripped[column]
        parsed: np.ndarray = pd.to_numeric(raw.to_numpy(dtype=object), errors="coerce").astype(
            float
        )
        numbers[column] = parsed
        empty = (raw == "").to_numpy(dtype=bool)
        not_number = np.isnan(parsed) & ~empty
        infinite = np.isinf(parsed)
        flag(empty, column, lambda i: "missing value")
        flag(not_number, column, _describe_value(raw, "not a number"))
        flag(infinite, column, _describe_value(raw, "infinite value"))
        finite = np.isfinite(parsed)
        if column == "volume":
            flag(finite & (parsed < 0), column, _describe_value(raw, "negative volume"))
        else:
            flag(finite & (parsed <= 0), column, _describe_value(raw, "price must be positive"))

    o, h, low, c = (numbers[k] for k in PRICE_COLUMNS)
    with np.errstate(invalid="ignore"):
        tolerance = _PRICE_TOLERANCE * np.fmax(np.abs(h), np.abs(low))
        # Consistency is only meaningful once each price is itself valid.
        valid_prices = np.ones(n_rows, dtype=bool)
        for price in (o, h, low, c):
            valid_prices &= np.isfinite(price) & (price > 0)
        high_below_low = valid_prices & (h < low - tolerance)
        high_below_body = valid_prices & ~high_below_low & (h < np.fmax(o, c) - tolerance)
        low_above_body = valid_prices & ~high_below_low & (low > np.fmin(o, c) + tolerance)
    flag(high_below_low, "high", lambda i: f"high {h[i]:g} is below low {low[i]:g}")
    flag(
        high_below_body,
        "high",
        lambda i: f"high {h[i]:g} is below open {o[i]:g} or close {c[i]:g}",
    )
    flag(
        low_above_body,
        "low",
        lambda i: f"low {low[i]:g} is above open {o[i]:g} or close {c[i]:g}",
    )

    # Duplicate (ticker, date): the first occurrence stays, later ones are reported.
    keyed = pd.DataFrame({"ticker": ticker_values, "date": dates})
    known = keyed["ticker"].notna().to_numpy(dtype=bool) & keyed["date"].notna().to_numpy(
        dtype=bool
    )
    duplicated = keyed.duplicated(keep="first").to_numpy(dtype=bool) & known
    if duplicated.any():
        first_line: dict[Hashable, int] = (
            pd.Series(line_numbers[known], index=pd.MultiIndex.from_frame(keyed[known]))
            .groupby(level=[0, 1])
            .min()
            .to_dict()
        )
        flag(
            duplicated,
            "date",
            lambda i: (
                f"duplicate date {dates.iat[i]:%Y-%m-%d} for {ticker_values[i]} "
                f"(first on line {first_line[(ticker_values[i], dates.iat[i])]})"
            ),
        )

    # Adjusted close is optional: a bad value is blanked and noted, the bar is kept.
    adj_close = np.full(n_rows, np.nan)
    if "adj_close" in stripped:
        raw_adj = stripped["adj_close"]
        adj_close = pd.to_numeric(raw_adj.to_numpy(dtype=object), errors="coerce").astype(float)
        adj_bad = (raw_adj != "").to_numpy(dtype=bool) & ~(np.isfinite(adj_close) & (adj_close > 0))
        for bad_adj in np.flatnonzero(adj_bad):
            report.issues.append(
                Issue(
                    filename,
                    int(line_numbers[bad_adj]),
                    ticker_values[bad_adj],
                    "adj_close",
                    f"adjusted close {raw_adj.iat[int(bad_adj)]!r} ignored: not a positive number",
                    "warning",
                )
            )
        adj_close[adj_bad] = np.nan

    row_issues.sort(key=lambda item: item[0])
    for row_index, issue_column, describe in row_issues:
        report.issues.append(
            Issue(
                filename,
                int(line_numbers[row_index]),
                ticker_values[row_index],
                issue_column,
                describe(row_index),
                severity,
            )
        )

    rows = pd.DataFrame({"line": line_numbers, "ticker": ticker_values, "date": dates})
    if strict and bad.any():
        report.issues.append(
            Issue(
                filename,
                None,
                default_ticker,
                None,
                f"file rejected: {int(bad.sum())} of {n_rows} row(s) failed validation",
                "error",
            )
        )
        return ValidatedFile(filename, source, empty_bars(), report, lines, rows, has_ticker_column)

    keep = ~bad
    bars = pd.DataFrame(
        {
            "date": dates[keep].astype("datetime64[ns]").reset_index(drop=True),
            "ticker": pd.Series(ticker_values[keep], dtype=object),
            "open": o[keep],
            "high": h[keep],
            "low": low[keep],
            "close": c[keep],
            "volume": numbers["volume"][keep],
            "adj_close": adj_close[keep],
            "source": pd.Series([source] * int(keep.sum()), dtype=object),
        }
    )
    bars = bars.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)
    report.rows_accepted = len(bars)
    return ValidatedFile(filename, source, bars, report, lines, rows, has_ticker_column)


def _describe_value(raw: pd.Series, what: str) -> Callable[[int], str]:
    return lambda i: f"{what}: {raw.iat[i]!r}"


def _describe_garbage(body: bytes) -> str | None:
    if not body.strip():
        return "empty file"
    head = body[:4096]
    if head.startswith(b"\x1f\x8b"):
        return "compressed (gzip) data where CSV text was expected"
    if b"\x00" in head:
        return "binary data, not a CSV text file"
    try:
        body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start}): binary data or an unknown encoding"
    opening = head.lstrip().lower()
    if opening.startswith((b"<!doctype", b"<html", b"<?xml", b"<")) or b"<html" in opening:
        return "received an HTML/XML page, not CSV (the provider may be down or blocking)"
    return None


def _read_table(body: bytes, n_lines: int) -> tuple[pd.DataFrame, np.ndarray] | str:
    """All fields as text, with the 1-based line number of each data row."""
    frame: pd.DataFrame | None
    try:
        with warnings.catch_warnings():
            # A row longer than the header is a warning to pandas, an error here.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.BytesIO(body),
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                index_col=False,
                encoding="utf-8-sig",
            )
    except pd.errors.EmptyDataError:
        return "empty file"
    except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError, UnicodeDecodeError):
        frame = None
    if frame is not None and len(frame) == n_lines - 1:
        return frame, np.arange(2, n_lines + 1, dtype=np.int64)
    # Quoted line breaks or ragged rows: the csv module knows which line each record ends on.
    return _read_table_slowly(body)


def _read_table_slowly(body: bytes) -> tuple[pd.DataFrame, np.ndarray] | str:
    reader = csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return "empty file"
    except csv.Error as exc:
        return f"unreadable CSV header: {exc}"
    records: list[list[str]] = []
    starts: list[int] = []
    previous_end = reader.line_num
    try:
        for record in reader:
            records.append(record)
            starts.append(previous_end + 1)
            previous_end = reader.line_num
    except csv.Error as exc:
        return f"unreadable CSV after line {previous_end}: {exc}"
    width = len(header)
    if any(len(record) > width for record in records):
        ragged = next(start for start, r in zip(starts, records, strict=True) if len(r) > width)
        return f"line {ragged} has more fields than the header ({width})"
    padded = [record + [""] * (width - len(record)) for record in records]
    frame = pd.DataFrame(padded, columns=range(width), dtype=str)
    frame.columns = pd.Index(header)
    return frame, np.asarray(starts, dtype=np.int64)


def _normalise_column(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.replace("\ufeff", "").strip().lower())


def _map_columns(names: list[str]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Canonical column name -> position; the first column wins when two mean the same."""
    columns: dict[str, int] = {}
    issues: list[tuple[str, str]] = []
    for position, name in enumerate(names):
        canonical = _ALIASES.get(_normalise_column(name))
        if canonical is None:
            continue
        if canonical in columns:
            issues.append(
                (canonical, f"column {name.strip()!r} ignored: another column is already used")
            )
            continue
        columns[canonical] = position
    return columns, issues


def _parse_dates(raw: pd.Series) -> pd.Series:
    """Dates normalised to midnight, NaT where a value does not parse."""
    values = raw.to_numpy(dtype=object)
    present = int((raw != "").sum())
    best: pd.Series | None = None
    best_count = -1
    for date_format in _DATE_FORMATS:
        try:
            parsed = pd.Series(pd.to_datetime(values, format=date_format, errors="coerce"))
        except (ValueError, TypeError):
            continue
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_localize(None)
        count = int(parsed.notna().sum())
        if count > best_count:
            best, best_count = parsed, count
        if count == present:
            break
    if best is None:
        return pd.Series(pd.NaT, index=range(len(values)), dtype="datetime64[ns]")
    return best.dt.normalize().astype("datetime64[ns]")
