"""A server the smoke preset does not list, for real: `--servers hypercorn` measures it on both interpreters.

hypercorn's one worker is a child of the process the lab starts, so the cells only
count if readiness waited for that child and the sampler read it.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import load_run_json, run_dir_from, run_lab


def test_a_server_the_preset_lacks_is_measured_on_both_interpreters(tmp_path: Path) -> None:
    result = run_lab("run", "--preset", "smoke", "--servers", "hypercorn", "--repeats", "1", "--warmup", "2",
                     "--out", str(tmp_path))
    run = load_run_json(run_dir_from(result))
    assert run["complete"] is True and run["settings"]["servers"] == ["hypercorn"]
    cells = run["cells"]
    assert {c["interpreter"] for c in cells} == {"3.14", "3.14t"}
    for cell in cells:
        assert cell["server"] == "hypercorn" and cell["outcome"] == "measured", cell["invalid_reason"]
        assert cell["gil_enabled"] is (cell["interpreter"] == "3.14"), cell["runtime_before"]
        version = run["interpreters"][cell["interpreter"]]["packages"]["hypercorn"]
        assert cell["runtime_before"]["server"] == {"name": "hypercorn", "version": version}
        assert cell["runtime_before"]["pid"] != cell["server_pid"]  # the app answered from a child
        assert cell["rps"] > 0 and cell["server_cpu_cores"] > 0.1  # the child's work, read through the tree
