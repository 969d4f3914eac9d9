"""API settings, read from the environment (see .env.example)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from quantcore.settings import DatabaseSettings, load_settings

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "dev", "development", "secret"}


class ApiSettings(DatabaseSettings):
    # Signs nothing the browser can forge: session ids are random and stored server-side,
    # but CSRF tokens are bound to it. No default: a missing secret stops start-up.
    session_secret: str = Field(min_length=8)
    session_days: int = Field(default=14, ge=1, le=90)
    # Where predictions come from: the local model server over HTTP, or SageMaker.
    inference_transport: Literal["http", "sagemaker"] = "http"
    inference_url: str = "http://127.0.0.1:8081"
    sagemaker_endpoint_name: str | None = None
    inference_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Login and registration attempts per client address.
    auth_rate_limit: str = "10 per minute"
    rate_limit_storage_uri: str = "memory://"
    benchmark_ticker: str | None = None

    @model_validator(mode="after")
    def _secrets_are_real_outside_development(self) -> ApiSettings:
        if self.environment != "development" and self.session_secret in PLACEHOLDER_SECRETS:
            raise ValueError("SESSION_SECRET is a placeholder; set a real secret")
        if self.inference_transport == "sagemaker" and not self.sagemaker_endpoint_name:
            raise ValueError(
                "SAGEMAKER_ENDPOINT_NAME is required with INFERENCE_TRANSPORT=sagemaker"
            )
        return self

    @property
    def cookie_secure(self) -> bool:
        return self.environment == "production"


def get_settings() -> ApiSettings:
    return load_settings(ApiSettings)
