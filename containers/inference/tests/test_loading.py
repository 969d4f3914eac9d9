"""Loading from the production pointer: hash check, refusal, swap, keeping the old model.

The object store here is an in-memory stand-in with the same two calls the slot uses;
tests/integration/test_inference_server.py runs the same paths against a real S3 server.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from inference.loading import ModelSlot
from inference.settings import InferenceSettings
from quantcore.artifact import ModelBundle, pack_artifact, sha256_hex
from quantcore.lake import ProductionPointer, model_artifact_key, production_pointer_key


class MemoryStore:
    def __init__(self) -> None:
        self.bucket = "models-test"
        self.objects: dict[str, bytes] = {}
        self.reads: list[str] = []

    def get_or_none(self, key: str) -> bytes | None:
        self.reads.append(key)
        return self.objects.get(key)


def publish(
    store: MemoryStore, bundle: ModelBundle, card: dict[str, Any], *, sha256: str | None = None
) -> str:
    body = pack_artifact(bundle, card)
    key = model_artifact_key(bundle.name, bundle.version)
    store.objects[key] = body
    pointer = ProductionPointer(
        model_name=bundle.name,
        version=bundle.version,
        artifact_key=key,
        sha256=sha256 or sha256_hex(body),
        promoted_at="2024-01-01T00:00:00+00:00",
    )
    store.objects[production_pointer_key(bundle.name)] = pointer.to_json()
    return key


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def slot(store: MemoryStore) -> ModelSlot:
    settings = InferenceSettings(model_source="registry", model_name="direction-5d")
    return ModelSlot(settings, store_factory=lambda: store)


def test_no_pointer_means_no_model_and_says_why(slot: ModelSlot) -> None:
    assert slot.refresh() is False
    assert "no production pointer at s3://models-test/models/direction-5d/production.json" in (
        slot.last_error or ""
    )


def test_loads_the_promoted_version_then_switches_to_the_next(
    slot: ModelSlot, store: MemoryStore, trained: Any
) -> None:
    bundle, card = trained
    publish(store, bundle, card)
    assert slot.refresh()
    first = slot.current
    assert first is not None and first.version == "v-unit"

    store.reads.clear()
    assert slot.refresh()
    assert slot.current is first  # unchanged pointer: nothing downloaded again
    assert store.reads == [production_pointer_key("direction-5d")]

    publish(store, dataclasses.replace(bundle, version="v-next"), card)
    assert slot.refresh()
    assert slot.current is not None and slot.current.version == "v-next"
    assert slot.last_error is None


def test_a_hash_mismatch_is_refused_and_the_old_model_keeps_serving(
    slot: ModelSlot, store: MemoryStore, trained: Any
) -> None:
    bundle, card = trained
    publish(store, bundle, card)
    assert slot.refresh()
    publish(store, dataclasses.replace(bundle, version="v-tampered"), card, sha256="0" * 64)
    assert slot.refresh()
    assert slot.current is not None and slot.current.version == "v-unit"
    assert "v-tampered refused" in (slot.last_error or "")
    assert "does not match" in (slot.last_error or "")
    assert "still serving v-unit" in (slot.last_error or "")

    # A refused pointer is not downloaded again every poll.
    store.reads.clear()
    slot.refresh()
    assert store.reads == [production_pointer_key("direction-5d")]


def test_a_hash_mismatch_on_first_load_leaves_nothing_serving(
    slot: ModelSlot, store: MemoryStore, trained: Any
) -> None:
    publish(store, *trained, sha256="f" * 64)
    assert slot.refresh() is False
    assert slot.current is None
    assert "does not match" in (slot.last_error or "")


def test_broken_or_foreign_artifacts_are_refused(
    slot: ModelSlot, store: MemoryStore, trained: Any
) -> None:
    bundle, card = trained
    publish(store, bundle, card)
    assert slot.refresh()

    key = publish(store, dataclasses.replace(bundle, version="v-broken"), card)
    store.objects[key] = b"not a tarball"
    pointer = ProductionPointer.from_json(store.objects[production_pointer_key(bundle.name)])
    store.objects[production_pointer_key(bundle.name)] = dataclasses.replace(
        pointer, sha256=sha256_hex(b"not a tarball")
    ).to_json()
    slot.refresh()
    assert slot.current is not None and slot.current.version == "v-unit"
    assert "not a readable tar.gz" in (slot.last_error or "")

    publish(store, dataclasses.replace(bundle, version="v-f0", feature_set="f0"), card)
    slot.refresh()
    assert slot.current.version == "v-unit"
    assert "feature set 'f0'" in (slot.last_error or "")

    store.objects[production_pointer_key(bundle.name)] = b"{not json"
    slot.refresh()
    assert slot.current.version == "v-unit"
    assert "unreadable" in (slot.last_error or "")


def test_auto_source_rule(tmp_path: Path, model_dir: Path) -> None:
    assert InferenceSettings(sm_model_dir=model_dir).resolved_model_source() == "dir"
    local = InferenceSettings(sm_model_dir=tmp_path, aws_endpoint_url="http://127.0.0.1:4566")
    assert local.resolved_model_source() == "registry"
    bare = InferenceSettings(sm_model_dir=tmp_path, aws_endpoint_url=None)
    assert bare.resolved_model_source() == "dir"
    forced = InferenceSettings(sm_model_dir=model_dir, model_source="registry")
    assert forced.resolved_model_source() == "registry"


def test_port_comes_from_either_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODEL_SERVER_PORT", raising=False)
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "9090")
    assert InferenceSettings().model_server_port == 9090
    monkeypatch.delenv("SAGEMAKER_BIND_TO_PORT")
    assert InferenceSettings().model_server_port == 8080
    monkeypatch.setenv("MODEL_SERVER_PORT", "8081")
    assert InferenceSettings().model_server_port == 8081
