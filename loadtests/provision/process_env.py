"""The environment of every process the lab starts: an allow-list, never a copy of the lab's own.

The lab's environment can hold secrets: ``LAB_LOCUST_TOKEN``, a proxy with a password,
cloud credentials, ``LAB_APP_URLS`` with a password in a URL. A child gets only:

- what any program needs (:data:`BASE`, the ``LC_*`` and ``XDG_*`` variables), Python's
  own ``PYTHON*`` settings except the three that would change the interpreter (below),
  and the lab's own ``LAB_*`` settings (the app and the scenarios read theirs there),
  except the two that hold secrets (:data:`SECRETS`);
- an installer (uv, pip, CPython's build, apt-get) also gets what fetching and building
  need: the proxies, uv's and pip's settings, the compiler's flags (:func:`installer_env`);
- both kinds also get the variables the team names in ``--pass-env`` / ``LAB_PASS_ENV``
  (its app may need them to import; its build may need them to compile);
- every child gets ``NO_PROXY`` (and ``no_proxy``): the user's list, loopback, and every
  address the lab serves on or sends load to, so a proxy never captures the lab's traffic;
- what the lab sets for that child, last.

``PYTHON_GIL=0`` is a fatal start-up error on a GIL build, and ``PYTHONHOME``/``PYTHONPATH``
would make one interpreter load another one's standard library: they never pass through.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping

from loadtests.core.errors import ConfigError

BASE = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR", "COLUMNS", "NO_COLOR",
        # certificate bundles: a child that speaks TLS trusts what the user's tools trust
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
# LAB_: the lab's own settings (LAB_TRAP_EXT_DIR, LAB_THREADS, where it keeps its files ...), secrets excepted
BASE_PREFIXES = ("LC_", "XDG_", "PYTHON", "LAB_")
INTERPRETER_VARIABLES = ("PYTHON_GIL", "PYTHONHOME", "PYTHONPATH")
INSTALLER = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "NETRC",
             "CC", "CXX", "CPP", "CFLAGS", "CPPFLAGS", "CXXFLAGS", "LDFLAGS", "LIBS", "PKG_CONFIG_PATH", "MAKEFLAGS",
             "DEBIAN_FRONTEND")
INSTALLER_PREFIXES = ("UV_", "PIP_")
PASS_ENV = "LAB_PASS_ENV"
# Never passed on, even when asked: the lab hands each of these only to the one process that needs it.
SECRETS = ("LAB_LOCUST_TOKEN", "LAB_APP_URLS")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")

_lab_addresses: list[str] = []


def add_lab_address(host: str) -> None:
    """An address the lab serves on or loads (a master bind, a server's host, an --app-url's host): no proxy."""
    host = host.strip().strip("[]")
    if host and host not in ("0.0.0.0", "::") and host not in _lab_addresses:
        _lab_addresses.append(host)


def no_proxy(environ: Mapping[str, str] | None = None) -> str:
    """``NO_PROXY``'s value for a child: the user's entries, loopback, the lab's addresses."""
    environ = os.environ if environ is None else environ
    entries: list[str] = []
    for value in (environ.get("NO_PROXY", ""), environ.get("no_proxy", ""), ",".join(LOOPBACK_NAMES),
                  ",".join(_lab_addresses)):
        entries += [e.strip() for e in value.split(",") if e.strip() and e.strip() not in entries]
    return ",".join(entries)


def pass_patterns(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The names the team asked to pass on (``LAB_PASS_ENV``, comma-separated, ``*`` allowed); checked."""
    environ = os.environ if environ is None else environ
    patterns = tuple(p.strip() for p in environ.get(PASS_ENV, "").split(",") if p.strip())
    for pattern in patterns:
        if any(fnmatch.fnmatchcase(secret, pattern) for secret in (*SECRETS, *INTERPRETER_VARIABLES)):
            raise ConfigError(f"--pass-env {pattern} would pass on {', '.join(_matching(pattern))}, which the lab "
                              "never hands to servers or Locust; name the variables your app needs")
    return patterns


def _matching(pattern: str) -> list[str]:
    return [name for name in (*SECRETS, *INTERPRETER_VARIABLES) if fnmatch.fnmatchcase(name, pattern)]


def _allowed(name: str, names: Iterable[str], prefixes: Iterable[str]) -> bool:
    return name in names or name.startswith(tuple(prefixes))


def _compose(names: tuple[str, ...], prefixes: tuple[str, ...], patterns: tuple[str, ...],
             extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in INTERPRETER_VARIABLES and k not in SECRETS
           and (_allowed(k, names, prefixes) or any(fnmatch.fnmatchcase(k, p) for p in patterns))}
    env["NO_PROXY"] = env["no_proxy"] = no_proxy()
    env.update(extra or {})
    return env


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """For a process that runs an interpreter with the lab's or the team's code: servers, Locust, probes."""
    return _compose(BASE, BASE_PREFIXES, pass_patterns(), extra)


def installer_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """For uv, pip, venv creation, CPython's build and apt-get: the base plus proxies, indexes and compiler flags."""
    return _compose(BASE + INSTALLER, BASE_PREFIXES + INSTALLER_PREFIXES, pass_patterns(), extra)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """:func:`child_env`: the name older call sites use."""
    return child_env(extra)
