"""The whole trainer pipeline against a real PostgreSQL and the S3 emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from quantcore.artifact import sha256_hex, unpack_artifact
from quantcore.db.tables import model_versions
from quantcore.lake import production_pointer_key
from trainer import registry
from trainer.bootstrap import bootstrap
from trainer.pipeline import Workspace, build_features, fetch, promote, run_ingest, train
from trainer.settings import TrainerSettings

# A slice of the bundled sample that trains in seconds: 2009–2010 S&P 500 names.
TICKERS = [
    "A",
    "AA",
    "AAPL",
    "ABC",
    "ABT",
    "ADBE",
    "ADM",
    "ADP",
    "AEE",
    "AEP",
    "AES",
    "AFL",
    "AIG",
    "AIZ",
    "AKAM",
    "ALL",
    "AMAT",
    "AMGN",
    "AMT",
    "AMZN",
    "AN",
    "APA",
    "APD",
    "APH",
    "AVB",
]


@pytest.fixture
def ws(db_url: str, buckets: object, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("MODEL_FAMILIES", "linear,hgb")
    return Workspace.open(TrainerSettings())  # type: ignore[call-arg]


def _ingest_slice(ws: Workspace) -> None:
    from datetime import date

    run_ingest(
        ws, fetch(ws, "sample", tickers=TICKERS, start=date(2009, 1, 1), until=date(2010, 12, 31))
    )


def _assert_registry_consistent(ws: Workspace) -> None:
    """Every registered version's artifact exists and matches its recorded hash."""
    for record in registry.list_versions(ws.engine, ws.settings.model_name):
        body = ws.models.get_or_none(record.artifact_key)
        assert body is not None, f"{record.version} points at a missing artifact"
        assert sha256_hex(body) == record.sha256


def test_train_register_promote_and_card(ws: Workspace) -> None:
    _ingest_slice(ws)
    build = build_features(ws)
    assert ws.lake.exists(build.key) and build.key.startswith("features/v=")
    trained = train(ws, build)
    record = trained.record
    assert record.status == "candidate"
    card = record.card
    for field in (
        "version",
        "trained_at",
        "data",
        "horizon_days",
        "features",
        "folds",
        "metrics",
        "baselines",
        "backtest",
        "leak_check",
    ):
        assert field in card, field
    assert card["data"]["sha256"] == build.data_info["sha256"]
    for metric in ("accuracy", "majority_rate", "mcc", "brier", "ic_mean", "ic_ir", "rank_ic_mean"):
        assert metric in card["metrics"]
    for leg in ("long_only", "long_short", "buy_and_hold"):
        assert {"cagr", "sharpe", "max_drawdown"} <= set(card["backtest"][leg])
    # Walk-forward: every test window starts after its training window ends.
    for fold in card["folds"]:
        assert fold["train_end"] < fold["test_start"]

    body = ws.models.get(record.artifact_key)
    bundle, stored_card = unpack_artifact(body, record.sha256)
    assert bundle.version == record.version and stored_card["version"] == record.version

    updated, decision = promote(ws, record, build=build, outcome=trained.outcome)
    assert decision.reason
    assert updated.promotion_reason == decision.reason
    assert updated.card["promoted"] is decision.promote
    pointer_body = ws.models.get_or_none(production_pointer_key(ws.settings.model_name))
    if decision.promote:
        assert updated.status == "production"
        assert pointer_body is not None
        pointer = json.loads(pointer_body)
        assert (pointer["version"], pointer["sha256"]) == (record.version, record.sha256)
    else:
        assert updated.status == "rejected" and pointer_body is None
    _assert_registry_consistent(ws)

    completed = subprocess.run(
        [sys.executable, "-m", "trainer.cli", "card", record.version, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(completed.stdout)["version"] == record.version
    rendered = subprocess.run(
        [sys.executable, "-m", "trainer.cli", "card", record.version],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert record.version in rendered


def test_a_second_candidate_must_beat_production(ws: Workspace) -> None:
    _ingest_slice(ws)
    build = build_features(ws)
    first = train(ws, build)
    first_record, first_decision = promote(ws, first.record, build=build, outcome=first.outcome)
    if not first_decision.promote:
        # This test is about defending a champion, so install one if the slice's model
        # did not earn its place on its own.
        first_record = registry.record_decision(
            ws.engine, ws.models, first_record, promote=True, reason="installed by the test"
        )
    second = train(ws, build)
    second_record, decision = promote(ws, second.record, build=build, outcome=second.outcome)
    # Same data, same seed: the challenger is no better, so the champion stays.
    assert not decision.promote
    assert second_record.status == "rejected"
    production = registry.get_production(ws.engine, ws.settings.model_name)
    assert production is not None and production.version == first_record.version


def test_failure_between_upload_and_registration_leaves_no_version(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ingest_slice(ws)
    build = build_features(ws)

    original = registry.store_artifact

    def upload_then_die(*args: object, **kwargs: object) -> tuple[str, str]:
        original(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt("killed after the upload")

    monkeypatch.setattr(registry, "store_artifact", upload_then_die)
    with pytest.raises(KeyboardInterrupt):
        train(ws, build)
    with ws.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(model_versions)).scalar() == 0


def test_killed_cli_run_leaves_registry_consistent(ws: Workspace) -> None:
    _ingest_slice(ws)
    build_features(ws)
    env = {**os.environ}
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainer.cli", "train"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 3.0
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    _assert_registry_consistent(ws)


def test_bootstrap_restores_a_wiped_emulator(ws: Workspace) -> None:
    report = bootstrap(ws, say=lambda _: None)
    production = registry.get_production(ws.engine, ws.settings.model_name)
    assert production is not None and report.production_version == production.version
    _assert_registry_consistent(ws)
    rows_before = _count_bars(ws)

    # The emulator restarts empty: both buckets lose everything, PostgreSQL keeps its rows.
    for store in (ws.lake, ws.models):
        for key in list(store.keys("")):
            store.delete(key)
    again = bootstrap(ws, say=lambda _: None)
    restored = registry.get_production(ws.engine, ws.settings.model_name)
    assert restored is not None and again.production_version == restored.version
    _assert_registry_consistent(ws)
    assert _count_bars(ws) == rows_before
    pointer = json.loads(ws.models.get(production_pointer_key(ws.settings.model_name)))
    assert pointer["sha256"] == restored.sha256
    # Deterministic retraining rebuilds the very same artifact.
    assert restored.version == production.version
    assert restored.sha256 == production.sha256


def _count_bars(ws: Workspace) -> int:
    from quantcore.db.tables import daily_bars

    with ws.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(daily_bars)).scalar_one())
