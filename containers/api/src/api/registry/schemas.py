"""What the model registry endpoints answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class HeadlineMetrics(BaseModel):
    """Out-of-sample numbers of the walk-forward evaluation (see the card for the rest)."""

    accuracy: float | None = None
    majority_rate: float | None = Field(
        default=None, description="accuracy of always answering the more frequent class"
    )
    mcc: float | None = None
    brier: float | None = None
    ic_mean: float | None = None
    ic_ir: float | None = None
    rank_ic_mean: float | None = None
    n_test_rows: int | None = None
    n_test_days: int | None = None


class ModelVersionOut(BaseModel):
    model_name: str
    version: str
    family: str
    status: str = Field(description="candidate, production, rejected or retired")
    trained_at: datetime
    created_at: datetime
    promoted_at: datetime | None
    promotion_reason: str | None
    horizon_days: int
    feature_set: str
    leak_check_passed: bool | None
    metrics: HeadlineMetrics


class ProductionModelOut(ModelVersionOut):
    label: str | None = Field(description="what the model's prob_up is the probability of")
    card: dict[str, Any]


class ModelCardOut(BaseModel):
    model_name: str
    version: str
    status: str
    card: dict[str, Any]
    markdown: str = Field(description="the card rendered for reading")
