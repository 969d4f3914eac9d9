"""Parse a transactions CSV into validated rows and a row-by-row list of problems.

The file: UTF-8, a header line ``date,type,ticker,quantity,price,fee`` (any case, any
order; an ``amount`` column is optional, for deposits, withdrawals and dividends), then
one transaction per line. Dates are ISO (``2024-03-28``); empty cells are "not given".
Rows are numbered as lines of the file, the header being line 1, as a spreadsheet shows.
Only the shape of each row is checked here; the ledger rules (enough shares to sell, dates
inside a ticker's prices…) are checked by the service against the portfolio.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from pydantic import ValidationError

from api.portfolio.schemas import ImportRowError, TransactionCreate

REQUIRED_COLUMNS = ("date", "type", "ticker", "quantity", "price", "fee")
OPTIONAL_COLUMNS = ("amount",)
MAX_ROWS = 10_000


@dataclass
class ParsedFile:
    rows: list[tuple[int, TransactionCreate]] = field(default_factory=list)
    errors: list[ImportRowError] = field(default_factory=list)


def parse_transactions_csv(body: bytes) -> ParsedFile:
    parsed = ParsedFile()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        parsed.errors.append(
            ImportRowError(row=None, field=None, message=f"the file is not UTF-8 text ({exc})")
        )
        return parsed
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        parsed.errors.append(ImportRowError(row=1, field=None, message=f"unreadable CSV: {exc}"))
        return parsed
    if header is None or not any(cell.strip() for cell in header):
        parsed.errors.append(
            ImportRowError(
                row=1,
                field=None,
                message="the file is empty; its first line must be the header "
                + ",".join(REQUIRED_COLUMNS),
            )
        )
        return parsed
    columns = [cell.strip().lower() for cell in header]
    if not _header_is_valid(columns, parsed):
        return parsed

    line = 1
    try:
        for cells in reader:
            line += 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(parsed.rows) + len(parsed.errors) >= MAX_ROWS:
                parsed.errors.append(
                    ImportRowError(
                        row=line,
                        field=None,
                        message=f"at most {MAX_ROWS} transactions per file",
                    )
                )
                return parsed
            _parse_row(line, columns, cells, parsed)
    except csv.Error as exc:
        parsed.errors.append(ImportRowError(row=line, field=None, message=f"unreadable CSV: {exc}"))
        return parsed
    if not parsed.rows and not parsed.errors:
        parsed.errors.append(
            ImportRowError(row=None, field=None, message="the file has no transactions")
        )
    return parsed


def _header_is_valid(columns: list[str], parsed: ParsedFile) -> bool:
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    seen: set[str] = set()
    for name in columns:
        if name not in known:
            parsed.errors.append(
                ImportRowError(
                    row=1,
                    field=name or None,
                    message=f"unknown column {name!r}; the columns are "
                    + ",".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS),
                )
            )
        elif name in seen:
            parsed.errors.append(
                ImportRowError(row=1, field=name, message=f"column {name!r} appears twice")
            )
        seen.add(name)
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            parsed.errors.append(
                ImportRowError(row=1, field=name, message=f"the header lacks column {name!r}")
            )
    return not parsed.errors


def _parse_row(line: int, columns: list[str], cells: list[str], parsed: ParsedFile) -> None:
    if len(cells) != len(columns):
        parsed.errors.append(
            ImportRowError(
                row=line,
                field=None,
                message=f"{len(cells)} cells where the header has {len(columns)} columns",
            )
        )
        return
    values: dict[str, str | None] = {}
    for name, cell in zip(columns, cells, strict=True):
        text = cell.strip()
        values[name] = text or None
    if values.get("type") is not None:
        values["type"] = (values["type"] or "").lower()
    try:
        transaction = TransactionCreate.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ())) or None
            parsed.errors.append(
                ImportRowError(row=line, field=where, message=_message(where, error["msg"]))
            )
        return
    parsed.rows.append((line, transaction))


def _message(field_name: str | None, text: str) -> str:
    return f"{field_name}: {text}" if field_name else text
