"""The pieces of distributed load that need no process: the master's flags, the handshake's rules, the clock."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loadtests.core.errors import ConfigError
from loadtests.measure import handshake
from loadtests.measure.handshake import SessionKeys
from loadtests.measure.load_session import Admission, SessionSettings
from loadtests.measure.master import MasterSettings, check_master
from loadtests.measure.remote_worker import WorkerSettings, parse_master
from loadtests.measure.validity import saturated_worker
from loadtests.plan.scenarios import SCENARIOS_DIR


def lab_workers(expression: str, **values: Any) -> Any:
    """``expression`` evaluated with scenarios/lab_workers.py imported as ``m``, as Locust imports it.

    In a process of its own: importing Locust monkey-patches the standard library (gevent),
    which the test process must not get.
    """
    code = (f"import json, sys; sys.path.insert(0, {str(SCENARIOS_DIR)!r}); import lab_workers as m; "
            f"v = json.loads(sys.argv[1]); print(json.dumps({expression}))")
    result = subprocess.run([sys.executable, "-c", code, json.dumps(values)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---- the master's flags ----------------------------------------------------------------------


def test_workers_from_elsewhere_default_to_a_loopback_master_on_a_free_port() -> None:
    """Not Locust's 5557: another lab on this machine may be using it. A named port is kept."""
    chosen = check_master(None, None, 2, False, True)
    assert chosen is not None and (chosen.bind, chosen.remote_workers) == ("127.0.0.1", 2)
    assert chosen.port is not None and 1024 < chosen.port != 5557
    assert check_master(None, 5557, 2, False, True) == MasterSettings("127.0.0.1", 5557, 2)
    assert check_master(None, None, 0, False, True) is None


def test_a_master_beyond_loopback_needs_expose_master_and_says_what_it_exposes() -> None:
    with pytest.raises(ConfigError) as caught:
        check_master("10.0.0.5", 6000, 1, False, True)
    text = str(caught.value)
    assert "add --expose-master" in text and "10.0.0.5:6000" in text and "no authentication" in text
    assert "the whole app" in text  # the lab's servers listen there too
    assert check_master("10.0.0.5", 6000, 1, True, True) == MasterSettings("10.0.0.5", 6000, 1)
    assert "<a free port>" in str(pytest.raises(ConfigError, check_master, "10.0.0.5", None, 1, False, True).value)


def test_a_wildcard_master_works_only_with_apps_the_lab_does_not_start() -> None:
    with pytest.raises(ConfigError, match="names no single address"):
        check_master("0.0.0.0", None, 2, True, lab_starts_servers=True)
    master = check_master("0.0.0.0", None, 2, True, lab_starts_servers=False)
    assert master is not None and master.connect_host == "127.0.0.1"


def test_master_flags_without_workers_from_elsewhere_are_an_error() -> None:
    with pytest.raises(ConfigError, match="add --expect-workers N"):
        check_master("127.0.0.1", None, 0, False, True)


def test_local_workers_join_the_master_where_it_listens() -> None:
    settings = SessionSettings((SCENARIOS_DIR / "json_load.py",), Path("x.log"), workers=2,
                               master=MasterSettings("10.0.0.5", 5557, 3))
    assert settings.expected_workers == 5
    # each module before the files that import it, or it would be loaded (and listen) twice
    assert [f.name for f in settings.files()] == ["lab_handshake.py", "lab_workers.py", "lab_support.py",
                                                  "json_load.py"]


@pytest.mark.parametrize(("text", "expected"), [("lab", ("lab", 5557)), ("10.0.0.1:6000", ("10.0.0.1", 6000)),
                                                 ("gil-lab-master:5557", ("gil-lab-master", 5557))])
def test_worker_master_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_master(text) == expected


@pytest.mark.parametrize("text", ["lab:port", "lab:0", ":5557", "lab:70000"])
def test_worker_master_address_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="HOST or HOST:PORT"):
        parse_master(text)


def test_a_worker_runs_the_verified_files_the_master_shipped_unless_given_files_and_never_minus_f_dash() -> None:
    shipped = [Path("/private/lab_handshake.py"), Path("/private/json_load.py")]
    assert WorkerSettings("lab").command(shipped)[1:3] == ["-f", "/private/lab_handshake.py,/private/json_load.py"]
    own = WorkerSettings("lab", locustfiles=(SCENARIOS_DIR / "json_load.py",)).command(shipped)[2].split(",")
    assert [Path(f).name for f in own] == ["lab_handshake.py", "lab_workers.py", "lab_support.py", "json_load.py"]


# ---- admission ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_differences_name_both_sides() -> None:
    master = {"locust": "2.47.0", "lab": "0.1.0", "files": {"lab_support.py": "a" * 64, "json_load.py": "b" * 64}}
    assert lab_workers("m.differences(v['a'], v['a'])", a=master) == []
    worker = {"locust": "2.40.0", "lab": None, "files": {"lab_support.py": "a" * 64, "json_load.py": "c" * 64}}
    assert lab_workers("m.differences(v['a'], v['b'])", a=master, b=worker) == [
        "Locust version: master 2.47.0, worker 2.40.0",
        "lab version: master 0.1.0, worker None (start workers with `gil-lab worker`)",
        f"scenario file json_load.py: master sha256 {'b' * 12}, worker sha256 {'c' * 12}",
    ]
    fewer = {**master, "files": {"lab_support.py": "a" * 64}}
    assert lab_workers("m.differences(v['a'], v['b'])", a=master, b=fewer) == [
        f"scenario file json_load.py: master sha256 {'b' * 12}, worker sha256 none"]


