"""Curated daily bars in the lake: one parquet file per (source, ticker)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from quantcore.lake import ObjectStore, curated_key, curated_prefix, parse_curated_key

CURATED_COLUMNS = [
    "date",
    "ticker",
    "open",
    "high",
    "low",
    "close",
    "adj_close",
    "volume",
    "source",
]
_SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        ("ticker", pa.string()),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("adj_close", pa.float64()),
        ("volume", pa.float64()),
        ("source", pa.string()),
    ]
)


def normalise(bars: pd.DataFrame) -> pd.DataFrame:
    """Bars in the curated column order and types, sorted by ticker and date."""
    frame = bars.copy()
    if "adj_close" not in frame.columns:
        frame["adj_close"] = float("nan")
    frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
    for column in ("open", "high", "low", "close", "adj_close", "volume"):
        frame[column] = frame[column].astype("float64")
    frame["ticker"] = frame["ticker"].astype(str)
    frame["source"] = frame["source"].astype(str)
    frame = frame.loc[:, CURATED_COLUMNS].sort_values(["ticker", "date"], kind="stable")
    return frame.reset_index(drop=True)


def to_parquet_bytes(bars: pd.DataFrame) -> bytes:
    frame = normalise(bars)
    table = pa.Table.from_pandas(
        frame.assign(date=frame["date"].dt.date), schema=_SCHEMA, preserve_index=False
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def from_parquet_bytes(body: bytes) -> pd.DataFrame:
    frame = pq.read_table(io.BytesIO(body)).to_pandas()
    return normalise(frame)


def read_series(store: ObjectStore, source: str, ticker: str) -> pd.DataFrame | None:
    body = store.get_or_none(curated_key(source, ticker))
    return None if body is None else from_parquet_bytes(body)


def merge_series(existing: pd.DataFrame | None, incoming: pd.DataFrame) -> pd.DataFrame:
    """Union of stored and incoming bars for one series; incoming wins on the same date."""
    if existing is None or existing.empty:
        return normalise(incoming)
    combined = pd.concat([normalise(existing), normalise(incoming)], ignore_index=True)
    combined = combined.drop_duplicates(subset=["ticker", "date"], keep="last")
    return normalise(combined)


def write_series(store: ObjectStore, source: str, ticker: str, bars: pd.DataFrame) -> bool:
    """Store one series; False when the stored file already held exactly these bars."""
    return store.put_if_changed(
        curated_key(source, ticker), to_parquet_bytes(bars), "application/vnd.apache.parquet"
    )


def list_series(store: ObjectStore) -> list[tuple[str, str]]:
    found = []
    for key in store.keys(curated_prefix()):
        parsed = parse_curated_key(key)
        if parsed is not None:
            found.append(parsed)
    return sorted(found)


def read_panel(
    store: ObjectStore,
    chosen_sources: dict[str, str] | None = None,
    tickers: Iterable[str] | None = None,
) -> pd.DataFrame:
    """All curated bars, exactly one source per ticker.

    ``chosen_sources`` (ticker → source, from the database) decides which series a ticker
    uses when the lake holds several; otherwise the series with the most bars wins.
    """
    wanted = {t.upper() for t in tickers} if tickers is not None else None
    candidates: dict[str, list[pd.DataFrame]] = {}
    for source, ticker in list_series(store):
        if wanted is not None and ticker not in wanted:
            continue
        if chosen_sources is not None and chosen_sources.get(ticker, source) != source:
            continue
        series = read_series(store, source, ticker)
        if series is not None and not series.empty:
            candidates.setdefault(ticker, []).append(series)
    frames = [max(options, key=len) for options in candidates.values()]
    if not frames:
        return normalise(pd.DataFrame(columns=CURATED_COLUMNS))
    return normalise(pd.concat(frames, ignore_index=True))


def panel_sha256(panel: pd.DataFrame) -> str:
    """A content hash of a bar panel: same bars, same hash, whatever the file layout."""
    frame = normalise(panel)
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()
