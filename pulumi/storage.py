"""The data lake and model buckets (layout in the architecture's "Object store layout").

Both are private: every public-access block on, ACLs disabled (bucket-owner enforced),
encrypted at rest, and a policy refusing requests without TLS. The models bucket is
versioned, so an overwritten or deleted artifact can be recovered and a version the
registry points at cannot silently change. `raw/` in the lake holds provider answers kept
untouched for audit: it moves to infrequent access after 30 days and to Glacier Instant
Retrieval after `raw_archive_days`, but is never expired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi_aws as aws

import pulumi


@dataclass(frozen=True)
class StorageArgs:
    raw_archive_days: int


@dataclass(frozen=True)
class PrivateBucket:
    bucket: aws.s3.Bucket
    access_block: aws.s3.BucketPublicAccessBlock


def private_bucket(
    name: str, parent: pulumi.Resource, *, versioned: bool = False, tls_policy: bool = True
) -> PrivateBucket:
    """An encrypted bucket no one outside the account can read, reachable over TLS only.

    `tls_policy=False` leaves the bucket policy to the caller, which must then include
    `deny_insecure_transport` (a bucket has one policy).
    """
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(name, force_destroy=False, opts=child)
    aws.s3.BucketOwnershipControls(
        name,
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=child,
    )
    access_block = aws.s3.BucketPublicAccessBlock(
        name,
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        name,
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                ),
                bucket_key_enabled=True,
            )
        ],
        opts=child,
    )
    if versioned:
        aws.s3.BucketVersioning(
            name,
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
    if tls_policy:
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=bucket.arn.apply(deny_insecure_transport),
            # S3 refuses a policy while the access block is being written.
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[access_block]),
        )
    return PrivateBucket(bucket=bucket, access_block=access_block)


def deny_insecure_transport(bucket_arn: str, extra: list[dict[str, Any]] | None = None) -> str:
    statements = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        *(extra or []),
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class Storage(pulumi.ComponentResource):
    lake_bucket: pulumi.Output[str]
    lake_arn: pulumi.Output[str]
    models_bucket: pulumi.Output[str]
    models_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aia:storage:Storage", name, None, opts)

        lake = private_bucket(f"{name}-lake", self).bucket
        models = private_bucket(f"{name}-models", self, versioned=True).bucket

        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lake",
            bucket=lake.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="raw-to-colder-storage",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="raw/"),
                    transitions=[
                        aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                            days=30, storage_class="STANDARD_IA"
                        ),
                        aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                            days=max(args.raw_archive_days, 60), storage_class="GLACIER_IR"
                        ),
                    ],
                ),
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-uploads",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                ),
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-models",
            bucket=models.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-old-noncurrent-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=90, newer_noncurrent_versions=5
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.lake_bucket = lake.bucket
        self.lake_arn = lake.arn
        self.models_bucket = models.bucket
        self.models_arn = models.arn
        self.register_outputs(
            {"lake_bucket": self.lake_bucket, "models_bucket": self.models_bucket}
        )
