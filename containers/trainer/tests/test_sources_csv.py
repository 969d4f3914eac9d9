"""Import of CSV files and folders: strict, all or nothing per file."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from trainer.sources import get_source

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_file_without_a_ticker_column_takes_its_name():
    result = get_source("csv", path=FIXTURES / "msft.csv").fetch(None, None, None)
    assert result.report.ok
    assert list(result.bars["ticker"].unique()) == ["MSFT"]
    assert set(result.bars["source"]) == {"csv"}
    (raw,) = result.raw_files
    assert (raw.source, raw.ticker, raw.filename) == ("csv", "MSFT", "msft.csv")
    assert raw.body == (FIXTURES / "msft.csv").read_bytes()


def test_a_dashed_file_name_is_a_share_class_ticker():
    result = get_source("csv", path=FIXTURES / "BRK-B.csv").fetch(None, None, None)
    assert list(result.bars["ticker"].unique()) == ["BRK-B"]
    assert result.bars["adj_close"].notna().all()


def test_a_folder_imports_every_good_file_and_rejects_the_bad_one_whole():
    result = get_source("csv", path=FIXTURES).fetch(None, None, None)
    assert result.rejected_files == ["ibm_bad.csv"]
    assert "IBM" not in set(result.bars["ticker"])
    assert "IBM" not in {raw.ticker for raw in result.raw_files}
    assert set(result.bars["ticker"]) == {"AAPL", "BRK-B", "GOOG", "MSFT", "NVDA"}
    (error,) = [i for i in result.report.errors if i.row is not None]
    assert (error.file, error.row, error.column) == ("ibm_bad.csv", 3, "high")
    assert not result.report.ok


def test_a_multi_ticker_file_is_split_into_per_ticker_raw_bodies():
    result = get_source("csv", path=FIXTURES / "prices_multi.csv").fetch(None, None, None)
    lines = (FIXTURES / "prices_multi.csv").read_bytes().splitlines(keepends=True)
    bodies = {raw.ticker: raw.body for raw in result.raw_files}
    assert bodies["NVDA"] == lines[0] + lines[2] + lines[4]
    assert bodies["AAPL"] == lines[0] + lines[1] + lines[3] + lines[5]
    assert len(result.bars) == 5


def test_gzipped_files_are_read(tmp_path):
    result = get_source("csv", path=FIXTURES / "goog.csv.gz").fetch(None, None, None)
    assert result.report.ok and list(result.bars["ticker"]) == ["GOOG"]
    assert result.raw_files[0].filename == "goog.csv"


def test_dates_and_tickers_filter_the_import():
    result = get_source("csv", path=FIXTURES).fetch(["aapl"], date(2024, 1, 3), date(2024, 1, 3))
    assert list(result.bars["ticker"]) == ["AAPL"]
    assert list(result.bars["date"]) == [pd.Timestamp("2024-01-03")]


def test_the_same_ticker_in_two_files_is_taken_from_one(tmp_path):
    shutil.copy(FIXTURES / "msft.csv", tmp_path / "msft.csv")
    (tmp_path / "more.csv").write_text(
        "date,ticker,open,high,low,close,volume\n2023-12-29,MSFT,376,377,373,376,18700000\n"
    )
    result = get_source("csv", path=tmp_path).fetch(None, None, None)
    assert len(result.bars) == 3
    assert [raw.filename for raw in result.raw_files] == ["msft.csv"]
    assert any("skipped" in issue.problem for issue in result.report.warnings)


@pytest.mark.parametrize("name", ["missing.csv", "empty_dir"])
def test_a_missing_path_or_empty_folder_is_an_error_not_an_exception(tmp_path, name):
    if name == "empty_dir":
        (tmp_path / name).mkdir()
    result = get_source("csv", path=tmp_path / name).fetch(None, None, None)
    assert result.bars.empty and not result.report.ok
