"""`report`, `check` and `diff` read each run directory's run.json once, whatever they write from it.

Each command runs in its own process under the audit hook of file_reads.py, on copies of
the paired smoke fixture (a real run of the smoke preset).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT, lab_env
from tests.fixtures.paired_runs import FIXTURE

FILE_READS = Path(__file__).with_name("file_reads.py")


def reads(tmp_path: Path, *args: str | Path) -> list[str]:
    """What the command read, in order (its exit status is the test's business only when it fails to start)."""
    log = tmp_path / "files.log"
    log.unlink(missing_ok=True)
    subprocess.run([sys.executable, str(FILE_READS), str(log), *map(str, args)], cwd=PROJECT_ROOT, env=lab_env(),
                   capture_output=True, text=True, timeout=120)
    return [line.removeprefix("read ") for line in log.read_text().splitlines() if line.startswith("read ")]


def copied(tmp_path: Path, name: str) -> Path:
    run_dir = tmp_path / name
    run_dir.mkdir()
    shutil.copy(FIXTURE, run_dir / "run.json")
    return run_dir.resolve()


def test_report_check_and_diff_read_each_run_once(tmp_path: Path) -> None:
    a, b = copied(tmp_path, "a"), copied(tmp_path, "b")
    assert reads(tmp_path, "report", a) == [f"{a}/run.json"]  # and writes summary.json and both reports
    assert (a / "summary.json").is_file() and (a / "report.html").is_file()
    # check judges the current summary.json, and reads run.json once for the plan it checks the scope against
    assert sorted(reads(tmp_path, "check", a, "--expect", "json:3.14t/3.14>=0.1")) == [f"{a}/run.json",
                                                                                     f"{a}/summary.json"]
    # without a summary.json, it analyses run.json, read once
    assert reads(tmp_path, "check", b, "--expect", "json:3.14t/3.14>=0.1") == [f"{b}/run.json"]
    assert reads(tmp_path, "diff", a, b, "--fail-above", "50") == [f"{a}/run.json", f"{b}/run.json"]
