"""The container set-up, checked without a Docker engine (none on the dev machine).

The images are never built here. What is checked: hadolint finds nothing; the
compose file passes the Compose Specification schema and the lab's own rules; the
Dockerfile builds CPython with exactly the flags ``make setup`` uses and starts the
app exactly as the lab does; and ``docker/validate.py`` really fails when a copy of
either file is broken, so ``make lint`` can catch a regression.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests.measure.servers import ServerSettings, command
from loadtests.provision.cpython_build import FLAVOURS, MODULE_PACKAGES, BuildSpec, read_build_record
from tests.docker.docker_modules import load

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_ROOT / "docker"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
COMPOSE = DOCKER_DIR / "compose.yaml"


validate = load("validate")
dm = validate.dm  # the Dockerfile reader validate.py itself uses


def run_validate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(DOCKER_DIR / "validate.py"), *args],
                          capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)


# ---- the real files pass ---------------------------------------------------------------


def test_hadolint_reports_nothing() -> None:
    result = validate.check_hadolint(validate.dockerfiles())
    assert result.problems == []


def test_dockerfile_keeps_its_promises() -> None:
    assert validate.dockerfile_problems(DOCKERFILE) == []


def test_compose_file_validates_against_schema_and_rules() -> None:
    result = validate.check_compose(COMPOSE, DOCKERFILE)
    assert result.problems == []


def test_vendored_schema_is_the_official_one() -> None:
    import json

    schema = json.loads((DOCKER_DIR / "compose.schema.json").read_text())
    assert schema["$id"] == "compose_spec.json" and schema["title"] == "Compose Specification"
    assert schema["definitions"]["service"]["additionalProperties"] is False  # strict about keys


def test_validate_script_passes_on_the_repository() -> None:
    proc = run_validate()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("ok   ") >= 3


# ---- drift against the lab's own code ----------------------------------------------


@pytest.mark.parametrize("optimized", [False, True], ids=["plain", "optimized"])
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_dockerfile_configure_flags_equal_buildspec(flavour: str, optimized: bool) -> None:
    stages = dm.read(DOCKERFILE)
    expected = BuildSpec(Path("Python.tar.xz"), "0" * 64, flavour, optimized).configure_flags
    assert validate.dockerfile_configure_flags(stages, flavour, optimized) == [expected]


def test_builds_differ_only_by_disable_gil() -> None:
    stages = dm.read(DOCKERFILE)
    for optimized in (False, True):
        [gil] = validate.dockerfile_configure_flags(stages, "gil", optimized)
        [ft] = validate.dockerfile_configure_flags(stages, "ft", optimized)
        assert ft == [*gil, "--disable-gil"]


@pytest.mark.parametrize("target", ["app-gil", "app-ft"])
def test_app_image_starts_the_server_as_the_lab_does(target: str) -> None:
    stages = dm.read(DOCKERFILE)
    expected = command(ServerSettings(python=Path("python"), host="0.0.0.0"), 8000)
    assert dm.exec_form(dm.effective(stages, target, "CMD")) == expected


def test_build_context_lets_in_everything_the_dockerfile_uses() -> None:
    """A COPY or bind mount of a path the .dockerignore keeps out fails only at build time."""
    allowed = [line[1:] for line in (DOCKER_DIR / "Dockerfile.dockerignore").read_text().splitlines()
               if line.startswith("!")]
    used: list[str] = []
    for stage in dm.read(DOCKERFILE).values():
        for instruction in stage.instructions:
            words = instruction.args.split()
            if instruction.keyword == "COPY" and not any(w.startswith("--from") for w in words):
                used += [w for w in words[:-1] if not w.startswith("--")]
            for word in words:
                if word.startswith("--mount=type=bind") and "from=" not in word:
                    options = dict(part.split("=", 1) for part in word[len("--mount="):].split(","))
                    used.append(options["source"])
    assert used, "no COPY or bind mount found: the parser is broken"
    for path in used:
        path = path.rstrip("/")
        assert any(path == a or path.startswith(a + "/") for a in allowed), f"{path} is not in the build context"


def _interpreter(flavour: str) -> Path:
    env = {"gil": ".venv", "ft": ".envs/app-ft"}[flavour]
    python = REPO_ROOT / env / "bin" / "python"
    if not python.exists():
        pytest.skip(f"{env} does not exist (run `make setup`)")
    return python


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_selfcheck_accepts_the_labs_interpreter(flavour: str) -> None:
    """The image's self-check passes on the interpreters `make setup` built, except modules the build lacked."""
    python = _interpreter(flavour)
    proc = subprocess.run([str(python), str(DOCKER_DIR / "selfcheck.py"), flavour], capture_output=True,
                          text=True, timeout=120)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("selfcheck:")]
    record = read_build_record(Path(subprocess.run([str(python), "-c", "import sys; print(sys._base_executable)"],
                                                   capture_output=True, text=True).stdout.strip()))
    missing = sorted(set((record or {}).get("missing_optional_modules", [])) & set(MODULE_PACKAGES))
    assert [line.split()[3] for line in lines] == missing, proc.stderr
    assert proc.returncode == (1 if missing else 0)


