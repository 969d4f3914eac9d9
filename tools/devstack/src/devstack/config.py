"""Where the local stack keeps its state and which ports and names it uses."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DB_ROLE = "aia"
DB_NAME = "aia"
# moto accepts any credentials; these are the conventional emulator values.
EMULATOR_ACCESS_KEY = "test"
EMULATOR_SECRET_KEY = "test"  # noqa: S105 - a fixed emulator credential, not a secret


def find_project_root(start: Path | None = None) -> Path:
    """The workspace root (the pyproject.toml declaring the uv workspace) above ``start``."""
    candidates = [start or Path.cwd(), Path(__file__).resolve()]
    for origin in candidates:
        for folder in [origin, *origin.parents]:
            pyproject = folder / "pyproject.toml"
            if pyproject.is_file() and "[tool.uv.workspace]" in pyproject.read_text():
                return folder
    return Path.cwd()


class StackSettings(BaseSettings):
    """Settings of the local stack, from the environment (or the project's .env)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    aia_var_dir: Path | None = None
    pgport: int = 5432
    aia_s3_port: int = 4566
    aia_inference_port: int = 8081
    aia_api_port: int = 8000
    aia_web_port: int = 8080
    aws_region: str = "us-east-1"
    lake_bucket: str = "aia-lake"
    models_bucket: str = "aia-models"
    model_name: str = "direction-5d"
    environment: str = "development"

    host: str = "127.0.0.1"

    @cached_property
    def project_root(self) -> Path:
        return find_project_root()

    @property
    def var_dir(self) -> Path:
        return (self.aia_var_dir or self.project_root / "var").resolve()

    @property
    def pgdata(self) -> Path:
        return self.var_dir / "pgdata"

    @property
    def run_dir(self) -> Path:
        return self.var_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://{DB_ROLE}@{self.host}:{self.pgport}/{DB_NAME}"

    @property
    def s3_endpoint(self) -> str:
        return f"http://{self.host}:{self.aia_s3_port}"

    def service_environment(self) -> dict[str, str]:
        """What every process of the local stack reads its settings from."""
        return {
            "ENVIRONMENT": self.environment,
            "DATABASE_URL": self.database_url,
            "AWS_ENDPOINT_URL": self.s3_endpoint,
            "AWS_REGION": self.aws_region,
            "AWS_DEFAULT_REGION": self.aws_region,
            "AWS_ACCESS_KEY_ID": EMULATOR_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": EMULATOR_SECRET_KEY,
            "LAKE_BUCKET": self.lake_bucket,
            "MODELS_BUCKET": self.models_bucket,
            "MODEL_NAME": self.model_name,
            "PGPORT": str(self.pgport),
        }

    def child_environment(self) -> dict[str, str]:
        return {**os.environ, **self.service_environment()}


def load_stack_settings() -> StackSettings:
    root = find_project_root()
    return StackSettings(_env_file=root / ".env")  # type: ignore[call-arg]
