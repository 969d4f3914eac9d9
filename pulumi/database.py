"""RDS for PostgreSQL 15 in the private subnets.

Never publicly accessible, storage encrypted, TLS required (`rds.force_ssl`). The master
password is generated and kept by RDS in Secrets Manager (`manage_master_user_password`):
it never passes through Pulumi config, state or an image, and RDS rotates it. Consumers
get the secret's ARN and read the `username`/`password` keys at run time. Port 5432 is
open only to the security groups passed in (the api and the trainer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi_aws as aws

import pulumi

DATABASE_NAME = "aia"
MASTER_USERNAME = "aia"
PORT = 5432


@dataclass(frozen=True)
class DatabaseArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    client_security_group_ids: Sequence[pulumi.Input[str]]
    instance_class: str
    allocated_storage_gb: int
    multi_az: bool
    deletion_protection: bool


class Database(pulumi.ComponentResource):
    address: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    port: int
    name: str
    secret_arn: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aia:database:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        group = aws.ec2.SecurityGroup(
            f"{name}-db",
            vpc_id=args.vpc_id,
            description="PostgreSQL, from the api and the trainer only",
            tags={"Name": f"{name}-db"},
            opts=child,
        )
        for index, client in enumerate(args.client_security_group_ids):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-db-from-{index}",
                security_group_id=group.id,
                referenced_security_group_id=client,
                ip_protocol="tcp",
                from_port=PORT,
                to_port=PORT,
                description="PostgreSQL from an application security group",
                opts=child,
            )

        subnets = aws.rds.SubnetGroup(
            f"{name}-db",
            subnet_ids=list(args.subnet_ids),
            description="private subnets of the app VPC",
            opts=child,
        )
        parameters = aws.rds.ParameterGroup(
            f"{name}-pg15",
            family="postgres15",
            description="TLS only",
            parameters=[aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1")],
            opts=child,
        )

        instance = aws.rds.Instance(
            f"{name}-db",
            engine="postgres",
            engine_version="15",
            instance_class=args.instance_class,
            allocated_storage=args.allocated_storage_gb,
            max_allocated_storage=args.allocated_storage_gb * 5,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=DATABASE_NAME,
            username=MASTER_USERNAME,
            manage_master_user_password=True,
            port=PORT,
            db_subnet_group_name=subnets.name,
            parameter_group_name=parameters.name,
            vpc_security_group_ids=[group.id],
            publicly_accessible=False,
            multi_az=args.multi_az,
            backup_retention_period=7,
            copy_tags_to_snapshot=True,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{name}-db-final",
            auto_minor_version_upgrade=True,
            enabled_cloudwatch_logs_exports=["postgresql"],
            opts=child,
        )

        self.address = instance.address
        self.endpoint = instance.endpoint
        self.port = PORT
        self.name = DATABASE_NAME
        self.arn = instance.arn
        self.secret_arn = instance.master_user_secrets.apply(_managed_secret_arn)
        self.register_outputs({"endpoint": self.endpoint, "secret_arn": self.secret_arn})


def _managed_secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret]) -> str:
    """RDS reports the secret it manages as a one-element list."""
    arn = secrets[0].secret_arn if secrets else None
    if not arn:
        raise ValueError("RDS reported no managed master user secret")
    return arn
