"""The evidence the diagnosis rests on, for the report: the probe's table, the profiles' causes and differences,
and the flame graphs.

Flame graphs are drawn from the folded stacks the profile windows wrote beside run.json
(:mod:`.flamegraph`), inlined in the HTML as SVG and written to ``flamegraphs/`` for the
Markdown report. A folded file that is missing (a run directory copied without it) is
said, not hidden.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.probe import FT, GIL, EndpointScaling
from loadtests.analysis.figures.profiles import ProfilePair
from loadtests.core.native_causes import title
from loadtests.core.text import text_table
from loadtests.core.wording import format_interval
from loadtests.report import flamegraph
from loadtests.report.document import Block, Chart, Paragraph, Table, slug
from loadtests.results.records import NativeProfile


def evidence_text(evidence: Mapping[str, Any]) -> str:
    """``profile_share 0.071 · probe_cpu_growth 1.19``: a finding's figures as summary.json holds them."""
    return " · ".join(f"{key} {value:g}" if isinstance(value, float) else f"{key} {value}"
                      for key, value in evidence.items() if value is not None)


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.2f}"


def _ratio(value: float | None, low: float | None = None, high: float | None = None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" + (f" ({format_interval(low, high)})" if low is not None and high is not None else "")


def probe_rows(endpoints: Sequence[EndpointScaling]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for e in endpoints:
        for r in e.rows:
            growth, eff = r.cpu_growth, r.efficiency
            cpu = r.cpu_per_call
            rows.append((e.scenario, e.endpoint, r.interpreter, str(r.threads),
                         f"{_ms(cpu.mean)} ({_ms(cpu.low)}–{_ms(cpu.high)})" if cpu.low is not None else _ms(cpu.mean),
                         f"{r.throughput.mean:.1f}", f"{r.busy_cores:.2f}",
                         "—" if growth is None else _ratio(growth.ratio, growth.low, growth.high),
                         "—" if eff is None else _ratio(eff.ratio, eff.low, eff.high),
                         e.verdict if r.interpreter == FT and r.threads == e.top_threads else ""))
    return rows


PROBE_COLUMNS = ("scenario", "endpoint", "interpreter", "threads", "CPU per call ms", "calls/s", "busy cores",
                 "CPU growth", "efficiency", "verdict")


def terminal_evidence(a: Analysis) -> list[str]:
    """The probe's table, and per profiled server the causes where 3.14t spent more CPU per request than 3.14."""
    lines: list[str] = []
    if a.probe:
        lines += ["probe (in process, no HTTP):", *text_table([PROBE_COLUMNS, *probe_rows(a.probe)])]
    for pair in a.profiles:
        extra = [f"{d.cause} {d.delta_ms:+.1f} ms" for d in pair.causes if (d.delta_ms or 0.0) > 0][:4]
        if pair.usable(GIL) and pair.usable(FT) and extra:
            lines.append(f"profile {pair.scenario}/{pair.server}: 3.14t spent more CPU per request in "
                         + ", ".join(extra))
    if a.run.profiling is not None and not a.run.profiling.available:
        lines.append(f"profiles: not taken ({a.run.profiling.reason})")
    return lines


def probe_blocks(a: Analysis) -> list[Block]:
    if not a.probe:
        return []
    costs = [f"{e.endpoint} {_ratio(e.single_thread_cost.ratio, e.single_thread_cost.low, e.single_thread_cost.high)}"
             for e in a.probe if e.single_thread_cost is not None]
    return [
        Paragraph("**Evidence: the per-endpoint probe.** Each endpoint the load reaches, called in process through "
                  "ASGI (no HTTP, no load generator), from 1 to N threads with one event loop each, four repeats "
                  "per count. CPU per call is the process's CPU ÷ calls (ms, 95% interval); CPU growth and "
                  "efficiency compare N threads with 1, paired by repeat; the verdict is 3.14t's "
                  "(docs/diagnosis.md)." + (f" Single-thread cost, 3.14t ÷ 3.14: {'; '.join(costs)}." if costs else "")),
        Table("probe", PROBE_COLUMNS, tuple(probe_rows(a.probe)),
              "The probe's table (summary.json's `probe` list)"),
    ]


def cause_rows(pair: ProfilePair) -> list[tuple[str, ...]]:
    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.1%}"

    def ms(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f}"

    return [(d.cause, title(d.cause), pct(d.gil_share), pct(d.ft_share), ms(d.gil_ms), ms(d.ft_ms),
             "—" if d.delta_ms is None else f"{d.delta_ms:+.2f}") for d in pair.causes]


def function_rows(pair: ProfilePair) -> list[tuple[str, ...]]:
    return [(f.function, f.library, f.cause, "not in its top" if f.gil_ms is None else f"{f.gil_ms:.2f}",
             "not in its top" if f.ft_ms is None else f"{f.ft_ms:.2f}", f"{f.delta_ms:+.2f}") for f in pair.functions]


def _said(profile: NativeProfile | None, label: str) -> str:
    if profile is None:
        return f"{label}: no profile"
    if profile.error:
        return f"{label}: not taken ({profile.error})"
    py = profile.python
    python = (f"; Python stacks: {py.samples} readings, the reader used {py.sampler_cpu_s:.2f} s of CPU"
              if py is not None else "; no Python stacks")
    return (f"{label}: {profile.samples} samples over {profile.duration_s:.1f} s, {profile.requests} requests, "
            f"{profile.cpu_ms_per_request or 0:.1f} ms of CPU per request, the server on "
            f"{profile.server_cpu_cores or 0:.2f} cores{python}")


def flame_chart(profile: NativeProfile | None, folded: str | None, run_dir: Path | None, name: str, caption: str,
                python: bool) -> Chart | Paragraph | None:
    if profile is None or folded is None or run_dir is None:
        return None
    source = run_dir / folded
    if not source.is_file():
        return Paragraph(f"The flame graph's stacks ({folded}) are not in this run directory.")
    stacks = flamegraph.parse_folded(source.read_text().splitlines())
    unit = "CPU µs" if python else "samples"
    svg = flamegraph.render(stacks, caption, python=python,
                            describe=lambda frame, n, total: f"{frame}: {n} {unit}, {n / total:.1%}")
    out = run_dir / "flamegraphs" / f"{name}.svg"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(svg)
    return Chart(f"chart-{name}", caption, svg, str(out.relative_to(run_dir)))


def profile_blocks(a: Analysis, run_dir: Path | None) -> list[Block]:
    setup = a.run.profiling
    if setup is None:
        return []
    if not setup.available:
        return [Paragraph(f"**Evidence: native profiles.** Not taken: {setup.reason}. {setup.remedy or ''}")]
    blocks: list[Block] = [Paragraph(
        f"**Evidence: native profiles.** Each headline server, after its measured windows, loaded once more at the "
        f"same users for {setup.window_s:g} s and sampled by perf ({setup.event} at {setup.frequency_hz} Hz, "
        f"{setup.unwinding} unwinding with {setup.stack_bytes} bytes of stack per sample), its Python stacks read "
        f"from outside the server at {setup.python_sampler_hz or 0:g} Hz. A share by symbol is a lower bound for "
        "reference counting, much of which is inlined into the eval loop. Flame graphs: width is CPU, the bottom "
        "row the kind of thread, colours the cause (docs/diagnosis.md).")]
    for pair in a.profiles:
        name = slug(f"{pair.scenario}-{pair.server}")
        blocks.append(Paragraph(f"**{pair.scenario} on {pair.server}** ({pair.comparison_id}). "
                                f"{_said(pair.gil, GIL)}. {_said(pair.ft, FT)}."))
        if pair.usable(GIL) or pair.usable(FT):
            blocks.append(Table(f"profile-causes-{name}", ("cause", "what it is", "3.14 share", "3.14t share",
                                                           "3.14 ms/request", "3.14t ms/request", "difference ms"),
                                tuple(cause_rows(pair)), f"{pair.scenario} on {pair.server}: CPU by cause"))
        if pair.functions:
            blocks.append(Table(f"profile-difference-{name}", ("function", "library", "cause", "3.14 ms/request",
                                                               "3.14t ms/request", "difference ms"),
                                tuple(function_rows(pair)),
                                f"{pair.scenario} on {pair.server}: where 3.14t spends more CPU per request than 3.14 "
                                "(self time of the innermost function, inlined ones named)"))
        for label, profile in ((GIL, pair.gil), (FT, pair.ft)):
            if profile is None or not pair.usable(label):
                continue
            made = flame_chart(profile, profile.folded, run_dir, f"flame-{name}-{slug(label)}",
                               f"{pair.scenario} on {pair.server}, {label}: native stacks", python=False)
            if made is not None:
                blocks.append(made)
            if profile.python is not None:
                made = flame_chart(profile, profile.python.folded, run_dir, f"flame-py-{name}-{slug(label)}",
                                   f"{pair.scenario} on {pair.server}, {label}: Python stacks (CPU-weighted)",
                                   python=True)
                if made is not None:
                    blocks.append(made)
    return blocks
