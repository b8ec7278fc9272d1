"""``gil-lab audit``: which imports turn the GIL back on under free-threaded 3.14t, and what to do.

On 3.14t, importing an extension module that does not declare
``Py_mod_gil = Py_MOD_GIL_NOT_USED`` re-enables the GIL for the rest of the process,
and CPython says so only with a RuntimeWarning (claim C5). A server whose app, or one
of its dependencies, does that runs every request under the GIL again, and a load
test of it measures the wrong thing. The audit finds such imports *before* a run:

1. **App pass**: the app (``app.main:app`` by default, with ``LAB_ROUTES_DIR`` for
   drop-in directories) or a list of modules is imported in a fresh process of the app
   environment's interpreter.
2. **Distribution pass**: every installed distribution of that environment is
   imported on its own, each in its own fresh process: its top-level packages and
   every extension module its RECORD lists. One process each, because the GIL can be
   enabled only once per process, so a shared process would hide every offender
   after the first.
3. **Unsupported**: packages that could not be installed on 3.14t at all (from the
   environment's stamp, e.g. orjson), with the reason.

Two signals name an offender, and both are used: the RuntimeWarning (only for the
*first* module, since later ones find the GIL already on; captured with the stack
that shows who imported it) and ``python -v``'s ``# loading module '…', which
requires the GIL`` line (every module). ``sys._is_gil_enabled()`` before and after
each import is the ground truth. Every import is bounded by a timeout.

``PYTHON_GIL`` is removed from the probes' environment unless the user set it. When
set, it is honoured and recorded as *forced*: then CPython neither changes the GIL
nor names modules that need it, so the app pass is repeated without it to name what
the setting masks, and the distribution pass (which would only echo the setting) is
skipped.

The two passes answer different questions, and the verdict keeps them apart: the app
pass says whether *your app's import* turns the GIL on (``gil-enabled``: every server of
it runs under the GIL); the distribution pass says whether a distribution installed
from your requirements *would*, if something imported it (``requirement-needs-gil``:
the app as imported leaves the GIL off, and a code path that imports that distribution
later turns it on for the rest of the process).

The report is a plain JSON-able dict (:func:`audit`); :func:`render` turns it into
text and :func:`exit_status` into the command's status: non-zero when the GIL ends
up enabled on the free-threaded interpreter, when a distribution would turn it on, or
when the app cannot be imported.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtests.core.errors import ConfigError, EnvironmentSetupError, LabError
from loadtests.core.paths import LAB_ROOT, setup_command
from loadtests.core.text import table_with_header
from loadtests.provision import envs
from loadtests.provision.interpreters import Interpreter
from loadtests.provision.process_env import child_env

SCHEMA_VERSION = 1
DEFAULT_APP = "app.main:app"
IMPORT_TIMEOUT_S = 120.0
ROLES = {"ft": "app-ft", "gil": "app-gil"}
TRACKER = "https://py-free-threading.github.io/tracking/"
_VERBOSE_GIL = re.compile(r"^# loading module '([^']+)', which requires the GIL$", re.M)
_VERBOSE_EXT = re.compile(r"^# extension module '([^']+)' (?:loaded|executed) from '([^']+)'$", re.M)
_NOT_A_MODULE = "dynamic module does not define module export function"

Progress = Callable[[str], None]


class AuditError(LabError):
    """The audit itself could not run (as opposed to finding an offender, which is a result)."""


#: The program each fresh process runs (a real module: ruff and mypy check it).
PROBE = Path(__file__).with_name("probe.py")


@dataclass(frozen=True)
class AuditOptions:
    """What to audit. ``modules`` replaces the app when given."""

    app: str = DEFAULT_APP
    modules: tuple[str, ...] = ()
    routes_dirs: tuple[str, ...] = ()
    interpreter: str = "ft"
    distributions: bool = True
    timeout_s: float = IMPORT_TIMEOUT_S
    python_gil: str | None = None  # force PYTHON_GIL in the audited processes (else the environment's)
    python: str | None = None  # a team's own environment's interpreter; None: the lab's app environment
    app_dir: str | None = None  # LAB_APP_DIR of a team's app: alone on the import path, and the probes' directory
    only_distributions: tuple[str, ...] | None = None  # the distribution pass imports only these (None: all)

    def __post_init__(self) -> None:
        if self.python_gil not in (None, "0", "1"):
            raise ConfigError(f"--python-gil must be 0 or 1, not {self.python_gil!r}")
        if self.interpreter not in ROLES:
            raise ConfigError(f"--interpreter must be one of {', '.join(ROLES)}, not {self.interpreter!r}")
        if self.timeout_s <= 0:
            raise ConfigError("the import timeout must be positive")
        module, colon, attr = self.app.partition(":")
        if not _dotted(module) or (colon and not _dotted(attr)):
            raise ConfigError(f"--app takes module:attribute (e.g. {DEFAULT_APP}), not {self.app!r}")
        for name in self.modules:
            if not _dotted(name):
                raise ConfigError(f"{name!r} is not a module name")
        for directory in self.routes_dirs:
            if not Path(directory).is_dir():
                raise ConfigError(f"--routes {directory!r} is not a directory")
        if self.app_dir is not None and not Path(self.app_dir).is_dir():
            raise ConfigError(f"--app-dir {self.app_dir!r} is not a directory")

    @property
    def target(self) -> str:
        return ", ".join(self.modules) if self.modules else self.app

    def imports(self) -> list[dict[str, str | None]]:
        if self.modules:
            return [{"module": name, "attr": None} for name in self.modules]
        module, _, attr = self.app.partition(":")
        return [{"module": module, "attr": attr or None}]


def _dotted(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


@dataclass(frozen=True)
class Remedy:
    """One way out: ``kind`` is upgrade, alternative, fix or python_gil_0."""

    kind: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}


#: What is known about specific offenders, by distribution name (or module, for the trap).
KNOWN_REMEDIES: dict[str, tuple[Remedy, ...]] = {
    "httptools": (
        Remedy("upgrade", "httptools>=0.8: older releases do not declare free-threading support."),
        Remedy("alternative", "uvicorn --http h11: the pure-Python HTTP parser, no extension to load."),
    ),
    "uvloop": (
        Remedy("upgrade", "uvloop>=0.22 supports free-threading."),
        Remedy("alternative", "--loop asyncio (every server): the standard library's event loop."),
    ),
    "gil_lab_trap": (
        Remedy("alternative", "It is the lab's deliberate offender (scenarios/gil_trap_ext): leave "
                              "scenarios/gil_trap_routes out of --routes / LAB_ROUTES_DIR."),
        Remedy("fix", "A real extension would add {Py_mod_gil, Py_MOD_GIL_NOT_USED} to its module slots, once its "
                      "C code is safe to call from several threads at once."),
    ),
}
#: Packages with no free-threaded build, and what to use instead.
KNOWN_ALTERNATIVES: dict[str, str] = {
    "orjson": "Use the standard library's json on 3.14t: the lab's JSON routes do (parser=json); orjson stays "
              "in the 3.14 environment only.",
}


def remedies_for(module: str, distribution: str | None, version: str | None) -> list[Remedy]:
    """Known remedies first, else generic ones; always PYTHON_GIL=0 last, with its risk."""
    key = _normalize(distribution) if distribution else module.split(".")[0]
    found = list(KNOWN_REMEDIES.get(key, ()))
    if not found:
        owner = f"{distribution} (installed: {version})" if distribution else f"the code that provides {module}"
        found = [
            Remedy("upgrade", f"Upgrade {owner} to a release that declares free-threading support; none is known "
                              f"to the lab, so check its changelog and {TRACKER}."),
            Remedy("fix", "Its maintainers can declare support once the code is thread-safe: "
                          "{Py_mod_gil, Py_MOD_GIL_NOT_USED} (C API), #[pymodule(gil_used = false)] (PyO3), "
                          "# cython: freethreading_compatible = True (Cython)."),
        ]
    found.append(python_gil_0_remedy(module))
    return found


def python_gil_0_remedy(module: str) -> Remedy:
    return Remedy("python_gil_0", (
        f"PYTHON_GIL=0 (or -X gil=0) keeps the GIL off despite {module}. Risk: {module} was written assuming the "
        "GIL serialises every call into it. Without it, the server's threads call it concurrently, and any state it "
        "keeps in C (static or global variables, caches, borrowed references, unsynchronised counters) can race: "
        "wrong results, corrupted memory or segfaults, often only under load. Use it only after reviewing or "
        "stress-testing the extension, and for the 3.14t server only (on a GIL build PYTHON_GIL=0 is a fatal "
        "start-up error)."))


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class ProbeRun:
    """One fresh process: what it reported, and what ``-v`` said about the GIL."""

    data: dict[str, Any] | None
    verbose_gil: tuple[str, ...] = ()
    verbose_ext: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None
    timed_out: bool = False
    seconds: float = 0.0


def run_probe(python: Path, request: Mapping[str, Any], env: Mapping[str, str], timeout: float,
              verbose: bool = False, isolated: bool = False, cwd: Path = LAB_ROOT) -> ProbeRun:
    """Run :data:`PROBE` in a fresh process of ``python``; kill its whole group on timeout.

    ``-P`` always keeps the probe's own directory off ``sys.path``; ``isolated`` adds
    ``-s`` and runs from a neutral directory, so a distribution's top-level name can
    never resolve to the lab's own files. ``-I``/``-E`` are not used: they would drop
    ``PYTHON_GIL`` (and ``PYTHONPATH``, which names the app).
    """
    flags = [*(["-v"] if verbose else []), "-P", *(["-s"] if isolated else [])]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gil-lab-audit-") as tmp:
        out = Path(tmp) / "probe.json"
        args = [str(python), *flags, str(PROBE), json.dumps(request), str(out)]
        try:
            proc = subprocess.Popen(args, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, text=True, errors="replace", start_new_session=True)
        except OSError as exc:
            raise AuditError(f"cannot run {python}: {exc}") from exc
        timed_out = False
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            _, stderr = proc.communicate()
        except BaseException:
            # Ctrl-C reaches only the lab: the probe runs in a session of its own, so it goes with the lab here
            _kill_group(proc)
            proc.wait()
            raise
        seconds = time.monotonic() - started
        data = None
        if out.is_file():
            try:
                data = json.loads(out.read_text())
            except json.JSONDecodeError:
                data = None
    error = None
    if timed_out:
        error = f"timed out after {timeout:.0f}s (killed)"
    elif data is None:
        error = f"the probe exited with status {proc.returncode} without a result: {_stderr_tail(stderr)}"
    return ProbeRun(data, tuple(dict.fromkeys(_VERBOSE_GIL.findall(stderr))),
                    {name: os.path.realpath(path) for name, path in _VERBOSE_EXT.findall(stderr)},
                    error, timed_out, round(seconds, 3))


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _stderr_tail(stderr: str, lines: int = 15) -> str:
    """The end of stderr without ``-v``'s import chatter."""
    kept = [line for line in stderr.splitlines() if not line.startswith(("# ", "import ", "Adding directory"))]
    return "\n".join(kept[-lines:]).strip() or "(no output)"


