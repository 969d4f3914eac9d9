"""Land fetched bars in the lake and the database.

Order of writes: raw files, then curated parquet, then one database transaction. Each
write is skipped when the stored content is already identical, so re-ingesting the same
data changes nothing. Files that failed validation never reach this module.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from quantcore.db.tables import daily_bars, ingest_runs, tickers
from quantcore.lake import ObjectStore, raw_price_key
from trainer import curated
from trainer.sources.base import FetchResult

Progress = Callable[[str, int, int], None]


@dataclass
class IngestSummary:
    source: str
    tickers: int = 0
    rows_checked: int = 0
    rows_accepted: int = 0
    raw_written: int = 0
    curated_written: int = 0
    rows_changed: int = 0
    kept_other_source: dict[str, str] = field(default_factory=dict)
    replaced_source: dict[str, str] = field(default_factory=dict)
    rejected_files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _noop(stage: str, done: int, total: int) -> None:
    return None


def ingest(
    result: FetchResult,
    lake: ObjectStore,
    engine: sa.Engine,
    *,
    progress: Progress = _noop,
) -> IngestSummary:
    """Write one validated fetch to raw/, curated/ and PostgreSQL; idempotent."""
    summary = IngestSummary(
        source=result.source,
        rows_checked=result.report.rows_checked,
        rows_accepted=result.report.rows_accepted,
        rejected_files=list(result.rejected_files),
    )
    started = datetime.now(UTC)
    bars = result.bars
    total_raw = len(result.raw_files)
    for done, raw in enumerate(result.raw_files, start=1):
        key = raw_price_key(raw.source, raw.ticker, raw.filename)
        if lake.put_if_changed(key, raw.body, "text/csv"):
            summary.raw_written += 1
        progress("raw", done, total_raw)

    if bars.empty:
        _record_run(engine, summary, started, "empty" if result.report.ok else "rejected", result)
        return summary

    merged_by_ticker: dict[str, pd.DataFrame] = {}
    groups = list(bars.groupby(["source", "ticker"], sort=True))
    for done, ((source_label, symbol), series) in enumerate(groups, start=1):
        source, ticker = str(source_label), str(symbol)
        merged = curated.merge_series(curated.read_series(lake, source, ticker), series)
        if curated.write_series(lake, source, ticker, merged):
            summary.curated_written += 1
        merged_by_ticker[str(ticker)] = merged
        progress("curated", done, len(groups))
    summary.tickers = len(merged_by_ticker)

    summary.rows_changed = _upsert(engine, merged_by_ticker, summary)
    progress("database", 1, 1)
    _record_run(engine, summary, started, "ok" if result.report.ok else "partial", result)
    return summary


def _upsert(
    engine: sa.Engine, merged_by_ticker: dict[str, pd.DataFrame], summary: IngestSummary
) -> int:
    with engine.begin() as conn:
        held = {
            row.symbol: (row.source, row.bars)
            for row in conn.execute(
                sa.select(tickers.c.symbol, tickers.c.source, tickers.c.bars).where(
                    tickers.c.symbol.in_(list(merged_by_ticker))
                )
            )
        }
        accepted: list[pd.DataFrame] = []
        for ticker, series in merged_by_ticker.items():
            source = str(series["source"].iloc[0])
            if ticker in held and held[ticker][0] != source:
                held_source, held_bars = held[ticker]
                # Never stitch one ticker across sources: the longer history wins whole.
                if len(series) <= held_bars:
                    summary.kept_other_source[ticker] = held_source
                    continue
                conn.execute(sa.delete(daily_bars).where(daily_bars.c.ticker == ticker))
                summary.replaced_source[ticker] = held_source
            accepted.append(series)
        if not accepted:
            return 0
        frame = curated.normalise(pd.concat(accepted, ignore_index=True))
        stats = frame.groupby("ticker").agg(
            source=("source", "first"),
            first_date=("date", "min"),
            last_date=("date", "max"),
            bars=("date", "size"),
        )
        ticker_rows = [
            {
                "symbol": symbol,
                "source": row.source,
                "first_date": row.first_date.date(),
                "last_date": row.last_date.date(),
                "bars": int(row.bars),
            }
            for symbol, row in stats.iterrows()
        ]
        insert = sa.dialects.postgresql.insert(tickers).values(ticker_rows)
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=[tickers.c.symbol],
                set_={
                    "source": insert.excluded.source,
                    "first_date": insert.excluded.first_date,
                    "last_date": insert.excluded.last_date,
                    "bars": insert.excluded.bars,
                    "updated_at": sa.func.now(),
                },
                where=sa.tuple_(
                    tickers.c.source, tickers.c.first_date, tickers.c.last_date, tickers.c.bars
                ).is_distinct_from(
                    sa.tuple_(
                        insert.excluded.source,
                        insert.excluded.first_date,
                        insert.excluded.last_date,
                        insert.excluded.bars,
                    )
                ),
            )
        )
        return _copy_bars(conn, frame)


def _copy_bars(conn: sa.Connection, frame: pd.DataFrame) -> int:
    """Bulk upsert through COPY into a temporary table; returns rows inserted or changed."""
    columns = ["ticker", "date", "open", "high", "low", "close", "adj_close", "volume", "source"]
    buffer = io.StringIO()
    frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d")).loc[:, columns].to_csv(
        buffer, index=False, header=False, na_rep=""
    )
    conn.exec_driver_sql("CREATE TEMP TABLE incoming_bars (LIKE daily_bars) ON COMMIT DROP")
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    with (
        dbapi.cursor() as cursor,
        cursor.copy(
            f"COPY incoming_bars ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
        ) as copy,
    ):
        copy.write(buffer.getvalue())
    result = conn.exec_driver_sql(
        """
        INSERT INTO daily_bars AS d (ticker, date, open, high, low, close, adj_close, volume,
                                     source)
        SELECT ticker, date, open, high, low, close, adj_close, volume, source
        FROM incoming_bars
        ON CONFLICT (ticker, date) DO UPDATE SET
            open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
            close = EXCLUDED.close, adj_close = EXCLUDED.adj_close,
            volume = EXCLUDED.volume, source = EXCLUDED.source
        WHERE (d.open, d.high, d.low, d.close, d.adj_close, d.volume, d.source)
            IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close,
                              EXCLUDED.adj_close, EXCLUDED.volume, EXCLUDED.source)
        """
    )
    return int(result.rowcount or 0)


def _record_run(
    engine: sa.Engine,
    summary: IngestSummary,
    started: datetime,
    status: str,
    result: FetchResult,
) -> None:
    report = result.report.to_dict()
    report["summary"] = summary.to_dict()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(ingest_runs).values(
                source=summary.source,
                started_at=started,
                finished_at=datetime.now(UTC),
                status=status,
                tickers=summary.tickers,
                rows_checked=summary.rows_checked,
                rows_accepted=summary.rows_accepted,
                rows_changed=summary.rows_changed,
                report=report,
            )
        )


def chosen_sources(engine: sa.Engine) -> dict[str, str]:
    """Ticker → the one source the database holds it from."""
    with engine.connect() as conn:
        return {row.symbol: row.source for row in conn.execute(sa.select(tickers))}
