"""What the safety checks found, in words: the "safe to move?" line, and the full text of ``gil-lab safety``.

It renders ``results/records/safety.py`` records as they are: every verdict, rate and
interval was decided by the checks. The line goes on each scenario card of a team's
service and in the terminal; :func:`safety_text` is what ``gil-lab safety`` prints.
"""

from __future__ import annotations

from collections.abc import Sequence

from loadtests.analysis.figures.memory import MemoryGrowth
from loadtests.core.text import text_table
from loadtests.report.document import Bullets, Paragraph, Table
from loadtests.report.faults_text import growth_sentence
from loadtests.results.records.safety import (
    CheckFailure,
    EndpointCheck,
    ResponsesCheck,
    SafetyRecord,
    SuiteCheck,
    SuiteTest,
)
from loadtests.results.records.soak import SoakCheck

DOCS = "docs/safety.md"
ENDPOINT_WORDS = {
    "consistent": "consistent",
    "wrong-without-gil": "wrong only without the GIL",
    "wrong-under-concurrency": "wrong under any concurrency",
    "not-compared": "not compared",
}
TEST_WORDS = {
    "passes": "passes everywhere",
    "fails-everywhere": "fails everywhere (not a threading problem)",
    "fails-parallel-ft-only": "fails only in threads on 3.14t (a race the GIL was hiding)",
    "fails-parallel-both": "fails in threads on both (unsafe whatever the interpreter)",
    "crashed": "crashed",
    "hung": "hung",
    "not-run": "did not run",
}
TEST_ADVICE = ("the test and the code it calls share state across threads (a module-level object, a cache, a "
               "class attribute): make it local to the call, guard it with a lock, or build it once up front")


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%" if rate else "0%"


def _arm_rate(e: EndpointCheck, interpreter: str) -> str:
    arm = next((a for a in e.arms if a.interpreter == interpreter and a.python_gil is None), None)
    return "" if arm is None else f"{arm.mismatches} of {arm.requests} ({_pct(arm.rate)}) on {arm.arm}"


def _endpoint_race(e: EndpointCheck) -> str:
    rates = "; ".join(r for r in (_arm_rate(e, "3.14t"), _arm_rate(e, "3.14")) if r)
    advice = f" → {e.advice}" if e.advice else ""
    return f"{e.endpoint}: {ENDPOINT_WORDS[e.classification]} ({rates}){advice}"


def _test_race(t: SuiteTest) -> str:
    arm = t.deciding
    counted = f", failed {arm.failures} of {arm.runs} runs in {arm.arm}" if arm else ""
    reason = f": {arm.message.splitlines()[0][:160]}" if arm and arm.message else ""
    advice = "" if t.classification in ("crashed", "hung") else f" → {TEST_ADVICE}"
    return f"{t.nodeid}: {TEST_WORDS[t.classification]}{counted}{reason}{advice}"


def race_lines(safety: SafetyRecord) -> list[str]:
    """One line per race found: by endpoint, then by test, each with what to change."""
    lines: list[str] = []
    if isinstance(safety.responses, ResponsesCheck):
        lines += [_endpoint_race(e) for e in safety.responses.endpoints
                  if e.classification in ("wrong-without-gil", "wrong-under-concurrency")]
    if isinstance(safety.tests, SuiteCheck):
        lines += [_test_race(t) for t in safety.tests.tests if t.is_race]
    return lines


