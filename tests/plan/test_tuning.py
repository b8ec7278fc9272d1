"""plan/tuning.py: which capacity comparisons screen settings, and the confirm comparison of each side's best."""

from __future__ import annotations

from dataclasses import replace

from loadtests.plan.comparisons import comparisons
from loadtests.plan.tuning import confirm_comparison, screens, tuned_benches
from loadtests.results.records import CapacitySearch, CellConfig


def config(interpreter: str, threads: int, workers: int = 1, processes: bool = False) -> CellConfig:
    return CellConfig("json", "uvicorn", workers, "processes" if processes else "threads", threads, 4, None, None,
                      interpreter)


def search(c: CellConfig, rps: float | None, phase: str = "screen", lower_bound: bool = False) -> CapacitySearch:
    return CapacitySearch(
        config_id=c.config_id, label=c.label, scenario=c.scenario, server=c.server, interpreter=c.interpreter,
        slo_ms=500.0, max_loss=0.01, steps=(), max_rps_at_slo=rps, bracket_low=rps,
        bracket_high=None if lower_bound or rps is None else rps * 1.1, resolution=0.1, stopping="precision planned",
        p95_ms_at_max=None, p95_ci_at_max=None, server_cpu_cores_at_max=None, pss_mb_at_max=None,
        phase=phase)  # type: ignore[arg-type]


GIL = [config("3.14", t) for t in (1, 8)]
FT = [config("3.14t", t) for t in (1, 8)]
PROC = [config("3.14", t, workers=2, processes=True) for t in (1, 8)]


def test_a_bench_with_several_settings_on_a_side_is_tuned_and_its_comparisons_screen() -> None:
    configs = GIL + FT + PROC
    (bench,) = tuned_benches(configs)
    assert set(bench) == set(configs)
    assert all(screens(c, configs) for c in comparisons(configs))
    one_each = [GIL[1], FT[1]]
    assert tuned_benches(one_each) == [] and not any(screens(c, one_each) for c in comparisons(one_each))


def test_the_confirm_comparison_holds_each_sides_best_screened_setting() -> None:
    configs = GIL + FT + PROC
    found = [search(GIL[0], 9.0), search(GIL[1], 6.0), search(FT[0], 7.0), search(FT[1], 13.0),
             search(PROC[0], 19.0), search(PROC[1], 19.0)]  # a tie: the fewer threads win
    confirm = confirm_comparison(configs, found)
    assert confirm is not None and confirm.comparison_id == "json/uvicorn/u4/confirm"
    assert set(confirm.arms) == {GIL[0], FT[1], PROC[0]}
    assert confirm.arms[-1] == PROC[0]  # 3.14 first, the N-process arm last, as every comparison orders them


def test_no_confirm_comparison_until_every_setting_was_screened() -> None:
    configs = GIL + FT
    assert confirm_comparison(configs, [search(GIL[0], 9.0), search(GIL[1], 6.0), search(FT[0], 7.0)]) is None
    # confirm and plain searches do not count as screened
    screened = [search(c, 5.0) for c in configs]
    assert confirm_comparison(configs, [replace(s, phase="confirm") for s in screened]) is None


def test_a_side_without_any_capacity_is_left_out_of_the_confirm_comparison() -> None:
    configs = GIL + FT + PROC
    found = [search(GIL[0], 9.0), search(GIL[1], 6.0), search(FT[0], None), search(FT[1], None),
             search(PROC[0], 19.0), search(PROC[1], 17.0)]
    confirm = confirm_comparison(configs, found)
    assert confirm is not None and set(confirm.arms) == {GIL[0], PROC[0]}
