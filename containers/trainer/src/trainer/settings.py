"""Trainer settings, read from the environment (see .env.example)."""

from __future__ import annotations

from pydantic import Field

from quantcore.settings import DatabaseSettings, load_settings


class TrainerSettings(DatabaseSettings):
    horizon_days: int = Field(default=5, ge=1, le=60)
    cost_bps: float = Field(default=10.0, ge=0, le=500)
    seed: int = 0
    # What `trainer run` ingests: "sample" offline, "live" (Stooq → Yahoo) where reachable.
    default_source: str = Field(default="sample", alias="TRAINER_SOURCE")
    # Model families tried walk-forward; the best out of sample is kept.
    model_families: str = "linear,hgb,forest,mlp"
    provider_deadline_seconds: float = Field(default=15.0, gt=0, le=600)

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.model_families.split(",") if part.strip())


def get_settings() -> TrainerSettings:
    return load_settings(TrainerSettings)
