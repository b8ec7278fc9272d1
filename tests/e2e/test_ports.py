"""Two servers, one port: the lab never takes another server for its own, and starts again on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.core.errors import ServerError
from loadtests.measure import ports, servers
from loadtests.measure.servers import ServerSettings, running_server
from loadtests.provision import envs
from tests.conftest import require_setup


def test_a_server_whose_port_was_taken_starts_again_elsewhere_and_never_measures_the_other(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_setup()
    settings = ServerSettings(python=envs.app_python("app-gil"))
    with running_server(settings, tmp_path / "other-lab.log") as other:
        # the port the lab chooses is taken a moment later (here: at once) by another lab's server
        chosen: Iterator[int] = iter([other.port])
        monkeypatch.setattr(servers, "free_port", lambda host: next(chosen, None) or ports.free_port(host))
        with running_server(settings, tmp_path / "ours.log") as ours:
            assert ours.port != other.port
            assert ours.runtime is not None and ours.runtime.pid == ours.pid != other.pid
        log = (tmp_path / "ours.log").read_text().lower()
        assert "address already in use" in log and log.count("$ ") == 2  # started twice
        # a port the user named is not changed: a clear error, never the other server's answer
        with pytest.raises(ServerError, match="exited with status"), \
                running_server(replace(settings, port=other.port), tmp_path / "named.log"):
            pass
