"""Every setting of the stack, read once from Pulumi config (keys documented in Pulumi.yaml).

Limits that AWS enforces are checked here, so a wrong value stops `pulumi up` with one
line naming the key instead of failing half-way through a deployment.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

# SageMaker Serverless Inference: memory in 1 GB steps from 1 to 6 GB, at most 200
# concurrent invocations per endpoint.
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
SERVERLESS_MAX_CONCURRENCY = 200


class ConfigError(ValueError):
    """A config value AWS would refuse; the message names the key."""


@dataclass(frozen=True)
class StackConfig:
    vpc_cidr: str
    one_nat_per_az: bool
    image_tag: str
    api_image: str | None
    inference_image: str | None
    trainer_image: str | None
    api_cpu: str
    api_memory: str
    model_name: str
    model_version: str
    inference_memory_mb: int
    inference_max_concurrency: int
    db_instance_class: str
    db_allocated_storage_gb: int
    db_multi_az: bool
    db_deletion_protection: bool
    raw_archive_days: int
    trainer_instance_type: str
    trainer_schedule: str
    trainer_schedule_timezone: str
    trainer_source: str
    trainer_max_hours: int
    price_class: str
    session_secret: pulumi.Output[str]
    anthropic_api_key: pulumi.Output[str] | None

    def __post_init__(self) -> None:
        if self.inference_memory_mb not in SERVERLESS_MEMORY_MB:
            raise ConfigError(
                f"inference_memory_mb must be one of {SERVERLESS_MEMORY_MB} "
                f"(SageMaker Serverless), not {self.inference_memory_mb}"
            )
        if not 1 <= self.inference_max_concurrency <= SERVERLESS_MAX_CONCURRENCY:
            raise ConfigError(
                f"inference_max_concurrency must be within 1..{SERVERLESS_MAX_CONCURRENCY}, "
                f"not {self.inference_max_concurrency}"
            )
        if not 1 <= self.trainer_max_hours <= 24:
            raise ConfigError("trainer_max_hours must be within 1..24")


def load_stack_config(config: pulumi.Config | None = None) -> StackConfig:
    """Read the project's config namespace; defaults match Pulumi.yaml."""
    cfg = config or pulumi.Config()
    return StackConfig(
        vpc_cidr=cfg.get("vpc_cidr") or "10.40.0.0/16",
        one_nat_per_az=cfg.get_bool("one_nat_per_az") or False,
        image_tag=cfg.get("image_tag") or "latest",
        api_image=cfg.get("api_image"),
        inference_image=cfg.get("inference_image"),
        trainer_image=cfg.get("trainer_image"),
        api_cpu=cfg.get("api_cpu") or "1024",
        api_memory=cfg.get("api_memory") or "2048",
        model_name=cfg.get("model_name") or "direction-5d",
        model_version=cfg.require("model_version"),
        inference_memory_mb=cfg.get_int("inference_memory_mb") or 2048,
        inference_max_concurrency=cfg.get_int("inference_max_concurrency") or 5,
        db_instance_class=cfg.get("db_instance_class") or "db.t4g.micro",
        db_allocated_storage_gb=cfg.get_int("db_allocated_storage_gb") or 20,
        db_multi_az=cfg.get_bool("db_multi_az") or False,
        db_deletion_protection=_bool_default(cfg, "db_deletion_protection", default=True),
        raw_archive_days=cfg.get_int("raw_archive_days") or 90,
        trainer_instance_type=cfg.get("trainer_instance_type") or "m7i.large",
        trainer_schedule=cfg.get("trainer_schedule") or "cron(30 18 ? * MON-FRI *)",
        trainer_schedule_timezone=cfg.get("trainer_schedule_timezone") or "America/New_York",
        trainer_source=cfg.get("trainer_source") or "live",
        trainer_max_hours=cfg.get_int("trainer_max_hours") or 3,
        price_class=cfg.get("price_class") or "PriceClass_100",
        session_secret=cfg.require_secret("session_secret"),
        anthropic_api_key=cfg.get_secret("anthropic_api_key"),
    )


def _bool_default(cfg: pulumi.Config, key: str, *, default: bool) -> bool:
    value = cfg.get_bool(key)
    return default if value is None else value
