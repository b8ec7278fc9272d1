"""Each interpreter at its best, as well as at equal settings: the tuning a capacity run can show.

When a capacity run measures a *side* (3.14, 3.14t, or 3.14 × N processes) at more
than one setting (anyio thread limit, workers), this picks each side's best setting
and compares 3.14t with every other side twice:

- **at equal settings**: both at the same thread limit, the lab's default of
  :data:`REFERENCE_THREADS` when both measured it (else the limit most sides measured
  beside 3.14t, the closest to the default on a tie). That is the zero-code-change
  claim: the same app, the same settings, another interpreter;
- **best against best**: each side at its own best setting, which is what a capacity
  planner would deploy. On 3.14 more threads cost more GIL contention, so equal
  settings can flatter 3.14t against a tuned 3.14.

Rules:

- the best setting has the highest ``max_rps_at_slo``; ties go to fewer threads, then
  fewer workers (the cheaper setting);
- a search stopped by an invalid window found only a lower bound. If it is the best, the
  best is marked as a lower bound; if not, it is listed as *unsettled*: its true capacity
  may beat the best. A ratio with such a side is then a bound (at least, at most), and
  says so;
- the capacities of different thread limits come from different comparisons, measured
  at different times: best against best does not cancel machine drift the way the
  sides of one comparison do;
- picking the highest of several noisy capacities, and reporting that same figure,
  flatters it (and favours the side whose curve is flatter). So a tuning run searches
  each side's best setting again, side by side (the *confirm* phase, ``plan/tuning.py``):
  best against best reports those re-measured capacities and their ratios, with intervals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from loadtests.analysis.ratio_interval import RatioInterval, search_ratio
from loadtests.results.records import CapacitySearch, CellConfig, RatioBound, RunRecord, TunedSummary, setting_rank

#: The lab's default anyio thread limit, the one every preset compares at: "equal settings".
REFERENCE_THREADS = 8
CANDIDATE = "3.14t"


@dataclass(frozen=True)
class Setting:
    """One capacity search and the configuration it searched."""

    search: CapacitySearch
    config: CellConfig

    @property
    def rps(self) -> float | None:
        return self.search.max_rps_at_slo

    @property
    def lower_bound(self) -> bool:
        """The capacity is at least ``rps``: an invalid window stopped the search, or no rate above it failed."""
        return self.search.is_lower_bound

    @property
    def rank(self) -> tuple[float, int, int]:
        """Sorts the best first: most capacity (an unknown one last), then fewer threads, then fewer workers."""
        return setting_rank(self.rps, self.lower_bound, self.config.threads, self.config.workers)


@dataclass(frozen=True)
class Side:
    """One interpreter and parallelism (3.14, 3.14t, 3.14 × N processes) across its settings."""

    settings: tuple[Setting, ...]  # best first

    @property
    def best(self) -> Setting:
        return self.settings[0]

    @property
    def unsettled(self) -> tuple[Setting, ...]:
        """Settings below the best whose search found only a lower bound: one of them may be better."""
        return tuple(s for s in self.settings[1:] if s.lower_bound)

    @property
    def config(self) -> CellConfig:
        return self.best.config

    @property
    def name(self) -> str:
        """``3.14``, ``3.14t``, ``3.14 × 2 processes`` (with ``+PYTHON_GIL=1`` when set)."""
        c = self.config
        name = c.interpreter + (f"+PYTHON_GIL={c.python_gil}" if c.python_gil is not None else "")
        return name + (f" × {c.workers} processes" if c.parallelism == "processes" else "")

    @property
    def is_candidate(self) -> bool:
        return self.config.interpreter == CANDIDATE and self.config.python_gil is None

    def at(self, threads: int | None) -> Setting | None:
        """The setting at this thread limit (with the most workers, if several), or None."""
        found = [s for s in self.settings if s.config.threads == threads]
        return max(found, key=lambda s: s.config.workers) if found else None


def _bench(config: CellConfig) -> tuple[object, ...]:
    """What every side of one tuning shares: the load and everything but the interpreter and its settings."""
    return (config.scenario, config.server, config.users, config.cpus, config.http, config.loop, config.routes_dirs)


def _side(config: CellConfig) -> tuple[object, ...]:
    return (config.parallelism == "processes", config.interpreter, config.python_gil or "")


def tuning_id(config: CellConfig) -> str:
    """``json/uvicorn/u4`` plus any CPU set, server flags or drop-ins: a comparison id without its thread limit."""
    rest = config.config_id.split(f"/u{config.users}", 1)[1]
    return f"{config.scenario}/{config.server}/u{config.users}{rest}"


def equal_threads(candidate: Side | None, others: Sequence[Side]) -> int | None:
    """The thread limit of the equal-settings comparison: the default when 3.14t and another side measured it."""
    if candidate is None:
        return None
    mine = {s.config.threads for s in candidate.settings}
    counts = Counter(t for side in others for t in {s.config.threads for s in side.settings} if t in mine)
    if not counts:
        return None
    if REFERENCE_THREADS in counts:
        return REFERENCE_THREADS
    return min(counts, key=lambda t: (-counts[t], abs(t - REFERENCE_THREADS), t))


def ratio(candidate: Setting | None, baseline: Setting | None, candidate_unsettled: bool = False,
          baseline_unsettled: bool = False) -> tuple[RatioInterval | None, RatioBound | None]:
    """3.14t ÷ baseline capacity with its interval, and whether it is measured or only a bound (a side's capacity
    a lower bound, or a setting below its best unsettled)."""
    if candidate is None or baseline is None:
        return None, None
    interval, bound = search_ratio(candidate.search, baseline.search)
    if interval is None or bound is None:
        return None, None
    up = bound in ("at least", "unbounded") or candidate_unsettled  # 3.14t may sustain more
    down = bound in ("at most", "unbounded") or baseline_unsettled  # the baseline may sustain more
    kind: RatioBound = "unbounded" if up and down else "at least" if up else "at most" if down else "measured"
    return RatioInterval(interval.ratio, None if down else interval.low, None if up else interval.high), kind


def sides_of(settings: Iterable[Setting]) -> dict[tuple[object, ...], list[Side]]:
    """Settings grouped into benches (what the sides share), each a list of sides in display order."""
    grouped: dict[tuple[object, ...], dict[tuple[object, ...], list[Setting]]] = {}
    for s in settings:
        grouped.setdefault(_bench(s.config), {}).setdefault(_side(s.config), []).append(s)
    return {bench: [Side(tuple(sorted(members, key=lambda s: s.rank))) for _, members in sorted(by_side.items())]
            for bench, by_side in grouped.items()}


def tuned_entries(settings: Iterable[Setting]) -> list[TunedSummary]:
    """Every side's best setting and both comparisons, for benches where some side ran at several settings.

    The sides are built from the screening searches; the confirm searches (each side's best, searched again)
    give the best-against-best figures when the run has them.
    """
    settings = list(settings)
    confirmed = {(s.config.config_id, _bench(s.config)): s for s in settings if s.search.phase == "confirm"}
    out = []
    for sides in sides_of(s for s in settings if s.search.phase != "confirm").values():
        if all(len(side.settings) == 1 for side in sides):
            continue  # one setting per side: the capacity list says it all
        candidate = next((side for side in sides if side.is_candidate), None)
        others = [side for side in sides if side is not candidate]
        threads = equal_threads(candidate, others)
        again = {id(side): confirmed.get((side.best.config.config_id, _bench(side.best.config))) for side in sides}
        for side in sides:
            out.append(_entry(side, candidate, threads, again))
    return out


def _entry(side: Side, candidate: Side | None, threads: int | None,
           again: dict[int, Setting | None]) -> TunedSummary:
    best, equal = side.best, side.at(threads)
    shown = again[id(side)] or best  # the re-measured capacity of the best setting, when there is one
    none: tuple[RatioInterval | None, RatioBound | None] = (None, None)
    ft_equal = ft_best = none
    if candidate is not None and side is not candidate:  # 3.14t is the numerator of every other side's ratios
        ft_equal = ratio(candidate.at(threads), equal)
        cand_again, side_again = again[id(candidate)], again[id(side)]
        if cand_again is not None and side_again is not None:  # side by side in the confirm phase
            ft_best = ratio(cand_again, side_again, bool(candidate.unsettled), bool(side.unsettled))
        else:
            ft_best = ratio(candidate.best, best, bool(candidate.unsettled), bool(side.unsettled))
    equal_search = equal.search if equal is not None else None
    return TunedSummary(
        tuning_id=tuning_id(best.config), scenario=best.config.scenario, server=best.config.server,
        side=side.name, interpreter=best.config.interpreter, parallelism=best.config.parallelism,
        slo_ms=best.search.slo_ms, best_configuration=best.search.label, best_config_id=best.config.config_id,
        best_threads=best.config.threads, best_workers=best.config.workers, max_rps_at_slo=shown.rps,
        lower_bound=shown.lower_bound, unsettled=tuple(s.search.label for s in side.unsettled),
        threads_tried=tuple(sorted({s.config.threads for s in side.settings})),
        equal_threads=threads if equal is not None else None,
        equal_configuration=equal.search.label if equal is not None else None,
        rps_at_equal=equal.rps if equal is not None else None,
        equal_lower_bound=equal.lower_bound if equal is not None else None,
        ft_ratio_equal=_round(ft_equal[0], "ratio"), ft_ratio_equal_bound=ft_equal[1],
        ft_ratio_best=_round(ft_best[0], "ratio"), ft_ratio_best_bound=ft_best[1],
        confirmed=again[id(side)] is not None, screened_rps_at_slo=best.rps,
        ci_low=shown.search.ci_low, ci_high=shown.search.ci_high,
        equal_ci_low=equal_search.ci_low if equal_search else None,
        equal_ci_high=equal_search.ci_high if equal_search else None,
        ft_ratio_equal_ci_low=_round(ft_equal[0], "low"), ft_ratio_equal_ci_high=_round(ft_equal[0], "high"),
        ft_ratio_best_ci_low=_round(ft_best[0], "low"), ft_ratio_best_ci_high=_round(ft_best[0], "high"))


def _round(interval: RatioInterval | None, end: str) -> float | None:
    """One figure of a ratio's interval (``ratio``, ``low`` or ``high``), rounded; None when absent."""
    value = None if interval is None else getattr(interval, end)
    return None if value is None else round(value, 4)


def run_settings(run: RunRecord) -> list[Setting]:
    """The run's capacity searches, each with the plan's configuration it searched."""
    configs = {c.config_id: c for c in run.settings.plan.configs}
    return [Setting(search, configs[search.config_id]) for search in run.capacities if search.config_id in configs]