def safe_to_move(safety: SafetyRecord | None, team_service: bool = True,
                 growths: Sequence[MemoryGrowth] = ()) -> str | None:
    """The one-sentence answer; None for the lab's own app when nothing was checked.

    ``growths`` is the analysis' fit of the soak, when one ran: memory that grows makes the answer no.
    """
    if safety is None:
        return None if not team_service else (
            "Safe to move? Not checked in this run: `gil-lab safety` checks your answers under parallel load and "
            f"your tests in threads ({DOCS}).")
    races = race_lines(safety)
    checked = []
    if isinstance(safety.responses, ResponsesCheck):
        r = safety.responses
        compared = sum(a.requests for e in r.endpoints for a in e.arms)
        wrong = sum(a.mismatches for e in r.endpoints for a in e.arms)
        checked.append(f"{wrong} of {compared} answers differed from the serial reference over "
                       f"{len(r.endpoints)} endpoints, {r.recorded} requests per arm at {r.concurrency} in flight")
    if isinstance(safety.tests, SuiteCheck):
        t = safety.tests
        checked.append(f"{len(t.tests)} tests ran plainly and in {t.threads} threads × {t.iterations} iterations")
    if isinstance(safety.soak, SoakCheck):
        checked.append(f"memory under a {safety.soak.duration_s:g}s soak: "
                       + ("; ".join(growth_sentence(g) for g in growths) or "not fitted"))
    failed = [f"the {name} could not run ({failure.error.splitlines()[0][:120]})"
              for name, failure in (("response check", safety.responses), ("tests check", safety.tests),
                                    ("soak", safety.soak))
              if isinstance(failure, CheckFailure)]
    growing = [g.interpreter for g in growths if g.grows]
    if growing and not races:
        return (f"Safe to move? No: memory grows on {' and '.join(growing)}: {'; '.join(checked)}."
                + (" " + "; ".join(failed) + "." if failed else ""))
    if races:
        head = f"Safe to move? No: {len(races)} race{'s' if len(races) > 1 else ''} found"
        return f"{head}: {'; '.join(checked)}." + (" " + "; ".join(failed) + "." if failed else "")
    if not checked:
        return "Safe to move? Unknown: " + "; ".join(failed) + "."
    found = "No race found" if safety.responses is not None or safety.tests is not None else "Nothing found"
    return (f"Safe to move? {found}: " + "; ".join(checked) + "."
            + (" But " + "; ".join(failed) + "." if failed else "")
            + f" A race that needs more threads or more time than this run gave can still hide ({DOCS}).")


def _endpoint_rows(r: ResponsesCheck) -> list[tuple[str, ...]]:
    arms = [a.arm for a in (r.endpoints[0].arms if r.endpoints else ())]
    rows: list[tuple[str, ...]] = [("endpoint", "requests", "compared", *(f"{a} mismatches (95% CI)" for a in arms),
                                    "verdict")]
    for e in r.endpoints:
        cells = [f"{a.mismatches}/{a.requests} {_pct(a.rate)} ({_pct(a.ci_low)}–{_pct(a.ci_high)})" for a in e.arms]
        rows.append((e.endpoint, str(e.requests), e.compared, *cells, ENDPOINT_WORDS[e.classification]))
    return rows


def responses_lines(r: ResponsesCheck) -> list[str]:
    lines = [f"Responses: {r.recorded} requests of {r.source} (seed {r.seed}), replayed to every arm on "
             f"{r.server} ({r.threads} threads), in {r.seconds:.0f}s"
             + (f"; {r.limited_by}" if r.limited_by else "")]
    lines += ["  arms: " + "; ".join(f"{a.name} {a.answered}/{a.requests} answered in {a.seconds:.1f}s"
                                      + (", GIL on" if a.interpreter == "3.14t" and a.gil_enabled else "")
                                      for a in r.arms)]
    lines += ["", *("  " + line for line in text_table(_endpoint_rows(r)))]
    if r.exclusions:
        lines += ["", "  excluded from the comparison:"]
        lines += [f"    {x.endpoint} {x.what}: {x.reason} ({'you' if x.source == 'team' else 'the serial passes'})"
                  for x in r.exclusions]
    if r.examples:
        lines += ["", "  first mismatches:"]
        for x in r.examples:
            lines.append(f"    {x.arm} {x.endpoint}" + (f" #{x.index}" if x.index >= 0 else "")
                         + f": {x.request}")
            lines += [f"      {line}" for line in x.diff.splitlines()]
    lines += [f"  note: {n}" for n in r.notes]
    return lines


