"""--soak DURATION on safety and compare: read as people type durations, refused before anything starts when too short."""

from __future__ import annotations

import click
import pytest

from loadtests.cli.main import main
from loadtests.cli.options import MIN_SOAK_S


def soak_param(command: str) -> click.Option:
    return next(p for p in main.commands[command].params if isinstance(p, click.Option) and p.name == "soak_s")


@pytest.mark.parametrize("command", ["safety", "compare"])
def test_both_commands_take_a_soak_in_any_unit(command: str) -> None:
    param = soak_param(command)
    assert param.envvar == "LAB_SOAK" and param.type.convert("2m", param, None) == 120.0
    assert param.type.convert("1h", param, None) == 3600.0


def test_a_soak_too_short_for_a_trend_or_not_a_duration_is_a_usage_error() -> None:
    param = soak_param("safety")
    with pytest.raises(click.BadParameter, match="too short: a soak needs at least 30 s"):
        param.type.convert("10s", param, None)
    with pytest.raises(click.BadParameter, match="is not a duration"):
        param.type.convert("soon", param, None)
    assert MIN_SOAK_S == 30.0 and "run" not in [c for c in main.commands if soak_param_or_none(c)]


def soak_param_or_none(command: str) -> click.Option | None:
    return next((p for p in main.commands[command].params if isinstance(p, click.Option) and p.name == "soak_s"), None)
