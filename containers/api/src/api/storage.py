"""The object-store buckets the API reads (model cards and artifacts live in the registry)."""

from __future__ import annotations

from flask import current_app

from quantcore.lake import ObjectStore


class ReadableStore(ObjectStore):
    def ensure_readable(self) -> None:
        """Raise unless the bucket answers (used by the health check)."""
        self._s3.head_bucket(Bucket=self.bucket)


def _store(bucket: str) -> ReadableStore:
    settings = current_app.config["SETTINGS"]
    key = f"store:{bucket}"
    store = current_app.extensions.get(key)
    if store is None:
        base = ObjectStore.connect(
            bucket, endpoint_url=settings.aws_endpoint_url, region=settings.aws_region
        )
        store = ReadableStore(base.bucket, base._s3)
        current_app.extensions[key] = store
    return store


def models_store() -> ReadableStore:
    return _store(current_app.config["SETTINGS"].models_bucket)


def lake_store() -> ReadableStore:
    return _store(current_app.config["SETTINGS"].lake_bucket)
