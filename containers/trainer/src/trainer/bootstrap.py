"""Bring the lake and the registry to a usable state: what `make up` runs.

The local S3 emulator keeps nothing across restarts while PostgreSQL does, so on every
start this restores what the lake held — the bundled sample is re-ingested (a no-op for
the database when nothing changed), series that came from elsewhere are rewritten from
the database, and a lost production artifact is rebuilt by retraining deterministically
on the same data with the same version name and training time. The registry must never
point at a missing artifact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from quantcore.artifact import sha256_hex
from quantcore.lake import model_oos_key
from trainer import curated, registry
from trainer.pipeline import (
    PipelineError,
    Progress,
    Workspace,
    _parquet_bytes,
    _quiet,
    build_features,
    fetch,
    fit,
    promote,
    restore_curated_from_database,
    run_ingest,
    train,
)

Say = Callable[[str], None]


@dataclass
class BootstrapReport:
    actions: list[str] = field(default_factory=list)
    production_version: str | None = None


def bootstrap(ws: Workspace, *, say: Say = print, progress: Progress = _quiet) -> BootstrapReport:
    report = BootstrapReport()

    def note(action: str) -> None:
        report.actions.append(action)
        say(action)

    ws.ensure_buckets()
    if not curated.list_series(ws.lake) or _sample_raw_missing(ws):
        note("lake: ingesting the bundled sample")
        result = fetch(ws, "sample")
        summary = run_ingest(ws, result, progress)
        note(
            f"lake: {summary.tickers} tickers, {summary.rows_accepted} bars accepted, "
            f"{summary.rows_changed} database rows changed"
        )
    restored = restore_curated_from_database(ws)
    if restored:
        note(f"lake: rewrote {restored} curated series from the database")

    production = registry.get_production(ws.engine, ws.settings.model_name)
    if production is None:
        note("registry: no production model yet, training one on the lake")
        build = build_features(ws)
        trained = train(ws, build, progress=progress)
        record, decision = promote(ws, trained.record, build=build, outcome=trained.outcome)
        note(f"registry: {record.version} {record.status}: {decision.reason}")
        if record.status != "production":
            raise PipelineError(
                "the first model was not promoted, so there is no model to serve: "
                + decision.reason
            )
        report.production_version = record.version
        return report

    if not ws.models.exists(production.artifact_key):
        note(f"registry: artifact of production {production.version} is missing, rebuilding it")
        production = _rebuild_production(ws, production, say=note, progress=progress)
    pointer = registry.read_pointer(ws.models, ws.settings.model_name)
    if pointer is None or (pointer.version, pointer.sha256) != (
        production.version,
        production.sha256,
    ):
        registry.write_pointer(ws.models, production)
        note(f"registry: production pointer set to {production.version}")
    report.production_version = production.version
    return report


def _sample_raw_missing(ws: Workspace) -> bool:
    return next(iter(ws.lake.keys("raw/prices/source=sample-")), None) is None


def _rebuild_production(
    ws: Workspace, production: registry.VersionRecord, *, say: Say, progress: Progress
) -> registry.VersionRecord:
    build = build_features(ws)
    if build.data_info["sha256"] == production.data_sha256:
        outcome = fit(
            ws,
            build,
            version=production.version,
            trained_at=production.trained_at,
            progress=progress,
        )
        body = registry.artifact_bytes(outcome.bundle, outcome.card)
        if sha256_hex(body) == production.sha256:
            ws.models.put(production.artifact_key, body, "application/gzip")
            ws.models.put(
                model_oos_key(production.model_name, production.version),
                _parquet_bytes(outcome.oos),
                "application/vnd.apache.parquet",
            )
            say(f"registry: rebuilt {production.version} byte for byte (sha256 matches)")
            return production
        say("registry: the retrained artifact differs from the recorded sha256")
    else:
        say("registry: the lake's data differs from what production was trained on")
    # The old version can no longer be served as recorded: train a new one and put it in
    # place, recording why on the retired row.
    trained = train(ws, build, progress=progress)
    record, decision = promote(ws, trained.record, build=build, outcome=trained.outcome)
    if record.status != "production":
        # The lost version was promoted on the same data; its replacement takes its place
        # on the registry's word, but never past the leak guard.
        if not (trained.record.card.get("leak_check") or {}).get("passed", False):
            raise PipelineError(
                f"production {production.version} was lost and its replacement fails the "
                f"leak check, so nothing can serve: {decision.reason}"
            )
        record = registry.record_decision(
            ws.engine,
            ws.models,
            trained.record,
            promote=True,
            reason=(
                f"replaces {production.version}, whose artifact was lost and could not be "
                f"rebuilt byte for byte; its own evaluation: {decision.reason}"
            ),
        )
    say(f"registry: {record.version} now serves in place of {production.version}")
    return record
