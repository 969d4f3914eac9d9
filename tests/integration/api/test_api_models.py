"""The model registry as the investor reads it: versions, the production one, cards."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from inference_fixture import ServedModel, register_version


@pytest.fixture
def registry(db_url: str, inference_model: ServedModel) -> dict[str, str]:
    """Three versions: an old retired one, the production one, a newer rejected one."""
    register_version(
        db_url,
        inference_model,
        version="20231201T000000Z-older000",
        status="retired",
        created_at=datetime(2023, 12, 1, tzinfo=UTC),
    )
    register_version(
        db_url, inference_model, created_at=datetime(2024, 1, 1, tzinfo=UTC)
    )  # production
    register_version(
        db_url,
        inference_model,
        version="20240201T000000Z-leaky000",
        status="rejected",
        created_at=datetime(2024, 2, 1, tzinfo=UTC),
        card_changes={
            "leak_check": {"passed": False, "reasons": ["daily IC 0.31 is above 0.08"]},
            "metrics": {**inference_model.card["metrics"], "ic_mean": 0.31},
        },
    )
    return {
        "retired": "20231201T000000Z-older000",
        "production": inference_model.version,
        "rejected": "20240201T000000Z-leaky000",
    }


def test_versions_newest_first_with_headline_metrics(
    client: FlaskClient, auth: Any, registry: dict[str, str], inference_model: ServedModel
) -> None:
    auth.register_and_login(client)
    reply = client.get("/api/models")
    assert reply.status_code == 200
    versions = reply.get_json()
    assert [v["version"] for v in versions] == [
        registry["rejected"],
        registry["production"],
        registry["retired"],
    ]
    assert [v["status"] for v in versions] == ["rejected", "production", "retired"]
    production = versions[1]
    metrics = inference_model.card["metrics"]
    assert production["family"] == inference_model.family
    assert production["horizon_days"] == 5
    assert production["trained_at"].startswith("2024-01-01")
    assert production["promotion_reason"]
    assert production["leak_check_passed"] is True
    for name in ("accuracy", "majority_rate", "mcc", "brier", "ic_mean", "rank_ic_mean"):
        assert production["metrics"][name] == pytest.approx(metrics[name])
    assert production["metrics"]["n_test_rows"] == metrics["n_test_rows"]
    assert versions[0]["leak_check_passed"] is False
    assert versions[0]["metrics"]["ic_mean"] == pytest.approx(0.31)


def test_the_production_version_with_its_card(
    client: FlaskClient, auth: Any, registry: dict[str, str], inference_model: ServedModel
) -> None:
    auth.register_and_login(client)
    reply = client.get("/api/models/production")
    assert reply.status_code == 200
    production = reply.get_json()
    assert production["version"] == registry["production"]
    assert production["status"] == "production"
    assert production["label"] == inference_model.label
    assert production["card"]["folds"] == inference_model.card["folds"]
    assert (
        production["card"]["backtest"]["cost_bps"] == inference_model.card["backtest"]["cost_bps"]
    )


def test_a_card_as_json_and_markdown(
    client: FlaskClient, auth: Any, registry: dict[str, str], inference_model: ServedModel
) -> None:
    auth.register_and_login(client)
    card = client.get(f"/api/models/{registry['production']}/card").get_json()
    assert card["version"] == registry["production"]
    assert card["card"]["metrics"] == inference_model.card["metrics"]
    markdown = card["markdown"]
    assert markdown.startswith(f"# direction-5d {registry['production']}")
    assert "## Out-of-sample metrics" in markdown and "## Backtest after costs" in markdown
    assert "Passed: no sign of look-ahead" in markdown

    leaky = client.get(f"/api/models/{registry['rejected']}/card").get_json()
    assert leaky["status"] == "rejected"
    assert "**FAILED**" in leaky["markdown"] and "daily IC 0.31" in leaky["markdown"]


def test_a_version_without_predictions_has_an_empty_track_record(
    client: FlaskClient, auth: Any, registry: dict[str, str], inference_model: ServedModel
) -> None:
    auth.register_and_login(client)
    reply = client.get(f"/api/models/{registry['retired']}/track-record")
    assert reply.status_code == 200
    record = reply.get_json()
    assert record["model_version"] == registry["retired"]
    assert record["status"] == "retired"
    assert record["live"]["scored"] == 0 and record["live"]["pending"] == 0
    assert record["live"]["hit_rate"] is None
    assert record["live"]["ic_reason"]
    assert record["out_of_sample"]["accuracy"] == pytest.approx(
        inference_model.card["metrics"]["accuracy"]
    )
    long_only = record["backtest"]["long_only"]
    assert long_only["total_return"] == pytest.approx(
        inference_model.card["backtest"]["long_only"]["total_return"]
    )
    assert "equity_curve" not in long_only


def test_unknown_versions_and_no_production_are_404(
    client: FlaskClient, auth: Any, db_url: str, inference_model: ServedModel
) -> None:
    auth.register_and_login(client)
    assert client.get("/api/models").get_json() == []
    none_yet = client.get("/api/models/production")
    assert none_yet.status_code == 404
    assert "no model version is in production" in none_yet.get_json()["error"]["message"]

    register_version(db_url, inference_model, status="candidate")
    assert client.get("/api/models/production").status_code == 404
    for path in ("/api/models/nope/card", "/api/models/nope/track-record"):
        reply = client.get(path)
        assert reply.status_code == 404, path
        assert reply.get_json()["error"]["code"] == "not_found"


def test_models_are_for_signed_in_users(client: FlaskClient, registry: dict[str, str]) -> None:
    for path in (
        "/api/models",
        "/api/models/production",
        f"/api/models/{registry['production']}/card",
        f"/api/models/{registry['production']}/track-record",
    ):
        assert client.get(path).status_code == 401, path


def test_every_user_sees_the_same_registry(
    client: FlaskClient, second_client: FlaskClient, auth: Any, registry: dict[str, str]
) -> None:
    auth.register_and_login(client)
    assert client.get("/api/models").get_json() == second_client.get("/api/models").get_json()
