"""A team's own service: its environments, its app as imported, its Locust file and preflight."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from loadtests.results.record import Record, doc
from loadtests.results.records.window import Software


@dataclass(frozen=True)
class ServiceEnvironment(Record):
    """The environment one interpreter served the team's app from."""

    label: str = doc("3.14 or 3.14t.")
    path: str = doc("The environment's directory.")
    own: bool = doc("True: built from the team's requirements (.envs/own-*); false: the lab's own app environment.")
    python: str | None = doc("Its interpreter; null when the environment could not be built.")
    lock_file: str | None = doc("The lock it was installed from (uv pip compile for this interpreter), or null.")
    lock_sha256: str | None = doc("sha256 of that lock file: part of config_id.")
    unavailable_package: str | None = doc("The package that could not be installed on this interpreter, when uv "
                                          "named one.", default=None)
    unavailable_reason: str | None = doc("Why the environment could not be built (uv's last lines); null when it "
                                         "was built. Its arms are recorded as skipped cells with this reason.",
                                         default=None)

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None

    @property
    def why_unavailable(self) -> str:
        """``orjson cannot be installed on 3.14t: <uv's reason>``."""
        return f"{self.unavailable_package or 'a requirement'} cannot be installed on {self.label}: " \
               f"{self.unavailable_reason}"


@dataclass(frozen=True)
class PackageDifference(Record):
    """A package the two interpreters resolved to different versions (null: not installed on that side)."""

    package: str = doc("Distribution name (normalised).")
    gil: str | None = doc("Version on 3.14.")
    ft: str | None = doc("Version on 3.14t.")


@dataclass(frozen=True)
class RouteInfo(Record):
    """One route of the app's table, as ``python -m gil_lab_layer.inspect`` read it."""

    path: str = doc("The path template, e.g. /books/{book_id}/similar (mounts flattened).")
    kind: str = doc("http, websocket or mount.")
    methods: tuple[str, ...] | None = doc("HTTP methods, or null for any.")
    endpoint: str | None = doc("module.qualname of the endpoint.")
    async_def: bool | None = doc("True: an `async def` endpoint, which runs on the event loop; null: not known.")
    body_model: str | None = doc("The body model FastAPI parses and validates on the event loop, or null.")


@dataclass(frozen=True)
class AppInspection(Record):
    """The app as one interpreter imported it, before any server started."""

    label: str = doc("3.14 or 3.14t.")
    framework: Software | None = doc("The web framework and version, or null.")
    routes: tuple[RouteInfo, ...] | None = doc("The route table, or null for an app without one.")
    gil_enabled: bool = doc("sys._is_gil_enabled() after the import.")
    gil_enabled_by: tuple[str, ...] = doc("Modules whose import turned the GIL on.")


@dataclass(frozen=True)
class LocustTask(Record):
    """A task of a user class and its weight."""

    name: str = doc("The task's function (or TaskSet class) name.")
    weight: int = doc("Its weight among the class's tasks.")


@dataclass(frozen=True)
class LocustUserClass(Record):
    """A user class of the team's Locust file, as Locust loaded it."""

    name: str = doc("Class name.")
    weight: int = doc("Its weight: how the lab's user count is shared between classes.")
    fixed_count: int = doc("Locust's fixed_count (0: by weight).")
    wait_time: str = doc("The class's wait_time, kept as the team's think time: e.g. `between(0.05, 0.2)`, "
                         "`constant(0)`, or the function's name.")
    tasks: tuple[LocustTask, ...] = doc("Its tasks with their weights.")


@dataclass(frozen=True)
class PreflightRequest(Record):
    """One request a preflight task sent."""

    method: str = doc("HTTP method.")
    path: str = doc("The URL path requested (no query).")
    name: str = doc("Locust's statistics name.")
    status: int | None = doc("The HTTP status, or null when no response came.")
    error: str | None = doc("Locust's failure text, or null.")
    route: str | None = doc("The route template of the app's table that serves the path, or null when none does.")
    query: str = doc("The query string sent (the probe sends the same).", default="")
    body_base64: str | None = doc("The body sent, base64 (null: none, or more than 1 MiB).", default=None)
    content_type: str | None = doc("Its Content-Type, or null.", default=None)


@dataclass(frozen=True)
class PreflightTask(Record):
    """One task of one user class, run once against a server before any window."""

    user_class: str = doc("The user class.")
    task: str = doc("The task.")
    requests: tuple[PreflightRequest, ...] = doc("What it sent.")
    error: str | None = doc("An exception the task raised (not an HTTP failure), or null.")


@dataclass(frozen=True)
class Preflight(Record):
    """Every task of the Locust file run once against one interpreter's server (real Locust, real server)."""

    interpreter: str = doc("3.14 or 3.14t.")
    server: str = doc("The server it ran against.")
    tasks: tuple[PreflightTask, ...] = doc("One entry per user class and task.")
    seconds: float = doc("Wall time, server start included.")


@dataclass(frozen=True)
class ServiceSettings(Record):
    """The team's service a run measured: what was served, from where, with which load."""

    app: str = doc("The ASGI app as module:attribute (LAB_APP).")
    app_dir: str = doc("First on the server's import path, and its working directory (LAB_APP_DIR).")
    requirements: str | None = doc("The requirements file the environments were built from, or null: the lab's own "
                                   "environments.")
    locustfile: str | None = doc("The team's Locust file, or null: a lab scenario drives the load.")
    environments: Mapping[str, ServiceEnvironment] = doc("Interpreter label -> the environment the app ran in.")
    differences: tuple[PackageDifference, ...] = doc("Packages the interpreters resolved to different versions.")
    inspections: Mapping[str, AppInspection] = doc("Interpreter label -> the app as it imported there.")
    user_classes: tuple[LocustUserClass, ...] = doc("The Locust file's user classes, with their wait_time.")
    preflight: tuple[Preflight, ...] = doc("Each task run once per interpreter before any window.")
    python_gil_0: bool = doc("Whether the run added a PYTHON_GIL=0 arm to the 3.14t side (a risk, never the "
                             "headline).", default=False)
