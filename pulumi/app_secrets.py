"""Secrets Manager secrets of the api: the session secret and, when set, the Anthropic key.

Values come from Pulumi config set with `--secret` (encrypted in the stack's config and
state) and reach the api only as App Runner runtime secrets. The database password is not
here: RDS generates and rotates it in its own secret (database.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws

import pulumi


@dataclass(frozen=True)
class AppSecretsArgs:
    session_secret: pulumi.Input[str]
    # Optional: without a key the assistant answers offline, through the same tools.
    anthropic_api_key: pulumi.Input[str] | None


class AppSecrets(pulumi.ComponentResource):
    # Environment variable name → secret ARN.
    arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: AppSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aia:secrets:AppSecrets", name, None, opts)
        values: dict[str, pulumi.Input[str]] = {"SESSION_SECRET": args.session_secret}
        if args.anthropic_api_key is not None:
            values["ANTHROPIC_API_KEY"] = args.anthropic_api_key
        self.arns = {}
        for variable, value in values.items():
            slug = variable.lower().replace("_", "-")
            secret = aws.secretsmanager.Secret(
                f"{name}-{slug}",
                description=f"{variable} of the api",
                recovery_window_in_days=7,
                opts=pulumi.ResourceOptions(parent=self),
            )
            version = aws.secretsmanager.SecretVersion(
                f"{name}-{slug}",
                secret_id=secret.id,
                secret_string=pulumi.Output.secret(value),
                opts=pulumi.ResourceOptions(parent=self),
            )
            # Hand out the ARN only once a value exists: App Runner fails on an empty secret.
            self.arns[variable] = pulumi.Output.all(secret.arn, version.id).apply(
                lambda pair: str(pair[0])
            )
        self.register_outputs({"secret_arns": self.arns})
