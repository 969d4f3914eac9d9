"""AI Investment Agent on AWS: wires the components together (each in its own module)."""

from __future__ import annotations

from api_service import ApiService, ApiServiceArgs
from app_secrets import AppSecrets, AppSecretsArgs
from database import Database, DatabaseArgs
from inference_endpoint import InferenceEndpoint, InferenceEndpointArgs
from network import Network, NetworkArgs
from registry import Registry
from stack_config import load_stack_config
from static_site import StaticSite, StaticSiteArgs
from storage import Storage, StorageArgs
from training_job import Trainer, TrainerArgs

import pulumi

config = load_stack_config()
prefix = f"aia-{pulumi.get_stack()}"

network = Network(
    prefix, NetworkArgs(cidr_block=config.vpc_cidr, one_nat_per_az=config.one_nat_per_az)
)
storage = Storage(prefix, StorageArgs(raw_archive_days=config.raw_archive_days))
registry = Registry(prefix)

database = Database(
    prefix,
    DatabaseArgs(
        vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids,
        client_security_group_ids=[
            network.api_security_group_id,
            network.trainer_security_group_id,
        ],
        instance_class=config.db_instance_class,
        allocated_storage_gb=config.db_allocated_storage_gb,
        multi_az=config.db_multi_az,
        deletion_protection=config.db_deletion_protection,
    ),
)

inference = InferenceEndpoint(
    prefix,
    InferenceEndpointArgs(
        image=registry.image("inference", config.inference_image, config.image_tag),
        repository_arns=[registry.repository_arns["inference"]],
        models_bucket=storage.models_bucket,
        models_bucket_arn=storage.models_arn,
        model_name=config.model_name,
        model_version=config.model_version,
        memory_mb=config.inference_memory_mb,
        max_concurrency=config.inference_max_concurrency,
    ),
)

app_secrets = AppSecrets(
    prefix,
    AppSecretsArgs(
        session_secret=config.session_secret, anthropic_api_key=config.anthropic_api_key
    ),
)

api = ApiService(
    prefix,
    ApiServiceArgs(
        image=registry.image("api", config.api_image, config.image_tag),
        subnet_ids=network.private_subnet_ids,
        security_group_id=network.api_security_group_id,
        lake_bucket=storage.lake_bucket,
        lake_bucket_arn=storage.lake_arn,
        models_bucket=storage.models_bucket,
        models_bucket_arn=storage.models_arn,
        model_name=config.model_name,
        endpoint_name=inference.endpoint_name,
        endpoint_arn=inference.endpoint_arn,
        database_host=database.address,
        database_port=database.port,
        database_name=database.name,
        database_secret_arn=database.secret_arn,
        secret_arns=app_secrets.arns,
        cpu=config.api_cpu,
        memory=config.api_memory,
    ),
)

site = StaticSite(prefix, StaticSiteArgs(api_host=api.service_host, price_class=config.price_class))

trainer = Trainer(
    prefix,
    TrainerArgs(
        image=registry.image("trainer", config.trainer_image, config.image_tag),
        repository_arns=[registry.repository_arns["trainer"]],
        subnet_id=network.private_subnet_ids[0],
        security_group_id=network.trainer_security_group_id,
        lake_bucket=storage.lake_bucket,
        lake_bucket_arn=storage.lake_arn,
        models_bucket=storage.models_bucket,
        models_bucket_arn=storage.models_arn,
        database_host=database.address,
        database_port=database.port,
        database_name=database.name,
        database_secret_arn=database.secret_arn,
        model_name=config.model_name,
        trainer_source=config.trainer_source,
        instance_type=config.trainer_instance_type,
        schedule=config.trainer_schedule,
        schedule_timezone=config.trainer_schedule_timezone,
        max_hours=config.trainer_max_hours,
    ),
)

pulumi.export("site_url", site.url)
pulumi.export("api_url", api.service_url)
pulumi.export("endpoint_name", inference.endpoint_name)
pulumi.export("lake_bucket", storage.lake_bucket)
pulumi.export("models_bucket", storage.models_bucket)
pulumi.export("site_bucket", site.bucket_name)
pulumi.export("distribution_id", site.distribution_id)
pulumi.export("db_endpoint", database.endpoint)
pulumi.export("db_secret_arn", database.secret_arn)
pulumi.export("repositories", registry.repository_urls)
pulumi.export("trainer_instance_id", trainer.instance_id)
pulumi.export("trainer_log_group", trainer.log_group_name)
