"""Hold one real lab session open (a Locust master waiting for one worker from elsewhere) for a test to probe.

    python -m tests.e2e.master_driver PORT DIR

The token comes from $LAB_LOCUST_TOKEN, as for `gil-lab run`. Prints ``admitted <id>``
once a worker is admitted; then, for every line read from stdin, prints the master's
``admission`` (who is admitted, who was refused and why) as one JSON line, after
starting the load first when the line is ``load URL`` (two users against URL). Ends
when stdin closes, stopping the session as the lab does.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from loadtests.measure.load_session import SessionSettings, load_session
from loadtests.measure.master import TOKEN_ENV, MasterSettings
from loadtests.plan.scenarios import scenario_file


def main(port: str, directory: str) -> None:
    master = MasterSettings(bind="127.0.0.1", port=int(port), remote_workers=1, token=os.environ[TOKEN_ENV])
    settings = SessionSettings(locustfiles=(scenario_file("json"),), log_path=Path(directory) / "locust.log",
                               master=master)
    with load_session(settings) as session:
        (worker,) = session.wait_for_workers()
        print("admitted", worker.id, flush=True)
        for line in sys.stdin:
            if line.startswith("load "):
                session.start_load(line.split()[1], 2, False)
            status = session.status()
            print(json.dumps({"connected": status.get("workers"), **(status.get("admission") or {})}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
