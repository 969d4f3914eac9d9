"""The live track record: every served prediction, scored once its prices arrive.

A prediction made as of day ``t`` for ``h`` days is due once its ticker has ``h`` more
daily bars. It is then judged as the trainer labels its rows
(``trainer.modeling.dataset.build_feature_table``): the realised forward return
``close[t+h] / close[t] - 1`` (adjusted closes when both are known) either beat the median
forward return of the day's cross-section — every ticker with a bar on ``t``, at least
``MIN_HISTORY_BARS`` bars of history and ``h`` bars after — or it did not. When that day has
too few tickers for a cross-section, the outcome is the sign of the return instead, and
the row says so.

Scoring is lazy and idempotent: :func:`score_due_predictions` looks only at unscored rows
(a partial index holds them), scores those whose prices are in, and never touches a row
twice. The track record endpoint calls it first.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.predictions.schemas import LiveMetrics, StrategySummary, TrackRecordOut
from api.predictions.tables import BASIS_CROSS_SECTION, BASIS_SIGN, Prediction
from quantcore.features import MIN_HISTORY_BARS

# The trainer's cross-section rule (trainer.modeling.dataset): a date's label needs at
# least MIN_CROSS_SECTION tickers, or half of a smaller panel's, never fewer than 5.
MIN_CROSS_SECTION = 20
MIN_SMALL_CROSS_SECTION = 5
# The IC of a day needs this many scored tickers, as on the model card.
MIN_IC_TICKERS = 5


def required_cross_section(n_tickers: int) -> int:
    return max(MIN_SMALL_CROSS_SECTION, min(MIN_CROSS_SECTION, n_tickers // 2))


# --- the maths (pure) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    realised_return: float
    outcome_up: bool
    basis: str
    cross_section_size: int
    cross_section_median: float | None


def judge(realised_return: float, cross_section: Sequence[float], min_width: int) -> Outcome:
    """Did the ticker's realised return beat the median of the day's cross-section?

    With fewer than ``min_width`` returns that day there is no cross-section to beat, and
    the outcome is whether the return was above zero.
    """
    returns = [r for r in cross_section if math.isfinite(r)]
    if len(returns) >= min_width:
        median = statistics.median(returns)
        return Outcome(
            realised_return, realised_return > median, BASIS_CROSS_SECTION, len(returns), median
        )
    return Outcome(realised_return, realised_return > 0.0, BASIS_SIGN, len(returns), None)


@dataclass(frozen=True)
class ScoredPrediction:
    as_of: date
    prob_up: float
    realised_return: float
    outcome_up: bool
    basis: str


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    n = len(xs)
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    syy = sum((y - mean_y) ** 2 for y in ys)
    if sxx <= 0.0 or syy <= 0.0:
        return None
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return sxy / math.sqrt(sxx * syy)


def daily_ic(scored: Iterable[ScoredPrediction]) -> tuple[list[float], int]:
    """The IC of each day with at least MIN_IC_TICKERS scored predictions, and the largest
    number of scored predictions any one day has."""
    by_day: dict[date, list[ScoredPrediction]] = defaultdict(list)
    for item in scored:
        by_day[item.as_of].append(item)
    ics: list[float] = []
    for day in sorted(by_day):
        items = by_day[day]
        if len(items) < MIN_IC_TICKERS:
            continue
        ic = _pearson([i.prob_up for i in items], [i.realised_return for i in items])
        if ic is not None:
            ics.append(ic)
    widest = max((len(items) for items in by_day.values()), default=0)
    return ics, widest


def live_metrics(scored: Sequence[ScoredPrediction], pending: int) -> LiveMetrics:
    """Hit rate, Brier score and daily IC of the scored predictions."""
    count = len(scored)
    by_basis = {BASIS_CROSS_SECTION: 0, BASIS_SIGN: 0}
    for item in scored:
        by_basis[item.basis] = by_basis.get(item.basis, 0) + 1
    if count == 0:
        return LiveMetrics(
            scored=0,
            pending=pending,
            hit_rate=None,
            brier=None,
            ic_mean=None,
            ic_days=0,
            ic_reason="no served prediction has reached its horizon yet",
            mean_realised_return=None,
            scored_against_cross_section=0,
            scored_by_sign=0,
        )
    hits = sum(1 for item in scored if (item.prob_up > 0.5) == item.outcome_up)
    brier = sum((item.prob_up - float(item.outcome_up)) ** 2 for item in scored) / count
    ics, widest = daily_ic(scored)
    reason = None
    if not ics:
        if widest < MIN_IC_TICKERS:
            reason = (
                f"the IC needs at least {MIN_IC_TICKERS} scored tickers on one day; "
                f"the most on any day so far is {widest}"
            )
        else:
            reason = "prob_up or the realised returns did not vary on any day with enough tickers"
    return LiveMetrics(
        scored=count,
        pending=pending,
        hit_rate=hits / count,
        brier=brier,
        ic_mean=sum(ics) / len(ics) if ics else None,
        ic_days=len(ics),
        ic_reason=reason,
        mean_realised_return=sum(item.realised_return for item in scored) / count,
        scored_against_cross_section=by_basis[BASIS_CROSS_SECTION],
        scored_by_sign=by_basis[BASIS_SIGN],
        first_as_of=min(item.as_of for item in scored),
        last_as_of=max(item.as_of for item in scored),
    )


# --- scoring (database) ----------------------------------------------------------------------

# Unscored predictions whose ticker has ``horizon_days`` bars after the as-of date.
_DUE = sa.text(
    """
    SELECT p.id, p.ticker, p.as_of, p.horizon_days, exit_bar.date AS exit_date
    FROM predictions AS p
    CROSS JOIN LATERAL (
        SELECT b.date FROM daily_bars AS b
        WHERE b.ticker = p.ticker AND b.date > p.as_of
        ORDER BY b.date
        OFFSET p.horizon_days - 1 LIMIT 1
    ) AS exit_bar
    WHERE p.scored_at IS NULL
    """
)

# The forward return over ``h`` bars of every ticker of the day's cross-section (a bar on
# the date, MIN_HISTORY_BARS bars of history up to it, ``h`` bars after it), or of the
# tickers named when ``only`` is given.
_FORWARD_RETURNS = """
    SELECT b0.ticker,
           CASE WHEN b0.adj_close > 0 AND f.adj_close > 0 THEN f.adj_close / b0.adj_close
                ELSE f.close / b0.close END - 1.0 AS fwd_return
    FROM daily_bars AS b0
    CROSS JOIN LATERAL (
        SELECT b1.close, b1.adj_close FROM daily_bars AS b1
        WHERE b1.ticker = b0.ticker AND b1.date > b0.date
        ORDER BY b1.date
        OFFSET :horizon - 1 LIMIT 1
    ) AS f
    WHERE b0.date = :as_of AND b0.close > 0
