"""The lab's exception tree.

Every failure the lab expects to meet is a ``LabError`` with a message that says
what went wrong *and what to do about it*. The CLI prints ``str(error)`` and exits
non-zero; it never shows a traceback for these. Anything that is not a
``LabError`` is a bug in the lab.

    LabError
    ├── ConfigError          bad flags, unknown preset or scenario, bad env var
    │   ├── AppError         a team's app does not import, is not ASGI 3, or serves /lab/
    │   └── LocustfileError  a team's Locust file cannot drive the lab's windows
    ├── InterpreterError     an interpreter is missing or is not what it claims
    │   ├── BuildError       the CPython source build failed
    │   ├── DownloadError    the pinned CPython source tarball could not be downloaded intact
    │   └── UvError          uv could not be installed, or `uv python install` failed
    ├── EnvironmentSetupError  a virtual environment could not be made or synced
    │   └── RequirementsError    a team's requirements file is missing or unusable
    │       └── RequirementsConflict  a team's requirement contradicts the lab's own
    │   └── EnvironmentUnavailable  a team's environment could not be built for one interpreter
    ├── ServerError          a server would not start, or died
    │   └── ServerRefused    the server refused to start by design (granian + GIL)
    ├── LoadGeneratorError   Locust failed or produced no statistics
    │   ├── PreflightError   the team's Locust file and app do not fit (every request 404, no request)
    │   ├── RecordingError   the safety check could not record the requests of the load
    │   └── MasterUnverified what answers on the master's address did not prove it knows the run's token
    ├── LaunchError          a server or Locust process could not be started under its supervisor
    ├── MicrobenchError      a `gil-lab threads` worker failed
    └── ResultsError         a run directory or run.json is unusable
        ├── HistoryLocked    another lab holds the run history's write lock longer than the lab waits
        └── HistoryCorrupt   the run history file is not a readable SQLite database
"""

from __future__ import annotations


class LabError(Exception):
    """Root of every error the lab reports to a user."""


class ConfigError(LabError):
    """A flag, preset, scenario or environment variable is invalid."""


class AppError(ConfigError):
    """Raised before any server starts when a team's app (``--app MODULE:ATTR``) cannot be served.

    The module does not import in an app environment (the message ends with the last
    lines of the traceback), the attribute is not an ASGI 3 app (a WSGI app, a factory,
    a class), or the app's route table declares routes under the lab's reserved ``/lab/``.
    """


class LocustfileError(ConfigError):
    """Raised before any server starts when a ``--locustfile`` cannot drive the lab's windows.

    The file is missing or does not import, defines no User class, or defines a
    ``LoadTestShape`` (the lab's windows set the users and the time, so a shape would fight them).
    """


class InterpreterError(LabError):
    """An interpreter could not be found, or failed verification."""


class BuildError(InterpreterError):
    """Building CPython from source failed."""


class DownloadError(InterpreterError):
    """The pinned CPython source tarball could not be downloaded intact.

    Raised when the mirror is unreachable or does not answer in time, answers with an
    HTTP error (404: no such release there), or sends a truncated file or one whose
    sha256 is not the pinned one. Nothing is stored in the source cache in any of these cases.
    """


class UvError(InterpreterError):
    """uv could not be installed into the lab's tool directory, or `uv python install` failed or timed out."""


class EnvironmentSetupError(LabError):
    """A virtual environment could not be created or synchronised."""


class RequirementsError(EnvironmentSetupError):
    """Raised when a team's requirements file is missing, or a pyproject.toml has no ``[project].dependencies``,
    or the requirements cannot be resolved on the standard 3.14 interpreter."""


class RequirementsConflict(RequirementsError):
    """Raised when a team's requirements and the lab's own app requirements cannot be installed together.

    ``team`` and ``lab`` hold the requirement strings of each side that the resolver named.
    """

    def __init__(self, message: str, team: list[str], lab: list[str]) -> None:
        super().__init__(message)
        self.team = team
        self.lab = lab


class EnvironmentUnavailable(EnvironmentSetupError):
    """Raised when an arm needs a team's environment that could not be built for its interpreter.

    A package of the team's requirements has no wheel for 3.14t and its source build
    failed. The runner records that arm as one skipped cell with this message (the
    package and the installer's reason) and measures the other interpreter's arms.
    """


class ServerError(LabError):
    """A server failed to start, or crashed while it was being measured."""


class ServerRefused(ServerError):
    """The server refused to start on purpose (for example granian on a 3.14t with the GIL on)."""


class LoadGeneratorError(LabError):
    """Locust failed to run or produced no statistics."""


class WorkersMissing(LoadGeneratorError):
    """Raised when fewer Locust workers than expected (``--locust-workers`` plus ``--expect-workers``) are
    connected and admitted by the lab's handshake within the join timeout; the message names who joined and
    who was refused, and why."""


class MasterUnverified(LoadGeneratorError):
    """Raised before anything a master sends is used, when the process on the master's address does not
    answer the lab's challenge, or answers it without proving it knows the run's token: a port squatter,
    a spoofed address, a plain Locust master, or the master of another run (or this side's token is wrong)."""


class WorkerRefused(LabError):
    """Raised by ``gil-lab worker`` when the master refused its Locust worker (another token, Locust version,
    lab version or scenario files); restarting cannot help, the message names both sides' values."""
class PreflightError(LoadGeneratorError):
    """Raised before any window when the team's Locust file, run task by task against the app, shows they do not fit.

    Every request of every task was answered 404 (the file is written for another
    service, or ``--app`` names the wrong app), or no task sent a request at all.
    """


class RecordingError(LoadGeneratorError):
    """Raised by the safety check when the requests of the load cannot be recorded.

    The Locust file's tasks sent no request (each raised, or sent nothing), or every
    request failed before an answer; the message names the tasks and their errors. The
    tests check, when asked for, still runs.
    """


class LaunchError(LabError):
    """Raised when a command the lab runs under its supervisor (a server, Locust) cannot be started.

    The executable is missing or not executable, the working directory does not exist, or
    the supervisor itself did not come up. The message names the command and the cause.
    """


class MicrobenchError(LabError):
    """A `gil-lab threads` worker failed or returned something unusable."""


class ResultsError(LabError):
    """A run directory or its run.json cannot be read or written."""


class HistoryLocked(ResultsError):
    """Another process (a second lab, ``gil-lab history``) held the history's write lock past the wait.

    Nothing is wrong with the file: the run is indexed by the next ``gil-lab history``.
    """


class HistoryCorrupt(ResultsError):
    """``history.sqlite`` is not a readable SQLite database; it can be deleted and rebuilt from the runs."""
