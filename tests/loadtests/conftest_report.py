"""Synthetic but realistic run.json documents for the report, claims, history and diff tests.

Not a conftest that pytest loads by itself: test modules import what they need.
The model behind the numbers follows the lab's physics: a CPU-bound request costs a
fixed CPU time; 3.14 runs one request at a time per process (image work partly
releases the GIL), 3.14t runs min(users, threads, cores) at a time, a little slower
per request; ``async`` routes never scale. Noise comes from a seeded generator, so
every document is reproducible.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

# CPU seconds per request on 3.14, one thread.
COST_S = {"json": 0.050, "compute": 0.120, "image": 0.080, "hash": 0.040, "async": 0.050, "gil-trap": 0.050}
# Share of a request's work that runs without the GIL on 3.14 (Pillow releases it).
GIL_FREE_SHARE = {"image": 0.5}
FT_SINGLE_THREAD_COST = 1.07  # 3.14t is 7% slower per request
FT_RSS_FACTOR = 1.17


def _interpreters() -> dict[str, Any]:
    common = {"configure_args": "'--prefix=/cache/gil-lab/3.14.7' '--with-lto'",
              "build": {"tarball_sha256": "ab" * 32, "configure_flags": ["--with-lto"]}, "source": "cache"}
    pkgs = {"fastapi": "0.118.0", "pydantic": "2.11.9", "uvicorn": "0.37.0", "granian": "2.5.4", "pillow": "11.3.0"}
    return {
        "3.14": {"path": "/cache/gil-lab/3.14.7/bin/python3.14", "version": "3.14.7", "free_threaded": False,
                 "packages": {**pkgs, "orjson": "3.11.3"}, **copy.deepcopy(common)},
        "3.14t": {"path": "/cache/gil-lab/3.14.7t/bin/python3.14t", "version": "3.14.7", "free_threaded": True,
                  "packages": dict(pkgs), "unsupported": {"orjson": "no free-threaded wheel"},
                  **copy.deepcopy(common), "configure_args": "'--prefix=/cache/gil-lab/3.14.7t' '--with-lto' '--disable-gil'"},
    }


class _Builder:
    def __init__(self, cores: int, seed: int, repeats: int, warmup_s: int, duration_s: int) -> None:
        self.cores = cores
        self.rng = random.Random(seed)
        self.repeats = repeats
        self.warmup_s = warmup_s
        self.duration_s = duration_s
        self.cells: list[dict[str, Any]] = []

    def noise(self, spread: float = 0.03) -> float:
        return 1.0 + self.rng.uniform(-spread, spread)

    def add(self, scenario: str, server: str, interp: str, users: int, *, workers: int = 1, threads: int = 8,
            parallelism: str = "threads", gil_env: str | None = None, cpus: list[int] | None = None,
            gil_by: list[str] | None = None, invalid: dict[int, str] | None = None) -> None:
        ft = interp == "3.14t"
        gil_on = (not ft) or gil_env == "1" or bool(gil_by)
        cores = len(cpus) if cpus else self.cores
        cost = COST_S[scenario] * (FT_SINGLE_THREAD_COST if ft else 1.0)
        width = min(users, workers * threads, cores)
        if scenario == "async":
            par = float(min(workers, cores)) if parallelism == "processes" else 1.0
        elif parallelism == "processes":
            par = float(min(users, workers, cores))
            if not gil_on:
                par = width * 0.95
        elif gil_on:
            free = GIL_FREE_SHARE.get(scenario, 0.0)
            par = 1.0 / ((1 - free) + free / width) if width > 1 else 1.0
            par = min(par * workers, width) if server == "granian" and workers > 1 else par
        else:
            par = 1.0 + (width - 1) * 0.95
        base_rss = 58.0 + 1.5 * threads
        rss = (workers * base_rss if parallelism == "processes" else base_rss + 4 * (workers - 1))
        rss *= FT_RSS_FACTOR if ft else 1.0
        config_id = f"{scenario}/{server}/{interp}/gil-{gil_env or 'default'}/w{workers}/t{threads}/u{users}"
        if parallelism == "processes":
            config_id += "/proc"
        if cpus:
            config_id += f"/cpus{len(cpus)}"
        for r in range(self.repeats):
            rps = par / cost * self.noise()
            lat_mean = users / rps * 1000
            reason = (invalid or {}).get(r)
            if gil_by and ft:
                reason = reason or f"GIL enabled by module {gil_by[0]}"
            series = [round(rps * self.noise(0.08), 2) for _ in range(self.duration_s)]
            self.cells.append({
                "id": f"{config_id}/r{r}", "config_id": config_id, "interpreter": interp, "free_threaded": ft,
                "gil_enabled": gil_on, "gil_enabled_by": list(gil_by or []), "python_gil_env": gil_env,
                "server": server, "workers": workers, "parallelism": parallelism, "threads": threads,
                "cpus": cpus, "scenario": scenario, "users": users, "repeat": r,
                "valid": reason is None, "invalid_reason": reason,
                "rps": round(rps, 3), "requests": int(rps * self.duration_s), "failures": 0,
                "latency_ms": {"p50": round(lat_mean * 0.95, 1), "p95": round(lat_mean * 1.3, 1),
                               "p99": round(lat_mean * 1.55, 1), "mean": round(lat_mean, 1),
                               "max": round(lat_mean * 1.9, 1)},
                "server_cpu_cores": round(min(par * self.noise(0.02), cores), 3),
                "server_rss_mb_peak": round(rss * self.noise(0.01), 1),
                "server_threads_peak": threads + 4, "client_cpu_cores": round(0.02 * rps / 10 + 0.03, 3),
                "rps_series": series,
                "samples": [{"t": i + 0.5, "server_cpu_cores": round(par, 2), "server_rss_mb": round(rss, 1),
                             "server_threads": threads + 4, "client_cpu_cores": 0.05} for i in range(3)],
                "runtime_before": {"gil_enabled": gil_on}, "runtime_after": {"gil_enabled": gil_on},
                "started_at": "2026-11-25T12:03:10Z", "warmup_s": self.warmup_s, "duration_s": self.duration_s,
                "files": {"locust_csv": f"cells/{r}/locust_stats.csv"},
            })


def _microbench(cores: int, thread_counts: list[int], repeats: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed + 1)
    points = []
    for workload, base in (("pure", 10.0), ("json", 14.0), ("hash", 30.0)):
        for variant in ("3.14", "3.14t", "3.14t+PYTHON_GIL=1"):
            for n in thread_counts:
                for r in range(repeats):
                    single = base / (FT_SINGLE_THREAD_COST if variant.startswith("3.14t") else 1.0)
                    if variant == "3.14t":
                        par = 1.0 + (min(n, cores) - 1) * 0.94
                    elif workload == "hash":  # hashlib releases the GIL for large buffers
                        par = 1.0 + (min(n, cores) - 1) * 0.5
                    else:
                        par = 1.0
                    ops_s = single * par * (1 + rng.uniform(-0.02, 0.02))
                    ops = 8 * n
                    points.append({"workload": workload, "variant": variant, "threads": n, "repeat": r,
                                   "seconds": round(ops / ops_s, 4), "ops": ops, "ops_per_s": round(ops_s, 4),
                                   "gil_enabled": variant != "3.14t"})
    return {"usable_cores": cores, "thread_counts": thread_counts, "repeats": repeats,
            "workloads": ["pure", "json", "hash"], "points": points}


def make_run(
    *,
    cores: int = 2,
    scenarios: tuple[str, ...] = ("json", "compute", "image", "async"),
    servers: tuple[str, ...] = ("uvicorn", "granian"),
    users: tuple[int, ...] = (1, 2, 8),
    repeats: int = 3,
    seed: int = 7,
    trap: bool = True,
    gil_toggle: bool = True,
    microbench: bool = True,
    thread_counts: list[int] | None = None,
    cpu_sweep: tuple[int, ...] = (),
    invalid_crash: bool = True,
    run_id: str = "20261125T120301Z-default-3f2a",
    cpu_model: str = "AMD EPYC 7B13 64-Core Processor",
) -> dict[str, Any]:
    """A complete schema-1 run.json document (see docs/run-json.md)."""
    b = _Builder(cores, seed, repeats, warmup_s=2, duration_s=8)
    for scenario in scenarios:
        for server in servers:
            for u in users:
                for interp in ("3.14", "3.14t"):
                    b.add(scenario, server, interp, u)
                b.add(scenario, server, "3.14", u, workers=cores, parallelism="processes")
    if gil_toggle:
        b.add(scenarios[0], "uvicorn", "3.14t", max(users), gil_env="1")
        b.add(scenarios[0], "uvicorn", "3.14t", max(users), gil_env="0")
    if trap:
        b.add("gil-trap", "uvicorn", "3.14t", max(users), gil_by=["_lab_trap_ext"])
        b.add("gil-trap", "uvicorn", "3.14", max(users))
    for n in cpu_sweep:
        b.add("compute", "uvicorn", "3.14t", max(users), cpus=list(range(n)))
    if invalid_crash:
        # one repeat of a 3.14t config died: listed, never averaged
        target = next(c for c in b.cells if c["interpreter"] == "3.14t" and c["users"] == max(users))
        target["valid"] = False
        target["invalid_reason"] = "server crashed (exit -9)"
        target["rps"] = 0.4
    tc = thread_counts or [1, 2, 4]
    return {
        "schema_version": 1,
        "run_id": run_id,
        "preset": "default",
        "created_at": "2026-11-25T12:03:01Z",
        "finished_at": "2026-11-25T12:13:40Z",
        "complete": True,
        "settings": {"warmup_s": 2, "duration_s": 8, "repeats": repeats, "scenarios": list(scenarios),
                     "servers": list(servers), "locust_workers": 0, "users": list(users)},
        "machine": {"cpu_model": cpu_model, "cpu_count": cores, "affinity": list(range(cores)),
                    "usable_cores": cores, "os": "Linux-6.1.0-x86_64-with-glibc2.36", "hostname": "lab",
                    "memory_gb": 23.4, "git_sha": "3f2a9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b", "git_dirty": False},
        "interpreters": _interpreters(),
        "cells": b.cells,
        "microbench": _microbench(cores, tc, 3, seed) if microbench else None,
    }


def write_run(directory: Path, doc: dict[str, Any]) -> Path:
    """Write ``doc`` as ``directory/run.json`` and return the run directory."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "run.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return directory


@pytest.fixture
def synthetic_run_dir(tmp_path: Path) -> Path:
    """A run directory holding a 2-core synthetic run (the default preset's shape)."""
    return write_run(tmp_path / "run", make_run())
