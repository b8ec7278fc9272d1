"""Workers from other machines for `run` and `compare`: check the flags, say what is exposed, hand out the token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from loadtests.core.credentials import keep_secret
from loadtests.measure.master import (
    TOKEN_ENV,
    WILDCARDS,
    MasterSettings,
    check_master,
    exposure,
    is_loopback,
    run_token,
)
from loadtests.provision.process_env import add_lab_address
from loadtests.results.records import RunSettings

Progress = Callable[[str], None]


def master_for_request(bind: str | None, port: int | None, expect_workers: int, expose: bool, timeout_s: float,
                       external_apps: bool, progress: Progress) -> MasterSettings | None:
    """The master a new run asks for (None without --expect-workers), its token told to the user."""
    master = check_master(bind, port, expect_workers, expose, lab_starts_servers=not external_apps)
    if master is None:
        return None
    return _announce(replace(master, join_timeout_s=timeout_s), not external_apps, progress)


def master_for_resume(settings: RunSettings, timeout_s: float, progress: Progress) -> MasterSettings | None:
    """The master of a run being resumed, where it listened before (the token is the current one)."""
    if not settings.expect_workers or not settings.locust_master:
        return None
    bind, _, port = settings.locust_master.rpartition(":")
    master = MasterSettings(bind=bind, port=int(port), remote_workers=settings.expect_workers,
                            join_timeout_s=timeout_s)
    return _announce(master, not settings.app_urls, progress)


def _announce(master: MasterSettings, lab_starts_servers: bool, progress: Progress) -> MasterSettings:
    token, generated = run_token()
    keep_secret(token)
    add_lab_address(master.bind)  # workers on this machine reach the master and the servers there, never via a proxy
    if not is_loopback(master.bind):
        progress(f"warning: --expose-master: this run exposes {exposure(master.bind, master.port, lab_starts_servers)}")
    host = "<an address of this machine>" if master.bind in WILDCARDS else master.bind
    where = f"{host}:{master.port}"
    if generated:
        progress(f"==> {TOKEN_ENV} was not set: this run's token is {token}\n"
                 f"    start each of the {master.remote_workers} workers with: "
                 f"{TOKEN_ENV}={token} gil-lab worker --master {where}")
    else:
        progress(f"==> workers join with {TOKEN_ENV} from this environment: "
                 f"gil-lab worker --master {where} ({master.remote_workers} expected)")
    return replace(master, token=token)
