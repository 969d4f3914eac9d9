"""Runs the whole Pulumi program once against mocks (no CLI, no AWS, no network).

`RecordingMocks` answers every resource registration and provider call with plausible
outputs and keeps what the program asked for, so the tests read the inputs each resource
would have been created with.
"""

from __future__ import annotations

import json
import runpy
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import pulumi

PROGRAM = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROGRAM))

PROJECT = "aia"
STACK = "test"
SESSION_SECRET = "session-secret-value-for-tests-only"
ANTHROPIC_KEY = "sk-ant-test-key-for-tests-only"
CONFIG = {
    "model_version": "20250101T000000",
    "session_secret": SESSION_SECRET,
    "anthropic_api_key": ANTHROPIC_KEY,
    "inference_memory_mb": "3072",
    "inference_max_concurrency": "20",
}
SECRET_KEYS = ["session_secret", "anthropic_api_key"]

CACHE_POLICIES = {
    "Managed-CachingOptimized": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    "Managed-CachingDisabled": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
}
ORIGIN_REQUEST_POLICIES = {
    "Managed-AllViewerExceptHostHeader": "b689b0a8-53d0-40ab-baf2-68738e2966ac"
}
RESPONSE_HEADERS_POLICIES = {
    "Managed-SecurityHeadersPolicy": "67f7725c-6f97-4210-82d7-5512b31e9d03"
}
ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass
class Registered:
    typ: str
    name: str
    inputs: dict[str, Any]


def _computed(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs AWS would compute, for the types whose outputs the program reads."""
    service = typ.split(":")[1].split("/")[0]
    state: dict[str, Any] = {"arn": f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}"}
    if typ == "aws:s3/bucket:Bucket":
        state |= {"bucket": name, "bucketRegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com"}
    elif typ == "aws:rds/instance:Instance":
        state |= {
            "address": f"{name}.abc.{REGION}.rds.amazonaws.com",
            "endpoint": f"{name}.abc.{REGION}.rds.amazonaws.com:5432",
            "masterUserSecrets": [
                {
                    "secretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-1",
                    "secretStatus": "active",
                    "kmsKeyId": "alias/aws/secretsmanager",
                }
            ],
        }
    elif typ == "aws:rds/subnetGroup:SubnetGroup" or typ == "aws:rds/parameterGroup:ParameterGroup":
        state |= {"name": inputs.get("name", name)}
    elif typ == "aws:apprunner/service:Service":
        state |= {"serviceUrl": "abc123.us-east-1.awsapprunner.com"}
    elif typ == "aws:cloudfront/distribution:Distribution":
        state |= {"domainName": "d111111abcdef8.cloudfront.net"}
    elif typ == "aws:ecr/repository:Repository":
        state |= {"repositoryUrl": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}", "name": name}
    elif (
        typ.startswith("aws:sagemaker/")
        or typ.startswith("aws:iam/")
        or typ.startswith("aws:cloudwatch/logGroup")
    ):
        state |= {"name": inputs.get("name", name)}
    return state


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Registered] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(Registered(args.typ, args.name, dict(args.inputs)))
        return f"{args.name}-id", {**args.inputs, **_computed(args.typ, args.name, args.inputs)}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        self.calls.append((args.token, dict(args.args)))
        name = args.args.get("name", "")
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "aws:index/getAvailabilityZones:getAvailabilityZones": lambda: {
                "names": [f"{REGION}a", f"{REGION}b", f"{REGION}c"],
                "zoneIds": ["use1-az1", "use1-az2", "use1-az4"],
            },
            "aws:index/getRegion:getRegion": lambda: {"name": REGION, "region": REGION},
            "aws:index/getCallerIdentity:getCallerIdentity": lambda: {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/test",
                "userId": "AIDATEST",
            },
            "aws:ec2/getAmi:getAmi": lambda: {
                "id": "ami-0123456789abcdef0",
                "architecture": "x86_64",
            },
            "aws:cloudfront/getCachePolicy:getCachePolicy": lambda: {
                "id": CACHE_POLICIES[name],
                "name": name,
            },
            "aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy": lambda: {
                "id": ORIGIN_REQUEST_POLICIES[name],
                "name": name,
            },
            "aws:cloudfront/getResponseHeadersPolicy:getResponseHeadersPolicy": lambda: {
                "id": RESPONSE_HEADERS_POLICIES[name],
                "name": name,
            },
        }
        if args.token not in answers:
            raise AssertionError(f"the program made a call the mocks do not know: {args.token}")
        return answers[args.token](), []


class Deployment:
    """What one run of the program registered, with lookups the tests share."""

    def __init__(self, mocks: RecordingMocks, outputs: dict[str, Any]) -> None:
        self.resources = mocks.resources
        self.calls = mocks.calls
        self.outputs = outputs

    def of_type(self, typ: str) -> list[Registered]:
        return [resource for resource in self.resources if resource.typ == typ]

    def one(self, typ: str) -> Registered:
        found = self.of_type(typ)
        assert len(found) == 1, f"expected one {typ}, found {[r.name for r in found]}"
        return found[0]

    def named(self, typ: str, suffix: str) -> Registered:
        found = [r for r in self.of_type(typ) if r.name.endswith(suffix)]
        assert len(found) == 1, f"expected one {typ} named *{suffix}"
        return found[0]

    def policy(self, resource: Registered, key: str = "policy") -> dict[str, Any]:
        value = resource.inputs[key]
        return json.loads(value) if isinstance(value, str) else value


def run_program(config: dict[str, str]) -> Deployment:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=False)
    pulumi.runtime.set_all_config(
        {f"{PROJECT}:{key}": value for key, value in config.items()},
        [f"{PROJECT}:{key}" for key in SECRET_KEYS if key in config],
    )
    exported: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        namespace = runpy.run_path(str(PROGRAM / "__main__.py"), run_name="__pulumi_main__")
        outputs = {
            "site_url": namespace["site"].url,
            "api_url": namespace["api"].service_url,
            "endpoint_name": namespace["inference"].endpoint_name,
            "db_endpoint": namespace["database"].endpoint,
        }
        return pulumi.Output.all(**outputs).apply(exported.update)

    # pulumi_aws warns about its own deprecated classes as it loads its modules lazily;
    # the program uses none of them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        program()
    return Deployment(mocks, exported)


@pytest.fixture(scope="session")
def deployment() -> Deployment:
    return run_program(CONFIG)
