"""Locks that keep one lab from rebuilding an environment (or CPython) another lab is building or using.

An exclusive lock is taken to build or rebuild; a run holds a shared lock on every
environment it runs servers or Locust from, for as long as it runs. So a second lab's
set-up never deletes an environment under a running lab (it waits, and says so), and
two set-ups never build the same environment at once (the second finds it built). The
locks are ``flock`` locks on a file beside the environment: the kernel drops them when
the process that holds them ends, however it ends.
"""

from __future__ import annotations

import fcntl
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path


def lock_file(target: Path) -> Path:
    """``.<name>.lock`` beside ``target`` (an environment directory, or a cache directory)."""
    return target.parent / f".{target.name}.lock"


@contextmanager
def locked(target: Path, shared: bool, waiting: str) -> Iterator[None]:
    """Hold ``target``'s lock (shared: many users; exclusive: one builder); say ``waiting`` if it must wait."""
    path = lock_file(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"==> {waiting}", file=sys.stderr, flush=True)
            fcntl.flock(fh, mode)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def building(env: Path) -> Iterator[None]:
    """The exclusive lock to create, sync or replace the environment at ``env``."""
    with locked(env, shared=False, waiting=f"another lab is building or using {env}; waiting for it"):
        yield


@contextmanager
def using(envs: Iterable[Path]) -> Iterator[None]:
    """Shared locks on every environment a run uses, held while it runs (in a stable order: no deadlock)."""
    with ExitStack() as stack:
        for env in sorted({Path(e) for e in envs}):
            stack.enter_context(locked(env, shared=True, waiting=f"another lab is rebuilding {env}; waiting for it"))
        yield
