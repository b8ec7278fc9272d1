"""A recorded request and an answer to it: what every arm of the response check sends and gets."""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.safety.bodies import snippet

SAFE_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class SentRequest:
    """One request of the recorded list, replayed byte for byte to every arm."""

    index: int  # its place in the recorded list
    method: str
    target: str  # path and query
    headers: tuple[tuple[str, str], ...]
    body: bytes
    name: str  # Locust's name for it
    endpoint: str  # METHOD /route, as the reports name it
    task: str = ""  # the Locust task that sent it
    streamed: bool = False  # its body was a stream Locust did not keep: it cannot be replayed as sent

    @property
    def safe(self) -> bool:
        """A method that must not change the server's state, so it can read the state back."""
        return self.method in SAFE_METHODS

    @property
    def identity(self) -> tuple[str, str, bytes]:
        return self.method, self.target, self.body

    def label(self) -> str:
        body = f" {snippet(self.body, 80)}" if self.body else ""
        return f"{self.method} {self.target}{body}"


@dataclass(frozen=True)
class Answer:
    """What the server answered: a status and a body (its address normalised), or no answer and why."""

    status: int | None
    body: bytes = b""
    error: str | None = None

    @property
    def answered(self) -> bool:
        return self.status is not None
