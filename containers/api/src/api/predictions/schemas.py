"""What the predictions endpoints answer."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field


class Driver(BaseModel):
    """One feature's effect on this prediction: the change in prob_up when the feature is
    set to its typical (training median) value."""

    feature: str
    value: float | None
    reference: float | None
    contribution: float | None


class PredictionOut(BaseModel):
    ticker: str
    as_of: date = Field(description="the last daily bar the prediction used")
    horizon_days: int = Field(description="trading days ahead the prediction is about")
    prob_up: float = Field(description="probability of the event described by `label`")
    expected_return: float = Field(
        description="expected forward return over the horizon, relative to the market"
    )
    model_version: str
    drivers: list[Driver]
    label: str = Field(description="what prob_up is the probability of")
    cached: bool = Field(description="served from the prediction cache, no model call")
    data_as_of: date = Field(description="date of the latest price this answer rests on")


class StrategySummary(BaseModel):
    total_return: float | None = None
    cagr: float | None = None
    sharpe: float | None = None
    max_drawdown: float | None = None


class LiveMetrics(BaseModel):
    """How the served predictions of one version did once their prices arrived."""

    scored: int = Field(description="predictions whose horizon has passed and were scored")
    pending: int = Field(description="served predictions still waiting for their prices")
    hit_rate: float | None = Field(
        description="share of scored predictions whose call (prob_up > 0.5) was right"
    )
    brier: float | None = Field(description="mean squared error of prob_up (0.25 = a coin)")
    ic_mean: float | None = Field(
        description="mean daily Pearson correlation of prob_up with the realised return"
    )
    ic_days: int = Field(description="days with enough scored tickers to measure the IC")
    ic_reason: str | None = Field(default=None, description="why the IC is missing, if it is")
    mean_realised_return: float | None = None
    scored_against_cross_section: int = Field(
        description="outcomes judged against the median of the day's tickers (the label)"
    )
    scored_by_sign: int = Field(
        description="outcomes judged by the sign of the return (too few tickers that day)"
    )
    first_as_of: date | None = None
    last_as_of: date | None = None


class TrackRecordOut(BaseModel):
    model_version: str
    model_name: str
    status: str
    horizon_days: int
    label: str | None
    live: LiveMetrics
    out_of_sample: dict[str, Any] = Field(
        description="the card's walk-forward metrics, for comparison with the live ones"
    )
    backtest: dict[str, StrategySummary] = Field(
        description="the card's backtest after costs, per strategy (equity curves left out)"
    )
    backtest_cost_bps: float | None = None