def test_selfcheck_rejects_the_wrong_flavour() -> None:
    python = _interpreter("gil")
    proc = subprocess.run([str(python), str(DOCKER_DIR / "selfcheck.py"), "ft"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert "standard GIL build" in proc.stderr


# ---- the checks can fail -----------------------------------------------------------


def _broken_copy(tmp_path: Path, name: str, old: str, new: str) -> tuple[Path, Path]:
    """Copies of the Dockerfile and compose.yaml in tmp_path/docker, with ``old`` replaced in ``name``."""
    target = tmp_path / "docker"
    (target / "cpython-src").mkdir(parents=True)  # compose's default CPython source context
    for source in (DOCKERFILE, COMPOSE):
        text = source.read_text()
        if source.name == name:
            assert old in text, f"{old!r} is no longer in {name}; update this test"
            text = text.replace(old, new)
        (target / source.name).write_text(text)
    return target / "Dockerfile", target / "compose.yaml"


def test_validate_accepts_unmodified_copies(tmp_path: Path) -> None:
    dockerfile, compose = _broken_copy(tmp_path, "-", "", "")
    proc = run_validate("--dockerfile", str(dockerfile), "--compose", str(compose))
    assert proc.returncode == 0, proc.stdout


BROKEN: dict[str, tuple[str, str, str, str]] = {
    # name: (file, old, new, expected message)
    "unequal cpu limits": ("compose.yaml", "      target: app-ft\n",
                           '      target: app-ft\n    deploy:\n      resources:\n        limits:\n          cpus: "1"\n',
                           "unequal CPU limits: app-gil 2.0, app-ft 1.0"),
    "unknown compose key": ("compose.yaml", "\n  app-ft:\n", "\n  app-ft:\n    cpu_limit: 2\n",
                            "services/app-ft: 'cpu_limit' does not match any of the regexes"),
    "missing worker": ("compose.yaml", "  locust-worker:\n", "  locust-workers:\n", "no service 'locust-worker'"),
    "app on every address": ("compose.yaml", '"${LAB_PUBLISH_ADDR:-127.0.0.1}:${LAB_FT_PORT:-8002}:8000"',
                             '"${LAB_FT_PORT:-8002}:8000"', "app-ft publishes 8002:8000 on every address by default"),
    "ui on every address": ("compose.yaml", '"${LAB_PUBLISH_ADDR:-127.0.0.1}:8089:8089"', '"0.0.0.0:8089:8089"',
                            "locust-master publishes 8089:8089 on 0.0.0.0 by default"),
    "apps differ": ("compose.yaml", "    image: gil-lab/app-ft:local\n",
                    "    image: gil-lab/app-ft:local\n    environment:\n      LAB_THREADS: 16\n",
                    "app-gil and app-ft differ"),
    "no --disable-gil": ("Dockerfile", ' "${opt[@]}" --disable-gil', ' "${opt[@]}"',
                         "but BuildSpec.configure_flags is ['--disable-gil']"),
    "optimization drift": ("Dockerfile", "opt=(--enable-optimizations --with-lto)", "opt=(--enable-optimizations)",
                           "LAB_CPYTHON_OPTIMIZED=1 configures with"),
    "root user": ("Dockerfile", 'EXPOSE 8089 5557\nUSER 10001:10001\n', "EXPOSE 8089 5557\n",
                  "target control runs as root"),
    "no healthcheck": ("Dockerfile", "HEALTHCHECK --interval", "# HEALTHCHECK --interval",
                       "app-gil has no health check"),
    "source outside the repository": ("compose.yaml", "${LAB_CPYTHON_SRC_DIR:-./cpython-src}",
                                      "${LAB_CPYTHON_SRC_DIR:-../..}",
                                      "build context cpython-src-dir of app-gil, app-ft, locust-master"),
    "missing source directory": ("compose.yaml", "${LAB_CPYTHON_SRC_DIR:-./cpython-src}",
                                 "${LAB_CPYTHON_SRC_DIR:-./no-such-dir}", "defaults to ./no-such-dir, which does not exist"),
    "checksum drift": ("Dockerfile", "ARG LAB_CPYTHON_SHA256=79f7", "ARG LAB_CPYTHON_SHA256=0000",
                       "ARG LAB_CPYTHON_SHA256 defaults to '0000"),
    "hadolint finding": ("Dockerfile", "WORKDIR /srv/lab\n", "WORKDIR /srv/lab\nRUN cd /tmp && ls\n", "DL3003"),
    "worker joins no master": ("compose.yaml", "${LAB_MASTER:-compare-distributed:5557}", "${LAB_MASTER:-nobody:5557}",
                               "lab-worker's --master names 'nobody', which is not a service"),
    "worker runs plain locust": ("compose.yaml", '["gil-lab", "worker", "--master"',
                                 '["locust", "--worker", "--master"',
                                 "lab-worker must run `gil-lab worker --master SERVICE:PORT`"),
    "master without workers": ("compose.yaml", '"--expose-master", "--expect-workers", "${LAB_EXPECT_WORKERS:-2}",',
                               '"--expose-master",', "compare-distributed must run `gil-lab compare|run"),
    "master exposed unasked": ("compose.yaml", '"0.0.0.0", "--expose-master",', '"0.0.0.0",',
                               "compare-distributed binds its master beyond loopback without --expose-master"),
    "master port left to chance": ("compose.yaml", '"--locust-master-port", "5557", ', "",
                                   "names no --locust-master-port (the lab then picks a free port per run)"),
    "master on another port": ("compose.yaml", '"--locust-master-port", "5557", ', '"--locust-master-port", "5558", ',
                               "lab-worker joins port 5557, but compare-distributed listens on 5558"),
    "token in the file": ("compose.yaml", "      - LAB_LOCUST_TOKEN\n    restart: \"no\"\n    depends_on:\n      - compare-",
                          "      - LAB_LOCUST_TOKEN=s3cret\n    restart: \"no\"\n    depends_on:\n      - compare-",
                          "lab-worker must take LAB_LOCUST_TOKEN from the host"),
    "scaled worker with a name": ("compose.yaml", "    profiles: [\"distributed\"]\n    command: [\"gil-lab\", \"worker\"",
                                  "    profiles: [\"distributed\"]\n    container_name: w\n    command: [\"gil-lab\", \"worker\"",
                                  "lab-worker has a container_name or host ports"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_validate_fails_on_a_broken_copy(tmp_path: Path, case: str) -> None:
    name, old, new, message = BROKEN[case]
    dockerfile, compose = _broken_copy(tmp_path, name, old, new)
    proc = run_validate("--dockerfile", str(dockerfile), "--compose", str(compose))
    assert proc.returncode == 1, proc.stdout
    assert "FAIL" in proc.stdout and message in proc.stdout, proc.stdout


# ---- the pieces --------------------------------------------------------------------


@pytest.mark.parametrize(("text", "environ", "expected"), [
    ("${A:-x}", {}, "x"),
    ("${A:-x}", {"A": ""}, "x"),
    ("${A-x}", {"A": ""}, ""),
    ("${A-x}", {"A": "y"}, "y"),
    ("$A and $$A", {"A": "1"}, "1 and $A"),
    ("${A}", {}, ""),
])
def test_interpolation_follows_compose(text: str, environ: dict[str, str], expected: str) -> None:
    assert validate.interpolate(text, environ) == expected


def test_interpolation_raises_on_required_variable() -> None:
    with pytest.raises(ValueError, match="required variable A"):
        validate.interpolate("${A:?set A}", {})


def test_parser_joins_continuations_and_skips_comments_inside_them() -> None:
    text = ("# syntax=docker/dockerfile:1\nARG X=1\nFROM debian AS base\nRUN a \\\n  # note\n\n  && b\n"
            "FROM base AS child\nUSER 1:1\n")
    stages = dm.parse(text)
    assert [(s.name, s.base) for s in stages] == [("base", "debian"), ("child", "base")]
    assert stages[0].instructions[0].args == "a && b"
    by_name = {s.name: s for s in stages}
    assert dm.effective(by_name, "child", "RUN").args == "a && b"
    assert [s.name for s in dm.chain(by_name, "child")] == ["child", "base"]


def test_parser_rejects_a_dangling_continuation() -> None:
    with pytest.raises(ValueError, match="continuation"):
        dm.parse("FROM debian\nRUN a \\\n")



def test_compose_reads_only_lab_variables() -> None:
    """One naming scheme: every variable compose.yaml interpolates is a LAB_* one."""
    names = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE.read_text()))
    assert names and sorted(n for n in names if not n.startswith("LAB_")) == []
