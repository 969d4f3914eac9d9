"""The one interface every price source speaks, and what the sources share."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, TypeVar

import pandas as pd

from trainer.validation import (
    BAR_FRAME_COLUMNS,
    TICKER_PATTERN,
    Issue,
    ValidatedFile,
    ValidationReport,
    empty_bars,
)

_SOURCE_PATTERN = re.compile(r"^[A-Za-z0-9._-]+$")
_FILENAME_PATTERN = _SOURCE_PATTERN


@dataclass(frozen=True)
class RawFile:
    """What a provider returned for one ticker, untouched, ready for the lake's raw zone.

    For a multi-ticker file: that file's header line plus exactly this ticker's original
    lines, byte for byte.
    """

    source: str
    ticker: str
    filename: str
    body: bytes

    def __post_init__(self) -> None:
        if not _SOURCE_PATTERN.match(self.source):
            raise ValueError(f"invalid source label {self.source!r}")
        if not TICKER_PATTERN.match(self.ticker) or self.ticker != self.ticker.upper():
            raise ValueError(f"invalid ticker {self.ticker!r}")
        if not _FILENAME_PATTERN.match(self.filename) or self.filename in {".", ".."}:
            raise ValueError(f"invalid file name {self.filename!r}")


@dataclass
class FetchResult:
    """Clean bars (one source per ticker, sorted by ticker and date) and their provenance."""

    source: str
    raw_files: list[RawFile] = field(default_factory=list)
    bars: pd.DataFrame = field(default_factory=empty_bars)
    report: ValidationReport = field(default_factory=ValidationReport)
    rejected_files: list[str] = field(default_factory=list)

    @property
    def tickers(self) -> list[str]:
        return sorted(self.bars["ticker"].unique().tolist())


class PriceSource(Protocol):
    name: str

    def fetch(
        self,
        tickers: Sequence[str] | None,
        start: date | None,
        end: date | None,
    ) -> FetchResult: ...


def normalise_tickers(tickers: Iterable[str] | None) -> list[str] | None:
    if tickers is None:
        return None
    seen: dict[str, None] = {}
    for ticker in tickers:
        cleaned = ticker.strip().upper()
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def as_timestamp(day: date | None) -> pd.Timestamp | None:
    return None if day is None else pd.Timestamp(day).normalize()


def safe_filename(name: str) -> str:
    """A file name usable in an object key: anything outside [A-Za-z0-9._-] becomes '_'."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip("._") or "prices.csv"
    return cleaned


def filter_bars(
    bars: pd.DataFrame,
    tickers: Sequence[str] | None,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
) -> pd.DataFrame:
    mask = pd.Series(True, index=bars.index)
    if tickers is not None:
        mask &= bars["ticker"].isin(tickers)
    if start is not None:
        mask &= bars["date"] >= start
    if end is not None:
        mask &= bars["date"] <= end
    return bars[mask]


def finish_bars(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return empty_bars()
    bars = pd.concat(frames, ignore_index=True)
    bars = bars.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)
    return bars.loc[:, list(BAR_FRAME_COLUMNS)]


def assemble(
    name: str,
    files: list[ValidatedFile],
    *,
    tickers: Sequence[str] | None,
    start: date | None,
    end: date | None,
    label: Callable[[ValidatedFile], str] = lambda checked: checked.source,
) -> FetchResult:
    """Pick one file per ticker (the one with the most bars), then filter and cut raw bodies.

    The choice is made on the whole history, before the date filter, so replaying an
    earlier date never switches a ticker to another source. Sources differ in split
    adjustment and volume units, so a ticker is never stitched from two files.
    """
    report = ValidationReport()
    rejected: list[str] = []
    accepted: list[ValidatedFile] = []
    for checked in files:
        report.merge(checked.report)
        if checked.rejected:
            rejected.append(checked.filename)
        else:
            accepted.append(checked)

    counts: dict[str, list[tuple[int, int]]] = {}
    for index, checked in enumerate(accepted):
        for ticker, n_bars in checked.bars["ticker"].value_counts(sort=False).items():
            counts.setdefault(str(ticker), []).append((int(n_bars), index))
    chosen: dict[str, int] = {}
    for ticker, candidates in counts.items():
        # Most bars wins; on a tie the file listed first does.
        best_bars, best_index = max(candidates, key=lambda item: (item[0], -item[1]))
        chosen[ticker] = best_index
        for n_bars, index in candidates:
            if index == best_index:
                continue
            report.issues.append(
                Issue(
                    accepted[index].filename,
                    None,
                    ticker,
                    None,
                    f"{ticker} skipped here ({n_bars} bars): taken from "
                    f"{label(accepted[best_index])} {accepted[best_index].filename} "
                    f"({best_bars} bars); one ticker is never stitched from two sources",
                    "warning",
                )
            )

    wanted = normalise_tickers(tickers)
    start_at, end_at = as_timestamp(start), as_timestamp(end)
    frames: list[pd.DataFrame] = []
    raw_files: list[RawFile] = []
    for index, checked in enumerate(accepted):
        keep = [t for t, i in chosen.items() if i == index and (wanted is None or t in wanted)]
        if not keep:
            continue
        bars = filter_bars(checked.bars, keep, start_at, end_at)
        frames.append(bars)
        for ticker in sorted(bars["ticker"].unique().tolist()):
            raw_files.append(
                RawFile(
                    source=label(checked),
                    ticker=ticker,
                    filename=safe_filename(checked.filename),
                    body=checked.raw_body(ticker, start_at, end_at),
                )
            )
    raw_files.sort(key=lambda raw: (raw.ticker, raw.source, raw.filename))
    if wanted is not None:
        for ticker in wanted:
            if ticker not in chosen:
                report.issues.append(
                    Issue(name, None, ticker, None, f"{name} has no prices for {ticker}", "warning")
                )
    return FetchResult(
        source=name,
        raw_files=raw_files,
        bars=finish_bars(frames),
        report=report,
        rejected_files=rejected,
    )


