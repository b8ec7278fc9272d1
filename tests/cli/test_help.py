"""``--help`` of every command: each option that reads a variable names it, and every name is ``LAB_*``."""

from __future__ import annotations

import subprocess

import click
import pytest

from loadtests.cli.main import main
from tests.conftest import GIL_LAB, require_setup

OPTIONS = [(name, param) for name, command in sorted(main.commands.items()) for param in command.params
           if isinstance(param, click.Option) and param.envvar is not None]


@pytest.mark.parametrize(("command", "option"), OPTIONS, ids=[f"{c}{o.opts[0]}" for c, o in OPTIONS])
def test_an_option_with_a_variable_shows_it_and_follows_the_scheme(command: str, option: click.Option) -> None:
    names = [option.envvar] if isinstance(option.envvar, str) else list(option.envvar)
    assert all(name.startswith("LAB_") for name in names), names
    assert option.show_envvar, f"gil-lab {command} {option.opts[0]} reads {names} but --help does not say so"


def test_options_read_variables() -> None:
    assert len(OPTIONS) >= 15  # the parametrized test above has something to check


@pytest.mark.slow
def test_help_prints_the_variables() -> None:
    """The real console command, as a user sees it."""
    require_setup()
    out = subprocess.run([str(GIL_LAB), "compare", "--help"], capture_output=True, text=True, timeout=60).stdout
    out = " ".join(out.split())  # click wraps the help text
    for name in ("LAB_PRESET", "LAB_SCENARIO", "LAB_RESULTS_DIR", "LAB_SLO_MS", "LAB_APP_URLS"):
        assert f"env var: {name}" in out
