"""A run's record while the run measures it: held in memory, and saved to run.json after every change.

The measuring loops add what they finish (a window, a warm-up, how a comparison ended, a
capacity search) and the workflow adds the once-per-run steps (audit, microbenchmark, GIL
culprits); each addition rewrites ``run.json`` atomically (:func:`store.save_run`), so an
interrupted run keeps everything it finished and ``gil-lab run --resume`` goes on from there.
Nothing here measures: the writer is the one owner of the record, and it knows nothing of
servers or load.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from loadtests.core.clock import utc_now
from loadtests.core.errors import ResultsError
from loadtests.results.records import (
    AuditOutcome,
    CapacitySearch,
    Cell,
    ComparisonRun,
    GilCulprit,
    Microbench,
    NativeProfile,
    Plan,
    ProbeRun,
    ProfilingSetup,
    RunRecord,
    SafetyRecord,
    StepFailure,
    Warmup,
)
from loadtests.results.store import load_run, save_run


class RunWriter:
    """The record of the run in ``run_dir``; every method that changes it saves it."""

    def __init__(self, run_dir: Path, record: RunRecord) -> None:
        self.run_dir = Path(run_dir)
        self._record = record

    @classmethod
    def create(cls, run_dir: Path, record: RunRecord) -> RunWriter:
        """A new run: its first run.json is written at once (settings, machine, interpreters, no cells)."""
        writer = cls(run_dir, record)
        writer.save()
        return writer

    @classmethod
    def reopen(cls, run_dir: Path) -> RunWriter:
        """An interrupted run, to be completed (``--resume``)."""
        record = load_run(run_dir)
        if record.complete:
            raise ResultsError(f"{run_dir} is already complete; nothing to resume.")
        return cls(run_dir, record)

    @property
    def record(self) -> RunRecord:
        return self._record

    @property
    def plan(self) -> Plan:
        """The plan stored in run.json, so --resume runs exactly what was started."""
        return self._record.settings.plan

    def save(self) -> None:
        save_run(self.run_dir, self._record)

    # ---- what the measuring loops finish ---------------------------------------------------
    def add_cell(self, cell: Cell) -> None:
        self._append(cells=cell)

    def add_warmup(self, warmup: Warmup) -> None:
        self._append(warmups=warmup)

    def add_comparison(self, comparison: ComparisonRun) -> None:
        self._append(comparisons=comparison)

    def add_capacity(self, search: CapacitySearch) -> None:
        self._append(capacities=search)

    def add_profile(self, profile: NativeProfile) -> None:
        self._append(profiles=profile)

    def add_probe(self, probe: ProbeRun) -> None:
        self._append(probes=probe)

    def _append(self, **items: Any) -> None:
        appended: dict[str, Any] = {key: (*getattr(self._record, key), item) for key, item in items.items()}
        self._record = replace(self._record, **appended)
        self.save()

    # ---- what the workflow's once-per-run steps produce -----------------------------------
    def record_step(self, *, microbench: Microbench | StepFailure | None = None,
                    audit: AuditOutcome | StepFailure | None = None,
                    gil_culprits: tuple[GilCulprit, ...] | None = None,
                    profiling: ProfilingSetup | None = None, safety: SafetyRecord | None = None) -> None:
        """Store the result of a once-per-run step (None leaves that step as it was)."""
        changes: dict[str, Any] = {"microbench": microbench, "audit": audit, "gil_culprits": gil_culprits,
                                   "profiling": profiling, "safety": safety}
        self._record = replace(self._record, **{k: v for k, v in changes.items() if v is not None})
        self.save()

    def finish(self) -> None:
        """Every comparison is done: the run is complete."""
        self._record = replace(self._record, complete=True, finished_at=utc_now())
        self.save()

    # ---- what the loops ask of the record so far --------------------------------------------
    def finished_comparisons(self) -> set[str]:
        return {c.comparison_id for c in self._record.comparisons}

    def probed_scenarios(self) -> set[str]:
        return {p.scenario for p in self._record.probes}

    def cells_of(self, comparison_id: str, block: int | None = None) -> list[Cell]:
        """The windows of a comparison so far (of one block when ``block`` is given)."""
        return [c for c in self._record.cells if c.comparison_id == comparison_id
                and (block is None or c.block == block)]

    def next_block(self, comparison_id: str) -> int:
        """The block (capacity: the step) a comparison goes on from: after its last measured one."""
        blocks = [c.block for c in self.cells_of(comparison_id) if c.block is not None]
        return max(blocks) + 1 if blocks else 0
