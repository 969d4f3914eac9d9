"""ECR repositories for the three images that run in AWS: api, inference, trainer.

(The web build is static files on S3, not an image.) Images are scanned on push and each
repository keeps its 20 newest images. Tags stay mutable because `image_tag` defaults to
`latest`; pin a version tag in config for a reproducible deployment.
"""

from __future__ import annotations

import json

import pulumi_aws as aws

import pulumi

IMAGES = ("api", "inference", "trainer")
KEEP_IMAGES = 20


class Registry(pulumi.ComponentResource):
    repository_urls: dict[str, pulumi.Output[str]]
    repository_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aia:registry:Registry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.repository_urls = {}
        self.repository_arns = {}
        for image in IMAGES:
            repository = aws.ecr.Repository(
                f"{name}-{image}",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=True
                ),
                image_tag_mutability="MUTABLE",
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")
                ],
                opts=child,
            )
            aws.ecr.LifecyclePolicy(
                f"{name}-{image}",
                repository=repository.name,
                policy=json.dumps(
                    {
                        "rules": [
                            {
                                "rulePriority": 1,
                                "description": f"keep the {KEEP_IMAGES} newest images",
                                "selection": {
                                    "tagStatus": "any",
                                    "countType": "imageCountMoreThan",
                                    "countNumber": KEEP_IMAGES,
                                },
                                "action": {"type": "expire"},
                            }
                        ]
                    }
                ),
                opts=child,
            )
            self.repository_urls[image] = repository.repository_url
            self.repository_arns[image] = repository.arn
        self.register_outputs({"repository_urls": self.repository_urls})

    def image(self, image: str, override: str | None, tag: str) -> pulumi.Output[str]:
        """The image URI: the configured override, else this registry's repository at `tag`."""
        if override:
            return pulumi.Output.from_input(override)
        return self.repository_urls[image].apply(lambda url: f"{url}:{tag}")