@pytest.mark.slow
def test_file_hashes_match_what_minus_f_dash_writes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.py").write_bytes(b"print(1)\r\n")
    (tmp_path / "b" / "x.py").write_text("print(1)\n")  # the master ships text; the worker writes \n
    hashes = lab_workers("[m.file_hashes([v['a']]), m.file_hashes([v['b']])]", a=str(tmp_path / "a" / "x.py"),
                         b=str(tmp_path / "b" / "x.py"))
    assert hashes[0] == hashes[1] and set(hashes[0]) == {"x.py"}


def test_each_mac_depends_on_every_part_and_never_shows_the_token() -> None:
    token, shared = "s3cret-token", handshake.shared
    keys = SessionKeys.new(token)
    assert keys.master_key != keys.worker_key and token not in keys.master_key + keys.worker_key
    assert SessionKeys.new(token).session != keys.session  # a new session, new keys
    key = bytes.fromhex(keys.worker_key)
    base = shared.mac(key, "hello", keys.session, "n-master", "n-worker", "w1", [["a.py", "0" * 64]])
    assert base == shared.mac(key, "hello", keys.session, "n-master", "n-worker", "w1", [["a.py", "0" * 64]])
    others = [shared.mac(key, "hello", keys.session, "n-master", "n-worker", "w2", [["a.py", "0" * 64]]),
              shared.mac(key, "hello", keys.session, "n-other", "n-worker", "w1", [["a.py", "0" * 64]]),
              shared.mac(key, "hello", keys.session, "n-master", "n-worker", "w1", [["a.py", "1" * 64]]),
              shared.mac(bytes.fromhex(keys.master_key), "hello", keys.session, "n-master", "n-worker", "w1",
                         [["a.py", "0" * 64]])]
    assert base not in others and len(set(others)) == len(others)
    assert shared.derive(token, "worker", keys.session).hex() == keys.worker_key


def test_macs_compare_as_bytes_whatever_arrives() -> None:
    expected = handshake.shared.mac(b"k", "x")
    assert handshake.shared.same(expected, expected)
    for arrived in ("é" * 64, "\ud800", None, 7, b"bytes", expected.upper()):
        assert not handshake.shared.same(expected, arrived)  # no TypeError on non-ASCII text, no match


def test_shipped_file_names_must_be_plain_python_files_of_the_workers_own_directory() -> None:
    safe = handshake.shared.safe_names
    assert safe([{"filename": "a.py", "contents": "x"}, {"filename": "b.py", "contents": ""}]) == [("a.py", "x"),
                                                                                                   ("b.py", "")]
    for bad in ("../a.py", "/etc/x.py", "sub/a.py", ".hidden.py", "a.sh", "", None):
        assert safe([{"filename": bad, "contents": "x"}]) is None, bad
    assert safe([{"filename": "a.py", "contents": "x"}] * 2) is None
    assert safe(["a.py"]) is None


@pytest.mark.slow
def test_the_clock_offset_comes_from_the_shortest_round_trip() -> None:
    # worker clock 2.5 s ahead; the round with 10 ms trip is exact within 5 ms, a slow one is skewed
    rounds = [(200.0, 202.5 + 0.180, 200.200), (100.0, 102.5 + 0.005, 100.010)]
    offset, trip = lab_workers("m.clock_offset(v['r'])", r=rounds)
    assert offset == pytest.approx(2.5) and trip == pytest.approx(0.010)


def test_admission_counts_only_admitted_connected_workers() -> None:
    status = {"workers": ["a", "b", "c"], "admission": {
        "workers": [{"id": "a", "state": "ready", "admitted": True, "host": "w1", "address": "10.0.0.2",
                     "offset_s": 0.001, "rtt_s": 0.002, "pid": 7},
                    {"id": "b", "state": "ready", "admitted": False},
                    {"id": "d", "state": "gone", "admitted": True}],
        "refused": [{"id": "e", "host": "w9", "address": "10.0.0.9", "reason": "wrong token"}]}}
    admission = Admission.from_status(status)
    assert [w.id for w in admission.ready] == ["a"] and admission.ready[0].label == "w1 (10.0.0.2)"
    assert admission.pending == ["b", "c"]
    assert admission.refused == (("w9 (10.0.0.9)", "wrong token"),)


def test_saturation_is_judged_per_worker() -> None:
    assert saturated_worker([("w1", 0.4), ("w2", None)]) is None
    reason = saturated_worker([("w1", 0.4), ("w2 (10.0.0.3)", 0.97)])
    assert reason is not None and "0.97 cores in Locust worker w2 (10.0.0.3)" in reason
