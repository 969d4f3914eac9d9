"""Import of standard OHLCV CSV files: one file, or a folder of *.csv and *.csv.gz files.

Columns date, ticker, open, high, low, close, volume and optional adj_close, names
case-insensitive. A file without a ticker column takes its ticker from its name
(``msft.csv`` -> MSFT, ``BRK-B.csv`` -> BRK-B). Validation is strict: one bad row
rejects the whole file, so an import is all or nothing per file.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from trainer.sources.base import FetchResult, assemble
from trainer.validation import TICKER_PATTERN, Issue, ValidatedFile, validate_file

SOURCE_LABEL = "csv"


def ticker_from_filename(path: Path) -> str | None:
    stem = path.name
    for suffix in (".gz", ".csv"):
        stem = stem.removesuffix(suffix).removesuffix(suffix.upper())
    stem = stem.strip().upper()
    return stem if stem and TICKER_PATTERN.match(stem) else None


def csv_files_in(path: Path) -> list[Path]:
    if path.is_dir():
        found = [
            child
            for child in path.iterdir()
            if child.is_file() and child.name.lower().endswith((".csv", ".csv.gz"))
        ]
        return sorted(found, key=lambda child: child.name)
    return [path]


class CsvSource:
    name = "csv"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def fetch(
        self,
        tickers: Sequence[str] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> FetchResult:
        if not self.path.exists():
            result = FetchResult(source=self.name)
            result.report.issues.append(
                Issue(str(self.path), None, None, None, "no such file or folder", "error")
            )
            result.rejected_files.append(str(self.path))
            return result
        checked: list[ValidatedFile] = []
        paths = csv_files_in(self.path)
        for path in paths:
            checked.append(self._check(path))
        result = assemble(self.name, checked, tickers=tickers, start=start, end=end)
        if not paths:
            result.report.issues.append(
                Issue(str(self.path), None, None, None, "no *.csv or *.csv.gz files here", "error")
            )
        return result

    def _check(self, path: Path) -> ValidatedFile:
        filename = path.name.removesuffix(".gz")
        try:
            body = path.read_bytes()
            if path.name.lower().endswith(".gz"):
                body = gzip.decompress(body)
        except (OSError, EOFError, zlib.error) as exc:
            body = b""
            problem = f"cannot read: {exc}"
            checked = validate_file(
                body, filename=filename, source=SOURCE_LABEL, default_ticker=None, strict=True
            )
            checked.report.issues[:] = [Issue(filename, None, None, None, problem, "error")]
            return checked
        return validate_file(
            body,
            filename=filename,
            source=SOURCE_LABEL,
            default_ticker=ticker_from_filename(path),
            strict=True,
        )
