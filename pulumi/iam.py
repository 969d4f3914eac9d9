"""IAM documents shared by the components: trust policies and least-privilege statements."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi_aws as aws

import pulumi

Statement = dict[str, Any]


def assume_role_policy(service: str) -> str:
    """Trust policy letting one AWS service principal assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def policy_document(statements: Sequence[pulumi.Input[Statement]]) -> pulumi.Output[str]:
    """A JSON policy from statements that may hold outputs (ARNs of other resources)."""
    return pulumi.Output.all(*statements).apply(
        lambda resolved: json.dumps({"Version": "2012-10-17", "Statement": list(resolved)})
    )


def bucket_read(bucket_arns: Sequence[pulumi.Input[str]]) -> pulumi.Output[Statement]:
    return pulumi.Output.all(*bucket_arns).apply(
        lambda arns: {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": [*arns, *(f"{arn}/*" for arn in arns)],
        }
    )


def bucket_read_write(bucket_arns: Sequence[pulumi.Input[str]]) -> pulumi.Output[Statement]:
    return pulumi.Output.all(*bucket_arns).apply(
        lambda arns: {
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:ListBucket",
                "s3:GetBucketLocation",
            ],
            "Resource": [*arns, *(f"{arn}/*" for arn in arns)],
        }
    )


def secrets_read(secret_arns: Sequence[pulumi.Input[str]]) -> pulumi.Output[Statement]:
    return pulumi.Output.all(*secret_arns).apply(
        lambda arns: {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": list(arns),
        }
    )


def image_pull(repository_arns: Sequence[pulumi.Input[str]]) -> list[pulumi.Input[Statement]]:
    return [
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        pulumi.Output.all(*repository_arns).apply(
            lambda arns: {
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                "Resource": list(arns),
            }
        ),
    ]


@dataclass(frozen=True)
class ServiceRole:
    role: aws.iam.Role
    # The role's ARN, known only once its policies are attached: a service that checks its
    # permissions at creation (SageMaker, App Runner) must not get the role earlier.
    arn: pulumi.Output[str]


def service_role(
    name: str,
    service: str,
    statements: Sequence[pulumi.Input[Statement]],
    parent: pulumi.Resource,
    managed_policy_arns: Sequence[str] = (),
) -> ServiceRole:
    """A role for one service principal with one inline least-privilege policy."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(name, assume_role_policy=assume_role_policy(service), opts=child)
    attached: list[pulumi.Output[str]] = [
        aws.iam.RolePolicy(name, role=role.id, policy=policy_document(statements), opts=child).id
    ]
    for index, policy_arn in enumerate(managed_policy_arns):
        attached.append(
            aws.iam.RolePolicyAttachment(
                f"{name}-managed-{index}", role=role.name, policy_arn=policy_arn, opts=child
            ).id
        )
    arn = pulumi.Output.all(role.arn, *attached).apply(lambda values: str(values[0]))
    return ServiceRole(role=role, arn=arn)
