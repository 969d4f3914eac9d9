"""Settings of the model server, all from the environment.

Where the model comes from (``MODEL_SOURCE``):

- ``dir`` — the extracted ``model.tar.gz`` in ``SM_MODEL_DIR`` (default ``/opt/ml/model``),
  as SageMaker provides it. The folder never changes while the server runs.
- ``registry`` — the production pointer ``models/<MODEL_NAME>/production.json`` in
  ``MODELS_BUCKET`` (endpoint ``AWS_ENDPOINT_URL`` locally). The artifact it names is
  downloaded and its sha256 checked against the pointer; the pointer is polled every
  ``MODEL_POLL_SECONDS`` and a newly promoted version replaces the serving one in place.
- ``auto`` (default) — ``dir`` when ``SM_MODEL_DIR`` holds a ``model.joblib``; otherwise
  ``registry`` when ``AWS_ENDPOINT_URL`` is set (the local stack); otherwise ``dir``, which
  then reports in ``/ping`` and ``/models/current`` why nothing is loaded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field

from quantcore.artifact import MODEL_FILE
from quantcore.settings import CommonSettings

ModelSource = Literal["auto", "dir", "registry"]

# SageMaker Serverless rejects larger payloads; the server enforces the same limit.
MAX_REQUEST_BYTES = 4 * 1024 * 1024


class InferenceSettings(CommonSettings):
    model_source: ModelSource = "auto"
    sm_model_dir: Path = Path("/opt/ml/model")
    model_poll_seconds: float = Field(default=2.0, gt=0)

    model_server_host: str = "0.0.0.0"  # noqa: S104 - inside the container; locally 127.0.0.1
    model_server_port: int = Field(
        default=8080,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("MODEL_SERVER_PORT", "SAGEMAKER_BIND_TO_PORT"),
    )
    model_server_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    # Threads per worker: while one request computes, /ping and others are still answered.
    model_server_threads: int = Field(default=4, ge=1)
    # Seconds a call may take, and the grace period in-flight requests get on SIGTERM.
    model_server_timeout: int = Field(default=60, ge=1)
    max_request_bytes: int = Field(default=MAX_REQUEST_BYTES, ge=1024)

    def resolved_model_source(self) -> Literal["dir", "registry"]:
        """The source actually used once ``auto`` is decided (see the module docstring)."""
        if self.model_source != "auto":
            return self.model_source
        if (self.sm_model_dir / MODEL_FILE).is_file():
            return "dir"
        if self.aws_endpoint_url:
            return "registry"
        return "dir"