def _test_rows(tests: Sequence[SuiteTest], arms: Sequence[str]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [("test", *arms, "verdict")]
    for t in tests:
        by_arm = {a.arm: a for a in t.arms}
        cells = []
        for name in arms:
            a = by_arm.get(name)
            cells.append("" if a is None else a.outcome if a.runs <= 1 and not a.failures
                         else f"{a.outcome} {a.failures}/{a.runs}")
        rows.append((t.nodeid, *cells, TEST_WORDS[t.classification]))
    return rows


def suite_lines(s: SuiteCheck) -> list[str]:
    tools = "; ".join(f"{label}: " + (", ".join(f"{k} {v}" for k, v in e.tools.items()) if e.python
                                      else f"no environment ({e.unavailable_package})")
                      for label, e in s.environments.items())
    lines = [f"Tests: {s.path} from {s.app_dir}, {s.threads} threads × {s.iterations} iterations in parallel, "
             f"{s.timeout_s:g}s per test, {s.reruns} re-runs of each failing test, in {s.seconds:.0f}s ({tools})"]
    arms = [a.name for a in s.arms]
    lines += ["", *("  " + line for line in text_table(_test_rows(s.tests, arms)))]
    serial = s.kept_serial
    if serial:
        lines += ["", f"  kept in one thread by pytest-run-parallel ({len(serial)}):"]
        lines += [f"    {t.nodeid}: {t.kept_serial}" for t in serial]
    for p in s.problems:
        lines.append(f"  could not run {p.nodeid} ({', '.join(p.arms)}): {p.error.splitlines()[-1][:200]}")
    for t in s.tests:
        arm = t.deciding
        if t.classification in ("crashed", "hung") and arm is not None and arm.traceback:
            lines += ["", f"  {t.nodeid} {t.classification} in {arm.arm}: {arm.message}"]
            lines += [f"    {line}" for line in arm.traceback.splitlines()[:40]]
    lines += [f"  note: {n}" for n in s.notes]
    return lines


def soak_lines(soak: SoakCheck, growths: Sequence[MemoryGrowth]) -> list[str]:
    lines = [f"Soak: {soak.duration_s:g}s of {soak.source} on {soak.server} ({soak.users} users each, "
             f"{soak.threads} threads), both interpreters side by side"]
    lines += [f"  {growth_sentence(g)}" for g in growths]
    for s in soak.series:
        if s.error:
            lines.append(f"  {s.interpreter}: not soaked: {s.error}")
        if s.crash is not None:
            lines += [f"  {s.interpreter} crashed after {s.seconds:.0f}s: {s.crash.fatal}",
                      *(f"    {line}" for line in s.crash.traceback.splitlines()[:40])]
        if s.hang is not None:
            lines += [f"  {s.interpreter}: requests hung over {s.hang.bound_s:g} s; every thread's stack:",
                      *(f"    {line}" for stack in s.hang.stacks for line in stack.splitlines()[:20])]
    lines += [f"  note: {n}" for n in soak.notes]
    return lines


def safety_text(safety: SafetyRecord, run_dir: str, growths: Sequence[MemoryGrowth] = ()) -> str:
    """What ``gil-lab safety`` prints: the answer, each race with what to change, then every figure."""
    lines = [safe_to_move(safety, growths=growths) or ""]
    lines += [f"  - {line}" for line in race_lines(safety)]
    if isinstance(safety.responses, ResponsesCheck):
        lines += ["", *responses_lines(safety.responses)]
    elif isinstance(safety.responses, CheckFailure):
        lines += ["", f"Responses: could not run: {safety.responses.error}"]
    if isinstance(safety.tests, SuiteCheck):
        lines += ["", *suite_lines(safety.tests)]
    elif isinstance(safety.tests, CheckFailure):
        lines += ["", f"Tests: could not run: {safety.tests.error}"]
    if isinstance(safety.soak, SoakCheck):
        lines += ["", *soak_lines(safety.soak, growths)]
    elif isinstance(safety.soak, CheckFailure):
        lines += ["", f"Soak: could not run: {safety.soak.error}"]
    lines += ["", f"results: {run_dir}/run.json and summary.json ({DOCS} explains each figure)"]
    return "\n".join(lines) + "\n"


def safety_tables(safety: SafetyRecord, with_answer: bool = True,
                  growths: Sequence[MemoryGrowth] = ()) -> list[Paragraph | Bullets | Table]:
    """The safety checks in the report: the answer and each race (unless a card shows them), every endpoint and test."""
    blocks: list[Paragraph | Bullets | Table] = []
    if with_answer:
        question, _, answer = (safe_to_move(safety, growths=growths) or "").partition("? ")
        blocks.append(Paragraph(f"**{question}?** {answer}"))
        races = race_lines(safety)
        if races:
            blocks.append(Bullets(tuple(races)))
    if isinstance(safety.responses, ResponsesCheck):
        rows = _endpoint_rows(safety.responses)
        blocks.append(Table("safety-responses", rows[0], tuple(rows[1:]),
                            f"Answers under parallel load against the serial reference ({DOCS})"))
    if isinstance(safety.tests, SuiteCheck):
        rows = _test_rows(safety.tests.tests, [a.name for a in safety.tests.arms])
        blocks.append(Table("safety-tests", rows[0], tuple(rows[1:]), "Your tests, plainly and in threads"))
    return blocks
