"""What the program would create, read from the mocks: the properties that keep data private,
secrets secret and the product reachable on one origin."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import (
    ANTHROPIC_KEY,
    CACHE_POLICIES,
    CONFIG,
    ORIGIN_REQUEST_POLICIES,
    SESSION_SECRET,
    Deployment,
    run_program,
)

BUCKET = "aws:s3/bucket:Bucket"
# How the Pulumi engine wire format marks a secret value.
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"
SECRET_MARK = "1b47061264138c4ac30d75fd1eb44270"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
APP_RUNNER = "aws:apprunner/service:Service"
INSTANCE = "aws:ec2/instance:Instance"


def test_outputs_name_every_entry_point(deployment: Deployment) -> None:
    assert deployment.outputs["site_url"].startswith("https://")
    assert deployment.outputs["api_url"].startswith("https://")
    assert deployment.outputs["endpoint_name"]
    assert deployment.outputs["db_endpoint"].endswith(":5432")


def test_network_has_two_public_and_two_private_subnets_in_two_zones(
    deployment: Deployment,
) -> None:
    subnets = deployment.of_type("aws:ec2/subnet:Subnet")
    private = [s for s in subnets if s.inputs["tags"]["tier"] == "private"]
    public = [s for s in subnets if s.inputs["tags"]["tier"] == "public"]
    assert len(private) == 2 and len(public) == 2
    assert {s.inputs["availabilityZone"] for s in private} == {"us-east-1a", "us-east-1b"}
    assert not any(s.inputs.get("mapPublicIpOnLaunch") for s in subnets)
    endpoint = deployment.one("aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    assert len(deployment.of_type("aws:ec2/natGateway:NatGateway")) == 1


def test_database_is_private_encrypted_and_its_password_is_managed_by_rds(
    deployment: Deployment,
) -> None:
    db = deployment.one("aws:rds/instance:Instance").inputs
    assert db["publiclyAccessible"] is False
    assert db["storageEncrypted"] is True
    assert db["manageMasterUserPassword"] is True
    assert "password" not in db
    assert db["engine"] == "postgres" and db["engineVersion"].startswith("15")
    assert db["deletionProtection"] is True and db["skipFinalSnapshot"] is False
    parameters = deployment.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]
    assert {(p["name"], p["value"]) for p in parameters} == {("rds.force_ssl", "1")}


def test_database_admits_postgres_only_from_the_api_and_trainer_groups(
    deployment: Deployment,
) -> None:
    db_group = deployment.named("aws:ec2/securityGroup:SecurityGroup", "-db")
    assert not db_group.inputs.get("ingress")
    rules = deployment.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert {r.inputs["referencedSecurityGroupId"] for r in rules} == {
        "aia-test-api-id",
        "aia-test-trainer-id",
    }
    for rule in rules:
        assert rule.inputs["securityGroupId"] == f"{db_group.name}-id"
        assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (5432, 5432)
        assert "cidrIpv4" not in rule.inputs


def test_every_bucket_blocks_public_access_is_encrypted_and_refuses_plain_http(
    deployment: Deployment,
) -> None:
    buckets = {b.name for b in deployment.of_type(BUCKET)}
    assert buckets == {"aia-test-lake", "aia-test-models", "aia-test-web"}
    blocks = {
        b.name: b.inputs
        for b in deployment.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    }
    encryption = {
        e.name
        for e in deployment.of_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
    }
    policies = deployment.of_type("aws:s3/bucketPolicy:BucketPolicy")
    for bucket in buckets:
        assert all(
            blocks[bucket][flag] is True
            for flag in (
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            )
        )
        assert bucket in encryption
        (policy,) = [p for p in policies if p.inputs["bucket"] == f"{bucket}-id"]
        statements = deployment.policy(policy)["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )
        # Nothing is granted to everyone.
        assert not [
            s
            for s in statements
            if s["Effect"] == "Allow" and s["Principal"] in ("*", {"AWS": "*"})
        ]


def test_models_are_versioned_and_raw_data_moves_to_colder_storage(
    deployment: Deployment,
) -> None:
    versioning = deployment.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["bucket"] == "aia-test-models-id"
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    lake_rules = deployment.named(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-lake"
    ).inputs["rules"]
    (raw,) = [rule for rule in lake_rules if rule["filter"].get("prefix") == "raw/"]
    assert raw["status"] == "Enabled"
    assert [t["storageClass"] for t in raw["transitions"]] == ["STANDARD_IA", "GLACIER_IR"]
    assert "expiration" not in raw


def test_cloudfront_reads_the_site_bucket_only_through_origin_access_control(
    deployment: Deployment,
) -> None:
    oac = deployment.one("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert oac.inputs["originAccessControlOriginType"] == "s3"
    assert oac.inputs["signingBehavior"] == "always"
    origins = {o["originId"]: o for o in deployment.one(DISTRIBUTION).inputs["origins"]}
    assert origins["web"]["originAccessControlId"] == f"{oac.name}-id"
    assert "s3OriginConfig" not in origins["web"]
    site_policy = deployment.named("aws:s3/bucketPolicy:BucketPolicy", "-web")
    (grant,) = [s for s in deployment.policy(site_policy)["Statement"] if s["Effect"] == "Allow"]
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert grant["Action"] == "s3:GetObject"
    assert grant["Condition"]["StringEquals"]["AWS:SourceArn"].startswith("arn:aws:cloudfront:")


def test_cloudfront_sends_api_paths_to_app_runner_uncached_with_cookies(
    deployment: Deployment,
) -> None:
    distribution = deployment.one(DISTRIBUTION).inputs
    origins = {o["originId"]: o for o in distribution["origins"]}
    assert origins["api"]["domainName"] == "abc123.us-east-1.awsapprunner.com"
    assert origins["api"]["customOriginConfig"]["originProtocolPolicy"] == "https-only"
    (api,) = distribution["orderedCacheBehaviors"]
    assert api["pathPattern"] == "/api/*"
    assert api["targetOriginId"] == "api"
    assert api["cachePolicyId"] == CACHE_POLICIES["Managed-CachingDisabled"]
    assert (
        api["originRequestPolicyId"] == ORIGIN_REQUEST_POLICIES["Managed-AllViewerExceptHostHeader"]
    )
    assert {"POST", "PUT", "PATCH", "DELETE"} <= set(api["allowedMethods"])
    assert distribution["defaultCacheBehavior"]["targetOriginId"] == "web"


def test_spa_fallback_applies_to_the_site_and_never_rewrites_api_errors(
    deployment: Deployment,
) -> None:
    distribution = deployment.one(DISTRIBUTION).inputs
    function = deployment.one("aws:cloudfront/function:Function")
    (association,) = distribution["defaultCacheBehavior"]["functionAssociations"]
    assert association["eventType"] == "viewer-request"
    assert association["functionArn"].endswith(function.name)
    assert "'/index.html'" in function.inputs["code"]
    # Distribution-wide error pages would turn the api's JSON 403/404 into index.html.
    assert not distribution.get("customErrorResponses")
    (api,) = distribution["orderedCacheBehaviors"]
    assert not api.get("functionAssociations")


def test_api_runs_in_the_vpc_with_the_health_path(deployment: Deployment) -> None:
    service = deployment.one(APP_RUNNER).inputs
    connector = deployment.one("aws:apprunner/vpcConnector:VpcConnector")
    assert service["networkConfiguration"]["egressConfiguration"] == {
        "egressType": "VPC",
        "vpcConnectorArn": f"arn:aws:apprunner:us-east-1:123456789012:{connector.name}",
    }
    assert connector.inputs["subnets"] == ["aia-test-private-0-id", "aia-test-private-1-id"]
    assert connector.inputs["securityGroups"] == ["aia-test-api-id"]
    assert service["healthCheckConfiguration"]["path"] == "/api/health"
    assert service["healthCheckConfiguration"]["protocol"] == "HTTP"


def test_api_environment_selects_sagemaker_in_production(deployment: Deployment) -> None:
    image = deployment.one(APP_RUNNER).inputs["sourceConfiguration"]["imageRepository"]
    environment = image["imageConfiguration"]["runtimeEnvironmentVariables"]
    assert environment["ENVIRONMENT"] == "production"
    assert environment["INFERENCE_TRANSPORT"] == "sagemaker"
    assert environment["SAGEMAKER_ENDPOINT_NAME"] == deployment.outputs["endpoint_name"]
    assert environment["LAKE_BUCKET"] == "aia-test-lake"
    assert environment["MODELS_BUCKET"] == "aia-test-models"
    assert image["imageIdentifier"].endswith("/aia-test-api:latest")


def test_api_secrets_are_secrets_manager_references_never_plain_values(
    deployment: Deployment,
) -> None:
    configuration = deployment.one(APP_RUNNER).inputs["sourceConfiguration"]["imageRepository"][
        "imageConfiguration"
    ]
    secrets = configuration["runtimeEnvironmentSecrets"]
    assert set(secrets) == {
        "DATABASE_USER",
        "DATABASE_PASSWORD",
        "SESSION_SECRET",
        "ANTHROPIC_API_KEY",
    }
    assert all(value.startswith("arn:aws:secretsmanager:") for value in secrets.values())
    assert secrets["DATABASE_PASSWORD"].endswith(":password::")
    plain = configuration["runtimeEnvironmentVariables"]
    assert not set(plain) & {
        "SESSION_SECRET",
        "ANTHROPIC_API_KEY",
        "DATABASE_PASSWORD",
        "DATABASE_URL",
    }
    for value in plain.values():
        assert SESSION_SECRET not in value and ANTHROPIC_KEY not in value


def test_no_secret_value_reaches_any_resource_but_its_secret_version(
    deployment: Deployment,
) -> None:
    for resource in deployment.resources:
        if resource.typ == "aws:secretsmanager/secretVersion:SecretVersion":
            continue
        text = json.dumps(resource.inputs, default=str)
        assert SESSION_SECRET not in text, resource.name
        assert ANTHROPIC_KEY not in text, resource.name
    versions = {
        v.name: v.inputs["secretString"]
        for v in deployment.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    }
    # Marked secret, so Pulumi encrypts the value in its state and never prints it.
    assert versions == {
        "aia-test-session-secret": {SECRET_SIGNATURE: SECRET_MARK, "value": SESSION_SECRET},
        "aia-test-anthropic-api-key": {SECRET_SIGNATURE: SECRET_MARK, "value": ANTHROPIC_KEY},
    }


def test_api_role_reads_buckets_invokes_only_its_endpoint_and_reads_its_secrets(
    deployment: Deployment,
) -> None:
    (policy,) = [
        deployment.policy(p)
        for p in deployment.of_type("aws:iam/rolePolicy:RolePolicy")
        if "sagemaker:InvokeEndpoint" in p.inputs["policy"]
    ]
    statements = policy["Statement"]
    (invoke,) = [s for s in statements if s["Action"] == "sagemaker:InvokeEndpoint"]
    assert invoke["Resource"] == "arn:aws:sagemaker:us-east-1:123456789012:aia-test-endpoint"
    assert not [s for s in statements if "s3:PutObject" in s["Action"]]
    (secrets,) = [s for s in statements if "secretsmanager:GetSecretValue" in s["Action"]]
    # The RDS-managed secret, SESSION_SECRET and ANTHROPIC_API_KEY; nothing else.
    assert len(secrets["Resource"]) == 3


def test_inference_endpoint_is_serverless_within_sagemaker_limits(deployment: Deployment) -> None:
    (variant,) = deployment.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs[
        "productionVariants"
    ]
    serverless = variant["serverlessConfig"]
    assert 1024 <= serverless["memorySizeInMb"] <= 6144
    assert serverless["memorySizeInMb"] == int(CONFIG["inference_memory_mb"])
    assert 1 <= serverless["maxConcurrency"] <= 200
    assert "instanceType" not in variant and "initialInstanceCount" not in variant
    model = deployment.one("aws:sagemaker/model:Model").inputs
    assert "vpcConfig" not in model
    assert model["primaryContainer"]["modelDataUrl"] == (
        f"s3://aia-test-models/models/direction-5d/{CONFIG['model_version']}/model.tar.gz"
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("inference_memory_mb", "8192"),
        ("inference_memory_mb", "1500"),
        ("inference_max_concurrency", "201"),
    ],
)
def test_serverless_limits_are_refused_before_anything_is_created(key: str, value: str) -> None:
    from stack_config import ConfigError

    with pytest.raises(ConfigError, match=key):
        run_program({**CONFIG, key: value})


def test_trainer_instance_is_private_stops_itself_and_is_started_on_a_schedule(
    deployment: Deployment,
) -> None:
    instance = deployment.one(INSTANCE).inputs
    assert instance["instanceInitiatedShutdownBehavior"] == "stop"
    assert instance["subnetId"] == "aia-test-private-0-id"
    assert instance["associatePublicIpAddress"] is False
    assert instance["metadataOptions"]["httpTokens"] == "required"
    assert instance["rootBlockDevice"]["encrypted"] is True
    assert "keyName" not in instance
    schedule = deployment.one("aws:scheduler/schedule:Schedule").inputs
    assert schedule["target"]["arn"] == "arn:aws:scheduler:::aws-sdk:ec2:startInstances"
    assert json.loads(schedule["target"]["input"]) == {"InstanceIds": ["aia-test-instance-id"]}
    assert schedule["scheduleExpression"].startswith("cron(")
    (scheduler_policy,) = [
        deployment.policy(p)
        for p in deployment.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == "aia-test-scheduler-id"
    ]
    assert [s["Action"] for s in scheduler_policy["Statement"]] == ["ec2:StartInstances"]


def test_trainer_job_runs_then_shuts_down_and_keeps_the_password_out(
    deployment: Deployment,
) -> None:
    script = deployment.one(INSTANCE).inputs["userData"]
    assert "trap 'shutdown -h now' EXIT" in script
    assert '--entrypoint trainer "$IMAGE" run' in script
    assert '--entrypoint quantcore-db "$IMAGE" upgrade' in script
    assert "/var/lib/cloud/scripts/per-boot/" in script
    assert "secretsmanager get-secret-value" in script
    assert "DATABASE_URL=postgresql+psycopg://{user}:{password}@" in script
    assert SESSION_SECRET not in script


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_trainer_user_data_is_valid_bash(deployment: Deployment) -> None:
    script = deployment.one(INSTANCE).inputs["userData"]
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    job = script.split("<<'JOB'\n", 1)[1].split("\nJOB\n", 1)[0]
    subprocess.run(["bash", "-n"], input=job, text=True, check=True)


def test_images_come_from_scanned_repositories(deployment: Deployment) -> None:
    repositories = deployment.of_type("aws:ecr/repository:Repository")
    assert {r.name for r in repositories} == {
        "aia-test-api",
        "aia-test-inference",
        "aia-test-trainer",
    }
    assert all(r.inputs["imageScanningConfiguration"]["scanOnPush"] for r in repositories)
