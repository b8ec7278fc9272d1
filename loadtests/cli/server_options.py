"""The options that name servers: their choices and help come from the registry when they are used.

Nothing here lists a server. ``--help`` asks the registry (loadtests/core/servers/)
when it is printed and a value is checked against it when the command runs, so a
server module added to the registry shows up in every command without touching this
file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from loadtests.core import servers
from loadtests.core.errors import ConfigError
from loadtests.results.records import HTTP_PARSERS


class ServerName(click.ParamType):
    """One registered server; the metavar lists them as --help is printed."""

    name = "server"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "[" + "|".join(servers.names()) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return servers.check_server(str(value))
        except ConfigError as exc:
            self.fail(str(exc), param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(name) for name in servers.names() if name.startswith(incomplete)]


class RegistryHelpOption(click.Option):
    """An option whose help text is written from the registry when --help is shown."""

    def __init__(self, *args: Any, help_text: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help_text = help_text

    @property  # type: ignore[override]
    def help(self) -> str:
        return self.help_text()

    @help.setter
    def help(self, value: str | None) -> None:
        """click sets ``help`` while building the option; the registry's text replaces it."""


def server_list() -> str:
    """``uvicorn (one process per worker, one event loop each), granian (...)``."""
    return ", ".join(f"{spec.name} ({spec.description})" for spec in servers.registered())


def _http_help() -> str:
    choosing = ", ".join(spec.name for spec in servers.registered() if not spec.http_parser) or "none here"
    fixed = "".join(f" {spec.name} always uses {spec.http_parser}." for spec in servers.registered()
                    if spec.http_parser)
    return (f"The HTTP/1 parser, for servers that let you choose it ({choosing}): h11 is pure Python, httptools a C "
            f"extension.{fixed} Default: auto.")


servers_option = click.option(
    "--servers", cls=RegistryHelpOption,
    help_text=lambda: f"Only these servers, comma-separated: {', '.join(servers.names())}. A server the preset does "
                      "not list runs with the configurations of the preset's first server.")
server_option = click.option(
    "--server", type=ServerName(), default=servers.DEFAULT_SERVER, show_default=True, cls=RegistryHelpOption,
    help_text=lambda: f"The server: {server_list()}.")
workers_option = click.option(
    "--workers", type=click.IntRange(1, 64), default=1, show_default=True, cls=RegistryHelpOption,
    help_text=lambda: "Server workers; each server says what one is in --server's list (processes, or threads with "
                      "an event loop each).")
http_option = click.option(
    "--http", type=click.Choice(HTTP_PARSERS), envvar="LAB_HTTP", show_envvar=True, cls=RegistryHelpOption,
    help_text=_http_help)
