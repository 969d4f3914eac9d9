"""The live fallback chain: Stooq first, then Yahoo; the first valid answer per ticker wins.

The deadline is shared: each provider gets an equal part of the time that is left, so a
provider that hangs cannot starve the ones after it, and one that fails fast leaves them
more. A provider's failure becomes a warning once a later provider has the ticker, and
stays an error when none has it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from trainer.sources.base import FetchResult, finish_bars, normalise_tickers
from trainer.sources.provider import DEFAULT_DEADLINE_SECONDS, LiveProvider
from trainer.validation import Issue, ValidationReport


class LiveSource:
    name = "live"

    def __init__(
        self,
        providers: Sequence[LiveProvider],
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    ) -> None:
        if not providers:
            raise ValueError("the live chain needs at least one provider")
        self.providers = list(providers)
        self.deadline_seconds = float(deadline_seconds)

    def fetch(
        self,
        tickers: Sequence[str] | None,
        start: date | None = None,
        end: date | None = None,
    ) -> FetchResult:
        result = FetchResult(source=self.name)
        wanted = normalise_tickers(tickers)
        if not wanted:
            result.report.issues.append(
                Issue("live", None, None, None, "live: the tickers to fetch are needed", "error")
            )
            return result
        began = time.monotonic()
        remaining = list(wanted)
        frames = []
        report = ValidationReport()
        for position, provider in enumerate(self.providers):
            if not remaining:
                break
            time_left = self.deadline_seconds - (time.monotonic() - began)
            budget = max(0.0, time_left) / (len(self.providers) - position)
            answer = provider.fetch_within(remaining, start, end, budget)
            report.merge(answer.report)
            result.rejected_files.extend(f"{provider.name}/{f}" for f in answer.rejected_files)
            found = set(answer.bars["ticker"])
            frames.append(answer.bars)
            result.raw_files.extend(answer.raw_files)
            remaining = [ticker for ticker in remaining if ticker not in found]
        served = set(wanted) - set(remaining)
        report.issues = [
            replace(issue, severity="warning", problem=f"{issue.problem} (another provider had it)")
            if issue.severity == "error" and issue.ticker in served
            else issue
            for issue in report.issues
        ]
        for ticker in remaining:
            names = ", ".join(provider.name for provider in self.providers)
            report.issues.append(
                Issue(
                    "live", None, ticker, None, f"live: no provider had {ticker} ({names})", "error"
                )
            )
        result.report = report
        result.bars = finish_bars(frames)
        result.raw_files.sort(key=lambda raw: (raw.ticker, raw.source, raw.filename))
        return result
