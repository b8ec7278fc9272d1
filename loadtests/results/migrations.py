"""Step-by-step migrations of ``run.json``, so every run ever written still loads.

``migrate(document)`` applies ``STEPS[v]`` for each version from the file's own up to
``records.SCHEMA_VERSION``; each step takes a plain JSON document of version ``v`` and
returns one of version ``v + 1``. A file newer than this lab is refused: it may hold
fields this code would silently drop. Steps are pure functions of the document (no
imports of the lab's other stages), and the files each was written for are kept as
fixtures in ``tests/fixtures/run-json/v<N>/``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from loadtests.core.errors import ResultsError
from loadtests.results.records import SCHEMA_VERSION

Document = dict[str, Any]

GIL_ON_VARIANT = "3.14t+PYTHON_GIL=1"


def migrate(document: Any, source: str = "run.json") -> Document:
    """``document`` brought to :data:`SCHEMA_VERSION` (a copy; the input is not changed)."""
    if not isinstance(document, dict):
        raise ResultsError(f"{source} is not a JSON object: it is not a gil-lab run")
    version = document.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise ResultsError(f"{source} has no valid schema_version ({version!r}): it is not a gil-lab run")
    if version > SCHEMA_VERSION:
        raise ResultsError(f"{source} has schema_version {version}, newer than this lab reads ({SCHEMA_VERSION}). "
                           "Upgrade gil-lab to read it.")
    missing = [k for k in ("run_id", "machine", "interpreters", "cells") if k not in document]
    if missing:
        raise ResultsError(f"{source} lacks {', '.join(missing)}: the file is truncated or not a gil-lab run")
    doc = copy.deepcopy(document)
    while doc["schema_version"] < SCHEMA_VERSION:
        doc = STEPS[doc["schema_version"]](doc)
    return doc


# --- 1 -> 2 ---------------------------------------------------------------------------------

_RUNTIME_DEFAULTS: dict[str, Any] = {
    "python_version": "", "implementation": "cpython", "executable": "", "gil_flag": None, "gil_enabled_by": [],
    "gilwatch_site_hook": False, "thread_limit": None, "threads": None, "server": {"name": None, "version": None},
    "packages": {}, "orjson_available": None,
}


def _runtime_1_to_2(runtime: Any) -> Any:
    """A v1 ``/lab/runtime`` copy; ``{}`` (never answered) becomes null."""
    if not runtime:
        return None
    out = {k: runtime.get(k, v) for k, v in _RUNTIME_DEFAULTS.items()}
    out.update(free_threaded=bool(runtime.get("free_threaded")), gil_enabled=bool(runtime.get("gil_enabled")),
               pid=int(runtime.get("pid") or 0))
    server = runtime.get("server") or {}
    out["server"] = {"name": server.get("name"), "version": server.get("version")}
    return out


def _outcome_1(cell: dict[str, Any]) -> str:
    """Cells written before ``outcome`` existed: read it back from the reason."""
    reason = cell.get("invalid_reason") or ""
    if "refused to start" in reason:
        return "refused"
    if reason.startswith("server crashed"):
        return "crashed"
    if reason.startswith("server failed"):
        return "server-error"
    if reason.startswith("load generator failed"):
        return "client-error"
    if reason.startswith("skipped"):
        return "skipped"
    return "measured"


def _sample_1_to_2(sample: dict[str, Any]) -> dict[str, Any]:
    return {"t": sample["t"], "server_rss_mb": sample.get("server_rss_mb"),
            "server_threads": sample.get("server_threads"), "server_cpu_cores": sample.get("server_cpu_cores"),
            "client_cpu_seconds": sample.get("client_cpu_seconds", sample.get("client_cpu_cores"))}


def _cell_1_to_2(cell: dict[str, Any], routes: dict[str, list[str]]) -> dict[str, Any]:
    files = dict(cell.get("files") or {})
    base = (files.get("locust_csv") or "").rpartition("/")[0]
    for key, name in (("locust_csv", "locust_stats.csv"), ("locust_history", "locust_stats_history.csv"),
                      ("locust_html", "locust.html"), ("locust_log", "locust.log")):
        files.setdefault(key, f"{base}/{name}" if base else name)
    files.setdefault("server_log", None)
    config_id = cell.get("config_id") or str(cell["id"]).rsplit("/", 1)[0]
    latency = cell.get("latency_ms") or None
    if latency:
        latency = {k: float(latency[k]) for k in ("p50", "p95", "p99", "mean", "max")}
    return {
        "id": cell["id"], "config_id": config_id, "group": cell.get("group", ""),
        "interpreter": cell["interpreter"], "free_threaded": bool(cell.get("free_threaded")),
        "python_gil_env": cell.get("python_gil_env"), "server": cell["server"], "workers": int(cell["workers"]),
        "parallelism": cell.get("parallelism") or "threads", "threads": int(cell["threads"]), "cpus": cell.get("cpus"),
        "scenario": cell["scenario"], "users": int(cell["users"]), "repeat": int(cell.get("repeat", 0)),
        "routes_dirs": routes.get(config_id, []), "http": "auto", "loop": "auto",
        "valid": bool(cell.get("valid")), "outcome": cell.get("outcome") or _outcome_1(cell),
        "invalid_reason": cell.get("invalid_reason"),
        "rps": cell.get("rps"), "requests": int(cell.get("requests") or 0), "failures": int(cell.get("failures") or 0),
        "latency_ms": latency, "server_cpu_cores": cell.get("server_cpu_cores"),
        "server_rss_mb_peak": cell.get("server_rss_mb_peak"), "server_threads_peak": cell.get("server_threads_peak"),
        "server_process_cores": cell.get("server_process_cores"), "client_cpu_cores": cell.get("client_cpu_cores"),
        "client_pids": list(cell.get("client_pids") or []), "server_pid": cell.get("server_pid"),
        "server_sampling": cell.get("server_sampling"), "rps_series": list(cell.get("rps_series") or []),
        "samples": [_sample_1_to_2(s) for s in cell.get("samples") or []],
        "runtime_before": _runtime_1_to_2(cell.get("runtime_before")),
        "runtime_after": _runtime_1_to_2(cell.get("runtime_after")),
        "gil_enabled": cell.get("gil_enabled"), "gil_enabled_by": list(cell.get("gil_enabled_by") or []),
        "started_at": cell.get("started_at") or "", "warmup_s": float(cell.get("warmup_s") or 0.0),
        "duration_s": float(cell.get("duration_s") or 0.0), "locust_workers": int(cell.get("locust_workers") or 0),
        "files": files, "refusal": cell.get("refusal"), "error": cell.get("error"),
    }


_CONFIG_KEYS = ("scenario", "server", "workers", "parallelism", "threads", "users", "python_gil", "cpus",
                "interpreter", "routes_dirs", "group")


def _plan_1_to_2(doc: Document) -> dict[str, Any]:
    """The stored plan, or (for runs written before it was stored) one rebuilt from the cells."""
    settings = doc.get("settings") or {}
    plan = settings.get("plan")
    if plan:
        configs = [{k: c.get(k, [] if k == "routes_dirs" else "" if k == "group" else None) for k in _CONFIG_KEYS}
                   for c in plan.get("configs") or []]
        return {"name": plan.get("name", doc.get("preset", "?")), "description": plan.get("description", ""),
                "warmup_s": float(plan.get("warmup_s", settings.get("warmup_s", 0))),
                "duration_s": float(plan.get("duration_s", settings.get("duration_s", 1))),
                "repeats": int(plan.get("repeats", settings.get("repeats", 1))), "configs": configs,
                "microbench": plan.get("microbench"), "prepare": list(plan.get("prepare") or []),
                "audit": bool(plan.get("audit", False))}
    seen: dict[str, dict[str, Any]] = {}
    for cell in doc["cells"]:
        config_id = cell.get("config_id") or str(cell["id"]).rsplit("/", 1)[0]
        seen.setdefault(config_id, {
            "scenario": cell["scenario"], "server": cell["server"], "workers": int(cell["workers"]),
            "parallelism": cell.get("parallelism") or "threads", "threads": int(cell["threads"]),
            "users": int(cell["users"]), "python_gil": cell.get("python_gil_env"), "cpus": cell.get("cpus"),
            "interpreter": cell["interpreter"], "routes_dirs": [], "group": cell.get("group", "")})
    return {"name": doc.get("preset", "?"), "description": "", "warmup_s": float(settings.get("warmup_s", 0)),
            "duration_s": float(settings.get("duration_s", 1)), "repeats": int(settings.get("repeats", 1)),
            "configs": list(seen.values()), "microbench": None, "prepare": [], "audit": False}


def _interpreter_1_to_2(info: dict[str, Any]) -> dict[str, Any]:
    build = info.get("build")
    return {"path": info.get("path"), "version": info.get("version"), "free_threaded": bool(info.get("free_threaded")),
            "configure_args": info.get("configure_args"), "compiler": info.get("compiler"),
            "source": info.get("source") or "unknown",
            "build": ({"tarball_sha256": build.get("tarball_sha256"),
                       "configure_flags": list(build.get("configure_flags") or [])} if build else None),
            "packages": dict(info.get("packages") or {}), "unsupported": dict(info.get("unsupported") or {}),
            "url": info.get("url")}


def _point_1_to_2(point: dict[str, Any]) -> dict[str, Any]:
    """Points written before ``valid`` existed are judged by the same GIL-state rule the runner uses."""
    variant, gil = str(point["variant"]), bool(point.get("gil_enabled"))
    reason = point.get("invalid_reason")
    if "valid" not in point:
        if variant == "3.14t" and gil:
            reason = "the GIL was enabled in a free-threaded point (a module re-enabled it)"
        elif variant == GIL_ON_VARIANT and not gil:
            reason = "PYTHON_GIL=1 was set but the GIL was off"
    return {"workload": point["workload"], "variant": variant, "threads": int(point["threads"]),
            "repeat": int(point.get("repeat", 0)), "seconds": float(point["seconds"]), "ops": int(point["ops"]),
            "ops_per_s": float(point["ops_per_s"]), "cpu_cores": point.get("cpu_cores"), "gil_enabled": gil,
            "valid": bool(point["valid"]) if "valid" in point else reason is None, "invalid_reason": reason}


def _microbench_1_to_2(section: Any) -> Any:
    if not section:
        return None
    if section.get("error"):
        return {"error": str(section["error"])}
    load = section.get("load_average") or {}
    variants = {name: {"path": v.get("path", ""), "python": v.get("python"), "free_threaded": v.get("free_threaded"),
                       "python_gil_env": v.get("python_gil_env"), "gil_flag": v.get("gil_flag"),
                       "gil_enabled_at_start": v.get("gil_enabled_at_start")}
                for name, v in (section.get("interpreters") or {}).items()}
    points = [_point_1_to_2(p) for p in section.get("points") or []]
    return {"usable_cores": int(section.get("usable_cores") or 1),
            "thread_counts": list(section.get("thread_counts") or sorted({p["threads"] for p in points})),
            "repeats": int(section.get("repeats") or 1),
            "workloads": list(section.get("workloads") or dict.fromkeys(p["workload"] for p in points)),
            "variants": list(section.get("variants") or dict.fromkeys(p["variant"] for p in points)),
            "seconds_per_point": float(section.get("seconds_per_point") or 0.0),
            "started_at": section.get("started_at") or "", "finished_at": section.get("finished_at") or "",
            "elapsed_s": float(section.get("elapsed_s") or 0.0),
            "load_average": {"start": load.get("start"), "end": load.get("end")},
            "interpreters": variants, "points": points}


def _audit_1_to_2(stored: Any) -> Any:
    """One audit report (early version-1 files could hold a list: the free-threaded one counts)."""
    reports = stored if isinstance(stored, list) else [stored] if stored else []
    failed = next((r for r in reports if isinstance(r, dict) and "error" in r and "verdict" not in r), None)
    usable = [r for r in reports if isinstance(r, dict) and "gil_enabled" in r]
    report = next((r for r in usable if (r.get("interpreter") or {}).get("free_threaded", True)), None)
    if report is None:
        return {"error": str(failed["error"])} if failed else None
    interpreter = report.get("interpreter") or {}
    verdict = report.get("verdict") or ("gil-enabled" if report.get("gil_enabled") else "clean")
    return {"verdict": str(verdict), "gil_enabled": bool(report.get("gil_enabled")),
            "gil_enabled_by": list(report.get("gil_enabled_by") or []),
            "interpreter": {"role": str(interpreter.get("role", "ft")), "label": str(interpreter.get("label", "3.14t")),
                            "path": str(interpreter.get("path", "")), "version": str(interpreter.get("version", "")),
                            "free_threaded": bool(interpreter.get("free_threaded", True))},
            "report": report}


def _machine_1_to_2(machine: dict[str, Any]) -> dict[str, Any]:
    cores = machine.get("usable_cores") or machine.get("cpu_count") or 1
    return {"cpu_model": machine.get("cpu_model") or "unknown", "cpu_count": machine.get("cpu_count"),
            "affinity": machine.get("affinity"), "usable_cores": int(cores), "os": machine.get("os") or "",
            "hostname": machine.get("hostname") or "", "memory_gb": machine.get("memory_gb"),
            "git_sha": machine.get("git_sha"), "git_dirty": bool(machine.get("git_dirty"))}


def _v1_to_v2(doc: Document) -> Document:
    settings = doc.get("settings") or {}
    plan = _plan_1_to_2(doc)
    # The config_id rule as version 2 wrote it; each step stays frozen when later versions change the rule.
    routes = {}
    for config in plan["configs"]:
        gil = f"gil-{config['python_gil']}" if config["python_gil"] is not None else "gil-default"
        cpus = f"/cpus{len(config['cpus'])}" if config["cpus"] else ""
        processes = "/processes" if config["parallelism"] == "processes" else ""
        cid = (f"{config['scenario']}/{config['server']}/{config['interpreter']}/{gil}/w{config['workers']}"
               f"{processes}/t{config['threads']}/u{config['users']}{cpus}")
        routes[cid] = list(config["routes_dirs"])
    return {
        "schema_version": 2,
        "run_id": str(doc["run_id"]),
        "preset": str(doc.get("preset") or plan["name"]),
        "created_at": str(doc.get("created_at") or ""),
        "finished_at": doc.get("finished_at"),
        "complete": bool(doc.get("complete", False)),
        "settings": {
            "warmup_s": float(settings.get("warmup_s", plan["warmup_s"])),
            "duration_s": float(settings.get("duration_s", plan["duration_s"])),
            "repeats": int(settings.get("repeats", plan["repeats"])),
            "scenarios": list(settings.get("scenarios") or sorted({c["scenario"] for c in doc["cells"]})),
            "servers": list(settings.get("servers") or sorted({c["server"] for c in doc["cells"]})),
            "locust_workers": int(settings.get("locust_workers") or 0),
            "app_urls": dict(settings.get("app_urls") or {}),
            "plan": plan,
            # the limits version 1 judged with, then fixed in the code
            "validity": {"client_saturation_cores": 0.9, "max_failure_ratio": 0.01, "idle_worker_cores": 0.1},
        },
        "machine": _machine_1_to_2(doc["machine"]),
        "interpreters": {label: _interpreter_1_to_2(info) for label, info in doc["interpreters"].items()},
        "cells": [_cell_1_to_2(c, routes) for c in doc["cells"]],
        "microbench": _microbench_1_to_2(doc.get("microbench")),
        "audit": _audit_1_to_2(doc.get("audit")),
    }


# --- 2 -> 3 ---------------------------------------------------------------------------------


def _cpu_list_3(cpus: list[int]) -> str:
    """The CPU-id spelling version 3 put in config ids (``0-2,5``)."""
    ordered = sorted(set(cpus))
    groups: list[list[int]] = []
    for cpu in ordered:
        if groups and cpu == groups[-1][-1] + 1:
            groups[-1].append(cpu)
        else:
            groups.append([cpu])
    return ",".join(str(g[0]) if len(g) == 1 else f"{g[0]}-{g[-1]}" for g in groups)


def _config_id_3(cell: dict[str, Any]) -> str:
    """Version 3's config_id: the CPU ids (not their count) and the drop-in directories' names."""
    head, sep, _ = cell["config_id"].partition("/cpus")
    base = head if sep else cell["config_id"]
    # version 2 put http/loop after the CPU count; keep them, in the same order
    extra = "".join(f"/{k}-{cell[k]}" for k in ("http", "loop") if cell.get(k, "auto") != "auto")
    if extra and base.endswith(extra):
        base = base[: -len(extra)]
    cpus = f"/cpus{_cpu_list_3(cell['cpus'])}" if cell.get("cpus") else ""
    routes = "".join(f"/routes-{d.rstrip('/').rsplit('/', 1)[-1]}" for d in cell.get("routes_dirs") or [])
    return f"{base}{cpus}{extra}{routes}"


def _v2_to_v3(doc: Document) -> Document:
    """Cells measured one at a time stay so (no comparison_id); only their identity gains detail."""
    for cell in doc["cells"]:
        new_id = _config_id_3(cell)
        cell["id"] = f"{new_id}/r{cell['repeat']}"
        cell["config_id"] = new_id
    doc["schema_version"] = 3
    return doc


def _v3_to_v4(doc: Document) -> Document:
    """Version 4 only adds keys, each with a default: open-loop windows and capacity searches, distributed
    load, a team's own service. A version 3 cell was closed-loop, on the lab's own app, with local workers
    only, which is what the defaults say; its identity is unchanged (``config_id`` grows only for open-loop
    and team cells)."""
    doc["schema_version"] = 4
    return doc


# --- 4 -> 5 ---------------------------------------------------------------------------------


def _v4_to_v5(doc: Document) -> Document:
    """Safety checks: a run before them checked none."""
    return {**doc, "schema_version": 5, "safety": None}


# --- 5 -> 6 ---------------------------------------------------------------------------------


def _v5_to_v6(doc: Document) -> Document:
    """Version 6 adds keys with defaults (no probe, no profile, the audit's older verdicts), and names the kind of
    each thread group of a window: unknown before the server's layer said it (null)."""
    for cell in doc["cells"]:
        for group in cell.get("server_thread_cores") or []:
            group.setdefault("kind", None)
    doc["schema_version"] = 6
    return doc


def _v6_to_v7(doc: Document) -> Document:
    """Before version 7 the lab neither controlled nor recorded how the servers loaded their modules: every
    interpreter's ``bytecode`` is ``unknown`` (its app environments held no bytecode, so most likely source)."""
    doc["bytecode"] = {label: {"state": "unknown", "cache_prefix": None, "dont_write_bytecode": False, "trees": [],
                               "seconds": 0.0, "shell": {}} for label in doc["interpreters"]}
    doc["machine"].setdefault("microcode", None)
    doc["machine"].setdefault("virtualized", None)
    # every arm of a comparison with an N-process arm opened a connection per request
    closing = {c.get("comparison_id") for c in doc["cells"]
               if c.get("parallelism") == "processes" and (c.get("workers") or 1) > 1 and c.get("comparison_id")}
    for cell in doc["cells"]:
        cell.setdefault("connection_close", cell.get("comparison_id") in closing)
        cell.setdefault("instance", 0)  # one server per configuration and comparison
        for key in ("hash_seed", "steal", "foreign_cpu_cores", "lab_cpu_cores", "cpu_mhz", "drain_s",
                    "drain_settled", "noisy"):
            cell.setdefault(key, None)  # not recorded before version 7
        cell.setdefault("superseded", False)
        for key in ("runtime_before", "runtime_after"):
            if cell.get(key):
                cell[key].setdefault("bytecode", None)  # no server reported it yet
    doc["schema_version"] = 7
    return doc


# --- 7 -> 8 ---------------------------------------------------------------------------------


def _v7_to_v8(doc: Document) -> Document:
    """Crashes, hangs and soaks: a run before them recorded none (a crashed cell kept only its reason)."""
    cells = [{**cell, "crash": None, "hang": None} for cell in doc["cells"]]
    safety = doc.get("safety")
    return {**doc, "schema_version": 8, "cells": cells,
            "safety": None if safety is None else {**safety, "soak": None}}


# --- 8 -> 9 ---------------------------------------------------------------------------------

_OPEN_LOOP_9: dict[str, Any] = {"unanswered": None, "failed": None, "over_slo": None, "over_slo_blocks": [], "answer_cutoff_s": None,
                "slo_ms": None}
_STEP_9: dict[str, Any] = {"arrivals": None, "misses": None, "miss_blocks": [], "p95_ci_ms": None, "phase": None}
_SEARCH_9: dict[str, Any] = {"method": "bracket", "ci_low": None, "ci_high": None, "fit": None, "arrivals": 0,
             "precision_target": None, "phase": "search"}


def _v8_to_v9(doc: Document) -> Document:
    """A version 8 open-loop window counted only the requests that completed, and a version 8 capacity search
    bracketed and bisected: its capacity is its highest passing rate, without an interval (``method`` bracket).
    The keys version 9 adds are written with what a version 8 run knew: nothing (null, empty)."""
    for cell in doc["cells"]:
        if isinstance(cell.get("open_loop"), dict):
            cell["open_loop"] = {**cell["open_loop"], **{k: v for k, v in _OPEN_LOOP_9.items()
                                                         if k not in cell["open_loop"]}}
    for search in doc.get("capacities") or []:
        search["steps"] = [{**step, **{k: v for k, v in _STEP_9.items() if k not in step}} for step in search["steps"]]
        search.update({k: v for k, v in _SEARCH_9.items() if k not in search})
    doc["schema_version"] = 9
    return doc


#: ``STEPS[v]`` turns a version-``v`` document into version ``v + 1``.
STEPS: dict[int, Callable[[Document], Document]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4, 4: _v4_to_v5,
                                                  5: _v5_to_v6, 6: _v6_to_v7, 7: _v7_to_v8,
                                                  8: _v8_to_v9}
