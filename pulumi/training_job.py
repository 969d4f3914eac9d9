"""The nightly training job: an EC2 instance in a private subnet that runs once per start.

EventBridge Scheduler starts the (normally stopped) instance on `trainer_schedule`. At
every boot a cloud-init per-boot script pulls the trainer image, reads the database
credentials from the RDS-managed secret, applies the migrations (`quantcore-db upgrade`,
the production deploy step), runs `trainer run` under a time limit, and powers the
instance off with `shutdown -h now` whatever happened. `instance_initiated_shutdown_behavior`
is "stop", so the instance (and its disk) stays for the next start and costs nothing but
storage in between. The first boot after `pulumi up` creates the instance runs the job
too, which also trains the first model.

Logs of both containers go to CloudWatch (`/aia/<stack>/trainer`). No SSH key and no
inbound rule: nothing connects to the instance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi_aws as aws
from iam import bucket_read_write, image_pull, secrets_read, service_role

import pulumi

JOB_PATH = "/var/lib/cloud/scripts/per-boot/aia-trainer.sh"
START_INSTANCES_TARGET = "arn:aws:scheduler:::aws-sdk:ec2:startInstances"

# First boot only (user data): install Docker and the per-boot job, then run it, since
# cloud-init runs per-boot scripts before user data on the first boot.
USER_DATA_TEMPLATE = """\
#!/bin/bash
set -euo pipefail
dnf install -y docker
systemctl enable docker
cat > @JOB_PATH@ <<'JOB'
#!/bin/bash
# Every boot: migrate, train, then power off; the schedule starts the instance again.
set -uo pipefail
trap 'shutdown -h now' EXIT
export AWS_REGION='@REGION@'
IMAGE='@IMAGE@'
LOG_GROUP='@LOG_GROUP@'
env_file=$(mktemp)
chmod 600 "$env_file"
systemctl start docker
aws ecr get-login-password --region "$AWS_REGION" \\
  | docker login --username AWS --password-stdin "${IMAGE%%/*}" || exit 1
docker pull "$IMAGE" || exit 1
# The password stays out of user data, the process list and the logs: read at run time
# from Secrets Manager into an env file only root can read.
aws secretsmanager get-secret-value --region "$AWS_REGION" \\
  --secret-id '@DB_SECRET_ARN@' --query SecretString --output text \\
  | python3 -c '
import json, sys, urllib.parse
secret = json.load(sys.stdin)
user = urllib.parse.quote(secret["username"], safe="")
password = urllib.parse.quote(secret["password"], safe="")
print(f"DATABASE_URL=postgresql+psycopg://{user}:{password}@@DB_HOST@:@DB_PORT@/@DB_NAME@?sslmode=require")
' > "$env_file" || exit 1
in_container() {
  timeout '@MAX_HOURS@h' docker run --rm --env-file "$env_file" \\
    -e ENVIRONMENT=production -e AWS_REGION \\
    -e LAKE_BUCKET='@LAKE_BUCKET@' -e MODELS_BUCKET='@MODELS_BUCKET@' \\
    -e MODEL_NAME='@MODEL_NAME@' -e TRAINER_SOURCE='@TRAINER_SOURCE@' \\
    --log-driver awslogs --log-opt awslogs-region="$AWS_REGION" \\
    --log-opt awslogs-group="$LOG_GROUP" --log-opt awslogs-create-group=false \\
    "$@"
}
in_container --entrypoint quantcore-db "$IMAGE" upgrade \\
  && in_container --entrypoint trainer "$IMAGE" run
