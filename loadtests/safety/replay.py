"""Send the recorded requests to one server, N at a time, and keep every answer by its request's index.

``concurrency`` threads each hold one keep-alive connection (as Locust's users do)
and take the next request of ``order`` as soon as their last one is answered, so N
requests are in flight at once, in the order given. Each request goes out as
recorded (method, path and query, headers, body); only the ``Host`` header is the
server's and ``Accept-Encoding`` asks for no compression, so a compressed answer's
bytes never differ for want of the same timestamp. The server's address in an answer
is normalised (``bodies.normalise``).

The control plane's interpreter sends: the client does little beside the server,
and its threads only wait on sockets.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from loadtests.safety.bodies import normalise
from loadtests.safety.exchange import Answer, SentRequest

REQUEST_TIMEOUT_S = 60.0
#: Errors of a request on a kept-alive connection the server had closed before reading it.
_NOT_SENT = ("RemoteDisconnected", "ConnectionResetError", "BrokenPipeError")
#: Headers the replay sets itself.
_OWN_HEADERS = {"host", "content-length", "accept-encoding", "connection", "transfer-encoding"}


@dataclass(frozen=True)
class Replayed:
    answers: dict[int, Answer]
    seconds: float


def replay(base_url: str, requests: Sequence[SentRequest], order: Iterable[int], concurrency: int,
           timeout: float = REQUEST_TIMEOUT_S, alive: Callable[[], bool] | None = None) -> Replayed:
    """Every request of ``order`` (indices into ``requests``) sent to ``base_url``, ``concurrency`` at a time."""
    by_index = {r.index: r for r in requests}
    queue = list(order)
    lock = threading.Lock()
    answers: dict[int, Answer] = {}
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80

    def work() -> None:
        connection: http.client.HTTPConnection | None = None
        served = 0  # answers on this connection so far
        while True:
            with lock:
                if not queue:
                    break
                index = queue.pop(0)
            if alive is not None and not alive():
                answers[index] = Answer(None, b"", "the server had exited")
                continue
            if connection is None:
                connection, served = http.client.HTTPConnection(host, port, timeout=timeout), 0
            answer = _send(connection, by_index[index], base_url)
            if answer.error is not None and served and answer.error.startswith(_NOT_SENT):
                # A kept-alive connection the server had already closed (after an error, or idle): the request
                # never reached the app, so it goes once more on a new connection, as HTTP clients do.
                connection.close()
                connection, served = http.client.HTTPConnection(host, port, timeout=timeout), 0
                answer = _send(connection, by_index[index], base_url)
            answers[index] = answer
            served += 1
            if answer.error is not None:
                connection.close()
                connection = None
        if connection is not None:
            connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=work, name=f"gil-lab-replay-{n}", daemon=True)
               for n in range(max(1, concurrency))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Replayed(answers, time.monotonic() - started)


def _send(connection: http.client.HTTPConnection, request: SentRequest, base_url: str) -> Answer:
    headers = {k: v for k, v in request.headers if k.lower() not in _OWN_HEADERS}
    headers["Accept-Encoding"] = "identity"
    try:
        connection.request(request.method, request.target, body=request.body or None, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.will_close:
            connection.close()
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, b"", f"{type(error).__name__}: {error}"[:300])
    return Answer(response.status, normalise(body, [base_url]))
