"""Which model serves, where it comes from, and how a promoted version replaces it.

A :class:`ModelSlot` holds ONE reference to the serving :class:`LoadedModel`. A request
reads that reference once and uses that model to the end, so replacing it (a single
attribute assignment, atomic under the GIL) never mixes two versions inside a request and
never fails a request in flight. A new version is loaded and verified beside the serving
one; only then is the reference swapped. When the new artifact is broken, its hash does not
match the pointer, or it fails verification, the serving model stays and the reason is kept
in :attr:`ModelSlot.last_error` (shown by ``/ping`` and ``/models/current``) and logged.

Every gunicorn worker owns its slot and its poller thread (threads do not survive fork).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from inference.settings import InferenceSettings
from quantcore.artifact import ArtifactError, ModelBundle, load_model_dir, unpack_artifact

log = logging.getLogger("inference.model")


@dataclass(frozen=True)
class FeatureLibrary:
    """The feature code the server computes with; it must be the one the model learned on."""

    feature_set: str
    feature_names: tuple[str, ...]
    min_history_bars: int
    compute: Callable[[pd.DataFrame, pd.Series | None], pd.DataFrame]


def shared_feature_library() -> FeatureLibrary:
    from quantcore import features

    return FeatureLibrary(
        feature_set=features.FEATURE_SET,
        feature_names=tuple(features.FEATURE_NAMES),
        min_history_bars=features.MIN_HISTORY_BARS,
        compute=features.compute_features,
    )


@dataclass(frozen=True)
class LoadedModel:
    bundle: ModelBundle
    card: dict[str, Any]
    sha256: str | None
    source: str
    loaded_at: str

    @property
    def version(self) -> str:
        return self.bundle.version

    def describe(self) -> dict[str, Any]:
        bundle = self.bundle
        return {
            "name": bundle.name,
            "version": bundle.version,
            "family": bundle.family,
            "feature_set": bundle.feature_set,
            "features": list(bundle.feature_names),
            "horizon_days": bundle.horizon_days,
            "sha256": self.sha256,
            "source": self.source,
            "loaded_at": self.loaded_at,
            "trained_at": self.card.get("trained_at"),
        }


def verify_bundle(bundle: ModelBundle, library: FeatureLibrary) -> None:
    """Refuse a bundle this server cannot serve faithfully; score one row to prove it works."""
    if bundle.feature_set != library.feature_set:
        raise ArtifactError(
            f"model {bundle.version} was trained on feature set {bundle.feature_set!r}; "
            f"this server computes {library.feature_set!r}"
        )
    unknown = [name for name in bundle.feature_names if name not in library.feature_names]
    if unknown:
        raise ArtifactError(f"model {bundle.version} needs unknown features: {unknown}")
    if bundle.horizon_days < 1:
        raise ArtifactError(f"model {bundle.version} has horizon_days {bundle.horizon_days}")
    row = pd.DataFrame(
        [[bundle.reference.get(name, math.nan) for name in bundle.feature_names]],
        columns=list(bundle.feature_names),
    )
    try:
        scored = bundle.predict(row)
    except Exception as exc:
        raise ArtifactError(f"model {bundle.version} cannot score a row: {exc}") from exc
    prob = float(scored["prob_up"].iloc[0])
    if not 0.0 <= prob <= 1.0:
        raise ArtifactError(f"model {bundle.version} answered prob_up={prob} for a typical row")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ModelSlot:
    """The serving model of one worker, and how it is (re)loaded."""

    def __init__(
        self,
        settings: InferenceSettings,
        library: FeatureLibrary | None = None,
        store_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.library = library or shared_feature_library()
        self.source = settings.resolved_model_source()
        self._store_factory = store_factory or self._connect_store
        self._store: Any | None = None
        self._current: LoadedModel | None = None
        self.last_error: str | None = None
        self.last_checked: str | None = None
        # The (version, sha256) of a pointer whose artifact was refused: not fetched again
        # until the pointer changes.
        self._refused: tuple[str, str] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    # -- what requests see -------------------------------------------------------------
    @property
    def current(self) -> LoadedModel | None:
        return self._current

    def install(self, model: LoadedModel) -> None:
        """Make ``model`` the serving one (also how tests put a model in place)."""
        self._current = model

    def status(self) -> dict[str, Any]:
        current = self._current
        return {
            "loaded": current is not None,
            "source": self.source,
            "model": current.describe() if current else None,
            "last_error": self.last_error,
            "last_checked": self.last_checked,
        }

    # -- loading -------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Load the model from the configured source if it changed; True when one serves.

        Never raises: every problem is recorded in ``last_error`` and logged.
        """
        with self._lock:  # one refresh at a time per worker
            try:
                if self.source == "dir":
                    self._refresh_from_dir()
                else:
                    self._refresh_from_registry()
            except Exception as exc:
                self._record_error(f"{type(exc).__name__}: {exc}")
            self.last_checked = _now()
        return self._current is not None

    def _refresh_from_dir(self) -> None:
        if self._current is not None:
            return  # SageMaker's model folder never changes under a running container
        path = Path(self.settings.sm_model_dir)
        try:
            bundle, card = load_model_dir(path)
            verify_bundle(bundle, self.library)
        except ArtifactError as exc:
            self._record_error(f"model in {path} refused: {exc}")
            return
        self._swap(LoadedModel(bundle, card, None, f"dir:{path}", _now()))

    def _refresh_from_registry(self) -> None:
        from quantcore.lake import ProductionPointer, production_pointer_key

        if self._store is None:
            self._store = self._store_factory()
        store = self._store
        key = production_pointer_key(self.settings.model_name)
        raw = store.get_or_none(key)
        if raw is None:
            self._record_error(f"no production pointer at s3://{store.bucket}/{key}")
            return
        try:
            pointer = ProductionPointer.from_json(raw)
        except (ValueError, KeyError, TypeError) as exc:
            self._record_error(f"production pointer s3://{store.bucket}/{key} is unreadable: {exc}")
            return
        current = self._current
        if current is not None and (current.version, current.sha256) == (
            pointer.version,
            pointer.sha256,
        ):
            return
        if self._refused == (pointer.version, pointer.sha256):
            return
        try:
            body = store.get_or_none(pointer.artifact_key)
            if body is None:
                raise ArtifactError(f"s3://{store.bucket}/{pointer.artifact_key} does not exist")
            bundle, card = unpack_artifact(body, pointer.sha256)
            if bundle.version != pointer.version or bundle.name != pointer.model_name:
                raise ArtifactError(
                    f"artifact holds {bundle.name}/{bundle.version}, the pointer names "
                    f"{pointer.model_name}/{pointer.version}"
                )
            verify_bundle(bundle, self.library)
        except ArtifactError as exc:
            self._refused = (pointer.version, pointer.sha256)
            keeps = f"; still serving {current.version}" if current else ""
            self._record_error(f"version {pointer.version} refused: {exc}{keeps}")
            return
        source = f"s3://{store.bucket}/{pointer.artifact_key}"
        self._swap(LoadedModel(bundle, card, pointer.sha256, source, _now()))

    def _swap(self, model: LoadedModel) -> None:
        previous = self._current
        self._current = model
        self.last_error = None
        self._refused = None
        if previous is None:
            log.info("serving %s/%s from %s", model.bundle.name, model.version, model.source)
        else:
            log.info("switched from %s to %s (%s)", previous.version, model.version, model.source)

    def _record_error(self, message: str) -> None:
        if message != self.last_error:  # a poller repeating itself every 2 s would flood logs
            log.error("%s", message)
        self.last_error = message

    def _connect_store(self) -> Any:
        from quantcore.lake import ObjectStore

        return ObjectStore.connect(
            self.settings.models_bucket,
            endpoint_url=self.settings.aws_endpoint_url,
            region=self.settings.aws_region,
        )

    # -- background polling ----------------------------------------------------------------
    def forget_connections(self) -> None:
        """Drop the S3 client made before fork: sockets must not be shared between workers."""
        self._store = None

    def start_polling(self) -> None:
        """Poll the source in a daemon thread: registry pointers change, and a failed first
        load is retried until a model serves."""
        if self._poller is not None and self._poller.is_alive():
            return
        self._stop.clear()
        self._poller = threading.Thread(target=self._poll, name="model-poller", daemon=True)
        self._poller.start()

    def stop_polling(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)

    def _poll(self) -> None:
        interval = self.settings.model_poll_seconds
        while not self._stop.wait(interval):
            if self.source == "dir" and self._current is not None:
                return  # nothing can change any more
            self.refresh()
