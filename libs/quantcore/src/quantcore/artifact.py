"""The model artifact format.

A version is one ``model.tar.gz`` (SageMaker's ModelDataUrl wants exactly one archive)
holding ``model.joblib`` — a :class:`ModelBundle` — and ``model_card.json``. The registry
keeps the archive's sha256; :func:`unpack_artifact` refuses an archive whose hash differs.
Only artifacts written by the trainer are ever unpickled, never request bodies.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

MODEL_FILE = "model.joblib"
CARD_FILE = "model_card.json"
ARTIFACT_FILE = "model.tar.gz"


class ArtifactError(Exception):
    """An artifact that cannot be trusted or read."""


@dataclass
class ModelBundle:
    """Everything needed to turn a feature table into predictions.

    ``classifier`` is a fitted scikit-learn estimator with ``predict_proba`` whose
    positive class means "the forward return over ``horizon_days`` is above zero".
    ``return_model`` is a fitted regressor of that forward return (None means the
    expected return is derived from the calibrated probability and ``return_scale``).
    ``reference`` holds the training-window median of each feature: the baseline
    against which drivers are measured.
    """

    name: str
    version: str
    family: str
    feature_set: str
    feature_names: list[str]
    horizon_days: int
    classifier: Any
    return_model: Any | None = None
    return_scale: float = 0.0
    reference: dict[str, float] = field(default_factory=dict)

    def _matrix(self, features: pd.DataFrame) -> pd.DataFrame:
        missing = [name for name in self.feature_names if name not in features.columns]
        if missing:
            raise ValueError(f"feature table lacks columns: {', '.join(missing)}")
        return features.loc[:, self.feature_names].astype(float)

    def predict_proba_up(self, features: pd.DataFrame) -> np.ndarray:
        matrix = self._matrix(features)
        proba = self.classifier.predict_proba(matrix)
        classes = list(getattr(self.classifier, "classes_", [0, 1]))
        return np.asarray(proba[:, classes.index(1)], dtype=float)

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """``prob_up`` and ``expected_return`` for each row of ``features``."""
        prob_up = self.predict_proba_up(features)
        if self.return_model is not None:
            expected = np.asarray(self.return_model.predict(self._matrix(features)), dtype=float)
        else:
            expected = (2.0 * prob_up - 1.0) * self.return_scale
        return pd.DataFrame({"prob_up": prob_up, "expected_return": expected}, index=features.index)


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _add_file(archive: tarfile.TarFile, name: str, body: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(body)
    info.mtime = 0  # same inputs give the same archive bytes
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(body))


def pack_artifact(bundle: ModelBundle, card: dict[str, Any]) -> bytes:
    """The bytes of ``model.tar.gz`` for ``bundle`` and its card."""
    model_bytes = io.BytesIO()
    joblib.dump(bundle, model_bytes, compress=3)
    card_bytes = json.dumps(card, indent=2, sort_keys=True, default=str).encode()
    out = io.BytesIO()
    # mtime=0 in the gzip header too, so a deterministic retrain gives identical bytes.
    with (
        gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w") as archive,
    ):
        _add_file(archive, MODEL_FILE, model_bytes.getvalue())
        _add_file(archive, CARD_FILE, card_bytes)
    return out.getvalue()


def _read_members(body: bytes) -> dict[str, bytes]:
    try:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
            members: dict[str, bytes] = {}
            for member in archive.getmembers():
                if not member.isfile() or member.name not in {MODEL_FILE, CARD_FILE}:
                    continue
                handle = archive.extractfile(member)
                if handle is not None:
                    members[member.name] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArtifactError(f"artifact is not a readable tar.gz: {exc}") from exc
    for required in (MODEL_FILE, CARD_FILE):
        if required not in members:
            raise ArtifactError(f"artifact lacks {required}")
    return members


def unpack_artifact(body: bytes, expected_sha256: str | None) -> tuple[ModelBundle, dict[str, Any]]:
    """Bundle and card from archive bytes, after checking the hash the registry holds."""
    if expected_sha256 is not None:
        actual = sha256_hex(body)
        if actual != expected_sha256:
            raise ArtifactError(
                f"artifact sha256 {actual[:12]}… does not match the registry's "
                f"{expected_sha256[:12]}…; refusing to load it"
            )
    members = _read_members(body)
    return _load_members(members)


def _load_members(members: dict[str, bytes]) -> tuple[ModelBundle, dict[str, Any]]:
    try:
        bundle = joblib.load(io.BytesIO(members[MODEL_FILE]))
        card = json.loads(members[CARD_FILE])
    except Exception as exc:  # any unreadable pickle or JSON is the same refusal
        raise ArtifactError(f"artifact content cannot be loaded: {exc}") from exc
    if not isinstance(bundle, ModelBundle):
        raise ArtifactError(f"{MODEL_FILE} holds {type(bundle).__name__}, not a ModelBundle")
    return bundle, card


def load_model_dir(path: Path) -> tuple[ModelBundle, dict[str, Any]]:
    """Bundle and card from an extracted artifact folder (SageMaker's /opt/ml/model)."""
    members = {}
    for name in (MODEL_FILE, CARD_FILE):
        file = path / name
        if not file.is_file():
            raise ArtifactError(f"{file} is missing")
        members[name] = file.read_bytes()
    return _load_members(members)
