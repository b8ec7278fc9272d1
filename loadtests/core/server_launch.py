"""One start of a server, in the lab's terms: what a declaration turns into a command line.

Only the declarations (``core/servers/``) and the code that starts servers
(``measure/servers.py``) use it; an import-linter contract keeps it that way, so
nothing else in the lab builds a server's command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Launch:
    """One start of a server, in the lab's terms; a declaration turns it into the server's own flags."""

    python: Path  # the app environment's interpreter; console scripts sit beside it
    target: str  # the ASGI app as module:attribute (the lab's layer)
    host: str
    port: int
    workers: int
    http: str  # auto, h11 or httptools: honoured by servers that let you choose the parser
    loop: str  # auto, asyncio or uvloop

    def script(self, name: str) -> str:
        """A console script of the app environment, e.g. ``.envs/app-gil/bin/granian``."""
        return str(Path(self.python).parent / name)