T = TypeVar("T")


class DeadlineExceededError(Exception):
    """The work did not finish before the deadline."""


def run_with_deadline(
    jobs: dict[str, Callable[[], T]],
    deadline_seconds: float,
    workers: int = 4,
) -> dict[str, T | BaseException]:
    """Run each job in daemon worker threads; whatever is unfinished at the deadline is abandoned.

    A timeout on the socket alone does not bound a call that retries, resolves names or
    hangs inside a library, so the caller stops waiting at the deadline and the abandoned
    threads (daemons) cannot keep the process alive.
    """
    deadline = time.monotonic() + max(0.0, deadline_seconds)
    pending = list(jobs)
    results: dict[str, T | BaseException] = {}
    lock = threading.Condition()

    def work() -> None:
        while True:
            with lock:
                if not pending or time.monotonic() >= deadline:
                    return
                key = pending.pop(0)
            outcome: Any
            try:
                outcome = jobs[key]()
            except Exception as exc:
                outcome = exc
            with lock:
                results[key] = outcome
                lock.notify_all()

    for number in range(max(1, min(workers, len(jobs)))):
        threading.Thread(target=work, name=f"price-fetch-{number}", daemon=True).start()
    with lock:
        lock.wait_for(lambda: len(results) == len(jobs), timeout=max(0.0, deadline_seconds))
        finished = dict(results)
    for key in jobs:
        if key not in finished:
            finished[key] = DeadlineExceededError(
                f"no answer within the {deadline_seconds:g} s deadline"
            )
    return finished


SOURCE_NAMES: tuple[str, ...] = ("sample", "csv", "stooq", "yahoo", "live")


def get_source(name: str, **options: Any) -> PriceSource:
    """A price source by name.

    Options: ``csv`` needs ``path``; ``stooq`` takes ``base_url`` (or env STOOQ_BASE_URL)
    and ``deadline_seconds``; ``yahoo`` takes ``deadline_seconds``; ``live`` takes
    ``deadline_seconds`` (shared by the chain) and ``base_url`` for its Stooq provider.
    """
    # Imported here: the source modules import this one.
    from trainer.sources.csv_files import CsvSource
    from trainer.sources.live import LiveSource
    from trainer.sources.provider import DEFAULT_DEADLINE_SECONDS
    from trainer.sources.sample import SampleSource
    from trainer.sources.stooq import StooqSource
    from trainer.sources.yahoo import YahooSource

    key = name.strip().lower()
    deadline = float(options.get("deadline_seconds", DEFAULT_DEADLINE_SECONDS))
    if key == "sample":
        return SampleSource()
    if key == "csv":
        if "path" not in options:
            raise ValueError("the csv source needs path=<file or folder>")
        return CsvSource(options["path"])
    if key == "stooq":
        return StooqSource(base_url=options.get("base_url"), deadline_seconds=deadline)
    if key == "yahoo":
        return YahooSource(deadline_seconds=deadline)
    if key == "live":
        chain = [
            StooqSource(base_url=options.get("base_url"), deadline_seconds=deadline),
            YahooSource(deadline_seconds=deadline),
        ]
        return LiveSource(chain, deadline_seconds=deadline)
    raise ValueError(f"unknown price source {name!r}; choose one of {', '.join(SOURCE_NAMES)}")
