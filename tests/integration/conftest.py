"""Integration fixtures: the suite's own PostgreSQL and S3 emulator, never the developer's.

Session scope starts one throwaway cluster and one moto server on free ports. Each test
gets a fresh database cloned from a migrated template (``CREATE DATABASE … TEMPLATE``,
a file copy in PostgreSQL, so it is fast) and fresh buckets with unique names.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.testing import (
    Buckets,
    create_database,
    drop_database,
    moto_s3_server,
    postgres_server,
)

HERE = Path(__file__).parent
TEMPLATE_DATABASE = "aia_migrated_template"
REGION = "us-east-1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def emulator_credentials() -> Iterator[None]:
    """Credentials the emulator accepts, so nothing here can sign a request for real AWS."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "test")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.setenv("AWS_REGION", REGION)
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        yield


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """SQLAlchemy URL of an empty database on the suite's own PostgreSQL server."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Endpoint URL of the suite's own moto S3 server (real HTTP)."""
    with moto_s3_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def migrated_db(pg_url: str) -> str:
    """URL of a template database with every Alembic migration applied (do not write to it)."""
    from quantcore.db.migrate import upgrade

    url = create_database(pg_url, TEMPLATE_DATABASE)
    upgrade(url)
    return url


@pytest.fixture
def db_url(pg_url: str, migrated_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated database for this test only; DATABASE_URL points at it."""
    url = create_database(pg_url, f"t_{uuid.uuid4().hex[:16]}", template=TEMPLATE_DATABASE)
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def buckets(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Buckets:
    """Fresh lake and models buckets; the settings variables point at them for this test."""
    from quantcore.lake import ObjectStore

    suffix = uuid.uuid4().hex[:12]
    result = Buckets(
        lake=f"lake-{suffix}", models=f"models-{suffix}", endpoint_url=s3_endpoint, region=REGION
    )
    for bucket in (result.lake, result.models):
        ObjectStore.connect(bucket, endpoint_url=s3_endpoint, region=REGION).ensure_bucket()
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("LAKE_BUCKET", result.lake)
    monkeypatch.setenv("MODELS_BUCKET", result.models)
    return result
