"""Is each number of an answer backed by the data the tools returned for that answer?

Every number written in the answer is compared with every number the tools returned
(numbers inside strings of the tool results included). A number is *verified* when some
tool value, in the same or a percent / basis-point scale, rounds or truncates to it at
the precision it is written with:

- ``5.23%``, ``5.2%`` and ``5%`` all match a tool value of ``0.0523`` (or ``5.23``);
- ``1,234.50``, ``1234.5`` and ``$1,234`` match ``1234.5``; ``1.2M`` matches ``1234567``;
- signs are ignored ("fell 3.2%" for a return of ``-0.032``).

Exempt, by rule, because they are not claims about the data:

- dates (``2013-12-31``, ``Dec 31, 2013``, ``31 December 2013``, ``12/31/2013``,
  ``December 2013``) and bare years from 1900 to 2100;
- small counts: bare integers from 0 to 31 with no decimals, percent sign, currency or
  magnitude (list numbering, "5 trading days", "3 holdings");
- numbers the user wrote in the question.

Numbers that match nothing are reported with their character positions in the answer,
so the web can mark them as unverified.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|"
    r"Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATES = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
    r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?\b"
    rf"|\b{_MONTH}\s+\d{{4}}\b",
    re.IGNORECASE,
)

_NUMBER = re.compile(
    r"(?<![\w.,])"
    r"(?P<sign>[-+\u2212])?"
    r"(?P<currency>[$\u20ac\u00a3])?"
    r"(?P<body>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?P<suffix>\s?%|\s?(?:percent|bps|bp|basis points)\b"
    r"|\s?(?:k|K|M|B|bn|mn|T)\b|\s(?:thousand|million|billion|trillion)\b)?"
    r"(?![\w])"
)

_MAGNITUDE = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "trillion": 1e12,
}

SMALL_COUNT_MAX = 31


@dataclass(frozen=True)
class WrittenNumber:
    """One number as written in the answer."""

    text: str
    start: int
    end: int
    value: float  # in the unit written (5.2 for "5.2%")
    decimals: int  # digits after the decimal point
    scale: str  # "plain", "percent", "bps"
    magnitude: float  # 1, 1e3, 1e6, ...
    has_currency: bool

    @property
    def is_small_count(self) -> bool:
        return (
            self.decimals == 0
            and self.scale == "plain"
            and self.magnitude == 1
            and not self.has_currency
            and float(self.value).is_integer()
            and 0 <= self.value <= SMALL_COUNT_MAX
        )

    @property
    def is_year(self) -> bool:
        return (
            self.decimals == 0
            and self.scale == "plain"
            and self.magnitude == 1
            and not self.has_currency
            and "," not in self.text
            and 1900 <= self.value <= 2100
        )


@dataclass(frozen=True)
class Grounding:
    checked: int  # numbers that needed a source
    unverified: list[WrittenNumber]

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "verified": self.checked - len(self.unverified),
            "unverified": [
                {"text": n.text, "start": n.start, "end": n.end} for n in self.unverified
            ],
        }


def written_numbers(text: str) -> Iterator[WrittenNumber]:
    """Every number in ``text`` outside dates, with its position."""
    masked = _DATES.sub(lambda m: " " * len(m.group(0)), text)
    for match in _NUMBER.finditer(masked):
        body = match["body"].replace(",", "")
        try:
            value = float(Decimal(body))
        except InvalidOperation:  # pragma: no cover - the pattern only admits numbers
            continue
        suffix = (match["suffix"] or "").strip().lower()
        scale = "plain"
        magnitude = 1.0
        if suffix in ("%", "percent"):
            scale = "percent"
        elif suffix in ("bps", "bp", "basis points"):
            scale = "bps"
        elif suffix:
            magnitude = _MAGNITUDE.get(suffix, 1.0)
        if match["sign"] in ("-", "\u2212"):
            value = -value
        decimals = len(body.split(".", 1)[1]) if "." in body else 0
        yield WrittenNumber(
            text=text[match.start() : match.end()],
            start=match.start(),
            end=match.end(),
            value=value,
            decimals=decimals,
            scale=scale,
            magnitude=magnitude,
            has_currency=bool(match["currency"]),
        )


def source_values(results: Iterable[Any]) -> list[float]:
    """Every number in the tool results (JSON text or parsed), strings included."""
    found: list[float] = []

    def walk(item: Any) -> None:
        if isinstance(item, bool) or item is None:
            return
        if isinstance(item, int | float):
            if math.isfinite(item):
                found.append(float(item))
        elif isinstance(item, str):
            for number in written_numbers(item):
                found.append(number.value * number.magnitude)
                if number.scale == "percent":
                    found.append(number.value / 100)
        elif isinstance(item, dict):
            for value in item.values():
                walk(value)
        elif isinstance(item, list | tuple):
            for value in item:
                walk(value)

    for result in results:
        if isinstance(result, str):
            try:
                walk(json.loads(result))
            except ValueError:
                walk(result)
        else:
            walk(result)
    return found


def _matches(number: WrittenNumber, source: float) -> bool:
    unit = 10.0 ** (-number.decimals) * number.magnitude
    written = abs(number.value) * number.magnitude
    candidates: tuple[float, ...]
    if number.scale == "percent":
        candidates = (abs(source) * 100, abs(source))
    elif number.scale == "bps":
        candidates = (abs(source) * 10_000, abs(source) * 100)
    else:
        candidates = (abs(source),)
    for candidate in candidates:
        # Rounded to the written precision, or truncated to it.
        if abs(candidate - written) <= unit / 2 * (1 + 1e-9) + 1e-12:
            return True
        truncated = math.floor(candidate / unit + 1e-9) * unit
        if abs(truncated - written) <= unit * 1e-6:
            return True
    return False


def check_answer(answer: str, tool_results: Iterable[Any], question: str = "") -> Grounding:
    """Which numbers of ``answer`` no tool result (nor the question) backs."""
    sources = source_values(tool_results)
    asked = {abs(n.value * n.magnitude) for n in written_numbers(question)}
    checked = 0
    unverified: list[WrittenNumber] = []
    for number in written_numbers(answer):
        if number.is_small_count or number.is_year:
            continue
        if abs(number.value * number.magnitude) in asked:
            continue
        checked += 1
        if not any(_matches(number, source) for source in sources):
            unverified.append(number)
    return Grounding(checked=checked, unverified=unverified)
