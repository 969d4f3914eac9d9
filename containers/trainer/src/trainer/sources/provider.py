"""What the live providers share: one download per ticker, all under one hard deadline.

A provider never raises to its caller and never hands back partial garbage: a ticker
whose download fails, hangs past the deadline or returns something that is not a clean
CSV of daily bars gets no bars and an error in the report saying what happened.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from functools import partial

from trainer.sources.base import (
    DeadlineExceededError,
    FetchResult,
    assemble,
    normalise_tickers,
    run_with_deadline,
)
from trainer.validation import Issue, ValidatedFile, validate_file

DEFAULT_DEADLINE_SECONDS = 15.0


class ProviderError(Exception):
    """The provider answered, but not with prices."""


def describe_failure(exc: BaseException) -> str:
    if isinstance(exc, DeadlineExceededError | ProviderError):
        return str(exc)
    text = " ".join(str(exc).split())
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class LiveProvider(ABC):
    """A network price provider: subclasses download one ticker's daily CSV."""

    name: str
    deadline_seconds: float
    workers: int = 4

    @abstractmethod
    def filename_for(self, ticker: str) -> str: ...

    @abstractmethod
    def download(self, ticker: str, start: date | None, end: date | None, budget: float) -> bytes:
        """The provider's CSV for one ticker; raises on any failure."""

    def fetch(
        self,
        tickers: Sequence[str] | None,
        start: date | None = None,
        end: date | None = None,
    ) -> FetchResult:
        return self.fetch_within(tickers, start, end, self.deadline_seconds)

    def fetch_within(
        self,
        tickers: Sequence[str] | None,
        start: date | None,
        end: date | None,
        deadline_seconds: float,
    ) -> FetchResult:
        wanted = normalise_tickers(tickers)
        if not wanted:
            result = FetchResult(source=self.name)
            result.report.issues.append(
                Issue(
                    self.name,
                    None,
                    None,
                    None,
                    f"{self.name}: a live provider needs the tickers to fetch",
                    "error",
                )
            )
            return result
        began = time.monotonic()

        def job(ticker: str) -> bytes:
            remaining = deadline_seconds - (time.monotonic() - began)
            return self.download(ticker, start, end, max(0.1, remaining))

        outcomes = run_with_deadline(
            {ticker: partial(job, ticker) for ticker in wanted},
            deadline_seconds,
            workers=self.workers,
        )
        checked: list[ValidatedFile] = []
        for ticker in wanted:
            filename = self.filename_for(ticker)
            outcome = outcomes[ticker]
            if isinstance(outcome, BaseException):
                checked.append(self._failed(filename, ticker, describe_failure(outcome)))
                continue
            file = validate_file(
                outcome, filename=filename, source=self.name, default_ticker=ticker, strict=True
            )
            if file.report.ok and set(file.bars["ticker"]) - {ticker}:
                file = self._failed(filename, ticker, "returned prices of another ticker")
            file.report.issues[:] = [self._labelled(i, ticker) for i in file.report.issues]
            checked.append(file)
        result = assemble(self.name, checked, tickers=wanted, start=start, end=end)
        got = set(result.bars["ticker"])
        for ticker in wanted:
            if ticker not in got and not any(
                issue.ticker == ticker and issue.severity == "error"
                for issue in result.report.issues
            ):
                result.report.issues.append(
                    Issue(
                        self.filename_for(ticker),
                        None,
                        ticker,
                        None,
                        f"{self.name}: no bars for {ticker} in the requested dates",
                        "error",
                    )
                )
        # Tickers were already checked; drop the generic "has no prices" notes for them.
        result.report.issues = [
            issue
            for issue in result.report.issues
            if not (issue.file == self.name and issue.problem.startswith(f"{self.name} has no"))
        ]
        return result

    def _labelled(self, issue: Issue, ticker: str) -> Issue:
        if issue.severity != "error" or issue.problem.startswith(f"{self.name}:"):
            return issue
        return replace(
            issue, ticker=issue.ticker or ticker, problem=f"{self.name}: {issue.problem}"
        )

    def _failed(self, filename: str, ticker: str, problem: str) -> ValidatedFile:
        file = validate_file(
            b"", filename=filename, source=self.name, default_ticker=ticker, strict=True
        )
        file.report.issues[:] = [
            Issue(filename, None, ticker, None, f"{self.name}: {problem}", "error")
        ]
        return file