"""
_CROSS_SECTION = sa.text(
    _FORWARD_RETURNS
    + """
      AND EXISTS (
        SELECT 1 FROM daily_bars AS b2
        WHERE b2.ticker = b0.ticker AND b2.date <= b0.date
        ORDER BY b2.date DESC
        OFFSET :history - 1 LIMIT 1
      )
    """
)
_NAMED = sa.text(_FORWARD_RETURNS + " AND b0.ticker IN :tickers").bindparams(
    sa.bindparam("tickers", expanding=True)
)


def score_due_predictions(session: Session) -> int:
    """Score every served prediction whose prices have arrived; returns how many.

    Cheap when nothing is due (one look-up per unscored prediction, on indexes). Commits.
    """
    due = session.execute(_DUE).all()
    if not due:
        return 0
    n_tickers = session.execute(sa.text("SELECT count(*) FROM tickers")).scalar_one()
    min_width = required_cross_section(int(n_tickers))
    groups: dict[tuple[date, int], list[Any]] = defaultdict(list)
    for row in due:
        groups[(row.as_of, row.horizon_days)].append(row)

    now = datetime.now(UTC)
    updates: list[dict[str, Any]] = []
    for (as_of, horizon), rows in groups.items():
        params = {"as_of": as_of, "horizon": horizon, "history": MIN_HISTORY_BARS}
        cross_section = {
            ticker: float(value)
            for ticker, value in session.execute(_CROSS_SECTION, params)
            if value is not None and math.isfinite(value)
        }
        missing = sorted({row.ticker for row in rows} - set(cross_section))
        own = dict(cross_section)
        if missing:
            for ticker, value in session.execute(
                _NAMED, {"as_of": as_of, "horizon": horizon, "tickers": missing}
            ):
                if value is not None and math.isfinite(value):
                    own[ticker] = float(value)
        returns = list(cross_section.values())
        for row in rows:
            realised = own.get(row.ticker)
            if realised is None:
                continue  # no usable price on the as-of date: left pending
            outcome = judge(realised, returns, min_width)
            updates.append(
                {
                    "pid": row.id,
                    "scored_at": now,
                    "exit_date": row.exit_date,
                    "realised_return": outcome.realised_return,
                    "outcome_up": outcome.outcome_up,
                    "outcome_basis": outcome.basis,
                    "cross_section_size": outcome.cross_section_size,
                    "cross_section_median": outcome.cross_section_median,
                }
            )
    if updates:
        table = cast(sa.Table, Prediction.__table__)
        statement = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("pid"), table.c.scored_at.is_(None))
            .values(
                {
                    name: sa.bindparam(name)
                    for name in (
                        "scored_at",
                        "exit_date",
                        "realised_return",
                        "outcome_up",
                        "outcome_basis",
                        "cross_section_size",
                        "cross_section_median",
                    )
                }
            )
        )
        session.connection().execute(statement, updates)
    session.commit()
    return len(updates)


# --- the endpoint's answer --------------------------------------------------------------------


def _backtest(card: dict[str, Any]) -> tuple[dict[str, StrategySummary], float | None]:
    backtest = card.get("backtest")
    if not isinstance(backtest, dict):
        return {}, None
    strategies = {
        name: StrategySummary(
            **{
                key: value
                for key, value in result.items()
                if key in StrategySummary.model_fields and isinstance(value, int | float)
            }
        )
        for name, result in backtest.items()
        if isinstance(result, dict) and "total_return" in result
    }
    cost = backtest.get("cost_bps")
    return strategies, float(cost) if isinstance(cost, int | float) else None


def track_record(session: Session, version: str) -> TrackRecordOut:
    """How ``version``'s served predictions did, next to its card's out-of-sample numbers.

    Scores what has become due first (so the session is committed). 404 for an unknown
    version.
    """
    from api.registry.service import find_version

    record = find_version(session, version)
    score_due_predictions(session)
    mine = (Prediction.model_name == record.model_name, Prediction.model_version == version)
    rows = session.execute(
        sa.select(
            Prediction.as_of,
            Prediction.prob_up,
            Prediction.realised_return,
            Prediction.outcome_up,
            Prediction.outcome_basis,
        ).where(*mine, Prediction.scored_at.is_not(None))
    ).all()
    pending = session.execute(
        sa.select(sa.func.count()).where(*mine, Prediction.scored_at.is_(None))
    ).scalar_one()
    scored = [
        ScoredPrediction(
            as_of=row.as_of,
            prob_up=row.prob_up,
            realised_return=row.realised_return,
            outcome_up=bool(row.outcome_up),
            basis=row.outcome_basis,
        )
        for row in rows
    ]
    card = record.card if isinstance(record.card, dict) else {}
    strategies, cost = _backtest(card)
    label = card.get("label")
    return TrackRecordOut(
        model_version=record.version,
        model_name=record.model_name,
        status=record.status,
        horizon_days=record.horizon_days,
        label=label if isinstance(label, str) else None,
        live=live_metrics(scored, int(pending)),
        out_of_sample=dict(record.metrics or {}),
        backtest=strategies,
        backtest_cost_bps=cost,
    )
