"""Row and file checks on small crafted CSV files."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from trainer.validation import Issue, ValidationReport, parse_and_validate, validate_file

HEADER = "date,ticker,open,high,low,close,volume\n"
GOOD_ROWS = [
    "2024-01-02,AAPL,187.15,188.44,183.89,185.64,82488700\n",
    "2024-01-03,AAPL,184.22,185.88,183.43,184.25,58414500\n",
    "2024-01-04,AAPL,182.15,183.09,180.88,181.91,71983600\n",
]


def check(text: str, *, strict: bool = True, default_ticker: str | None = None):
    return parse_and_validate(
        text.encode(),
        filename="prices.csv",
        source="csv",
        default_ticker=default_ticker,
        strict=strict,
    )


def with_row(row: str, position: int = 1) -> str:
    """The good file with ``row`` inserted as data row ``position`` (line ``position + 2``)."""
    rows = list(GOOD_ROWS)
    rows.insert(position, row)
    return HEADER + "".join(rows)


def row_issues(report: ValidationReport) -> list[Issue]:
    return [issue for issue in report.issues if issue.row is not None]


def test_a_clean_file_gives_typed_sorted_bars():
    text = HEADER + "".join(reversed(GOOD_ROWS))
    bars, report = check(text)
    assert report.ok and report.issues == []
    assert (report.files_checked, report.rows_checked, report.rows_accepted) == (1, 3, 3)
    assert list(bars.columns) == [
        "date",
        "ticker",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "adj_close",
        "source",
    ]
    assert bars["date"].dtype == "datetime64[ns]"
    assert bars["date"].is_monotonic_increasing
    assert bars["volume"].dtype == float
    assert bars["adj_close"].isna().all()
    assert set(bars["source"]) == {"csv"}
    assert bars.loc[0, "close"] == pytest.approx(185.64)


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("2024-13-45,AAPL,1,2,0.5,1.5,10\n", "date", "unparseable date"),
        (",AAPL,1,2,0.5,1.5,10\n", "date", "missing date"),
        ("2024-01-05,AAPL,abc,2,0.5,1.5,10\n", "open", "not a number"),
        ("2024-01-05,AAPL,1,2,0.5,,10\n", "close", "missing value"),
        ("2024-01-05,AAPL,1,2,0.5,NaN,10\n", "close", "not a number"),
        ("2024-01-05,AAPL,1,inf,0.5,1.5,10\n", "high", "infinite"),
        ("2024-01-05,AAPL,0,2,0.5,1.5,10\n", "open", "must be positive"),
        ("2024-01-05,AAPL,1,2,-0.5,1.5,10\n", "low", "must be positive"),
        ("2024-01-05,AAPL,1,2,0.5,1.5,-10\n", "volume", "negative volume"),
        ("2024-01-05,AAPL,1,0.5,2,1.5,10\n", "high", "below low"),
        ("2024-01-05,AAPL,1,1.4,0.5,1.5,10\n", "high", "below open"),
        ("2024-01-05,AAPL,1,2,1.2,1.5,10\n", "low", "above open"),
        ("2024-01-05,,1,2,0.5,1.5,10\n", "ticker", "missing ticker"),
        ("2024-01-05,AA PL,1,2,0.5,1.5,10\n", "ticker", "invalid ticker"),
    ],
)
def test_each_bad_row_is_reported_on_its_line_and_rejects_a_strict_file(row, column, words):
    bars, report = check(with_row(row, position=2))
    assert bars.empty
    assert not report.ok
    found = row_issues(report)
    assert len(found) == 1, found
    assert found[0].row == 4  # header is line 1, the bad row is the third data row
    assert found[0].column == column
    assert words in found[0].problem
    assert found[0].severity == "error"
    assert any(issue.row is None and "rejected" in issue.problem for issue in report.issues)


def test_lenient_mode_drops_bad_rows_keeps_the_rest_and_warns():
    text = with_row("2024-01-05,AAPL,1,0.5,2,1.5,10\n", position=3)
    bars, report = check(text, strict=False)
    assert report.ok
    assert len(bars) == 3
    assert pd.Timestamp("2024-01-05") not in set(bars["date"])
    assert [(i.row, i.severity) for i in report.issues] == [(5, "warning")]
    assert report.rows_checked == 4 and report.rows_accepted == 3


def test_a_high_a_hair_below_the_close_is_float_noise_not_an_error():
    bars, report = check(HEADER + "2024-01-05,AAPL,1.0,1.4999999999,0.5,1.5,10\n")
    assert report.ok and len(bars) == 1


def test_duplicate_ticker_and_date_names_the_first_line():
    text = with_row("2024-01-02,aapl,187,188,183,185,1000\n", position=3)
    bars, report = check(text, strict=False)
    (issue,) = report.issues
    assert issue.row == 5 and issue.ticker == "AAPL"
    assert "duplicate date 2024-01-02" in issue.problem and "line 2" in issue.problem
    assert len(bars) == 3
    assert bars.loc[bars["date"] == "2024-01-02", "close"].item() == pytest.approx(185.64)


def test_the_same_date_for_two_tickers_is_not_a_duplicate():
    text = HEADER + GOOD_ROWS[0] + GOOD_ROWS[0].replace("AAPL", "MSFT")
    bars, report = check(text)
    assert report.ok and sorted(bars["ticker"]) == ["AAPL", "MSFT"]


def test_missing_columns_are_one_file_level_error_naming_them():
    bars, report = check("date,ticker,open,close\n2024-01-02,AAPL,1,2\n")
    assert bars.empty
    (issue,) = report.issues
    assert issue.row is None and issue.severity == "error"
    assert "high, low, volume" in issue.problem


def test_missing_columns_reject_even_a_lenient_file():
    bars, report = check("date,close\n2024-01-02,2\n", strict=False)
    assert bars.empty and not report.ok


def test_column_names_are_case_insensitive_trimmed_and_aliased():
    text = (
        " Date ,SYMBOL,Open,HIGH,low, Close,Volume,Adj Close\n"
        "2024-01-02,msft,370.0,375.9,366.5,370.6,25258600,368.1\n"
    )
    bars, report = check(text)
    assert report.ok
    assert bars.loc[0, "ticker"] == "MSFT"
    assert bars.loc[0, "adj_close"] == pytest.approx(368.1)


def test_adj_close_underscore_alias_and_bad_adj_close_is_only_a_warning():
    text = (
        "date,open,high,low,close,volume,adj_close\n"
        "2024-01-02,370.0,375.9,366.5,370.6,25258600,n/a\n"
    )
    bars, report = check(text, default_ticker="MSFT")
    assert report.ok and len(bars) == 1
    assert np.isnan(bars.loc[0, "adj_close"])
    assert report.issues[0].column == "adj_close" and report.issues[0].severity == "warning"


def test_the_default_ticker_fills_a_file_without_a_ticker_column():
    text = "Date,Open,High,Low,Close,Volume\n2024-01-02,370.0,375.9,366.5,370.6,25258600\n"
    bars, report = check(text, default_ticker="brk-b")
    assert report.ok and list(bars["ticker"]) == ["BRK-B"]
    _, report = check(text)
    assert "ticker" in report.issues[0].problem


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20090821", "2009-08-21"),
        ("4/1/2015 16:00:00", "2015-04-01"),
        ("2021-03-23 00:00:00-04:00", "2021-03-23"),
        ("2024/01/02", "2024-01-02"),
    ],
)
def test_common_date_spellings_parse_to_normalised_dates(value, expected):
    bars, report = check(f"date,ticker,open,high,low,close,volume\n{value},X,1,2,0.5,1.5,10\n")
    assert report.ok, report.render()
    assert bars.loc[0, "date"] == pd.Timestamp(expected)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "empty"),
        (b"  \n\n", "empty"),
        (b"<!DOCTYPE html><html><body>Service unavailable</body></html>", "HTML"),
        (b"\n  <html><head></head></html>", "HTML"),
        (bytes(range(256)) * 4, "binary"),
        (b"\xff\xfe\xfa garbage \xc3\x28", "not UTF-8"),
        (gzip.compress(b"date,open\n"), "gzip"),
        (b"No data", "missing required column"),
    ],
)
def test_garbage_bodies_give_a_clear_file_level_error(body, words):
    bars, report = parse_and_validate(
        body, filename="x.csv", source="stooq", default_ticker="AAPL", strict=True
    )
    assert bars.empty
    (issue,) = report.issues
    assert issue.row is None and issue.severity == "error" and words in issue.problem


def test_a_header_only_file_has_no_bars_and_says_so():
    bars, report = check(HEADER)
    assert bars.empty and report.rows_checked == 0
    assert "no data rows" in report.issues[0].problem


def test_blank_lines_are_skipped_and_line_numbers_still_count_them():
    text = HEADER + GOOD_ROWS[0] + "\n" + "2024-01-05,AAPL,1,0.5,2,1.5,10\n"
    bars, report = check(text, strict=False)
    assert len(bars) == 1 and report.rows_checked == 2
    assert report.issues[0].row == 4


def test_ragged_and_quoted_rows_keep_true_line_numbers():
    text = (
        'date,ticker,open,high,low,close,volume,note\n2024-01-02,AAPL,1,2,0.5,1.5,10,"two\nlines"\n'
        "2024-01-03,AAPL,1,2,0.5,-1.5,10,x\n"
    )
    _, report = check(text, strict=False)
    assert [(i.row, i.column) for i in report.issues] == [(4, "close")]
    _, report = check(HEADER + "2024-01-02,AAPL,1,2,0.5,1.5,10,extra,fields\n")
    assert "more fields than the header" in report.issues[0].problem


def test_raw_body_holds_the_header_and_exactly_one_tickers_lines():
    text = HEADER + GOOD_ROWS[0] + GOOD_ROWS[0].replace("AAPL", "MSFT") + GOOD_ROWS[1]
    checked = validate_file(
        text.encode(), filename="m.csv", source="csv", default_ticker=None, strict=True
    )
    assert checked.raw_body("AAPL") == (HEADER + GOOD_ROWS[0] + GOOD_ROWS[1]).encode()
    assert (
        checked.raw_body("AAPL", end=pd.Timestamp("2024-01-02")) == (HEADER + GOOD_ROWS[0]).encode()
    )


def test_report_renders_grouped_by_file_with_a_summary_and_serialises():
    _, first = check(with_row("2024-01-05,AAPL,1,0.5,2,1.5,10\n"), strict=False)
    _, second = parse_and_validate(
        b"<html>", filename="other.csv", source="csv", default_ticker=None, strict=True
    )
    report = ValidationReport().merge(first).merge(second)
    text = report.render()
    assert "prices.csv" in text and "other.csv" in text
    assert text.index("prices.csv") < text.index("below low") < text.index("other.csv")
    assert text.splitlines()[-1].startswith("2 file(s) checked, 4 row(s) checked, 3 accepted")
    assert "1 error(s), 1 warning(s)" in text.splitlines()[-1]
    as_dict = report.to_dict()
    assert as_dict["ok"] is False and len(as_dict["issues"]) == 2
    assert as_dict["issues"][0]["row"] == 3
    short = report.render(max_rows=1)
    assert "... and 1 more issue(s)" in short


def test_a_file_of_many_tickers_keeps_every_row():
    rows = "".join(
        f"{day:%Y-%m-%d},T{n},1,2,0.5,1.5,10\n"
        for n in range(100)
        for day in pd.bdate_range("2020-01-01", periods=300)
    )
    bars, report = check(HEADER + rows)
    assert report.ok and len(bars) == 30_000
