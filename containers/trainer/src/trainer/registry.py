"""The model registry: artifacts in the object store, one row per version in PostgreSQL.

A version becomes visible only once its artifact is fully stored: the archive is uploaded
first (a single atomic PUT), then its row is inserted in one transaction. A run killed in
between leaves at most an unreferenced object, never a row pointing at nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from quantcore.artifact import ModelBundle, pack_artifact, sha256_hex, unpack_artifact
from quantcore.db.tables import model_versions
from quantcore.lake import (
    ObjectStore,
    ProductionPointer,
    model_artifact_key,
    production_pointer_key,
)


class RegistryError(Exception):
    """A registry operation that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class VersionRecord:
    model_name: str
    version: str
    family: str
    status: str
    trained_at: datetime
    artifact_key: str
    sha256: str
    data_sha256: str
    metrics: dict[str, Any]
    card: dict[str, Any]
    promoted_at: datetime | None
    promotion_reason: str | None

    @classmethod
    def from_row(cls, row: sa.Row[Any]) -> VersionRecord:
        return cls(
            model_name=row.model_name,
            version=row.version,
            family=row.family,
            status=row.status,
            trained_at=row.trained_at,
            artifact_key=row.artifact_key,
            sha256=row.sha256,
            data_sha256=row.data_sha256,
            metrics=row.metrics,
            card=row.card,
            promoted_at=row.promoted_at,
            promotion_reason=row.promotion_reason,
        )


def artifact_bytes(bundle: ModelBundle, card: dict[str, Any]) -> bytes:
    """The archive of a version exactly as the registry stores it (card as plain JSON)."""
    return pack_artifact(bundle, json_safe(card))


def store_artifact(
    models: ObjectStore, bundle: ModelBundle, card: dict[str, Any]
) -> tuple[str, str]:
    """Upload ``model.tar.gz``; returns (key, sha256)."""
    body = artifact_bytes(bundle, card)
    key = model_artifact_key(bundle.name, bundle.version)
    models.put(key, body, "application/gzip")
    return key, sha256_hex(body)


def register(
    engine: sa.Engine,
    models: ObjectStore,
    bundle: ModelBundle,
    card: dict[str, Any],
) -> VersionRecord:
    """Store the artifact, then record the version as a candidate."""
    card = json_safe(card)
    key, digest = store_artifact(models, bundle, card)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(model_versions).values(
                model_name=bundle.name,
                version=bundle.version,
                family=bundle.family,
                status="candidate",
                trained_at=datetime.fromisoformat(card["trained_at"]),
                horizon_days=bundle.horizon_days,
                feature_set=bundle.feature_set,
                artifact_key=key,
                sha256=digest,
                data_sha256=card["data"]["sha256"],
                metrics=card["metrics"],
                card=card,
            )
        )
    record = get_version(engine, bundle.name, bundle.version)
    assert record is not None
    return record


def json_safe(value: Any) -> Any:
    """The card as plain JSON: NaN and infinities become null (JSONB refuses them)."""
    import math

    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return json_safe(value.item())
    return value


def get_version(engine: sa.Engine, model_name: str, version: str) -> VersionRecord | None:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(model_versions).where(
                model_versions.c.model_name == model_name, model_versions.c.version == version
            )
        ).first()
    return None if row is None else VersionRecord.from_row(row)


def get_production(engine: sa.Engine, model_name: str) -> VersionRecord | None:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(model_versions).where(
                model_versions.c.model_name == model_name,
                model_versions.c.status == "production",
            )
        ).first()
    return None if row is None else VersionRecord.from_row(row)


def latest_candidate(engine: sa.Engine, model_name: str) -> VersionRecord | None:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(model_versions)
            .where(
                model_versions.c.model_name == model_name,
                model_versions.c.status == "candidate",
            )
            .order_by(model_versions.c.created_at.desc(), model_versions.c.id.desc())
        ).first()
    return None if row is None else VersionRecord.from_row(row)


def list_versions(engine: sa.Engine, model_name: str) -> list[VersionRecord]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(model_versions)
            .where(model_versions.c.model_name == model_name)
            .order_by(model_versions.c.created_at, model_versions.c.id)
        ).all()
    return [VersionRecord.from_row(row) for row in rows]


def load_version(models: ObjectStore, record: VersionRecord) -> tuple[ModelBundle, dict[str, Any]]:
    """Bundle and card of a registered version, its hash checked against the registry."""
    body = models.get_or_none(record.artifact_key)
    if body is None:
        raise RegistryError(
            f"artifact of {record.model_name} {record.version} is missing at {record.artifact_key}"
        )
    return unpack_artifact(body, record.sha256)


def record_decision(
    engine: sa.Engine,
    models: ObjectStore,
    record: VersionRecord,
    *,
    promote: bool,
    reason: str,
) -> VersionRecord:
    """Apply a promotion decision to the registry and, if promoted, the pointer.

    Artifacts are immutable (their sha256 is their identity), so the decision is recorded
    on the registry row's card; the database switches production in one transaction, and
    ``production.json`` is written from the committed row.
    """
    card = {**record.card, "promoted": promote, "promotion_reason": reason}
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if promote:
            conn.execute(
                sa.update(model_versions)
                .where(
                    model_versions.c.model_name == record.model_name,
                    model_versions.c.status == "production",
                    model_versions.c.version != record.version,
                )
                .values(status="retired")
            )
        conn.execute(
            sa.update(model_versions)
            .where(
                model_versions.c.model_name == record.model_name,
                model_versions.c.version == record.version,
            )
            .values(
                status="production" if promote else "rejected",
                card=card,
                promoted_at=now if promote else None,
                promotion_reason=reason,
            )
        )
    updated = get_version(engine, record.model_name, record.version)
    assert updated is not None
    if promote:
        write_pointer(models, updated)
    return updated


def write_pointer(models: ObjectStore, record: VersionRecord) -> None:
    promoted_at = record.promoted_at or datetime.now(UTC)
    pointer = ProductionPointer(
        model_name=record.model_name,
        version=record.version,
        artifact_key=record.artifact_key,
        sha256=record.sha256,
        promoted_at=promoted_at.isoformat(),
    )
    models.put(production_pointer_key(record.model_name), pointer.to_json(), "application/json")


def read_pointer(models: ObjectStore, model_name: str) -> ProductionPointer | None:
    body = models.get_or_none(production_pointer_key(model_name))
    return None if body is None else ProductionPointer.from_json(body)
