"""The layer says which of the server's modules came from bytecode and which were compiled from source."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import run_python

REPORT = "import json, app.workloads.compute_work, gil_lab_layer.bytecode as b; print(json.dumps(b.report()))"


def test_a_module_without_bytecode_under_the_prefix_counts_as_compiled_from_source(tmp_path: Path) -> None:
    """An empty prefix and no writing: every module with a source file was compiled from source."""
    env = {"PYTHONPYCACHEPREFIX": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    out = run_python(REPORT, env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["pycache_prefix"] == str(tmp_path) and report["dont_write_bytecode"] is True
    assert report["from_bytecode"] == 0 and report["from_source"] > 0
    assert "app.workloads.compute_work" in report["source_modules"] or len(report["source_modules"]) == 20


def test_a_module_compiled_into_the_prefix_counts_as_loaded_from_bytecode(tmp_path: Path) -> None:
    """What a first start writes into the prefix, the second start loads: nothing is compiled from source then."""
    env = {"PYTHONPYCACHEPREFIX": str(tmp_path), "PYTHONDONTWRITEBYTECODE": ""}  # empty: writing allowed
    assert run_python(REPORT, env).returncode == 0  # writes every .pyc it imports into the prefix
    report = json.loads(run_python(REPORT, {**env, "PYTHONDONTWRITEBYTECODE": "1"}).stdout)
    assert report["from_source"] == 0 and report["from_bytecode"] > 0 and report["source_modules"] == []
