"""Reading /lab/runtime: the answer is checked and cleaned, and only the lab's own server counts as ready."""

from __future__ import annotations

import os
import subprocess
import sys

from loadtests.measure.runtime import answers_from, parse_runtime

ANSWER = {"python_version": "3.14.7", "implementation": "cpython", "executable": "/x/python\x1b]0;owned\x07",
          "free_threaded": True, "gil_enabled": False, "gil_flag": None,
          "gil_enabled_by": ["evil\r\x1b[2Kclean"], "gilwatch_site_hook": True, "thread_limit": 8, "pid": 1,
          "threads": 1, "server": {"name": "uvicorn", "version": "0.1\u202e"}, "packages": {"pkg\x1b": "1.0"}}


def test_strings_in_the_answer_reach_the_records_escaped() -> None:
    runtime = parse_runtime(ANSWER, "http://app/lab/runtime")
    assert runtime.executable == "/x/python\\x1b]0;owned\\x07"
    assert runtime.gil_enabled_by == ("evil\\x0d\\x1b[2Kclean",)
    assert runtime.server.version == "0.1\\u202e" and "pkg\\x1b" in runtime.packages


def test_only_the_server_or_its_descendants_answer_for_it() -> None:
    me = os.getpid()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert answers_from(me, me) and answers_from(child.pid, me)
        assert not answers_from(me, child.pid)  # a parent is not the server's
        assert not answers_from(os.getppid(), me) and not answers_from(2**22 + 7, me)  # another process, none
    finally:
        child.kill()
        child.wait()
