"""The bundled sample: real prices from installed packages, one source per ticker."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from trainer.sources import FetchResult, get_source
from trainer.sources.sample import SAMPLE_FILES, read_sample_file
from trainer.validation import parse_and_validate


@pytest.fixture(scope="module")
def everything() -> FetchResult:
    return get_source("sample").fetch(None, None, None)


def test_the_sample_covers_more_than_500_tickers(everything):
    assert everything.source == "sample"
    assert everything.report.ok, everything.report.render()
    assert everything.rejected_files == []
    assert everything.bars["ticker"].nunique() > 500
    assert len(everything.bars) > 140_000


def test_every_ticker_comes_from_exactly_one_source(everything):
    per_ticker = everything.bars.groupby("ticker")["source"].nunique()
    assert (per_ticker == 1).all()
    raw_sources = {}
    for raw in everything.raw_files:
        assert raw_sources.setdefault(raw.ticker, raw.source) == raw.source
    assert set(raw_sources) == set(everything.bars["ticker"])


def test_aapl_comes_once_from_the_file_with_the_most_bars(everything):
    aapl = everything.bars[everything.bars["ticker"] == "AAPL"]
    assert set(aapl["source"]) == {"sample-bokeh"}
    assert len(aapl) == 3270
    assert not aapl["date"].duplicated().any()
    skipped = [
        issue
        for issue in everything.report.warnings
        if issue.ticker == "AAPL" and "skipped" in issue.problem
    ]
    assert {issue.file for issue in skipped} == {"SP500_ind.csv", "apple_stocks.csv"}
    assert [raw.filename for raw in everything.raw_files if raw.ticker == "AAPL"] == ["stocks.csv"]


def test_each_sample_package_contributes(everything):
    by_source = everything.bars.groupby("source")["ticker"].nunique().to_dict()
    assert by_source["sample-bytetheory"] > 500
    assert by_source["sample-bokeh"] >= 4
    assert {"AMZN", "NVDA"} <= set(
        everything.bars.loc[everything.bars.source == "sample-tsd", "ticker"]
    )


def test_bars_are_sorted_and_typed(everything):
    bars = everything.bars
    assert bars["date"].dtype == "datetime64[ns]"
    assert (bars["date"] == bars["date"].dt.normalize()).all()
    ordered = bars.sort_values(["ticker", "date"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(bars, ordered)


def test_real_quirks_are_few_and_only_warnings(everything):
    report = everything.report
    assert report.rows_accepted / report.rows_checked > 0.999
    assert all(issue.severity == "warning" for issue in report.issues)


def test_raw_bodies_are_the_original_lines_and_validate_to_the_same_bars(everything):
    originals = {
        (sample.source, sample.filename): read_sample_file(sample) for sample in SAMPLE_FILES
    }
    for raw in everything.raw_files:
        if raw.ticker not in {"AAPL", "AMZN", "A", "BRK.B", "ZION"}:
            continue
        original = originals[(raw.source, raw.filename)]
        lines = original.splitlines(keepends=True)
        assert raw.body.startswith(lines[0])
        body_lines = raw.body.splitlines(keepends=True)
        assert set(body_lines[1:]) <= set(lines[1:])
        bars, _ = parse_and_validate(
            raw.body,
            filename=raw.filename,
            source=raw.source,
            default_ticker=raw.ticker,
            strict=False,
        )
        expected = everything.bars[everything.bars["ticker"] == raw.ticker].reset_index(drop=True)
        pd.testing.assert_frame_equal(bars, expected)
    amzn = next(raw for raw in everything.raw_files if raw.ticker == "AMZN")
    assert amzn.body == originals[("sample-tsd", "Amazon.csv")]


def test_a_multi_ticker_raw_body_holds_only_that_tickers_lines(everything):
    ibm = next(raw for raw in everything.raw_files if raw.ticker == "IBM")
    original = read_sample_file(SAMPLE_FILES[0]).splitlines(keepends=True)
    expected = original[0] + b"".join(line for line in original[1:] if line.startswith(b"IBM,"))
    assert ibm.body == expected


def test_every_accepted_bar_passes_strict_validation(everything):
    csv = everything.bars.drop(columns=["source"]).to_csv(index=False).encode()
    bars, report = parse_and_validate(
        csv, filename="all.csv", source="sample", default_ticker=None, strict=True
    )
    assert report.ok, report.render(10)
    assert len(bars) == len(everything.bars)


def test_filters_by_ticker_and_inclusive_dates():
    result = get_source("sample").fetch(
        ["aapl", "nvda", "NOPE"], date(2010, 1, 4), date(2010, 1, 8)
    )
    assert set(result.bars["ticker"]) == {"AAPL", "NVDA"}
    assert result.bars["date"].min() == pd.Timestamp("2010-01-04")
    assert result.bars["date"].max() == pd.Timestamp("2010-01-08")
    assert len(result.bars) == 10
    assert any(issue.ticker == "NOPE" for issue in result.report.warnings)
    aapl = next(raw for raw in result.raw_files if raw.ticker == "AAPL")
    assert aapl.body.count(b"\n") == 1 + 5
    assert b"AAPL,2010-01-11" not in aapl.body


def test_replaying_an_earlier_date_keeps_the_same_source_per_ticker(everything):
    early = get_source("sample").fetch(None, None, date(2009, 12, 31))
    assert early.bars["date"].max() <= pd.Timestamp("2009-12-31")
    early_sources = early.bars.groupby("ticker")["source"].first()
    full_sources = everything.bars.groupby("ticker")["source"].first()
    assert (early_sources == full_sources.loc[early_sources.index]).all()
