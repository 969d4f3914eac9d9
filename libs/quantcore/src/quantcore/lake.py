"""Object-store layout of the data lake and the model artifacts, and a thin S3 client.

Layout (bucket names come from settings):

- ``raw/prices/source=<src>/ticker=<T>/<file>`` — what a provider returned, untouched
- ``curated/prices/source=<src>/ticker=<T>/bars.parquet`` — cleaned daily bars
- ``features/v=<feature_set>/features.parquet`` — the table the trainer learned from
- ``models/<name>/<version>/model.tar.gz`` — ``model.joblib`` + ``model_card.json``
- ``models/<name>/production.json`` — points at the promoted version
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_SAFE_PART = re.compile(r"^[A-Za-z0-9._\-^=]+$")


def _part(value: str, what: str) -> str:
    if not value or not _SAFE_PART.match(value) or value in {".", ".."}:
        raise ValueError(f"invalid {what} for an object key: {value!r}")
    return value


def raw_price_key(source: str, ticker: str, filename: str) -> str:
    return (
        f"raw/prices/source={_part(source, 'source')}/ticker={_part(ticker, 'ticker')}/"
        f"{_part(filename, 'file name')}"
    )


def raw_price_prefix(source: str | None = None) -> str:
    return "raw/prices/" if source is None else f"raw/prices/source={_part(source, 'source')}/"


def curated_prefix(source: str | None = None) -> str:
    if source is None:
        return "curated/prices/"
    return f"curated/prices/source={_part(source, 'source')}/"


def curated_key(source: str, ticker: str) -> str:
    return f"{curated_prefix(source)}ticker={_part(ticker, 'ticker')}/bars.parquet"


def parse_curated_key(key: str) -> tuple[str, str] | None:
    """(source, ticker) of a curated bars key, or None if the key is something else."""
    match = re.match(r"^curated/prices/source=([^/]+)/ticker=([^/]+)/bars\.parquet$", key)
    return (match.group(1), match.group(2)) if match else None


def features_key(feature_set: str) -> str:
    return f"features/v={_part(feature_set, 'feature set')}/features.parquet"


def model_artifact_key(model_name: str, version: str) -> str:
    return f"models/{_part(model_name, 'model name')}/{_part(version, 'version')}/model.tar.gz"


def model_oos_key(model_name: str, version: str) -> str:
    """Out-of-sample predictions of a version's walk-forward evaluation (parquet)."""
    return (
        f"models/{_part(model_name, 'model name')}/{_part(version, 'version')}/"
        "oos_predictions.parquet"
    )


def features_manifest_key(feature_set: str) -> str:
    return f"features/v={_part(feature_set, 'feature set')}/manifest.json"


def production_pointer_key(model_name: str) -> str:
    return f"models/{_part(model_name, 'model name')}/production.json"


@dataclass(frozen=True)
class ProductionPointer:
    """What ``production.json`` says: which version serves, and its artifact's hash."""

    model_name: str
    version: str
    artifact_key: str
    sha256: str
    promoted_at: str

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, body: bytes) -> ProductionPointer:
        data = json.loads(body)
        return cls(**{k: str(data[k]) for k in cls.__dataclass_fields__})


class ObjectStore:
    """The few S3 operations the product needs, on one bucket."""

    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self._s3 = client

    @classmethod
    def connect(
        cls, bucket: str, *, endpoint_url: str | None = None, region: str = "us-east-1"
    ) -> ObjectStore:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )
        return cls(bucket, client)

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self._s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            self._s3.create_bucket(Bucket=self.bucket)

    def ensure_readable(self) -> None:
        """Raise unless the bucket answers (health checks)."""
        self._s3.head_bucket(Bucket=self.bucket)

    def put(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        # A single PUT is atomic in S3: readers see the old object or the whole new one.
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def get(self, key: str) -> bytes:
        response = self._s3.get_object(Bucket=self.bucket, Key=key)
        body: bytes = response["Body"].read()
        return body

    def get_or_none(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return self.get(key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
                return None
            raise

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def etag(self, key: str) -> str | None:
        """The object's ETag (the MD5 of a single-part upload), or None if absent."""
        from botocore.exceptions import ClientError

        try:
            head = self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return str(head["ETag"]).strip('"')

    def put_if_changed(
        self, key: str, body: bytes, content_type: str = "application/octet-stream"
    ) -> bool:
        """Write only when the stored bytes differ, so re-ingesting changes nothing."""
        import hashlib

        if self.etag(key) == hashlib.md5(body, usedforsecurity=False).hexdigest():
            return False
        self.put(key, body, content_type)
        return True

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=key)

    def keys(self, prefix: str) -> Iterator[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]
