"""Benchmark of `trainer run` on the whole bundled sample.

Starts its own throwaway PostgreSQL and S3 emulator, then runs each stage in its own
process (wall time and peak RSS per stage), and finally the whole `trainer run` in one
process. Prints rows per second for ingest and the out-of-sample metrics of the trained
model next to its baselines. Targets on 2 cores: whole run ≤ 5 min and ≤ 2 GB peak RSS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def _stage(name: str, args: list[str], env: dict[str, str], workdir: Path) -> dict[str, Any]:
    report = workdir / f"{name}.json"
    completed = subprocess.run(
        [sys.executable, str(HERE / "stage.py"), str(report), *args],
        env=env,
        capture_output=True,
        text=True,
    )
    if not report.exists():
        raise SystemExit(f"{name} failed:\n{completed.stdout}\n{completed.stderr}")
    figures: dict[str, Any] = json.loads(report.read_text())
    figures["stdout"] = completed.stdout
    if figures["exit_code"] not in (0, 5):
        raise SystemExit(f"{name} exited {figures['exit_code']}:\n{completed.stderr}")
    return figures


def _rows_in_sample() -> int:
    from trainer.sources import get_source

    return len(get_source("sample").fetch(None, None, None).bars)


def main() -> None:
    from devstack.testing import create_database, moto_s3_server, postgres_server
    from quantcore.db.migrate import upgrade
    from quantcore.lake import ObjectStore

    # The suite's own emulator accepts any credentials; never sign for real AWS here.
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[key] = "test"
    print("== trainer: `trainer run` on the whole bundled sample")
    with tempfile.TemporaryDirectory() as tmp, postgres_server() as pg_url, moto_s3_server() as s3:
        workdir = Path(tmp)
        suffix = uuid.uuid4().hex[:8]
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_ENDPOINT_URL": s3,
            "LAKE_BUCKET": f"bench-lake-{suffix}",
            "MODELS_BUCKET": f"bench-models-{suffix}",
            "TERM": "dumb",
        }
        results: dict[str, dict[str, Any]] = {}
        for round_name in ("stages", "run"):
            url = create_database(pg_url, f"bench_{round_name}_{suffix}")
            upgrade(url)
            env["DATABASE_URL"] = url
            env["LAKE_BUCKET"] = f"bench-lake-{round_name}-{suffix}"
            env["MODELS_BUCKET"] = f"bench-models-{round_name}-{suffix}"
            for bucket in (env["LAKE_BUCKET"], env["MODELS_BUCKET"]):
                ObjectStore.connect(bucket, endpoint_url=s3).ensure_bucket()
            if round_name == "stages":
                for stage, args in (
                    ("ingest", ["ingest", "sample"]),
                    ("build-features", ["build-features"]),
                    ("train", ["train"]),
                    ("promote", ["promote"]),
                ):
                    results[stage] = _stage(stage, args, env, workdir)
            else:
                results["run (one process)"] = _stage(
                    "run", ["run", "--source", "sample"], env, workdir
                )
                card = json.loads(
                    subprocess.run(
                        [sys.executable, "-m", "trainer.cli", "card", "--json"],
                        env=env,
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                )
        rows = _rows_in_sample()
        print(f"{'stage':<20}{'wall s':>10}{'peak RSS MiB':>15}")
        for stage, figures in results.items():
            print(f"{stage:<20}{figures['seconds']:>10.1f}{figures['peak_mib']:>15.0f}")
        total = sum(results[s]["seconds"] for s in ("ingest", "build-features", "train", "promote"))
        peak = max(results[s]["peak_mib"] for s in results)
        print(f"{'sum of stages':<20}{total:>10.1f}")
        print(f"ingest rows per second: {rows / results['ingest']['seconds']:,.0f} ({rows:,} rows)")
        whole = results["run (one process)"]
        print(
            f"whole run: {whole['seconds']:.1f} s (target ≤ 300 s: "
            f"{'met' if whole['seconds'] <= 300 else 'MISSED'}), peak RSS {peak:.0f} MiB "
            f"(target ≤ 2048 MiB: {'met' if peak <= 2048 else 'MISSED'})"
        )
        _print_card(card)


def _print_card(card: dict[str, Any]) -> None:
    names = ("accuracy", "majority_rate", "mcc", "brier", "ic_mean", "ic_ir", "rank_ic_mean")
    print(f"model {card['version']} ({card.get('family')}), out of sample:")
    print(f"{'signal':<12}" + "".join(f"{n:>14}" for n in names))
    rows = {"model": card["metrics"], **card.get("baselines", {})}
    for label, values in rows.items():
        cells = "".join(
            f"{values[n]:>14.4f}" if isinstance(values.get(n), int | float) else f"{'—':>14}"
            for n in names
        )
        print(f"{label:<12}{cells}")
    print(f"{'backtest':<12}{'cagr':>14}{'sharpe':>14}{'max_drawdown':>14}")
    for leg, values in card.get("backtest", {}).items():
        if isinstance(values, dict) and "cagr" in values:
            print(
                f"{leg:<12}{values['cagr']:>14.4f}{values['sharpe']:>14.4f}"
                f"{values['max_drawdown']:>14.4f}"
            )
    leak = card.get("leak_check", {})
    print(f"leak check passed: {leak.get('passed')} {leak.get('reasons') or ''}")
    print(f"promoted: {card.get('promoted')} — {card.get('promotion_reason')}")


if __name__ == "__main__":
    main()
