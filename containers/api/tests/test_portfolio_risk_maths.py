"""Risk maths on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from api.portfolio.risk import (
    annualised_volatility,
    beta,
    correlation,
    herfindahl,
    historical_var_cvar,
    max_drawdown,
)


def test_var_and_cvar_of_twenty_returns_are_the_worst_loss() -> None:
    # 5% of 20 returns is one: VaR and CVaR are both the single worst loss.
    returns = [0.01] * 17 + [-0.02, -0.05, -0.03]
    var, cvar = historical_var_cvar(returns)
    assert var == pytest.approx(0.05)
    assert cvar == pytest.approx(0.05)


def test_var_and_cvar_of_forty_returns_use_the_two_worst() -> None:
    returns = [0.002] * 37 + [-0.04, -0.05, -0.01]
    var, cvar = historical_var_cvar(returns)
    assert var == pytest.approx(0.04)  # the 2nd worst loss
    assert cvar == pytest.approx(0.045)  # mean of the 2 worst
    assert cvar >= var


def test_var_is_negative_when_even_the_worst_day_gained() -> None:
    var, _ = historical_var_cvar([0.01, 0.02, 0.03])
    assert var == pytest.approx(-0.01)


def test_beta_of_a_series_against_itself_is_one_and_scales() -> None:
    rng = np.random.default_rng(7)
    series = rng.normal(0, 0.01, 250)
    assert beta(series, series) == pytest.approx(1.0)
    assert beta(2 * series, series) == pytest.approx(2.0)
    assert beta(-0.5 * series + 0.001, series) == pytest.approx(-0.5)
    assert beta(series, np.zeros(250)) is None  # a flat benchmark has no slope


def test_max_drawdown_of_a_known_path() -> None:
    drawdown = max_drawdown([100, 120, 90, 110, 80, 130])
    assert drawdown is not None
    assert drawdown.depth == pytest.approx(1 - 80 / 120)
    assert (drawdown.peak, drawdown.trough) == (1, 4)


def test_a_rising_path_has_no_drawdown() -> None:
    drawdown = max_drawdown([1, 2, 3])
    assert drawdown is not None and drawdown.depth == 0


def test_annualised_volatility_by_hand() -> None:
    # mean 0, sample variance (0.01² + 0.01²) / 1 = 0.0002; × 252 then √
    assert annualised_volatility([0.01, -0.01]) == pytest.approx(math.sqrt(0.0002 * 252))
    assert annualised_volatility([0.01]) is None


def test_herfindahl_of_known_weights() -> None:
    assert herfindahl([0.5, 0.25, 0.25]) == pytest.approx(0.375)
    assert herfindahl([1.0]) == 1.0


def test_correlation_matrix_names_its_tickers_and_nulls_a_flat_series() -> None:
    frame = pd.DataFrame(
        {"AAA": [0.01, -0.02, 0.03], "BBB": [0.02, -0.04, 0.06], "FLAT": [0.0, 0.0, 0.0]}
    )
    result = correlation(frame)
    assert result.tickers == ["AAA", "BBB", "FLAT"]
    assert result.matrix[0][1] == pytest.approx(1.0)
    assert result.matrix[0][2] is None
