"""Drive one Locust session with workers from elsewhere, for a locustfile given on the command line.

    python -m tests.e2e.session_driver LOCUSTFILE BIND PORT DIR OUT.json

Run inside the lab's namespace by test_distributed.py: it serves a stand-in app (any
path answers 200) on BIND, opens a session whose master listens on BIND:PORT and waits
for one worker from elsewhere (token: $LAB_LOCUST_TOKEN), loads the stand-in for a few
seconds and writes the admitted workers and every sample's (name, worker) to OUT.json.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from loadtests.measure.load_session import SessionSettings, load_session
from loadtests.measure.master import TOKEN_ENV, MasterSettings


class Answer200(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *_: object) -> None:
        pass


def main(locustfile: str, bind: str, port: str, directory: str, out: str) -> None:
    app = ThreadingHTTPServer((bind, 0), Answer200)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    master = MasterSettings(bind=bind, port=int(port), remote_workers=1, token=os.environ[TOKEN_ENV])
    settings = SessionSettings(locustfiles=(Path(locustfile),), log_path=Path(directory) / "locust.log", master=master)
    with load_session(settings, say=print) as session:
        workers = session.wait_for_workers()
        session.start_load(f"http://{bind}:{app.server_address[1]}", 4, False)
        time.sleep(4)
        session.stop_load()
        session.wait_for_reports(time.time(), [w.id for w in workers])
        drained = session.drain()
    app.shutdown()
    Path(out).write_text(json.dumps({
        "workers": [dataclasses.asdict(w) for w in workers],
        "samples": [[s[3], origin] for s, origin in zip(drained.samples, drained.origins, strict=True)],
    }))


if __name__ == "__main__":
    main(*sys.argv[1:])
