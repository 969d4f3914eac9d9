"""The object-store bucket the API reads (model artifacts live in the registry)."""

from __future__ import annotations

from flask import current_app

from quantcore.lake import ObjectStore


def models_store() -> ObjectStore:
    """The models bucket, one client per app."""
    settings = current_app.config["SETTINGS"]
    store: ObjectStore | None = current_app.extensions.get("models_store")
    if store is None:
        store = ObjectStore.connect(
            settings.models_bucket,
            endpoint_url=settings.aws_endpoint_url,
            region=settings.aws_region,
        )
        current_app.extensions["models_store"] = store
    return store
