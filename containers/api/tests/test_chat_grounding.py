"""Numbers in an answer are checked against the tool results of that answer."""

from __future__ import annotations

import json

import pytest

from api.chat.grounding import check_answer, written_numbers


def unverified(answer: str, *results: object, question: str = "") -> list[str]:
    return [n.text for n in check_answer(answer, results, question=question).unverified]


@pytest.mark.parametrize(
    "written", ["5.23%", "5.2%", "5%", "+5.23%", "0.0523", "0.05", "523 bps", "5.23 percent"]
)
def test_a_fraction_matches_its_percent_forms(written: str) -> None:
    assert unverified(f"The return was {written}.", {"change_pct": 0.0523}) == []


@pytest.mark.parametrize("written", ["1,234.50", "1234.5", "$1,234.50", "1,234", "1.2k", "1,235"])
def test_thousands_separators_currency_and_rounding(written: str) -> None:
    assert unverified(f"Worth {written} today.", {"value": 1234.5}) == []


def test_a_value_rounded_the_wrong_way_is_not_a_match() -> None:
    assert unverified("It closed at 123.46.", {"close": 123.456}) == []  # rounded
    assert unverified("It closed at 123.45.", {"close": 123.456}) == []  # truncated
    assert unverified("It closed at 123.47.", {"close": 123.456}) == ["123.47"]
    assert unverified("Down 6%.", {"change_pct": -0.0523}) == ["6%"]


def test_signs_are_ignored_and_magnitudes_scaled() -> None:
    assert unverified("It fell 3.2%.", {"change_pct": -0.032}) == []
    assert unverified("Volume was 1.2M shares.", {"volume": 1_234_567}) == []
    assert unverified("Volume was 1.3M shares.", {"volume": 1_234_567}) == ["1.3M"]


def test_dates_years_and_small_counts_are_exempt() -> None:
    answer = (
        "As of 2013-12-31 (Dec 31, 2013; 31 December 2013; 12/31/2013), in 2013, "
        "your 3 holdings over 5 trading days: 1. AAPL 2. MSFT"
    )
    result = check_answer(answer, [{}])
    assert result.unverified == [] and result.checked == 0


def test_numbers_the_user_wrote_need_no_source() -> None:
    assert unverified("Over 90 days it rose.", {}, question="AAPL over 90 days?") == []
    assert unverified("Over 90 days it rose.", {}) == ["90"]


def test_only_the_invented_number_is_marked_with_its_position() -> None:
    results = [json.dumps({"ticker": "AAPL", "close": 189.9512, "as_of": "2024-03-01"})]
    answer = "AAPL closed at 189.95 on 2024-03-01; analysts see 215.40 next."
    checked = check_answer(answer, results)
    assert checked.checked == 2
    (marked,) = checked.unverified
    assert answer[marked.start : marked.end] == "215.40"
    assert checked.as_dict()["unverified"] == [
        {"text": "215.40", "start": marked.start, "end": marked.end}
    ]


def test_numbers_inside_strings_of_the_results_count() -> None:
    results = [{"explanation": "only 42.5% of the window had prices"}]
    assert unverified("Only 42.5% of the window had prices.", *results) == []


def test_words_with_digits_are_not_numbers() -> None:
    found = [n.text for n in written_numbers("Model v3 of direction-5d on BRK.B, Q3 and 10x")]
    assert found == []
