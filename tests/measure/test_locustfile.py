"""locustfile.py: a team's Locust file loaded by the real Locust loader in its own process, and checked."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from loadtests.core.errors import LocustfileError
from loadtests.measure.locustfile import read_locustfile

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bookshop" / "locustfile.py"


def write(tmp_path: Path, text: str, name: str = "load.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.slow
def test_the_example_is_read_with_its_classes_weights_tasks_and_wait_times() -> None:
    found = read_locustfile(EXAMPLE)
    assert found.scenario == "locustfile" and found.sha256 == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    browser, buyer = found.user_classes
    assert (browser.name, browser.weight, browser.wait_time) == ("Browser", 3, "between(0.05, 0.2)")
    assert [(t.name, t.weight) for t in browser.tasks] == [("search", 3), ("similar", 2)]
    assert (buyer.name, buyer.weight, buyer.wait_time) == ("Buyer", 1, "between(0.1, 0.3)")
    assert [(t.name, t.weight) for t in buyer.tasks] == [("quote", 3), ("export", 1)]


@pytest.mark.slow
def test_other_wait_times_and_task_sets_are_described(tmp_path: Path) -> None:
    path = write(tmp_path, """
        from locust import FastHttpUser, HttpUser, TaskSet, constant_pacing, task

        def think(user):
            return 0.5

        class Checkout(TaskSet):
            @task
            def pay(self):
                self.client.post("/pay")

        class Paced(FastHttpUser):
            wait_time = constant_pacing(2)
            tasks = [Checkout]

        class Custom(HttpUser):
            wait_time = think
            fixed_count = 1

            @task
            def home(self):
                self.client.get("/")
    """)
    paced, custom = read_locustfile(path).user_classes
    assert paced.wait_time == "constant_pacing(2)" and [t.name for t in paced.tasks] == ["Checkout"]
    assert custom.wait_time == "load.think" and custom.fixed_count == 1


@pytest.mark.parametrize(("text", "says"), [
    ("from locust import HttpUser\n\nclass Base(HttpUser):\n    abstract = True\n", "defines no User class"),
    ("import missing_helper_module\n", "No module named 'missing_helper_module'"),
    ("from locust import HttpUser, LoadTestShape, task\n\nclass U(HttpUser):\n    @task\n    def t(self):\n"
     "        pass\n\nclass Ramp(LoadTestShape):\n    def tick(self):\n        return None\n",
     "defines a LoadTestShape (Ramp). The lab's windows set the users and the time"),
], ids=["no-user-class", "does-not-import", "load-test-shape"])
@pytest.mark.slow
def test_a_file_the_lab_cannot_drive_is_refused_with_the_cause(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(LocustfileError, match=says.replace("(", r"\(").replace(")", r"\)")):
        read_locustfile(write(tmp_path, text))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LocustfileError, match="is not a Python file"):
        read_locustfile(tmp_path / "nope.py")
