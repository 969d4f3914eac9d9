"""The model server as a SageMaker Serverless Inference endpoint.

The model artifact is `s3://<models bucket>/models/<model_name>/<model_version>/model.tar.gz`
(SageMaker extracts it into /opt/ml/model, where the server loads it with MODEL_SOURCE=dir).
Serverless means 1–6 GB of memory, CPU only, at most 200 concurrent invocations and no
VPC: the server never needs the database, and the caller sends the bars it scores.
Changing `model_version` replaces the model and endpoint configuration; SageMaker then
moves the endpoint to the new configuration without downtime.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi_aws as aws
from iam import image_pull, service_role

import pulumi


@dataclass(frozen=True)
class InferenceEndpointArgs:
    image: pulumi.Input[str]
    repository_arns: Sequence[pulumi.Input[str]]
    models_bucket: pulumi.Input[str]
    models_bucket_arn: pulumi.Input[str]
    model_name: str
    model_version: str
    memory_mb: int
    max_concurrency: int


def model_data_url(bucket: str, model_name: str, model_version: str) -> str:
    return f"s3://{bucket}/models/{model_name}/{model_version}/model.tar.gz"


class InferenceEndpoint(pulumi.ComponentResource):
    endpoint_name: pulumi.Output[str]
    endpoint_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: InferenceEndpointArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("aia:inference:InferenceEndpoint", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        artifact_prefix = pulumi.Output.from_input(args.models_bucket_arn).apply(
            lambda arn: f"{arn}/models/{args.model_name}/*"
        )
        role = service_role(
            f"{name}-execution",
            "sagemaker.amazonaws.com",
            [
                artifact_prefix.apply(
                    lambda resource: {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": resource,
                    }
                ),
                *image_pull(args.repository_arns),
                {
                    "Effect": "Allow",
                    "Action": [
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "cloudwatch:PutMetricData",
                    ],
                    "Resource": "*",
                },
            ],
            self,
        )

        model = aws.sagemaker.Model(
            f"{name}-model",
            execution_role_arn=role.arn,
            primary_container=aws.sagemaker.ModelPrimaryContainerArgs(
                image=args.image,
                mode="SingleModel",
                model_data_url=pulumi.Output.from_input(args.models_bucket).apply(
                    lambda bucket: model_data_url(bucket, args.model_name, args.model_version)
                ),
                environment={
                    "MODEL_SOURCE": "dir",
                    "MODEL_NAME": args.model_name,
                    "ENVIRONMENT": "production",
                },
            ),
            opts=child,
        )
        config = aws.sagemaker.EndpointConfiguration(
            f"{name}-serverless",
            production_variants=[
                aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                    variant_name="AllTraffic",
                    model_name=model.name,
                    serverless_config=aws.sagemaker.EndpointConfigurationProductionVariantServerlessConfigArgs(
                        memory_size_in_mb=args.memory_mb,
                        max_concurrency=args.max_concurrency,
                    ),
                )
            ],
            opts=child,
        )
        endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint", endpoint_config_name=config.name, opts=child
        )

        self.endpoint_name = endpoint.name
        self.endpoint_arn = endpoint.arn
        self.register_outputs({"endpoint_name": self.endpoint_name})
