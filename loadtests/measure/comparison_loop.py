"""A paired comparison: measured windows alternate between the arms' warm servers, block by block.

Each block is a palindrome (A B B A, then B A A B), so a slow drift of the machine weighs
on every arm alike. Blocks take turns between the plan's server instances (block k runs
on instance k mod instances), so every instance spans the comparison and holds about the
same number of pairs, whatever that number turns out to be. A window during which the
machine was busy elsewhere is measured again at once, within the run's allowances
(``noise.py``). After every block the stopping rule is asked: a fixed number of pairs
(:func:`fixed_pairs`), or the workflow's two-stage rule, which needs the paired
statistics. A server that dies ends its comparison ("server failed"), and so does one with
a request that hung ("server hung": its stuck threads would weigh on every later window);
its pool starts a fresh one for the next comparison that needs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from loadtests.core.progress import format_seconds
from loadtests.measure.arm import Arm
from loadtests.measure.noise import repeat_noisy
from loadtests.measure.server_pool import ServerPool, died
from loadtests.measure.window_measurement import WindowBench, measure_window
from loadtests.plan.comparisons import ComparisonPlan
from loadtests.results.records import Cell, CellConfig, ComparisonRun, Plan, Stopping
from loadtests.results.run_writer import RunWriter


@dataclass(frozen=True)
class Decision:
    """What the stopping rule says after a block: stop (and why), a line of progress, and what its plan is."""

    stop: Stopping | None
    note: str = ""
    pilot_pairs: int | None = None  # the two-stage rule: the pilot's valid pairs, its spread, the pairs it fixed
    pilot_log_sd: float | None = None
    planned_pairs: int | None = None
    log_sd_pairs: float | None = None  # the variance components of its widest ratio so far
    log_sd_instances: float | None = None


#: ``rule(comparison, cells so far, plan, seconds elapsed) -> Decision``. The workflow supplies the
#: adaptive one (it needs the paired statistics); :func:`fixed_pairs` needs none.
StopRule = Callable[[ComparisonPlan, Sequence[Cell], Plan, float], Decision]
#: ``after(comparison, arms, bench)``: extra work on the warm servers once a comparison's windows are done
#: (the profile windows); never a measured window of the comparison.
AfterComparison = Callable[[ComparisonPlan, Sequence[Arm], WindowBench], None]


def complete_blocks(cells: Sequence[Cell], comparison: ComparisonPlan) -> int:
    """Blocks of a comparison whose every window was measured (valid or not).

    An arm that never ran (refused, skipped: recorded once, outside any block) has no
    windows to wait for.
    """
    mine = [c for c in cells if c.comparison_id == comparison.comparison_id]
    absent = {c.config_id for c in mine if c.block is None}
    expected = sum(1 for config in comparison.block(0) if config.config_id not in absent)
    per_block: dict[int, int] = {}
    for c in mine:
        if c.block is not None and not c.superseded:  # a noisy window measured again stands in its place
            per_block[c.block] = per_block.get(c.block, 0) + 1
    return sum(1 for n in per_block.values() if n == expected)


def fixed_pairs(comparison: ComparisonPlan, cells: Sequence[Cell], plan: Plan, elapsed: float) -> Decision:
    """Exactly ``plan.repeats`` blocks."""
    done = complete_blocks(cells, comparison)
    return Decision("fixed pairs" if done >= plan.repeats else None, f"{done}/{plan.repeats} pairs")


def finish(run: RunWriter, comparison: ComparisonPlan, stopping: Stopping, started: float,
           decision: Decision | None = None, noisy_repeats: int = 0) -> None:
    """Record how a comparison (paired or capacity) ended."""
    run.add_comparison(ComparisonRun(
        comparison_id=comparison.comparison_id, config_ids=tuple(a.config_id for a in comparison.arms),
        blocks=run.next_block(comparison.comparison_id), stopping=stopping, precision_target=run.plan.precision,
        elapsed_s=round(time.monotonic() - started, 1),
        pilot_pairs=decision.pilot_pairs if decision else None,
        pilot_log_sd=None if decision is None or decision.pilot_log_sd is None else round(decision.pilot_log_sd, 4),
        planned_pairs=decision.planned_pairs if decision else None, instances=run.plan.instances,
        noisy_repeats=noisy_repeats,
        log_sd_pairs=None if decision is None or decision.log_sd_pairs is None else round(decision.log_sd_pairs, 4),
        log_sd_instances=None if decision is None or decision.log_sd_instances is None
        else round(decision.log_sd_instances, 4)))


class PairedComparison:
    """Runs one comparison of a run: its arms' windows in blocks until the stopping rule says stop."""

    def __init__(self, run: RunWriter, pool: ServerPool, stop_rule: StopRule, say: Callable[[str], None],
                 after: AfterComparison | None = None) -> None:
        self.run, self.pool, self.stop_rule, self.say, self.after = run, pool, stop_rule, say, after
        self.noisy_repeats = 0  # in the comparison being measured
        self.starting = 0.0  # seconds it spent starting and warming servers up: not part of its time budget

    def measure(self, comparison: ComparisonPlan, total: int) -> None:
        started = time.monotonic()
        number = len(self.run.record.comparisons) + 1
        self.say(f"==> [{number}/{total}] {comparison.comparison_id}: " + " vs ".join(a.label for a in comparison.arms))
        self.noisy_repeats = sum(1 for c in self.run.cells_of(comparison.comparison_id) if c.superseded)
        self.starting = 0.0
        first = self._arms(comparison, 0)  # the arms of the first instance: skipped ones recorded once
        if not first:
            finish(self.run, comparison, "no valid pair", started)
            return
        stopping: Stopping = "interrupted"
        block = self.run.next_block(comparison.comparison_id)
        decision = Decision(None)
        while True:
            decision = self._ask(comparison, started)
            if decision.stop is not None:
                stopping = decision.stop
                self.say(f"    stop: {decision.stop} ({decision.note})")
                break
            live = self._arms(comparison, block % self.run.plan.instances)
            ended = self.block(comparison, live, block)
            note = self._ask(comparison, started).note
            self.say(f"    block {block + 1}: " + "  ".join(window_text(c) for c in self.run.cells_of(
                comparison.comparison_id, block) if not c.superseded) + (f"  [{note}]" if note else "")
                     + f"  {format_seconds(time.monotonic() - started)}")
            block += 1
            if ended is not None:
                stopping, why, servers = ended
                self.say(f"    stop: {why}")
                self.pool.forget(servers)
                break
        if self.after is not None and stopping not in ("server failed", "server hung"):
            self.after(comparison, first, self.pool.bench)
        finish(self.run, comparison, stopping, started, decision, self.noisy_repeats)

    def _arms(self, comparison: ComparisonPlan, instance: int) -> list[Arm]:
        began = time.monotonic()
        try:
            return self.pool.arms(comparison, instance)
        finally:
            self.starting += time.monotonic() - began

    def _ask(self, comparison: ComparisonPlan, started: float) -> Decision:
        """The stopping rule, with the time spent alternating (server starts and warm-ups left out)."""
        return self.stop_rule(comparison, self.run.record.cells, self.run.plan,
                              time.monotonic() - started - self.starting)

    def block(self, comparison: ComparisonPlan, arms: Sequence[Arm],
              block: int) -> tuple[Stopping, str, list[Arm]] | None:
        """Measure one block; return why the comparison cannot go on (a server died or hung) and the servers to
        replace, else None.

        A server that died or hung sits out the rest of the block (one window says what happened; more would
        repeat it, or measure a server with fewer threads), while the other arms' windows still run, so a fault
        of one interpreter never hides what the other does.
        """
        by_config = {a.config: a for a in arms}
        windows = [c for c in comparison.block(block) if c in by_config]
        mine = self.run.cells_of(comparison.comparison_id)
        repeats = {a.config.config_id: sum(1 for c in mine if c.config_id == a.config.config_id) for a in arms}
        dead: dict[CellConfig, str] = {}
        hung: dict[CellConfig, str] = {}
        thresholds = self.run.record.settings.validity
        for slot, config in enumerate(windows):
            if config in dead or config in hung:
                continue
            arm = by_config[config]
            assert arm.server is not None
            in_a_row = 0
            while True:
                cell = measure_window(self.pool.bench, arm, comparison, block, slot, repeats[config.config_id])
                repeats[config.config_id] += 1
                again = repeat_noisy(cell, in_a_row, self.noisy_repeats, thresholds)
                self.run.add_cell(replace(cell, superseded=True) if again else cell)
                if not again:
                    break
                in_a_row += 1
                self.noisy_repeats += 1
                self.say(f"    noisy window, measured again: {cell.noisy}")
            if cell.outcome == "crashed" or arm.server.exit_code() is not None:
                dead[config] = f"the {config.label} server died ({cell.invalid_reason})"
            elif cell.outcome == "hung":
                hung[config] = f"the {config.label} server hung ({cell.invalid_reason})"
        if dead:
            return ("server failed", "; ".join([*dead.values(), *hung.values()]),
                    [*died(arms), *(by_config[c] for c in hung)])
        if hung:
            return "server hung", "; ".join(hung.values()), [by_config[c] for c in hung]
        return None


def window_text(cell: Cell) -> str:
    """``3.14t 41.2`` (``3.14×2`` for N processes), or INVALID: one window in a block's progress line."""
    config = cell.config
    head = f"{config.interpreter}{'×' + str(config.workers) if config.parallelism == 'processes' else ''}"
    return f"{head} {cell.rps:.1f}" if cell.valid and cell.rps is not None else f"{head} INVALID"
