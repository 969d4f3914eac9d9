"""`trainer` — the command line of the training pipeline.

Exit codes: 0 done; 1 unexpected failure; 2 bad usage or configuration; 3 input rejected
by validation (nothing from the rejected files was written); 4 no data could be fetched
(providers unreachable or returning garbage); 5 the candidate was not promoted.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

EXIT_REJECTED = 3
EXIT_NO_DATA = 4
EXIT_NOT_PROMOTED = 5

console = Console(stderr=True)
out = Console()


@contextmanager
def progress_bars() -> Iterator[Callable[[str, int, int], None]]:
    """A callback for long stages that draws one bar per stage."""
    with Progress(
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    ) as bars:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=max(total, 1))
            bars.update(tasks[stage], completed=done, total=max(total, 1))

        yield update


def _workspace() -> Any:
    from trainer.pipeline import Workspace
    from trainer.settings import get_settings

    return Workspace.open(get_settings())


def _tickers(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [part.strip().upper() for part in value.split(",") if part.strip()]


class PipelineFailure(click.ClickException):
    exit_code = 1


def _run_stage(fn: Callable[[], Any]) -> Any:
    from trainer.pipeline import PipelineError
    from trainer.registry import RegistryError

    try:
        return fn()
    except (PipelineError, RegistryError) as exc:
        raise PipelineFailure(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Ingest market data, build features, train, evaluate, register and promote models."""


@cli.command("ingest")
@click.argument("source", type=click.Choice(["sample", "csv", "stooq", "yahoo", "live"]))
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=True))
@click.option("--tickers", help="Comma-separated tickers (default: all the source has).")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="First date to keep.")
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), help="Last date to keep (replays history)."
)
def ingest_command(
    source: str, path: str | None, tickers: str | None, start: Any, until: Any
) -> None:
    """Fetch SOURCE (sample, csv PATH, stooq, yahoo, live) into the lake and the database."""
    from trainer import pipeline

    if source == "csv" and not path:
        raise click.UsageError("csv needs a PATH: a .csv file or a folder of them")
    ws = _workspace()
    ws.ensure_buckets()
    began = time.monotonic()
    result = _run_stage(
        lambda: pipeline.fetch(
            ws,
            source,
            tickers=_tickers(tickers),
            path=path,
            start=start.date() if start else None,
            until=until.date() if until else None,
        )
    )
    if result.report.issues:
        console.print(result.report.render())
    with progress_bars() as progress:
        summary = pipeline.run_ingest(ws, result, progress)
    elapsed = time.monotonic() - began
    out.print(
        f"ingested {summary.tickers} tickers from {source}: {summary.rows_accepted} of "
        f"{summary.rows_checked} rows accepted, {summary.rows_changed} database rows changed, "
        f"{summary.raw_written} raw and {summary.curated_written} curated files written "
        f"in {elapsed:.1f}s"
    )
    for ticker, kept in sorted(summary.kept_other_source.items()):
        out.print(f"  kept {ticker} from {kept}: it holds the longer history (never stitched)")
    for ticker, old in sorted(summary.replaced_source.items()):
        out.print(f"  replaced {ticker} from {old} with the longer series from this source")
    if result.rejected_files:
        console.print(
            f"[red]rejected {len(result.rejected_files)} file(s); nothing from them was "
            "written[/red]"
        )
        sys.exit(EXIT_REJECTED)
    if result.bars.empty:
        console.print("[red]no data was fetched; nothing was written[/red]")
        sys.exit(EXIT_NO_DATA)


@cli.command("build-features")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Use bars up to this date.")
@click.option("--tickers", help="Comma-separated tickers (default: all in the lake).")
def build_features_command(until: Any, tickers: str | None) -> None:
    """Compute the feature table from the curated lake and store it under features/."""
    from trainer import pipeline

    ws = _workspace()
    build = _run_stage(
        lambda: pipeline.build_features(
            ws, until=until.date() if until else None, tickers=_tickers(tickers)
        )
    )
    info = build.data_info
    out.print(
        f"feature table: {len(build.table)} rows over {len(info['tickers'])} tickers, "
        f"{info['start']} to {info['end']}, stored at {build.key}"
    )


@cli.command("train")
@click.option("--rebuild-features", is_flag=True, help="Build the feature table first.")
def train_command(rebuild_features: bool) -> None:
    """Train every model family walk-forward, keep the best, register it as a candidate."""
    from trainer import pipeline

    ws = _workspace()
    build = _run_stage(
        lambda: pipeline.build_features(ws) if rebuild_features else pipeline.load_features(ws)
    )
    with progress_bars() as progress:
        result = _run_stage(lambda: pipeline.train(ws, build, progress=progress))
    _print_summary(result.record.card)
    out.print(f"registered {result.record.version} as a candidate")


@cli.command("evaluate")
@click.argument("version", required=False)
def evaluate_command(version: str | None) -> None:
    """Show a version's out-of-sample evaluation against its baselines (default: latest)."""

    ws = _workspace()
    record = _pick(ws, version)
    _print_summary(record.card)


