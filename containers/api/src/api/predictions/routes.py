"""``/api/predictions``: the production model's prediction for a ticker."""

from __future__ import annotations

from flask import Blueprint, current_app

from api import db
from api.openapi import operation
from api.predictions import service
from api.predictions.schemas import PredictionOut

bp = Blueprint("predictions", __name__, url_prefix="/api/predictions")


@operation(
    bp,
    "/<ticker>",
    summary="The model's prediction for a ticker as of its latest daily bar",
    description=(
        "prob_up is the probability that the ticker's forward return over horizon_days "
        "trading days beats the median of the market's tickers (see `label`). Answers are "
        "cached per ticker, date and model version (`cached`), and kept to score the "
        "model's live track record. Not financial advice."
    ),
    response=PredictionOut,
    errors={
        404: "Unknown ticker",
        422: "Too little price history for the model's features",
        503: "The model server cannot answer right now (predictions_unavailable)",
    },
)
def get_prediction(ticker: str) -> PredictionOut:
    return service.predict(db.session(), current_app.config["SETTINGS"], ticker)
