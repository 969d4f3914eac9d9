"""API settings, read from the environment (see .env.example)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

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
    # Proxies in front of the API that append X-Forwarded-For (CloudFront + App Runner
    # in production); 0 locally, where the socket peer is the client.
    trusted_proxy_hops: int = Field(default=0, ge=0, le=5)
    benchmark_ticker: str | None = None
    # Chat assistant (Anthropic Messages API). Without a key the offline assistant answers
    # common questions through the same tools, at no cost. ANTHROPIC_BASE_URL may point at
    # any server speaking the Messages API (a proxy, a local model server).
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    # A current Sonnet model; its prices are in api/chat/pricing.py.
    chat_model: str = "claude-sonnet-5-5"
    # Per model call, thinking included (current Sonnet models think by default).
    chat_max_output_tokens: int = Field(default=4096, ge=256, le=64000)
    # Model calls that may use tools within one answer; the next call must answer.
    chat_max_tool_iterations: int = Field(default=6, ge=1, le=20)
    # Spend caps checked before every model call, per calendar month (UTC).
    chat_user_monthly_budget_usd: float = Field(default=5.0, ge=0)
    chat_global_monthly_budget_usd: float = Field(default=200.0, ge=0)
    # Deadline of one answer, retries and tool calls included.
    chat_timeout_seconds: float = Field(default=90.0, gt=0, le=600)

    @field_validator("anthropic_api_key", "anthropic_base_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `ANTHROPIC_API_KEY=` in a .env file means "no key": the offline assistant.
        return None if isinstance(value, str) and not value.strip() else value

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
