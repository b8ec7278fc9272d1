"""A team's Locust file: loaded by Locust in a separate process, checked before any server starts.

The file runs unmodified. The lab only sets the host and the user count, and loads its
recorder beside it (``load_session.py``). So the file must define at least one User
class, and no ``LoadTestShape``: a shape sets users and time itself, which the lab's
windows do. Each user class's ``wait_time`` is the team's think time; it is kept, and
recorded in run.json.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from loadtests.core.errors import LocustfileError
from loadtests.provision.process_env import child_env
from loadtests.results.records import LocustTask, LocustUserClass

PROBE = Path(__file__).with_name("locustfile_probe.py")
PROBE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Locustfile:
    """A checked Locust file: where it is, its content hash, and what Locust found in it."""

    path: Path
    sha256: str
    user_classes: tuple[LocustUserClass, ...]

    @property
    def scenario(self) -> str:
        """The scenario's name: the file's stem."""
        return self.path.stem


def read_locustfile(path: Path | str) -> Locustfile:
    """Load ``path`` with Locust's own loader (in a fresh process) and check it can drive the lab's windows."""
    path = Path(path).expanduser().resolve()
    if not path.is_file() or path.suffix != ".py":
        raise LocustfileError(f"--locustfile {path} is not a Python file. Give the Locust file your team runs "
                              "(`locust -f FILE`): HttpUser classes with @task methods.")
    try:
        result = subprocess.run([sys.executable, "-P", str(PROBE), str(path)], capture_output=True, text=True,
                                cwd=path.parent, env=child_env(), timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise LocustfileError(f"loading {path} with Locust took longer than {PROBE_TIMEOUT_S:.0f}s: a Locust file "
                              "must not block at import") from None
    try:
        facts = json.loads(result.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        raise LocustfileError(f"Locust could not load {path} (exit {result.returncode}):\n"
                              + "\n".join(result.stderr.strip().splitlines()[-12:])) from None
    if facts["error"]:
        raise LocustfileError(f"Locust could not load {path}: {facts['error']}\nFix the file so that "
                              f"`locust -f {path} --list` works.")
    if facts["shape_classes"]:
        raise LocustfileError(
            f"{path} defines a LoadTestShape ({', '.join(facts['shape_classes'])}). The lab's windows set the users "
            "and the time of every measurement, so a shape would fight them: move the shape class to another file "
            "(your own runs can load both with `locust -f locustfile.py,shape.py`).")
    if not facts["user_classes"]:
        raise LocustfileError(
            f"{path} defines no User class Locust would run. Add a class deriving from locust.HttpUser (or "
            "FastHttpUser) with @task methods; a class with `abstract = True` is not run.")
    classes = tuple(LocustUserClass(name=c["name"], weight=c["weight"], fixed_count=c["fixed_count"],
                                    wait_time=c["wait_time"],
                                    tasks=tuple(LocustTask(t["name"], t["weight"]) for t in c["tasks"]))
                    for c in facts["user_classes"])
    return Locustfile(path, hashlib.sha256(path.read_bytes()).hexdigest(), classes)
