"""The api container on AWS App Runner, inside the app VPC through a VPC connector.

The connector puts the service's outbound traffic in the private subnets, so it reaches
RDS (never public) and leaves for the Anthropic API and SageMaker Runtime through NAT.
Inbound stays App Runner's public HTTPS URL, which CloudFront uses as the `/api/*` origin.

Settings arrive as environment variables; secrets only as App Runner runtime environment
secrets (Secrets Manager ARNs resolved by App Runner at start), never as plain values.
The database password is the one RDS keeps in Secrets Manager; its JSON keys are
referenced as `<arn>:<key>::`, and the rest of the connection (host, port, name) is plain
configuration, so the api assembles its connection URL from DATABASE_HOST, DATABASE_PORT,
DATABASE_NAME, DATABASE_USER and DATABASE_PASSWORD.

Platform note: App Runner takes no new customers since 2026-04-30; existing accounts keep
using it. The planned alternative for new accounts is ECS Fargate behind an ALB, to be
chosen with a config key `api_platform` (apprunner|ecs); it is not implemented yet, so
this program deploys App Runner only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi_aws as aws
from iam import assume_role_policy, bucket_read, secrets_read, service_role

import pulumi

API_PORT = 8000
HEALTH_PATH = "/api/health"
# Lets App Runner pull private ECR images (AWS managed policy).
ECR_ACCESS_POLICY = "arn:aws:iam::aws:policy/service-role/AWSAppRunnerServicePolicyForECRAccess"


@dataclass(frozen=True)
class ApiServiceArgs:
    image: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    lake_bucket: pulumi.Input[str]
    lake_bucket_arn: pulumi.Input[str]
    models_bucket: pulumi.Input[str]
    models_bucket_arn: pulumi.Input[str]
    model_name: str
    endpoint_name: pulumi.Input[str]
    endpoint_arn: pulumi.Input[str]
    database_host: pulumi.Input[str]
    database_port: int
    database_name: str
    database_secret_arn: pulumi.Input[str]
    # Environment variable name → Secrets Manager secret ARN (a whole-string secret).
    secret_arns: Mapping[str, pulumi.Input[str]]
    cpu: str
    memory: str


def runtime_secrets(args: ApiServiceArgs) -> dict[str, pulumi.Input[str]]:
    """Environment variable → secret reference; App Runner resolves them at start."""
    db_secret = pulumi.Output.from_input(args.database_secret_arn)
    return {
        "DATABASE_USER": db_secret.apply(lambda arn: f"{arn}:username::"),
        "DATABASE_PASSWORD": db_secret.apply(lambda arn: f"{arn}:password::"),
        **args.secret_arns,
    }


class ApiService(pulumi.ComponentResource):
    service_url: pulumi.Output[str]
    service_host: pulumi.Output[str]

    def __init__(
        self, name: str, args: ApiServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aia:api:ApiService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        region = aws.get_region_output().region

        access_role = aws.iam.Role(
            f"{name}-ecr-access",
            assume_role_policy=assume_role_policy("build.apprunner.amazonaws.com"),
            opts=child,
        )
        access_attachment = aws.iam.RolePolicyAttachment(
            f"{name}-ecr-access",
            role=access_role.name,
            policy_arn=ECR_ACCESS_POLICY,
            opts=child,
        )

        instance_role = service_role(
            f"{name}-instance",
            "tasks.apprunner.amazonaws.com",
            [
                bucket_read([args.lake_bucket_arn, args.models_bucket_arn]),
                pulumi.Output.from_input(args.endpoint_arn).apply(
                    lambda arn: {
                        "Effect": "Allow",
                        "Action": "sagemaker:InvokeEndpoint",
                        "Resource": arn,
                    }
                ),
                secrets_read([args.database_secret_arn, *args.secret_arns.values()]),
            ],
            self,
        )

        connector = aws.apprunner.VpcConnector(
            f"{name}-vpc",
            vpc_connector_name=f"{name}-vpc",
            subnets=list(args.subnet_ids),
            security_groups=[args.security_group_id],
            opts=child,
        )

        environment: dict[str, pulumi.Input[str]] = {
            "ENVIRONMENT": "production",
            "AWS_REGION": region,
            "INFERENCE_TRANSPORT": "sagemaker",
            "SAGEMAKER_ENDPOINT_NAME": args.endpoint_name,
            "LAKE_BUCKET": args.lake_bucket,
            "MODELS_BUCKET": args.models_bucket,
            "MODEL_NAME": args.model_name,
            "DATABASE_HOST": args.database_host,
            "DATABASE_PORT": str(args.database_port),
            "DATABASE_NAME": args.database_name,
        }

        service = aws.apprunner.Service(
            f"{name}-service",
            service_name=f"{name}-api",
            source_configuration=aws.apprunner.ServiceSourceConfigurationArgs(
                authentication_configuration=aws.apprunner.ServiceSourceConfigurationAuthenticationConfigurationArgs(
                    access_role_arn=access_role.arn
                ),
                auto_deployments_enabled=True,
                image_repository=aws.apprunner.ServiceSourceConfigurationImageRepositoryArgs(
                    image_identifier=args.image,
                    image_repository_type="ECR",
                    image_configuration=aws.apprunner.ServiceSourceConfigurationImageRepositoryImageConfigurationArgs(
                        port=str(API_PORT),
                        runtime_environment_variables=environment,
                        runtime_environment_secrets=runtime_secrets(args),
                    ),
                ),
            ),
            instance_configuration=aws.apprunner.ServiceInstanceConfigurationArgs(
                cpu=args.cpu,
                memory=args.memory,
                instance_role_arn=instance_role.arn,
            ),
            health_check_configuration=aws.apprunner.ServiceHealthCheckConfigurationArgs(
                protocol="HTTP",
                path=HEALTH_PATH,
                interval=10,
                timeout=5,
                healthy_threshold=1,
                unhealthy_threshold=5,
            ),
            network_configuration=aws.apprunner.ServiceNetworkConfigurationArgs(
                egress_configuration=aws.apprunner.ServiceNetworkConfigurationEgressConfigurationArgs(
                    egress_type="VPC",
                    vpc_connector_arn=connector.arn,
                ),
                ingress_configuration=aws.apprunner.ServiceNetworkConfigurationIngressConfigurationArgs(
                    is_publicly_accessible=True
                ),
            ),
            # App Runner checks it can pull the image when the service is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[access_attachment]),
        )

        self.service_host = service.service_url
        self.service_url = service.service_url.apply(lambda host: f"https://{host}")
        self.register_outputs({"service_url": self.service_url})
