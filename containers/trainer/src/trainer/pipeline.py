"""The trainer's stages: ingest → build features → train → evaluate → promote.

Every stage is a plain function over a :class:`Workspace` (database engine plus the two
buckets), so the CLI, the production schedule and the tests run the same code.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from quantcore import features as shared_features
from quantcore.artifact import ModelBundle, sha256_hex
from quantcore.db.engine import make_engine
from quantcore.db.tables import daily_bars, tickers
from quantcore.lake import (
    ObjectStore,
    features_key,
    features_manifest_key,
    model_oos_key,
)
from trainer import curated, registry
from trainer.ingest import IngestSummary, chosen_sources, ingest
from trainer.modeling import (
    PromotionDecision,
    TrainingOutcome,
    build_feature_table,
    decide_promotion,
    train_version,
)
from trainer.settings import TrainerSettings
from trainer.sources import get_source
from trainer.sources.base import FetchResult

Progress = Callable[[str, int, int], None]


def _quiet(stage: str, done: int, total: int) -> None:
    return None


class PipelineError(Exception):
    """A stage that cannot go ahead; the message says why and what to do."""


@dataclass
class Workspace:
    settings: TrainerSettings
    engine: sa.Engine
    lake: ObjectStore
    models: ObjectStore

    @classmethod
    def open(cls, settings: TrainerSettings) -> Workspace:
        def store(bucket: str) -> ObjectStore:
            return ObjectStore.connect(
                bucket, endpoint_url=settings.aws_endpoint_url, region=settings.aws_region
            )

        return cls(
            settings=settings,
            engine=make_engine(settings.database_url),
            lake=store(settings.lake_bucket),
            models=store(settings.models_bucket),
        )

    def ensure_buckets(self) -> None:
        self.lake.ensure_bucket()
        self.models.ensure_bucket()


# --- ingest ---------------------------------------------------------------------------


def fetch(
    ws: Workspace,
    source: str,
    *,
    tickers: Sequence[str] | None = None,
    start: date | None = None,
    until: date | None = None,
    path: str | None = None,
) -> FetchResult:
    options: dict[str, Any] = {}
    if source == "csv":
        if not path:
            raise PipelineError("the csv source needs a PATH (a file or a folder of .csv files)")
        options["path"] = path
    if source in {"stooq", "yahoo", "live"}:
        options["deadline_seconds"] = ws.settings.provider_deadline_seconds
    provider = get_source(source, **options)
    return provider.fetch(list(tickers) if tickers else None, start, until)


def run_ingest(ws: Workspace, result: FetchResult, progress: Progress = _quiet) -> IngestSummary:
    return ingest(result, ws.lake, ws.engine, progress=progress)


# --- features -------------------------------------------------------------------------


@dataclass
class FeatureBuild:
    table: pd.DataFrame
    data_info: dict[str, Any]
    key: str


def load_panel(
    ws: Workspace, *, until: date | None = None, tickers: Sequence[str] | None = None
) -> pd.DataFrame:
    panel = curated.read_panel(ws.lake, chosen_sources(ws.engine), tickers)
    if until is not None:
        panel = panel[panel["date"] <= pd.Timestamp(until)].reset_index(drop=True)
    return panel


def describe_panel(panel: pd.DataFrame) -> dict[str, Any]:
    symbols = sorted(panel["ticker"].unique().tolist())
    return {
        "tickers": symbols,
        "start": panel["date"].min().date().isoformat(),
        "end": panel["date"].max().date().isoformat(),
        "rows": len(panel),
        "sha256": curated.panel_sha256(panel),
        "sources": sorted(panel["source"].unique().tolist()),
    }


def build_features(
    ws: Workspace, *, until: date | None = None, tickers: Sequence[str] | None = None
) -> FeatureBuild:
    panel = load_panel(ws, until=until, tickers=tickers)
    if panel.empty:
        raise PipelineError("the lake holds no curated bars: run `trainer ingest` first")
    table = build_feature_table(panel, ws.settings.horizon_days)
    if table.empty:
        raise PipelineError(
            "no labelled feature rows: the series are shorter than the feature history "
            f"({shared_features.MIN_HISTORY_BARS} bars) plus the horizon"
        )
    data_info = describe_panel(panel)
    body = _parquet_bytes(table)
    key = features_key(shared_features.FEATURE_SET)
    ws.lake.put_if_changed(key, body, "application/vnd.apache.parquet")
    manifest = {
        "feature_set": shared_features.FEATURE_SET,
        "features": list(shared_features.FEATURE_NAMES),
        "horizon_days": ws.settings.horizon_days,
        "rows": len(table),
        "table_sha256": sha256_hex(body),
        "data": data_info,
    }
    ws.lake.put_if_changed(
        features_manifest_key(shared_features.FEATURE_SET),
        json.dumps(manifest, indent=2, sort_keys=True).encode(),
        "application/json",
    )
    return FeatureBuild(table=table, data_info=data_info, key=key)


def load_features(ws: Workspace) -> FeatureBuild:
    key = features_key(shared_features.FEATURE_SET)
    body = ws.lake.get_or_none(key)
    manifest = ws.lake.get_or_none(features_manifest_key(shared_features.FEATURE_SET))
    if body is None or manifest is None:
        raise PipelineError("no feature table in the lake: run `trainer build-features` first")
    info = json.loads(manifest)
    if info.get("horizon_days") != ws.settings.horizon_days:
        raise PipelineError(
            f"the stored feature table is labelled for {info.get('horizon_days')} days, "
            f"settings ask for {ws.settings.horizon_days}: run `trainer build-features`"
        )
    return FeatureBuild(table=pd.read_parquet(io.BytesIO(body)), data_info=info["data"], key=key)


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.to_parquet(sink, index=False, compression="zstd")
    return sink.getvalue()


# --- train ----------------------------------------------------------------------------


def new_version_name(trained_at: datetime, data_sha256: str) -> str:
    return f"{trained_at:%Y%m%dT%H%M%SZ}-{data_sha256[:8]}"


@dataclass
class TrainResult:
    outcome: TrainingOutcome
    record: registry.VersionRecord


def train(
    ws: Workspace,
    build: FeatureBuild,
    *,
    version: str | None = None,
    trained_at: datetime | None = None,
    progress: Progress = _quiet,
) -> TrainResult:
    trained_at = (trained_at or datetime.now(UTC)).replace(microsecond=0)
    version = version or new_version_name(trained_at, build.data_info["sha256"])
    if registry.get_version(ws.engine, ws.settings.model_name, version) is not None:
        raise PipelineError(f"version {version} is already registered")
    outcome = fit(ws, build, version=version, trained_at=trained_at, progress=progress)
    # Out-of-sample predictions first: the row that makes the version visible comes last.
    ws.models.put(
        model_oos_key(ws.settings.model_name, version),
        _parquet_bytes(outcome.oos),
        "application/vnd.apache.parquet",
    )
    record = registry.register(ws.engine, ws.models, outcome.bundle, outcome.card)
    return TrainResult(outcome=outcome, record=record)


def fit(
    ws: Workspace,
    build: FeatureBuild,
    *,
    version: str,
    trained_at: datetime,
    progress: Progress = _quiet,
) -> TrainingOutcome:
    return train_version(
        build.table,
        model_name=ws.settings.model_name,
        version=version,
        trained_at=trained_at.isoformat(),
        data_info=build.data_info,
        horizon_days=ws.settings.horizon_days,
        seed=ws.settings.seed,
        families=ws.settings.families,
        progress=progress,
    )


# --- evaluate and promote ---------------------------------------------------------------


def outcome_of(ws: Workspace, record: registry.VersionRecord) -> TrainingOutcome:
    bundle, card = registry.load_version(ws.models, record)
    body = ws.models.get_or_none(model_oos_key(record.model_name, record.version))
    if body is None:
        raise PipelineError(f"out-of-sample predictions of {record.version} are missing")
    oos = pd.read_parquet(io.BytesIO(body))
    return TrainingOutcome(bundle=bundle, card=card, oos=oos)


def promote(
    ws: Workspace,
    record: registry.VersionRecord,
    *,
    build: FeatureBuild | None = None,
    outcome: TrainingOutcome | None = None,
) -> tuple[registry.VersionRecord, PromotionDecision]:
    if record.status == "production":
        raise PipelineError(f"{record.version} is already the production version")
    build = build or load_features(ws)
    outcome = outcome or outcome_of(ws, record)
    production = registry.get_production(ws.engine, ws.settings.model_name)
    production_bundle: ModelBundle | None = None
    production_card: dict[str, Any] | None = None
    if production is not None:
        try:
            production_bundle, production_card = registry.load_version(ws.models, production)
            production_card = production.card
        except Exception as exc:  # a lost or corrupt champion cannot defend its place
            production_bundle, production_card = None, None
            print(f"warning: production {production.version} cannot be loaded ({exc})")
    decision = decide_promotion(outcome, build.table, production_bundle, production_card)
    updated = registry.record_decision(
        ws.engine, ws.models, record, promote=decision.promote, reason=decision.reason
    )
    return updated, decision


# --- restore ----------------------------------------------------------------------------


@dataclass
class RestoreReport:
    actions: list[str] = field(default_factory=list)
    production: registry.VersionRecord | None = None


def restore_curated_from_database(ws: Workspace) -> int:
    """Write curated series the lake lost from the bars the database still holds."""
    held = set(curated.list_series(ws.lake))
    restored = 0
    with ws.engine.connect() as conn:
        symbols = conn.execute(sa.select(tickers.c.symbol, tickers.c.source)).all()
        for symbol, source in symbols:
            if (source, symbol) in held:
                continue
            rows = conn.execute(
                sa.select(daily_bars)
                .where(daily_bars.c.ticker == symbol)
                .order_by(daily_bars.c.date)
            ).all()
            if not rows:
                continue
            frame = pd.DataFrame([row._asdict() for row in rows])
            curated.write_series(ws.lake, source, symbol, frame)
            restored += 1
    return restored
