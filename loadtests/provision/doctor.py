"""``gil-lab doctor``: what the lab resolved, how, and whether it is healthy."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loadtests.core import servers
from loadtests.core.distributions import normalise
from loadtests.core.errors import LabError
from loadtests.core.paths import setup_command
from loadtests.provision import envs
from loadtests.provision.build_completion import present_headers
from loadtests.provision.interpreters import Interpreter
from loadtests.provision.optional_modules import MODULE_HEADERS, apt_install_line, lacking, rebuild_would_add
from loadtests.provision.provisioning import load_interpreters


@dataclass
class Diagnosis:
    report: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


def missing_module_problems(interpreter: Interpreter, header_dirs: tuple[str, ...] | None = None) -> list[str]:
    """What a lab build lacks of the modules the lab wants, and the command that fixes it."""
    missing = lacking(interpreter.build)
    if not missing:
        return []
    present = present_headers(header_dirs)
    where = f"{interpreter.label} ({interpreter.path}) was built without"
    problems = []
    absent = [m for m in missing if MODULE_HEADERS[m] not in present]
    if absent:
        problems.append(f"{where} {', '.join(absent)}: install the headers with `{apt_install_line(absent)}` "
                        f"(`make system-deps` as root), then run `{setup_command()}` to rebuild it.")
    addable = rebuild_would_add(interpreter.build, present)
    if addable:
        problems.append(f"{where} {', '.join(addable)}; the headers are installed now: run `{setup_command()}` to rebuild it.")
    stuck = [m for m in missing if m not in absent and m not in addable]
    if stuck:
        log = Path(interpreter.path).resolve().parent.parent / "gil-lab-build.log"
        problems.append(f"{where} {', '.join(stuck)} although the headers were present when it was built; "
                        f"see why in {log}.")
    return problems


def diagnose(header_dirs: tuple[str, ...] | None = None) -> Diagnosis:
    """Re-run both interpreters, check what their builds lack, and read every environment's stamp.

    ``header_dirs`` replaces the C compiler's include path when looking for headers.
    """
    diagnosis = Diagnosis(report={"interpreters": {}, "environments": {}, "problems": []})
    try:
        interpreters = load_interpreters(verify_again=True)
    except LabError as exc:
        diagnosis.problems.append(str(exc))
        diagnosis.report["problems"] = diagnosis.problems
        return diagnosis
    diagnosis.report["interpreters"] = {role: i.to_json() for role, i in interpreters.items()}
    for role, interpreter in interpreters.items():
        diagnosis.report["interpreters"][role]["missing_modules"] = lacking(interpreter.build)
        diagnosis.problems += missing_module_problems(interpreter, header_dirs)
    for spec in envs.env_specs(interpreters):
        stamp = envs.read_stamp(spec)
        entry: dict = {"path": str(spec.path), "interpreter": spec.interpreter.label, "lock_file": str(spec.lock_file)}
        if stamp is None or not spec.python.exists():
            diagnosis.problems.append(f"environment {spec.name} is missing ({spec.path}). Run `{setup_command()}`.")
            entry["status"] = "missing"
        else:
            try:
                current = stamp.get("stamp") == envs.wanted_stamp(spec)
            except LabError as exc:
                diagnosis.problems.append(str(exc))
                current = False
            if not current:
                diagnosis.problems.append(f"environment {spec.name} is out of date with {spec.lock_file.name}. "
                                          f"Run `{setup_command()}`.")
            entry.update(status="ok" if current else "stale", packages=stamp.get("packages", {}),
                         unsupported=stamp.get("unsupported", {}))
        diagnosis.report["environments"][spec.name] = entry
    diagnosis.report["problems"] = diagnosis.problems
    return diagnosis


#: What doctor shows of an app environment, around the servers' own distributions.
APP_FRAMEWORK = ("fastapi", "starlette", "pydantic", "pydantic-core", "anyio")
APP_EXTRAS = ("pillow", "httptools", "uvloop", "orjson")


def app_packages() -> tuple[str, ...]:
    """The app environment's packages doctor lists: the framework, every registered server, the rest."""
    return (*APP_FRAMEWORK, *dict.fromkeys(spec.distribution for spec in servers.registered()), *APP_EXTRAS)


def render(diagnosis: Diagnosis) -> str:
    lines = []
    for _role, info in diagnosis.report.get("interpreters", {}).items():
        build = info.get("build") or {}
        flags = " ".join(build.get("configure_flags", [])) if build else info["configure_args"]
        lines.append(f"{info['label']:6} {info['path']}")
        lines.append(f"       version {info['version']}  found via {info['source']}  free_threaded={info['free_threaded']}"
                     f"  gil_enabled at start={info['gil_enabled']}")
        lines.append(f"       configure flags: {flags or '(defaults)'}"
                     + (f"  source sha256 {build['tarball_sha256'][:16]}…" if build else ""))
        if info.get("missing_modules"):
            lines.append(f"       built without: {' '.join(info['missing_modules'])}")
    for name, env in diagnosis.report.get("environments", {}).items():
        lines.append(f"{name:8} [{env['status']}] {env['path']} ({env['interpreter']})")
        packages = env.get("packages", {})
        named = {normalise(p): version for p, version in packages.items()}
        shown = [f"{p} {named[p]}" for p in app_packages() if p in named]
        if name == "control":
            shown = [f"{p} {packages[p]}" for p in ("locust", "gevent", "psutil", "matplotlib", "uv") if p in packages]
        if shown:
            lines.append("         " + ", ".join(shown))
        for pkg, reason in env.get("unsupported", {}).items():
            lines.append(f"         {pkg}: not installed ({reason})")
    if diagnosis.problems:
        lines.append("")
        lines += [f"problem: {p}" for p in diagnosis.problems]
    else:
        lines.append("\nall good")
    return "\n".join(lines)