@dataclass(frozen=True)
class DistributionIndex:
    """Which distribution an extension file or module belongs to."""

    distributions: tuple[dict[str, Any], ...]

    def owner(self, module: str, file: str | None) -> dict[str, Any] | None:
        for dist in self.distributions:
            for ext in dist["extensions"]:
                if ext["module"] == module or (file and ext["file"] == file):
                    return dist
        top = module.split(".")[0]
        return next((d for d in self.distributions if top in d["top_level"]), None)


def probe_env(forced: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The probes' environment: no inherited PYTHON_GIL unless the user forced it."""
    env = child_env(dict(extra or {}))
    if forced is not None:
        env["PYTHON_GIL"] = forced
    return env


def forced_python_gil(options: AuditOptions, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The PYTHON_GIL the user asked for and where it came from: ``--python-gil``, else the environment.

    The flag exists because the control plane runs on a GIL build, where an exported
    ``PYTHON_GIL=0`` kills ``gil-lab`` itself at start-up; ``PYTHON_GIL=1`` can be exported.
    """
    value, source = (options.python_gil, "--python-gil") if options.python_gil is not None else (
        environ.get("PYTHON_GIL"), "environment")
    if value is None:
        return None, None
    if value not in ("0", "1"):
        raise ConfigError(f"PYTHON_GIL must be 0 or 1 (or unset), not {value!r}")
    if value == "0" and options.interpreter == "gil":
        raise ConfigError("PYTHON_GIL=0 is a fatal start-up error on a GIL build; unset it to audit 3.14.")
    return value, source


def offenders(run: ProbeRun, index: DistributionIndex) -> list[dict[str, Any]]:
    """The modules that needed the GIL in one process: warned first, then ``-v``'s list."""
    data = run.data or {}
    warned = {w["module"]: w for w in data.get("warned", ())}
    return [offender(module, data.get("extensions", {}).get(module) or run.verbose_ext.get(module), index,
                     warned.get(module)) for module in dict.fromkeys([*warned, *run.verbose_gil])]


def offender(module: str, file: str | None, index: DistributionIndex,
             warning: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One module that needs the GIL: the distribution that ships it, and the remedies."""
    dist = index.owner(module, file)
    name, version = (dist["name"], dist["version"]) if dist else (None, None)
    return {
        "module": module,
        "package": module.split(".")[0],
        "file": file,
        "distribution": name,
        "version": version,
        "warned": warning is not None,
        "imported_by": (warning or {}).get("imported_by"),
        "remedies": [r.to_json() for r in remedies_for(module, name, version)],
    }


def distribution_index(python: Path, timeout_s: float = IMPORT_TIMEOUT_S) -> DistributionIndex:
    """Every distribution installed for ``python``, with its top-level names and extension modules."""
    listing = run_probe(python, {"mode": "list"}, probe_env(None), timeout_s, isolated=True,
                        cwd=Path(tempfile.gettempdir()))
    if listing.data is None:
        raise AuditError(f"could not list the distributions of {python}: {listing.error}")
    return DistributionIndex(tuple(listing.data["distributions"]))


def attribute(python: Path, modules: Sequence[str], timeout_s: float = IMPORT_TIMEOUT_S) -> list[dict[str, Any]]:
    """Who ships each module a server named in ``gil_enabled_by``: distribution, version, remedies."""
    index = distribution_index(python, timeout_s)
    return [offender(module, None, index) for module in dict.fromkeys(modules)]


def _app_pass(python: Path, options: AuditOptions, env: Mapping[str, str], verbose: bool,
              index: DistributionIndex, cwd: Path) -> dict[str, Any]:
    run = run_probe(python, {"mode": "import", "imports": options.imports()}, env, options.timeout_s, verbose=verbose,
                    cwd=cwd)
    data = run.data or {}
    steps = data.get("steps", [])
    failed = next((s for s in steps if s["error"]), None)
    return {
        "target": options.target,
        "steps": steps,
        "imported": run.error is None and failed is None,
        "error": run.error or (f"{failed['module']}: {failed['error']}" if failed else None),
        "gil_at_start": data.get("gil_at_start"),
        "gil_enabled": data.get("gil_at_end"),
        "gil_flag": data.get("gil_flag"),
        "offenders": offenders(run, index),
        "extensions": data.get("extensions", {}),
        "seconds": run.seconds,
    }


def _distribution_pass(python: Path, index: DistributionIndex, env: Mapping[str, str], verbose: bool,
                       timeout: float, progress: Progress, only: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    results = []
    wanted = None if only is None else {_normalize(name) for name in only}
    todo = [d for d in index.distributions if (d["top_level"] or d["extensions"])
            and (wanted is None or _normalize(d["name"]) in wanted)]
    width = len(str(len(todo)))
    for number, dist in enumerate(todo, 1):
        modules = list(dict.fromkeys([*dist["top_level"], *(e["module"] for e in dist["extensions"])]))
        run = run_probe(python, {"mode": "import", "imports": [{"module": m} for m in modules]}, env, timeout,
                        verbose=verbose, isolated=True, cwd=Path(tempfile.gettempdir()))
        steps = (run.data or {}).get("steps", [])
        errors = [{"module": s["module"], "error": s["error"]} for s in steps
                  if s["error"] and _NOT_A_MODULE not in s["error"]]
        found = offenders(run, index)
        gil = (run.data or {}).get("gil_at_end")
        results.append({"name": dist["name"], "version": dist["version"], "modules": modules,
                        "gil_enabled": gil, "offenders": found, "errors": errors, "error": run.error,
                        "timed_out": run.timed_out, "seconds": run.seconds})
        verdict = "timed out" if run.timed_out else ("GIL ENABLED by " + ", ".join(o["module"] for o in found)
                                                     if gil else "GIL stays off" if gil is False else "no result")
        progress(f"[{number:>{width}}/{len(todo)}] {dist['name']} {dist['version']} ({len(modules)} "
                 f"module{'s' * (len(modules) != 1)}, {run.seconds:.1f}s): {verdict}"
                 + (f" ({len(errors)} import error{'s' * (len(errors) != 1)})" if errors else ""))
    return results


def unsupported_packages(interpreters: Mapping[str, Interpreter]) -> list[dict[str, Any]]:
    """Packages left out of the 3.14t environment, from its stamp (locks/app-requirements.toml if it has none)."""
    spec = next(s for s in envs.env_specs(dict(interpreters)) if s.name == "app-ft")
    stamp = envs.read_stamp(spec)
    source = f"{spec.path / envs.STAMP_NAME}"
    listed = stamp.get("unsupported") if stamp else None
    if listed is None:
        listed, source = envs.gil_only_packages(), f"{envs.APP_REQUIREMENTS.name} [gil-only] (the env has no stamp)"
    return [{"name": name, "reason": reason, "source": source,
             "remedy": KNOWN_ALTERNATIVES.get(_normalize(name),
                                              f"Check {TRACKER} for a release with free-threaded (cp314t) wheels; "
                                              "until then keep it in the 3.14 environment only.")}
            for name, reason in sorted(listed.items())]


def audit(options: AuditOptions, interpreters: Mapping[str, Interpreter], progress: Progress | None = None,
          environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run every pass and return the report (see the module docstring for what each pass does)."""
    say = progress or (lambda _message: None)
    environ = os.environ if environ is None else environ
    interpreter = interpreters.get(options.interpreter)
    if interpreter is None:
        raise AuditError(f"no {options.interpreter} interpreter is recorded; run `{setup_command()}`.")
    python = Path(options.python) if options.python else envs.app_python(ROLES[options.interpreter])
    environment = python.parent.parent.name if options.python else ROLES[options.interpreter]
    if not python.exists():
        raise EnvironmentSetupError(f"the {environment} environment is missing ({python}). "
                                    f"Run `{setup_command()}`.")
    forced, forced_by = forced_python_gil(options, environ)
    ft = interpreter.free_threaded
    # A team's app is imported from its own directory only, so nothing of the lab's (its `app`) shadows it.
    root = str(Path(options.app_dir).resolve()) if options.app_dir else str(LAB_ROOT)
    pythonpath = os.pathsep.join(p for p in (root, environ.get("PYTHONPATH", "")) if p)
    extra = {"PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}
    if options.routes_dirs:
        extra["LAB_ROUTES_DIR"] = os.pathsep.join(str(Path(d).resolve()) for d in options.routes_dirs)

    say(f"listing the distributions installed in {environment}")
    index = distribution_index(python, options.timeout_s)

    say(f"importing {options.target} in a fresh {interpreter.label} process")
    app = _app_pass(python, options, probe_env(forced, extra), ft and forced is None, index, Path(root))
    masked: list[dict[str, Any]] = []
    if forced is not None and ft:
        say(f"PYTHON_GIL={forced} is forced: importing {options.target} again without it to name what it masks")
        masked = _app_pass(python, options, probe_env(None, extra), True, index, Path(root))["offenders"]

    distributions: list[dict[str, Any]] = []
    skipped = None
    if not options.distributions:
        skipped = "not requested (--no-distributions)"
    elif forced is not None:
        skipped = f"PYTHON_GIL={forced} is forced, so every process would only echo it; unset it to run this pass"
    elif not ft:
        skipped = f"{interpreter.label} is a GIL build: the GIL is always on and no import can change that"
    else:
        count = len(index.distributions) if options.only_distributions is None else len(options.only_distributions)
        say(f"importing each of {count} distributions in its own fresh process")
        distributions = _distribution_pass(python, index, probe_env(None), True, options.timeout_s, say,
                                           options.only_distributions)

    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "interpreter": {"role": options.interpreter, "label": interpreter.label, "path": interpreter.path,
                        "version": interpreter.version, "free_threaded": ft},
        "environment": environment,
        "python": str(python),
        "python_gil": {"value": forced, "forced": forced is not None, "source": forced_by},
        "app": app,
        "masked_offenders": masked,
        "distributions": {"checked": len(distributions), "skipped": skipped, "results": distributions,
                          "only": None if options.only_distributions is None else list(options.only_distributions)},
        # A team's environment holds all of its requirements or is not built at all (the run says why).
        "unsupported": [] if options.python else unsupported_packages(interpreters),
    }
    report.update(_verdict(report))
    return report


def would_enable(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Distributions whose own import turns the GIL on: ``{"distribution", "version", "modules"}``."""
    return [{"distribution": d["name"], "version": d["version"], "modules": [o["module"] for o in d["offenders"]]}
            for d in report["distributions"]["results"] if d["gil_enabled"]]


def _verdict(report: Mapping[str, Any]) -> dict[str, Any]:
    """Summarise: who turned the GIL on (the app's import, or a distribution if imported), and the exit status."""
    app, ft = report["app"], report["interpreter"]["free_threaded"]
    forced = report["python_gil"]["value"]
    latent = would_enable(report)
    app_by = [o["module"] for o in app["offenders"]]
    by: list[str] = list(dict.fromkeys(app_by + [m for d in latent for m in d["modules"]]))
    app_on = bool(app["gil_enabled"])
    gil_on = app_on or bool(latent)
    if not app["imported"]:
        verdict, status = "import-failed", 1
    elif not ft:
        verdict, status = "gil-build", 0
    elif app_on:
        verdict, status = "gil-enabled", 1
        if forced == "1":
            by = by or ["PYTHON_GIL=1"]
            app_by = app_by or ["PYTHON_GIL=1"]
    elif latent:
        verdict, status = "requirement-needs-gil", 1
    elif forced == "0":
        verdict, status = "gil-forced-off", 0
    else:
        verdict, status = "clean", 0
    return {"gil_enabled": gil_on, "gil_enabled_by": by, "app_gil_enabled": app_on if app["imported"] else None,
            "app_enabled_by": app_by, "would_enable": latent, "verdict": verdict, "exit_status": status}


def import_line(report: Mapping[str, Any]) -> str:
    """One line on who turns the GIL on: the app's own import, or a distribution of the requirements if imported.

    ``GIL after importing shop.main:app: off; in the environment, lxml 5.3 (lxml.etree) would turn it on if imported``.
    """
    app = report["app"]
    head = f"GIL after importing {app['target']}: "
    if not app["imported"]:
        return head + f"not imported ({app['error']})"
    own = list(report.get("app_enabled_by") or [])
    text = head + (f"ON, turned on by the app's own import of {', '.join(own) or 'an unnamed module'}"
                   if report.get("app_gil_enabled") else "off")
    latent = [d for d in report.get("would_enable", []) if not set(d["modules"]) <= set(own)]
    if latent:
        named = ", ".join(f"{d['distribution']} {d['version']} ({', '.join(d['modules'])})" for d in latent)
        text += f"; in the environment, {named} would turn it on if imported"
    return text


def exit_status(report: Mapping[str, Any]) -> int:
    return int(report["exit_status"])


# ----------------------------------------------------------------------------- rendering


def _onoff(value: object) -> str:
    return "?" if value is None else ("ON" if value else "off")


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, width=100, initial_indent=indent, subsequent_indent=indent + "  ")


def _offender_lines(found: Sequence[Mapping[str, Any]], indent: str = "  ") -> list[str]:
    lines = table_with_header(
        ["module", "package", "distribution", "extension file"],
        [(o["module"], o["package"],
          f"{o['distribution']} {o['version']}" if o["distribution"] else "(not from an installed distribution)",
          o["file"]) for o in found], indent)
    for o in found:
        lines.append(f"{indent}{o['module']}:")
        if o["imported_by"]:
            lines.append(f"{indent}  imported by {o['imported_by']}")
        for remedy in o["remedies"]:
            lines += _wrap(f"- {remedy['kind']}: {remedy['text']}", indent + "  ")
    return lines


def render(report: Mapping[str, Any]) -> str:
    """The report as text for a terminal."""
    interp, app = report["interpreter"], report["app"]
    forced = report["python_gil"]["value"]
    lines = [f"gil-lab audit: {app['target']} on {interp['label']} ({report['python']})"]
    lines.append(f"PYTHON_GIL: forced to {forced} (by {report['python_gil']['source']})" if forced is not None
                 else "PYTHON_GIL: not set (removed from the audit's processes): the interpreter's default")
    lines += ["", f"App import (fresh process, {app['seconds']:.1f}s)"]
    for step in app["steps"]:
        name = step["module"] + (f":{step['attr']}" if step["attr"] else "")
        outcome = f"error: {step['error']}" if step["error"] else "ok"
        lines.append(f"  {name}: GIL {_onoff(step['gil_before'])} -> {_onoff(step['gil_after'])}  ({outcome})")
    if app["error"] and not app["steps"]:
        lines.append(f"  failed: {app['error']}")
    if app["offenders"]:
        lines += ["", "Modules that turned the GIL on (app import)", *_offender_lines(app["offenders"])]
    if report["masked_offenders"]:
        why = "kept off only because PYTHON_GIL=0" if forced == "0" else "hidden behind PYTHON_GIL=1"
        lines += ["", f"Modules that need the GIL, {why} (found by importing again without it)",
                  *_offender_lines(report["masked_offenders"])]
    dists = report["distributions"]
    lines.append("")
    if dists["skipped"]:
        lines.append(f"Installed distributions: skipped ({dists['skipped']})")
    else:
        which = "Distributions your requirements added" if dists.get("only") is not None else "Installed distributions"
        lines.append(f"{which} ({dists['checked']}, each imported in its own fresh process)")
        lines += table_with_header(
            ["distribution", "version", "modules", "GIL after import", "notes"],
            [(d["name"], d["version"], len(d["modules"]), _onoff(d["gil_enabled"]),
              d["error"] or "; ".join(f"{e['module']}: {e['error']}"[:80] for e in d["errors"]) or "")
             for d in dists["results"]], "  ")
        for dist in dists["results"]:
            if dist["offenders"]:
                lines += ["", f"Modules of {dist['name']} that turn the GIL on", *_offender_lines(dist["offenders"])]
    if report["unsupported"]:
        lines += ["", f"Not installable on {interp['label'] if interp['free_threaded'] else '3.14t'}"]
        for item in report["unsupported"]:
            lines += _wrap(f"{item['name']}: {item['reason']}", "  ")
            lines += _wrap(f"remedy: {item['remedy']}", "    ")
    lines += ["", _verdict_line(report)]
    return "\n".join(lines)


def _verdict_line(report: Mapping[str, Any]) -> str:
    label, verdict = report["interpreter"]["label"], report["verdict"]
    app_by = ", ".join(report.get("app_enabled_by") or report["gil_enabled_by"]) or "an unnamed import"
    latent = ", ".join(f"{d['distribution']} {d['version']} ({', '.join(d['modules'])})"
                       for d in report.get("would_enable", [])) or "a distribution"
    text = {
        "clean": f"Verdict: the GIL stays off on {label}. No offender.",
        "gil-enabled": f"Verdict: the GIL is ENABLED on {label} by the app's own import ({app_by}). Free-threaded "
                       "results would be invalid.",
        "requirement-needs-gil": f"Verdict: importing {report['app']['target']} leaves the GIL off on {label}, but "
                                 f"{latent} would turn it on if imported: a code path (or a server) that imports it "
                                 "runs every later request under the GIL.",
        "gil-forced-off": f"Verdict: the GIL stays off on {label} only because PYTHON_GIL=0 is forced; see the "
                          "risk above for any module that needs it.",
        "gil-build": f"Verdict: {label} is a GIL build; the GIL is always on there. Audit 3.14t with --interpreter ft.",
        "import-failed": f"Verdict: {report['app']['target']} could not be imported: {report['app']['error']}",
    }[verdict]
    return f"{text} (exit {report['exit_status']})"