@cli.command("promote")
@click.argument("version", required=False)
def promote_command(version: str | None) -> None:
    """Make VERSION (default: the latest candidate) production if it earns it."""
    from trainer import pipeline, registry

    ws = _workspace()
    if version is None:
        record = registry.latest_candidate(ws.engine, ws.settings.model_name)
        if record is None:
            raise PipelineFailure("no candidate to promote: run `trainer train` first")
    else:
        record = _pick(ws, version)
    updated, decision = _run_stage(lambda: pipeline.promote(ws, record))
    out.print(f"{updated.version}: {updated.status}. {decision.reason}")
    if updated.status != "production":
        sys.exit(EXIT_NOT_PROMOTED)


@cli.command("run")
@click.option("--source", default=None, help="Source to ingest (default: TRAINER_SOURCE).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Replay history to this date.")
def run_command(source: str | None, until: Any) -> None:
    """Ingest, build features, train, evaluate and promote: the scheduled job."""
    from trainer import pipeline

    ws = _workspace()
    ws.ensure_buckets()
    source = source or ws.settings.default_source
    stop = until.date() if until else None
    timings: dict[str, float] = {}
    began = time.monotonic()
    result = _run_stage(lambda: pipeline.fetch(ws, source, until=stop))
    if result.report.issues and not result.report.ok:
        console.print(result.report.render())
    with progress_bars() as progress:
        summary = pipeline.run_ingest(ws, result, progress)
        timings["ingest"] = time.monotonic() - began
        out.print(f"ingest: {summary.tickers} tickers, {summary.rows_changed} rows changed")
        if result.bars.empty and not pipeline.curated.list_series(ws.lake):
            console.print("[red]no data fetched and the lake is empty[/red]")
            sys.exit(EXIT_NO_DATA)
        mark = time.monotonic()
        build = _run_stage(lambda: pipeline.build_features(ws, until=stop))
        timings["features"] = time.monotonic() - mark
        mark = time.monotonic()
        trained = _run_stage(lambda: pipeline.train(ws, build, progress=progress))
        timings["train"] = time.monotonic() - mark
    mark = time.monotonic()
    record, decision = _run_stage(
        lambda: pipeline.promote(ws, trained.record, build=build, outcome=trained.outcome)
    )
    timings["promote"] = time.monotonic() - mark
    _print_summary(record.card)
    out.print(f"{record.version}: {record.status}. {decision.reason}")
    out.print("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))


@cli.command("card")
@click.argument("version", required=False)
@click.option("--production", is_flag=True, help="The production version's card.")
@click.option("--json", "as_json", is_flag=True, help="Print the card as JSON.")
def card_command(version: str | None, production: bool, as_json: bool) -> None:
    """Print a model card (default: the latest version)."""
    from quantcore.card import render_markdown
    from trainer import registry

    ws = _workspace()
    if production:
        record = registry.get_production(ws.engine, ws.settings.model_name)
        if record is None:
            raise PipelineFailure("there is no production model yet: run `trainer run`")
    else:
        record = _pick(ws, version)
    if as_json:
        click.echo(json.dumps(record.card, indent=2, sort_keys=True))
    else:
        click.echo(render_markdown(record.card))


@cli.command("versions")
def versions_command() -> None:
    """List registered versions with their status and headline metrics."""
    from trainer import registry

    ws = _workspace()
    table = Table("version", "family", "status", "accuracy", "majority", "IC", "reason")
    for record in registry.list_versions(ws.engine, ws.settings.model_name):
        metrics = record.metrics
        table.add_row(
            record.version,
            record.family,
            record.status,
            _fmt(metrics.get("accuracy")),
            _fmt(metrics.get("majority_rate")),
            _fmt(metrics.get("ic_mean")),
            (record.promotion_reason or "")[:80],
        )
    out.print(table)


@cli.command("bootstrap")
def bootstrap_command() -> None:
    """Restore the lake and make sure a production model exists (run by `make up`)."""
    from trainer.bootstrap import bootstrap

    ws = _workspace()
    with progress_bars() as progress:
        report = _run_stage(lambda: bootstrap(ws, progress=progress))
    out.print(f"production model: {report.production_version}")


def _pick(ws: Any, version: str | None) -> Any:
    from trainer import registry

    if version is None:
        versions = registry.list_versions(ws.engine, ws.settings.model_name)
        if not versions:
            raise PipelineFailure("no model versions yet: run `trainer train`")
        return versions[-1]
    record = registry.get_version(ws.engine, ws.settings.model_name, version)
    if record is None:
        raise PipelineFailure(f"unknown version {version}")
    return record


def _fmt(value: Any) -> str:
    return "—" if value is None else f"{float(value):.4f}"


def _print_summary(card: dict[str, Any]) -> None:
    metrics = card.get("metrics", {})
    table = Table(title=f"{card.get('version')} ({card.get('family')}) out of sample")
    table.add_column("signal")
    for name in ("accuracy", "majority_rate", "mcc", "brier", "ic_mean", "ic_ir", "rank_ic_mean"):
        table.add_column(name)
    rows = {"model": metrics, **card.get("baselines", {})}
    for label, values in rows.items():
        table.add_row(
            label,
            *(
                _fmt(values.get(k))
                for k in (
                    "accuracy",
                    "majority_rate",
                    "mcc",
                    "brier",
                    "ic_mean",
                    "ic_ir",
                    "rank_ic_mean",
                )
            ),
        )
    out.print(table)
    leak = card.get("leak_check", {})
    if leak and not leak.get("passed", True):
        out.print("[red]leak check failed:[/red] " + "; ".join(leak.get("reasons", [])))


def main() -> None:
    cli(prog_name="trainer")


if __name__ == "__main__":
    main()
