"""``/api/models``: the registered model versions, their cards and live track record."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from api import db
from api.openapi import operation
from api.predictions.schemas import TrackRecordOut
from api.predictions.track_record import track_record
from api.registry import service
from api.registry.schemas import ModelCardOut, ModelVersionOut, ProductionModelOut

bp = Blueprint("models", __name__, url_prefix="/api/models")


def _model_name() -> str:
    name: str = current_app.config["SETTINGS"].model_name
    return name


@operation(
    bp,
    "",
    summary="Every registered model version, newest first, with headline metrics",
    response=list[ModelVersionOut],
)
def get_versions() -> list[dict[str, Any]]:
    # A list is passed to the response as is, so its models are dumped here.
    return [v.model_dump(mode="json") for v in service.list_versions(db.session(), _model_name())]


@operation(
    bp,
    "/production",
    summary="The version in production, with its model card",
    response=ProductionModelOut,
    errors={404: "No version is in production yet"},
)
def get_production() -> ProductionModelOut:
    return service.production(db.session(), _model_name())


@operation(
    bp,
    "/<version>/card",
    summary="A version's model card, as JSON and as Markdown",
    response=ModelCardOut,
    errors={404: "Unknown version"},
)
def get_card(version: str) -> ModelCardOut:
    return service.card(db.session(), version, _model_name())


@operation(
    bp,
    "/<version>/track-record",
    summary="How a version's served predictions did once their prices arrived",
    description=(
        "Scores the predictions whose horizon has passed first. Hit rate, Brier score and "
        "daily IC of the live predictions, next to the card's out-of-sample metrics and "
        "backtest after costs."
    ),
    response=TrackRecordOut,
    errors={404: "Unknown version"},
)
def get_track_record(version: str) -> TrackRecordOut:
    session = db.session()
    service.find_version(session, version, _model_name())
    return track_record(session, version)
