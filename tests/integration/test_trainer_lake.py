"""Ingest into the lake and PostgreSQL: idempotence, validation, one source per ticker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from quantcore.db.tables import daily_bars, ingest_runs, tickers
from trainer import curated
from trainer.pipeline import Workspace, fetch, run_ingest
from trainer.settings import TrainerSettings

SAMPLE_TICKERS = ["AAPL", "MSFT", "IBM", "AA", "AXP"]


@pytest.fixture
def ws(db_url: str, buckets: object) -> Workspace:
    return Workspace.open(TrainerSettings())  # type: ignore[call-arg]


def _count(ws: Workspace, table: sa.Table) -> int:
    with ws.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _objects(ws: Workspace, prefix: str = "") -> dict[str, str | None]:
    return {key: ws.lake.etag(key) for key in ws.lake.keys(prefix)}


def test_sample_ingest_lands_everywhere_and_is_idempotent(ws: Workspace) -> None:
    result = fetch(ws, "sample", tickers=SAMPLE_TICKERS)
    first = run_ingest(ws, result)
    assert first.tickers == len(SAMPLE_TICKERS)
    assert first.rows_changed == len(result.bars) > 1000
    assert _count(ws, daily_bars) == len(result.bars)
    objects = _objects(ws)
    raw = [k for k in objects if k.startswith("raw/prices/source=sample-")]
    cur = [k for k in objects if k.startswith("curated/prices/")]
    assert len(raw) >= len(SAMPLE_TICKERS) and len(cur) == len(SAMPLE_TICKERS)
    # Raw is what the provider returned, byte for byte.
    for raw_file in result.raw_files:
        key = f"raw/prices/source={raw_file.source}/ticker={raw_file.ticker}/{raw_file.filename}"
        assert ws.lake.get(key) == raw_file.body

    second = run_ingest(ws, fetch(ws, "sample", tickers=SAMPLE_TICKERS))
    assert (second.rows_changed, second.raw_written, second.curated_written) == (0, 0, 0)
    assert _count(ws, daily_bars) == len(result.bars)
    assert _objects(ws) == objects
    assert _count(ws, ingest_runs) == 2


def test_curated_parquet_round_trips_the_bars(ws: Workspace) -> None:
    result = fetch(ws, "sample", tickers=["IBM"])
    run_ingest(ws, result)
    source = str(result.bars["source"].iloc[0])
    stored = curated.read_series(ws.lake, source, "IBM")
    assert stored is not None
    assert stored["close"].tolist() == result.bars["close"].tolist()
    with ws.engine.connect() as conn:
        closes = (
            conn.execute(
                sa.select(daily_bars.c.close)
                .where(daily_bars.c.ticker == "IBM")
                .order_by(daily_bars.c.date)
            )
            .scalars()
            .all()
        )
    assert list(closes) == result.bars["close"].tolist()


def test_invalid_csv_writes_nothing_anywhere(ws: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "prices.csv"
    bad.write_text(
        "date,ticker,open,high,low,close,volume\n"
        "2024-01-02,ZZZ,10,11,9,10.5,1000\n"
        "2024-01-03,ZZZ,10,9,11,10.5,1000\n"  # high < low
        "2024-01-04,ZZZ,abc,11,9,10.5,1000\n"
    )
    result = fetch(ws, "csv", path=str(bad))
    assert result.rejected_files and not result.report.ok
    summary = run_ingest(ws, result)
    assert summary.rows_changed == 0
    assert _objects(ws) == {}
    assert _count(ws, daily_bars) == 0 and _count(ws, tickers) == 0
    rendered = result.report.render()
    assert "3" in rendered and "4" in rendered  # the offending line numbers are reported


def test_cli_rejects_bad_file_with_exit_code_and_row_report(ws: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "acme.csv"
    bad.write_text("Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,-5\n")
    completed = subprocess.run(
        [sys.executable, "-m", "trainer.cli", "ingest", "csv", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 3, completed.stderr
    assert "volume" in (completed.stdout + completed.stderr).lower()
    assert _objects(ws) == {}


def test_a_ticker_is_never_stitched_across_sources(ws: Workspace, tmp_path: Path) -> None:
    run_ingest(ws, fetch(ws, "sample", tickers=["IBM"]))
    with ws.engine.connect() as conn:
        held = conn.execute(sa.select(tickers).where(tickers.c.symbol == "IBM")).one()
    short = tmp_path / "ibm.csv"
    short.write_text(
        "date,open,high,low,close,volume\n"
        "2030-01-02,100,101,99,100.5,1000\n2030-01-03,100,101,99,100.7,1200\n"
    )
    summary = run_ingest(ws, fetch(ws, "csv", path=str(short)))
    assert summary.kept_other_source == {"IBM": held.source}
    with ws.engine.connect() as conn:
        sources = (
            conn.execute(
                sa.select(daily_bars.c.source).distinct().where(daily_bars.c.ticker == "IBM")
            )
            .scalars()
            .all()
        )
        last = conn.execute(
            sa.select(sa.func.max(daily_bars.c.date)).where(daily_bars.c.ticker == "IBM")
        ).scalar_one()
    assert list(sources) == [held.source]
    assert last == held.last_date
    # The lake keeps the CSV's series apart, under its own source.
    assert curated.read_series(ws.lake, "csv", "IBM") is not None


def test_until_replays_history(ws: Workspace) -> None:
    from datetime import date

    run_ingest(ws, fetch(ws, "sample", tickers=["AA"], until=date(2010, 1, 31)))
    with ws.engine.connect() as conn:
        last = conn.execute(sa.select(sa.func.max(daily_bars.c.date))).scalar_one()
    assert last <= date(2010, 1, 31)
    run_ingest(ws, fetch(ws, "sample", tickers=["AA"]))
    with ws.engine.connect() as conn:
        later = conn.execute(sa.select(sa.func.max(daily_bars.c.date))).scalar_one()
    assert later > date(2010, 1, 31)


def test_unreachable_provider_changes_nothing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_ingest(ws, fetch(ws, "sample", tickers=["AA"]))
    before = (_count(ws, daily_bars), _objects(ws))
    # A port where nothing listens: the provider fails at once, cleanly.
    monkeypatch.setenv("STOOQ_BASE_URL", "http://127.0.0.1:9/q/d/l/")
    ws.settings.provider_deadline_seconds = 5
    result = fetch(ws, "stooq", tickers=["AA"])
    assert result.bars.empty and not result.report.ok
    run_ingest(ws, result)
    assert (_count(ws, daily_bars), _objects(ws)) == before
