"""``gil-lab audit`` and the GIL trap's build: options, remedies, verdicts, and real audits on 3.14t.

The slow tests run the real thing: the trap compiled with gcc against the 3.14t
headers, and the audit as a subprocess on the real app-ft environment. They assert on
what the audit found, never on how long it took.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from loadtests.audit import gil_audit as audit
from loadtests.audit.gil_audit import (
    AuditOptions,
    ProbeRun,
    forced_python_gil,
    probe_env,
    remedies_for,
    render,
    run_probe,
)
from loadtests.core.errors import ConfigError
from loadtests.provision import gil_trap
from loadtests.provision.gil_trap import TrapBuildError
from tests.conftest import PROJECT_ROOT, require_setup, wait_for

CONTROL_PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
APP_FT = PROJECT_ROOT / ".envs" / "app-ft" / "bin" / "python"
TRAP_ROUTES = str(PROJECT_ROOT / "scenarios" / "gil_trap_routes")
#: gil_lab_trap.spin(10): ten LCG rounds from state 1, computed independently in Python.
SPIN_10 = 1
for _ in range(10):
    SPIN_10 = (SPIN_10 * 6364136223846793005 + 1442695040888963407) % 2**64


# ----------------------------------------------------------------------------- options and PYTHON_GIL


@pytest.mark.parametrize("kwargs", [
    {"app": "app.main:"}, {"app": "not a module"}, {"interpreter": "pypy"}, {"modules": ("ok", "bad-name")},
    {"routes_dirs": ("/nonexistent/routes",)}, {"python_gil": "2"}, {"timeout_s": 0},
])
def test_bad_options_are_config_errors(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        AuditOptions(**kwargs)


def test_options_import_the_app_or_the_given_modules() -> None:
    assert AuditOptions().imports() == [{"module": "app.main", "attr": "app"}]
    assert AuditOptions(app="svc.web").imports() == [{"module": "svc.web", "attr": None}]
    assert AuditOptions(modules=("a", "b.c")).imports() == [{"module": "a", "attr": None}, {"module": "b.c", "attr": None}]


def test_python_gil_comes_from_the_flag_first_then_the_environment() -> None:
    assert forced_python_gil(AuditOptions(), {}) == (None, None)
    assert forced_python_gil(AuditOptions(), {"PYTHON_GIL": "1"}) == ("1", "environment")
    assert forced_python_gil(AuditOptions(python_gil="0"), {"PYTHON_GIL": "1"}) == ("0", "--python-gil")
    with pytest.raises(ConfigError, match="0 or 1"):
        forced_python_gil(AuditOptions(), {"PYTHON_GIL": "yes"})
    with pytest.raises(ConfigError, match="fatal"):
        forced_python_gil(AuditOptions(interpreter="gil", python_gil="0"), {})


def test_probe_env_drops_an_inherited_python_gil_unless_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_GIL", "1")
    assert "PYTHON_GIL" not in probe_env(None)
    assert probe_env("0")["PYTHON_GIL"] == "0"
    assert probe_env(None, {"LAB_ROUTES_DIR": "/x"})["LAB_ROUTES_DIR"] == "/x"


# ----------------------------------------------------------------------------- remedies and verdicts


def test_known_offenders_get_their_known_remedies_and_the_python_gil_risk_last() -> None:
    remedies = remedies_for("httptools.parser.parser", "httptools", "0.6.4")
    assert remedies[0].kind == "upgrade" and "0.8" in remedies[0].text
    assert any(r.kind == "alternative" and "h11" in r.text for r in remedies)
    last = remedies[-1]
    assert last.kind == "python_gil_0"
    assert "httptools.parser.parser" in last.text and "segfaults" in last.text and "race" in last.text


def test_unknown_offenders_get_generic_remedies_naming_the_installed_version() -> None:
    remedies = remedies_for("fastcsv._speedups", "FastCSV", "1.2.3")
    assert remedies[0].kind == "upgrade" and "FastCSV (installed: 1.2.3)" in remedies[0].text
    assert audit.TRACKER in remedies[0].text
    assert any("Py_MOD_GIL_NOT_USED" in r.text and "gil_used = false" in r.text for r in remedies)
    assert [r.kind for r in remedies_for("gil_lab_trap", None, None)] == ["alternative", "fix", "python_gil_0"]


def _report(**changes: object) -> dict:
    """A minimal report as :func:`audit.audit` builds it, before the verdict."""
    report: dict = {
        "interpreter": {"role": "ft", "label": "3.14t", "path": "/py", "version": "3.14.7", "free_threaded": True},
        "python": "/env/bin/python", "python_gil": {"value": None, "forced": False, "source": None},
        "app": {"target": "app.main:app", "steps": [{"module": "app.main", "attr": "app", "gil_before": False,
                                                     "gil_after": False, "error": None, "seconds": 1.0}],
                "imported": True, "error": None, "gil_enabled": False, "offenders": [], "seconds": 1.0},
        "masked_offenders": [], "distributions": {"checked": 0, "skipped": "not requested", "results": []},
        "unsupported": [{"name": "orjson", "reason": "no cp314t wheel", "remedy": "use json", "source": "stamp"}],
    }
    for key, value in changes.items():
        report[key] = value
    report.update(audit._verdict(report))
    return report


def _offender(module: str, distribution: str | None = None) -> dict:
    return {"module": module, "package": module.split(".")[0], "file": f"/site/{module}.so",
            "distribution": distribution, "version": "1.0" if distribution else None, "warned": True,
            "imported_by": "/src/routes.py:3",
            "remedies": [r.to_json() for r in remedies_for(module, distribution, "1.0")]}


def test_verdicts_and_exit_statuses() -> None:
    clean = _report()
    assert (clean["verdict"], clean["exit_status"], clean["gil_enabled"]) == ("clean", 0, False)
    app = dict(clean["app"], gil_enabled=True, offenders=[_offender("gil_lab_trap")])
    trapped = _report(app=app)
    assert (trapped["verdict"], trapped["exit_status"], trapped["gil_enabled_by"]) == ("gil-enabled", 1, ["gil_lab_trap"])
    dist = {"name": "fastcsv", "version": "1.0", "modules": ["fastcsv"], "gil_enabled": True, "errors": [],
            "error": None, "timed_out": False, "seconds": 0.1, "offenders": [_offender("fastcsv._c", "fastcsv")]}
    latent = _report(distributions={"checked": 1, "skipped": None, "results": [dist]})
    assert (latent["verdict"], latent["exit_status"], latent["gil_enabled_by"]) == ("requirement-needs-gil", 1,
                                                                                   ["fastcsv._c"])
    assert latent["app_gil_enabled"] is False and latent["app_enabled_by"] == []
    assert latent["would_enable"] == [{"distribution": "fastcsv", "version": "1.0", "modules": ["fastcsv._c"]}]
    both = _report(app=app, distributions={"checked": 1, "skipped": None, "results": [dist]})
    assert both["verdict"] == "gil-enabled" and both["app_enabled_by"] == ["gil_lab_trap"]
    forced = _report(python_gil={"value": "0", "forced": True, "source": "--python-gil"},
                     masked_offenders=[_offender("gil_lab_trap")])
    assert (forced["verdict"], forced["exit_status"]) == ("gil-forced-off", 0)
    failed = _report(app=dict(clean["app"], imported=False, error="ImportError: nope"))
    assert (failed["verdict"], failed["exit_status"]) == ("import-failed", 1)


def test_the_import_line_tells_the_apps_own_import_from_a_distribution_that_would() -> None:
    dist = {"name": "lxml", "version": "5.3", "modules": ["lxml"], "gil_enabled": True, "errors": [], "error": None,
            "timed_out": False, "seconds": 0.1, "offenders": [_offender("lxml.etree", "lxml")]}
    latent = _report(distributions={"checked": 1, "skipped": None, "results": [dist]})
    line = audit.import_line(latent)
    assert line == ("GIL after importing app.main:app: off; in the environment, lxml 5.3 (lxml.etree) would turn "
                    "it on if imported")
    own = _report(app=dict(latent["app"], gil_enabled=True, offenders=[_offender("lxml.etree", "lxml")]),
                  distributions={"checked": 1, "skipped": None, "results": [dist]})
    assert audit.import_line(own) == "GIL after importing app.main:app: ON, turned on by the app's own import of lxml.etree"
    assert "would turn it on if imported" in audit.render(latent).splitlines()[-1]


def test_render_names_the_offender_its_file_distribution_remedies_and_unsupported_packages() -> None:
    dist = {"name": "fastcsv", "version": "1.0", "modules": ["fastcsv", "fastcsv._c"], "gil_enabled": True,
            "errors": [], "error": None, "timed_out": False, "seconds": 0.1,
            "offenders": [_offender("fastcsv._c", "fastcsv")]}
    text = render(_report(distributions={"checked": 1, "skipped": None, "results": [dist]}))
    for expected in ("fastcsv._c", "/site/fastcsv._c.so", "fastcsv 1.0", "imported by /src/routes.py:3",
                     "python_gil_0: PYTHON_GIL=0", "orjson: no cp314t wheel", "remedy: use json",
                     "leaves the GIL off on 3.14t, but fastcsv 1.0 (fastcsv._c) would turn it on if imported",
                     "(exit 1)"):
        assert expected in text
    forced = render(_report(python_gil={"value": "0", "forced": True, "source": "--python-gil"},
                            masked_offenders=[_offender("gil_lab_trap")]))
    assert "forced to 0 (by --python-gil)" in forced and "kept off only because PYTHON_GIL=0" in forced


# ----------------------------------------------------------------------------- the probe process


@pytest.mark.slow
def test_a_hanging_import_is_killed_at_the_timeout(tmp_path: Path) -> None:
    (tmp_path / "hangs_on_import.py").write_text("import time\ntime.sleep(120)\n")
    env = {**probe_env(None), "PYTHONPATH": str(tmp_path)}
    run = run_probe(Path(sys.executable), {"mode": "import", "imports": [{"module": "hangs_on_import"}]}, env,
                    timeout=1.0)
    assert run.timed_out and run.data is None and "timed out after 1s" in (run.error or "")


@pytest.mark.slow
def test_ctrl_c_during_an_import_takes_the_probe_with_it(tmp_path: Path) -> None:
    """The probe runs in a session of its own, so Ctrl-C reaches only the lab: the lab must end it."""
    marker = f"hangs_{os.getpid()}_{time.monotonic_ns()}"
    (tmp_path / f"{marker}.py").write_text("import time\ntime.sleep(120)\n")
    script = (f"import sys; from pathlib import Path; from loadtests.audit.gil_audit import probe_env, run_probe\n"
              f"run_probe(Path(sys.executable), {{'mode': 'import', 'imports': [{{'module': '{marker}'}}]}}, "
              f"{{**probe_env(None), 'PYTHONPATH': {str(tmp_path)!r}}}, timeout=120)\n")
    lab = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _processes_naming(marker, but=lab.pid), "the probe to start", timeout=30)
        lab.send_signal(signal.SIGINT)
        assert lab.wait(timeout=30) != 0
        assert not _processes_naming(marker, but=lab.pid), "the probe outlived the interrupted lab"
    finally:
        lab.kill()
        for pid in _processes_naming(marker, but=lab.pid):
            os.kill(pid, signal.SIGKILL)


def _processes_naming(marker: str, but: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int(entry.name) != but and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_the_probe_records_each_import_and_its_error(tmp_path: Path) -> None:
    (tmp_path / "broken_module.py").write_text("raise RuntimeError('boom at import')\n")
    env = {**probe_env(None), "PYTHONPATH": str(tmp_path)}
    imports = [{"module": "json"}, {"module": "broken_module"}, {"module": "_json"}]
    run = run_probe(Path(sys.executable), {"mode": "import", "imports": imports}, env, timeout=60)
    assert run.error is None and run.data is not None
    steps = run.data["steps"]
    assert [s["module"] for s in steps] == ["json", "broken_module", "_json"]
    assert steps[1]["error"] == "RuntimeError: boom at import" and steps[0]["error"] is None
    assert steps[2]["error"] is None  # one failure does not stop the imports after it


def test_offenders_merge_the_warning_and_the_verbose_lines() -> None:
    index = audit.DistributionIndex(({"name": "fastcsv", "version": "2.0", "top_level": ["fastcsv"],
                                      "extensions": [{"module": "fastcsv._c", "file": "/site/fastcsv/_c.so"}]},))
    run = ProbeRun(
        data={"warned": [{"module": "gil_lab_trap", "message": "…", "imported_by": "/r/trap.py:9"}],
              "extensions": {"gil_lab_trap": "/cache/gil_lab_trap.so"}},
        verbose_gil=("gil_lab_trap", "fastcsv._c"),
        verbose_ext={"fastcsv._c": "/site/fastcsv/_c.so"},
    )
    found = audit.offenders(run, index)
    assert [(o["module"], o["distribution"], o["file"], o["warned"]) for o in found] == [
        ("gil_lab_trap", None, "/cache/gil_lab_trap.so", True),
        ("fastcsv._c", "fastcsv", "/site/fastcsv/_c.so", False),
    ]


# ----------------------------------------------------------------------------- the trap's build (real gcc)


@pytest.fixture(scope="module")
def trap_dir() -> Path:
    """The trap built for the real 3.14t environment (in the lab's cache; reused when present)."""
    require_setup()
    return gil_trap.ensure_trap_extension(APP_FT)


def _ext_suffix(python: Path) -> str:
    return subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.slow
def test_the_trap_builds_against_the_3_14t_headers_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_setup()
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "cache"))
    built = gil_trap.ensure_trap_extension(APP_FT)
    assert built.parent == tmp_path / "cache" / "gil-trap"
    so = built / f"gil_lab_trap{_ext_suffix(APP_FT)}"
    assert so.is_file() and "314t" in so.name
    record = json.loads((built / "build.json").read_text())
    assert record["interpreter"]["free_threaded"] is True and "python3.14t" in record["interpreter"]["INCLUDEPY"]
    stamp = so.stat().st_mtime_ns
    assert gil_trap.ensure_trap_extension(APP_FT) == built
    assert so.stat().st_mtime_ns == stamp  # reused, not rebuilt


