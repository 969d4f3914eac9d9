"""Parsing the transactions CSV: shape problems reported row by row."""

from __future__ import annotations

from datetime import date

from api.portfolio.csv_import import parse_transactions_csv


def test_a_well_formed_file_parses_every_row_with_its_line_number() -> None:
    body = (
        b"\xef\xbb\xbfDate,TYPE,Ticker,Quantity,Price,Fee,Amount\r\n"
        b"2024-01-02,deposit,,,,,1000\r\n"
        b"\r\n"
        b"2024-01-03,BUY,abc,10,12.5,1,\r\n"
    )
    parsed = parse_transactions_csv(body)
    assert parsed.errors == []
    assert [line for line, _ in parsed.rows] == [2, 4]
    deposit, purchase = (tx for _, tx in parsed.rows)
    assert deposit.type == "deposit" and deposit.amount == 1000 and deposit.fee == 0
    assert (
        purchase.ticker == "ABC" and purchase.quantity == 10 and purchase.date == date(2024, 1, 3)
    )


def test_bad_cells_are_reported_with_row_and_field() -> None:
    body = (
        b"date,type,ticker,quantity,price,fee\n"
        b"2024-01-02,buy,ABC,-3,10,0\n"
        b"2024-13-02,buy,ABC,3,10,0\n"
        b"2024-01-02,swap,ABC,3,10,0\n"
        b"2024-01-02,buy,ABC,3,10,-1\n"
        b"2024-01-02,buy,ABC,3\n"
    )
    parsed = parse_transactions_csv(body)
    assert parsed.rows == []
    assert [(e.row, e.field) for e in parsed.errors] == [
        (2, "quantity"),
        (3, "date"),
        (4, "type"),
        (5, "fee"),
        (6, None),
    ]


def test_a_header_without_a_required_column_is_refused() -> None:
    parsed = parse_transactions_csv(b"date,type,ticker,quantity,price\n2024-01-02,buy,A,1,1\n")
    assert [(e.row, e.field) for e in parsed.errors] == [(1, "fee")]


def test_unknown_columns_and_empty_files_are_refused() -> None:
    unknown = parse_transactions_csv(b"date,type,ticker,quantity,price,fee,notes\n")
    assert [(e.row, e.field) for e in unknown.errors] == [(1, "notes")]
    assert parse_transactions_csv(b"").errors[0].row == 1
    header_only = parse_transactions_csv(b"date,type,ticker,quantity,price,fee\n")
    assert "no transactions" in header_only.errors[0].message


def test_a_file_that_is_not_utf8_is_refused() -> None:
    parsed = parse_transactions_csv(b"date,type\xff\n")
    assert parsed.rows == [] and "UTF-8" in parsed.errors[0].message