status=$?
rm -f "$env_file"
echo "trainer finished with status $status; shutting down"
JOB
chmod 700 @JOB_PATH@
exec @JOB_PATH@
"""


@dataclass(frozen=True)
class JobSettings:
    """What the per-boot job needs; none of it is secret (the password is read at run time)."""

    region: str
    image: str
    log_group: str
    db_secret_arn: str
    db_host: str
    db_port: int
    db_name: str
    lake_bucket: str
    models_bucket: str
    model_name: str
    trainer_source: str
    max_hours: int


def render_user_data(job: JobSettings) -> str:
    values = {
        "JOB_PATH": JOB_PATH,
        "REGION": job.region,
        "IMAGE": job.image,
        "LOG_GROUP": job.log_group,
        "DB_SECRET_ARN": job.db_secret_arn,
        "DB_HOST": job.db_host,
        "DB_PORT": str(job.db_port),
        "DB_NAME": job.db_name,
        "LAKE_BUCKET": job.lake_bucket,
        "MODELS_BUCKET": job.models_bucket,
        "MODEL_NAME": job.model_name,
        "TRAINER_SOURCE": job.trainer_source,
        "MAX_HOURS": str(job.max_hours),
    }
    script = USER_DATA_TEMPLATE
    for key, value in values.items():
        if "'" in value:
            raise ValueError(f"{key} may not contain a single quote: {value!r}")
        script = script.replace(f"@{key}@", value)
    return script


@dataclass(frozen=True)
class TrainerArgs:
    image: pulumi.Input[str]
    repository_arns: list[pulumi.Input[str]]
    subnet_id: pulumi.Input[str]
    security_group_id: pulumi.Input[str]
    lake_bucket: pulumi.Input[str]
    lake_bucket_arn: pulumi.Input[str]
    models_bucket: pulumi.Input[str]
    models_bucket_arn: pulumi.Input[str]
    database_host: pulumi.Input[str]
    database_port: int
    database_name: str
    database_secret_arn: pulumi.Input[str]
    model_name: str
    trainer_source: str
    instance_type: str
    schedule: str
    schedule_timezone: str
    max_hours: int


class Trainer(pulumi.ComponentResource):
    instance_id: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: TrainerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aia:trainer:Trainer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        region = aws.get_region_output().region

        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aia/{pulumi.get_stack()}/trainer",
            retention_in_days=90,
            opts=child,
        )
        role = service_role(
            f"{name}-instance",
            "ec2.amazonaws.com",
            [
                bucket_read_write([args.lake_bucket_arn, args.models_bucket_arn]),
                secrets_read([args.database_secret_arn]),
                *image_pull(args.repository_arns),
                logs.arn.apply(
                    lambda arn: {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"{arn}:*",
                    }
                ),
            ],
            self,
        )
        profile = aws.iam.InstanceProfile(f"{name}-instance", role=role.role.name, opts=child)

        ami = aws.ec2.get_ami_output(
            most_recent=True,
            owners=["amazon"],
            filters=[
                aws.ec2.GetAmiFilterArgs(name="name", values=["al2023-ami-2023.*-x86_64"]),
                aws.ec2.GetAmiFilterArgs(name="state", values=["available"]),
            ],
        )
        user_data = pulumi.Output.all(
            region,
            args.image,
            logs.name,
            args.database_secret_arn,
            args.database_host,
            args.lake_bucket,
            args.models_bucket,
        ).apply(
            lambda values: render_user_data(
                JobSettings(
                    region=values[0],
                    image=values[1],
                    log_group=values[2],
                    db_secret_arn=values[3],
                    db_host=values[4],
                    db_port=args.database_port,
                    db_name=args.database_name,
                    lake_bucket=values[5],
                    models_bucket=values[6],
                    model_name=args.model_name,
                    trainer_source=args.trainer_source,
                    max_hours=args.max_hours,
                )
            )
        )

        instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=ami.id,
            instance_type=args.instance_type,
            subnet_id=args.subnet_id,
            vpc_security_group_ids=[args.security_group_id],
            associate_public_ip_address=False,
            iam_instance_profile=profile.name,
            instance_initiated_shutdown_behavior="stop",
            user_data=user_data,
            # The job is installed on first boot only: a changed job needs a new instance.
            user_data_replace_on_change=True,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_tokens="required",
                # Containers sit one network hop behind the host.
                http_put_response_hop_limit=2,
            ),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                volume_size=30, volume_type="gp3", encrypted=True
            ),
            tags={"Name": f"{name}-trainer"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs]),
        )

        scheduler_role = service_role(
            f"{name}-scheduler",
            "scheduler.amazonaws.com",
            [
                instance.arn.apply(
                    lambda arn: {
                        "Effect": "Allow",
                        "Action": "ec2:StartInstances",
                        "Resource": arn,
                    }
                )
            ],
            self,
        )
        aws.scheduler.Schedule(
            f"{name}-nightly",
            description="start the trainer instance; it stops itself when the run ends",
            schedule_expression=args.schedule,
            schedule_expression_timezone=args.schedule_timezone,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=START_INSTANCES_TARGET,
                role_arn=scheduler_role.arn,
                input=instance.id.apply(
                    lambda instance_id: json.dumps({"InstanceIds": [instance_id]})
                ),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_event_age_in_seconds=3600, maximum_retry_attempts=3
                ),
            ),
            opts=child,
        )

        self.instance_id = instance.id
        self.log_group_name = logs.name
        self.register_outputs({"instance_id": self.instance_id})