@pytest.mark.slow
def test_importing_the_trap_turns_the_gil_on_with_only_a_warning(trap_dir: Path) -> None:
    code = textwrap.dedent("""
        import sys, warnings
        before = sys._is_gil_enabled()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import gil_lab_trap
        print(before, sys._is_gil_enabled(), gil_lab_trap.spin(10), [str(w.message) for w in caught])
    """)
    env = {**probe_env(None), "PYTHONPATH": str(trap_dir)}
    out = subprocess.run([str(APP_FT), "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.startswith(f"False True {SPIN_10} ")
    assert "has been enabled to load module 'gil_lab_trap'" in out


@pytest.mark.slow
def test_a_failed_compile_is_a_clear_error_with_the_remedy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_setup()
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(TrapBuildError, match=r"compiling gil_lab_trap.c failed \(exit 1\)") as failed:
        gil_trap.ensure_trap_extension(APP_FT, compiler="false")
    assert "apt-get install gcc python3-dev" in str(failed.value)
    with pytest.raises(TrapBuildError, match="apt-get install gcc"):
        gil_trap.ensure_trap_extension(APP_FT, compiler=str(tmp_path / "no-such-gcc"))
    assert not list((tmp_path / "cache").rglob("gil_lab_trap*.so"))  # nothing half-built is left to be reused


def test_the_build_directory_changes_with_the_source_or_the_interpreter() -> None:
    config = {"executable": "/py3.14t", "EXT_SUFFIX": ".cpython-314t-x86_64-linux-gnu.so", "INCLUDEPY": "/inc"}
    source = gil_trap.SOURCE.read_bytes()
    assert gil_trap.build_dir(config, source) == gil_trap.build_dir(dict(config), source)
    assert gil_trap.build_dir(config, source + b"\n") != gil_trap.build_dir(config, source)
    assert gil_trap.build_dir({**config, "executable": "/other"}, source) != gil_trap.build_dir(config, source)


def test_the_trap_source_really_lacks_the_py_mod_gil_slot() -> None:
    code = gil_trap.SOURCE.read_text()
    slots = code.split("trap_slots[] = {", 1)[1].split("};", 1)[0]
    assert "PyModuleDef_Init(&trap_module)" in code and ".m_slots = trap_slots" in code  # multi-phase init
    assert "Py_mod_gil" not in slots


# ----------------------------------------------------------------------------- real audits on 3.14t


def run_audit(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict, str]:
    """The audit command as a subprocess of the control plane; returns (status, report, stderr)."""
    require_setup()
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHON_GIL", "LAB_TRAP_EXT_DIR", "LAB_AUDIT_PYTHON_GIL")}
    proc = subprocess.run([str(CONTROL_PYTHON), "-m", "loadtests.cli.audit_command", "--json", *args], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=900, env={**base, **(env or {})})
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"audit printed no JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.returncode, report, proc.stderr


@pytest.mark.slow
def test_the_stock_app_has_no_offender_on_3_14t() -> None:
    status, report, stderr = run_audit()
    assert status == 0, render(report)
    assert report["verdict"] == "clean" and report["gil_enabled"] is False and report["gil_enabled_by"] == []
    assert report["interpreter"]["label"] == "3.14t" and report["python_gil"]["forced"] is False
    assert report["app"]["imported"] and report["app"]["gil_at_start"] is False and report["app"]["offenders"] == []
    results = report["distributions"]["results"]
    assert report["distributions"]["checked"] == len(results) >= 10
    assert all(d["gil_enabled"] is False and not d["offenders"] for d in results), render(report)
    modules = {m for d in results for m in d["modules"]}
    assert {"fastapi", "pydantic_core._pydantic_core", "uvloop"} <= modules  # extension modules imported too
    total = len(results)
    assert re.search(rf"\[\s*1/{total}\] \S+ .*GIL stays off", stderr)  # per-distribution progress
    assert f"[{total}/{total}]" in stderr
    orjson = next(u for u in report["unsupported"] if u["name"] == "orjson")
    assert "free-threaded" in orjson["reason"] and "json" in orjson["remedy"]


@pytest.mark.slow
def test_the_trap_routes_are_named_with_their_so_file(trap_dir: Path) -> None:
    status, report, _ = run_audit("--routes", TRAP_ROUTES, "--no-distributions",
                                  env={"LAB_TRAP_EXT_DIR": str(trap_dir)})
    assert status == 1
    assert report["verdict"] == "gil-enabled" and report["gil_enabled_by"] == ["gil_lab_trap"]
    step = report["app"]["steps"][0]
    assert (step["gil_before"], step["gil_after"], step["error"]) == (False, True, None)
    (offender,) = report["app"]["offenders"]
    assert offender["module"] == offender["package"] == "gil_lab_trap"
    assert offender["distribution"] is None and offender["warned"] is True
    assert Path(offender["file"]).parent == trap_dir.resolve() and offender["file"].endswith(_ext_suffix(APP_FT))
    assert offender["imported_by"].startswith(f"{TRAP_ROUTES}/trap.py:")
    assert [r["kind"] for r in offender["remedies"]][-1] == "python_gil_0"


@pytest.mark.slow
def test_a_module_list_is_audited_instead_of_the_app(trap_dir: Path) -> None:
    status, report, _ = run_audit("--module", "json", "--module", "gil_lab_trap", "--no-distributions",
                                  env={"PYTHONPATH": str(trap_dir)})
    assert status == 1
    steps = {s["module"]: (s["gil_before"], s["gil_after"]) for s in report["app"]["steps"]}
    assert steps == {"json": (False, False), "gil_lab_trap": (False, True)}
    assert report["app"]["offenders"][0]["imported_by"] is None  # imported by the audit itself


@pytest.mark.slow
def test_python_gil_0_keeps_the_gil_off_and_is_reported_as_forced(trap_dir: Path) -> None:
    status, report, _ = run_audit("--routes", TRAP_ROUTES, "--python-gil", "0",
                                  env={"LAB_TRAP_EXT_DIR": str(trap_dir)})
    assert status == 0
    assert report["python_gil"] == {"value": "0", "forced": True, "source": "--python-gil"}
    assert report["verdict"] == "gil-forced-off" and report["app"]["gil_enabled"] is False
    assert report["app"]["gil_flag"] == 0 and report["app"]["offenders"] == []
    assert [o["module"] for o in report["masked_offenders"]] == ["gil_lab_trap"]
    assert "PYTHON_GIL=0 is forced" in report["distributions"]["skipped"]


@pytest.mark.slow
def test_an_exported_python_gil_1_is_reported_as_forcing_the_gil_on() -> None:
    status, report, _ = run_audit("--no-distributions", env={"PYTHON_GIL": "1"})
    assert status == 1
    assert report["python_gil"] == {"value": "1", "forced": True, "source": "environment"}
    assert report["app"]["gil_enabled"] is True and report["gil_enabled_by"] == ["PYTHON_GIL=1"]


@pytest.mark.slow
def test_the_distribution_pass_names_an_offending_distribution(trap_dir: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A throwaway 3.14t venv with the trap installed as a distribution (RECORD and all)."""
    from loadtests.provision.provisioning import load_interpreters

    interpreters = load_interpreters()
    env_dir = tmp_path / "envs" / "app-ft"
    subprocess.run([interpreters["ft"].path, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    site = Path(subprocess.run([str(env_dir / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    so = next(trap_dir.glob("gil_lab_trap*.so"))
    (site / so.name).write_bytes(so.read_bytes())
    info = site / "trap_dist-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: trap-dist\nVersion: 1.2\n")
    (info / "RECORD").write_text(f"{so.name},,\ntrap_dist-1.2.dist-info/METADATA,,\ntrap_dist-1.2.dist-info/RECORD,,\n")
    monkeypatch.setenv("LAB_ENVS_DIR", str(tmp_path / "envs"))
    lines: list[str] = []
    report = audit.audit(AuditOptions(modules=("json",)), interpreters, progress=lines.append, environ={})
    assert report["verdict"] == "requirement-needs-gil" and report["exit_status"] == 1
    assert report["app"]["gil_enabled"] is False  # the offender is only installed, not imported by the app
    assert report["app_gil_enabled"] is False and report["would_enable"][0]["distribution"] == "trap-dist"
    (dist,) = [d for d in report["distributions"]["results"] if d["name"] == "trap-dist"]
    assert dist["gil_enabled"] is True and dist["modules"] == ["gil_lab_trap"]
    (offender,) = dist["offenders"]
    assert (offender["module"], offender["distribution"], offender["version"]) == ("gil_lab_trap", "trap-dist", "1.2")
    assert offender["file"] == str((site / so.name).resolve())
    assert any("trap-dist 1.2" in line and "GIL ENABLED by gil_lab_trap" in line for line in lines)
    assert "(the env has no stamp)" in report["unsupported"][0]["source"]
