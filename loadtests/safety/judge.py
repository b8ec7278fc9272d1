"""The response check's verdicts: which answers can be compared, which are wrong, and what each endpoint is.

The rule (docs/safety.md, "What the reference is"): two passes send the recorded
requests one at a time, the recording in the order the tasks ran and the reference
(3.14t) in another, seeded order. Nothing runs in parallel in either, so where they
answer differently the difference is not a race: a volatile field, or an answer that
depends on what came before (a counter, ids handed out in order). Every check is made
only where the two serial passes agree:

1. **Per request.** Each answer of a candidate arm is compared with the reference's
   answer to the same request: the status, and the body, JSON path by path, minus the
   paths the team marked volatile and the paths the serial passes disagreed on. An
   endpoint whose serial answers differed in status or in their whole shape is left
   out of this check.
2. **The set of answers** of an endpoint whose serial answers depended on the order:
   in any order, a correct counter hands out the same numbers. Kept only when the two
   serial passes gave the same set (team-volatile paths left out); an answer a
   candidate gave more often than the reference did is wrong (a lost update shows as
   a number handed out twice).
3. **The state read back.** After each pass, the distinct GET requests of those
   endpoints are sent once more, one at a time: the final state. Kept where the two
   serial passes read back the same.

An endpoint is then consistent, wrong without the GIL (3.14t at the load's
concurrency has mismatches and 3.14 does not), wrong under concurrency (3.14 has
some too: unsafe whatever the interpreter) or not compared.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from loadtests.results.records.safety import (
    ArmMismatches,
    EndpointCheck,
    EndpointClass,
    Exclusion,
    MismatchCheck,
    MismatchExample,
)
from loadtests.safety.bodies import (
    NOT_JSON,
    canonical,
    compile_pattern,
    covered,
    differences,
    parse_json,
    snippet,
    text_diff,
)
from loadtests.safety.exchange import Answer, SentRequest
from loadtests.safety.intervals import wilson
from loadtests.safety.team_config import TeamMarks

#: Mismatches shown per endpoint and arm.
EXAMPLES_PER_ARM = 3
#: Distinct GET requests read back after each pass, at most.
READBACK_LIMIT = 50
DIFF_LINES = 8


@dataclass
class EndpointPlan:
    """How one endpoint's answers are compared, decided from the two serial passes."""

    endpoint: str
    indices: list[int]
    team_paths: tuple[str, ...] = ()
    auto_paths: set[str] = field(default_factory=set)  # generic paths the serial passes disagreed on
    not_repeatable: str | None = None  # the team's reason
    whole: bool = False  # the serial answers differed in shape: bodies are not compared request by request
    status: bool = True  # statuses are compared request by request
    set_check: bool = False  # the set of answers is compared (validated on the serial passes)
    unreplayable: int = 0  # requests whose body was a stream

    @property
    def order_dependent(self) -> bool:
        return bool(self.auto_paths) or self.whole or not self.status

    @property
    def team_patterns(self) -> list[re.Pattern[str]]:
        return [compile_pattern(p) for p in self.team_paths]

    @property
    def patterns(self) -> list[re.Pattern[str]]:
        return self.team_patterns + [compile_pattern(p) for p in sorted(self.auto_paths)]

    @property
    def compared(self) -> str:
        if self.not_repeatable or (self.whole and not self.status and not self.set_check):
            return "not compared"
        return "order-dependent" if self.order_dependent else "per request"


@dataclass(frozen=True)
class ArmAnswers:
    """One candidate arm: its identity and what it answered (by request index, and to the read-back)."""

    name: str
    interpreter: str
    python_gil: str | None
    concurrency: int
    answers: Mapping[int, Answer]
    readback: Sequence[Answer] = ()


@dataclass
class Tally:
    requests: int = 0
    wrong: set[int] = field(default_factory=set)
    surplus: int = 0
    readback_wrong: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    examples: list[MismatchExample] = field(default_factory=list)

    @property
    def mismatches(self) -> int:
        return min(self.requests, len(self.wrong) + self.surplus + self.readback_wrong)


def plan_endpoints(requests: Sequence[SentRequest], recording: Mapping[int, Answer], reference: Mapping[int, Answer],
                   marks: TeamMarks) -> dict[str, EndpointPlan]:
    """Per endpoint, what the two serial passes allow comparing (step 1 of the module docstring)."""
    plans: dict[str, EndpointPlan] = {}
    for request in requests:
        plan = plans.setdefault(request.endpoint, EndpointPlan(
            request.endpoint, [], marks.volatile_for(request.endpoint), not_repeatable=marks.not_repeatable_for(
                request.endpoint)))
        if request.streamed:
            plan.unreplayable += 1
            continue
        plan.indices.append(request.index)
    for plan in plans.values():
        patterns = plan.team_patterns
        for index in plan.indices:
            a, b = recording.get(index), reference.get(index)
            if a is None or b is None or not a.answered or not b.answered:
                continue
            if a.status != b.status:
                plan.status = False
                plan.whole = True
                continue
            first, second = parse_json(a.body), parse_json(b.body)
            if first is NOT_JSON or second is NOT_JSON:
                plan.whole = plan.whole or a.body != b.body
                continue
            for difference in differences(first, second):
                if covered(difference.path, patterns):
                    continue
                if difference.generic == "$":
                    plan.whole = True
                else:
                    plan.auto_paths.add(difference.generic)
    return plans


def readback_requests(requests: Sequence[SentRequest], plans: Mapping[str, EndpointPlan]) -> list[SentRequest]:
    """The distinct safe requests of order-dependent endpoints, in first-seen order: the state to read back."""
    seen: dict[tuple[str, str, bytes], SentRequest] = {}
    for request in requests:
        plan = plans[request.endpoint]
        if request.safe and plan.order_dependent and not plan.not_repeatable and not request.streamed:
            seen.setdefault(request.identity, request)
    return list(seen.values())[:READBACK_LIMIT]


def validate_sets(plans: Mapping[str, EndpointPlan], requests: Sequence[SentRequest],
                  recording: Mapping[int, Answer], reference: Mapping[int, Answer]) -> None:
    """Keep the set-of-answers check of an order-dependent endpoint only where both serial passes gave one set."""
    for plan in plans.values():
        if not plan.order_dependent or plan.not_repeatable:
            continue
        if not all(recording.get(i) and reference.get(i) for i in plan.indices):
            continue
        plan.set_check = _answer_set(plan, recording) == _answer_set(plan, reference)


def valid_readbacks(readback: Sequence[SentRequest], recording: Sequence[Answer], reference: Sequence[Answer],
                    plans: Mapping[str, EndpointPlan]) -> list[bool]:
    """Per read-back request: whether both serial passes read the same state back (only then is it checked)."""
    return [_same(plans[r.endpoint].team_patterns, a, b) for r, a, b in zip(readback, recording, reference, strict=True)]


def _answer_set(plan: EndpointPlan, answers: Mapping[int, Answer]) -> Counter[tuple[int | None, str]]:
    patterns = plan.team_patterns
    return Counter(canonical(answers[i].status, answers[i].body, patterns) for i in plan.indices if i in answers)


def _same(patterns: list[re.Pattern[str]], a: Answer, b: Answer) -> bool:
    if not a.answered or not b.answered or a.status != b.status:
        return False
    return canonical(a.status, a.body, patterns) == canonical(b.status, b.body, patterns)


def exclusions(plans: Mapping[str, EndpointPlan], marks: TeamMarks) -> list[Exclusion]:
    """Everything the comparison leaves out, with the reason: the report lists each."""
    out = [Exclusion("*", path, "team", f"marked volatile in {marks.path.name if marks.path else 'the safety file'}")
           for path in marks.volatile.get("*", ())]
    for plan in sorted(plans.values(), key=lambda p: p.endpoint):
        if plan.not_repeatable:
            out.append(Exclusion(plan.endpoint, "whole answer", "team", f"not repeatable: {plan.not_repeatable}"))
            continue
        out += [Exclusion(plan.endpoint, p, "team", "marked volatile") for p in plan.team_paths
                if p not in marks.volatile.get("*", ())]
        if plan.unreplayable:
            out.append(Exclusion(plan.endpoint, f"{plan.unreplayable} request(s)", "serial passes",
                                 "their body was a stream Locust did not keep, so they cannot be replayed"))
        if not plan.status:
            out.append(Exclusion(plan.endpoint, "status and answer", "serial passes",
                                 "two passes one request at a time answered with different statuses"))
        elif plan.whole:
            out.append(Exclusion(plan.endpoint, "whole answer", "serial passes",
                                 "two passes one request at a time gave answers of different shapes"))
        out += [Exclusion(plan.endpoint, path, "serial passes",
                          "differs between two passes one request at a time (volatile, or set by the order of "
                          "requests)") for path in sorted(plan.auto_paths)]
    return out


def tally_arm(plans: Mapping[str, EndpointPlan], requests: Sequence[SentRequest], reference: Mapping[int, Answer],
              arm: ArmAnswers, readback: Sequence[SentRequest], reference_readback: Sequence[Answer],
              readback_valid: Sequence[bool]) -> dict[str, Tally]:
    """Every endpoint's mismatches in one arm (steps 1 to 3 of the module docstring)."""
    by_index = {r.index: r for r in requests}
    tallies = {name: Tally() for name in plans}
    for plan in plans.values():
        if plan.not_repeatable:
            continue
        tally = tallies[plan.endpoint]
        patterns = plan.patterns
        for index in plan.indices:
            expected, got = reference.get(index), arm.answers.get(index)
            if expected is None or got is None or not expected.answered:
                continue
            found = _per_request(plan, patterns, expected, got)
            if found is None:
                continue
            tally.requests += 1
            if found:
                check, diff = found
                tally.wrong.add(index)
                tally.kinds[check] += 1
                _example(tally, MismatchExample(plan.endpoint, arm.name, index, by_index[index].label(), check, diff))
        if plan.set_check:
            expected_set = _answer_set(plan, reference)
            got_set = _answer_set(plan, arm.answers)
            surplus = got_set - expected_set
            tally.surplus = sum(surplus.values()) - len(tally.wrong & set(plan.indices))
            tally.surplus = max(tally.surplus, 0)
            if surplus:
                tally.kinds["set of answers"] += sum(surplus.values())
                (status, value), times = surplus.most_common(1)[0]
                _example(tally, MismatchExample(
                    plan.endpoint, arm.name, -1, f"all {len(plan.indices)} requests to {plan.endpoint}",
                    "set of answers", f"answer {value.split(':', 1)[1][:160]} (status {status}) came "
                    f"{got_set[(status, value)]} time(s), the reference gave it {expected_set[(status, value)]} "
                    f"time(s); {sum(surplus.values())} answer(s) in all were surplus"))
            if plan.indices and not tally.requests:
                tally.requests = len(plan.indices)
    for position, request in enumerate(readback):
        if not readback_valid[position] or position >= len(arm.readback):
            continue
        plan = plans[request.endpoint]
        tally = tallies[request.endpoint]
        tally.requests += 1
        expected, got = reference_readback[position], arm.readback[position]
        if not _same(plan.team_patterns, expected, got):
            tally.readback_wrong += 1
            tally.kinds["read-back"] += 1
            _example(tally, MismatchExample(plan.endpoint, arm.name, -1, request.label() + " (read back at the end)",
                                            "read-back", _diff(plan.team_patterns, expected, got)))
    return tallies


def _per_request(plan: EndpointPlan, patterns: list[re.Pattern[str]], expected: Answer,
                 got: Answer) -> tuple[MismatchCheck, str] | None | tuple[()]:
    """None: nothing of this answer is compared; (): it matches; (check, diff): it is wrong."""
    if not got.answered:
        return "no answer", f"no answer: {got.error or 'the connection closed'}"
    if not plan.status:
        return None
    if expected.status != got.status:
        return "status", f"status: expected {expected.status}, got {got.status}; body: {snippet(got.body)}"
    if plan.whole:
        return ()
    diff = _diff(patterns, expected, got)
    return ("answer", diff) if diff else ()


def _diff(patterns: list[re.Pattern[str]], expected: Answer, got: Answer) -> str:
    """The readable difference of two answers ('' when they agree outside the excluded paths)."""
    if expected.status != got.status:
        return f"status: expected {expected.status}, got {got.status}; body: {snippet(got.body)}"
    first, second = parse_json(expected.body), parse_json(got.body)
    if first is NOT_JSON or second is NOT_JSON:
        if first is NOT_JSON and second is NOT_JSON:
            return "" if expected.body == got.body else text_diff(expected.body, got.body)
        return f"expected {snippet(expected.body)}, got {snippet(got.body)}"
    lines = [d.line() for d in differences(first, second) if not covered(d.path, patterns)]
    return "\n".join(lines[:DIFF_LINES] + ([f"… and {len(lines) - DIFF_LINES} more"] if len(lines) > DIFF_LINES
                                           else []))


def _example(tally: Tally, example: MismatchExample) -> None:
    if len(tally.examples) < EXAMPLES_PER_ARM:
        tally.examples.append(example)


def classify(ft_wrong: bool, gil_wrong: bool, compared: bool) -> EndpointClass:
    """The endpoint's verdict from whether a 3.14t arm and the 3.14 arm gave wrong answers."""
    if not compared:
        return "not-compared"
    if gil_wrong:
        return "wrong-under-concurrency"
    return "wrong-without-gil" if ft_wrong else "consistent"


def advice(tallies: Sequence[Tally], concurrency: int) -> str | None:
    """What to change, from how the answers went wrong: the main cause first, the other symptoms after."""
    kinds: Counter[str] = Counter()
    for tally in tallies:
        kinds.update(tally.kinds)
    if not kinds:
        return None
    wrong = [i for t in tallies for i in t.wrong]
    if kinds["set of answers"] or kinds["read-back"]:
        main = ("updates were lost: a read-modify-write of shared state (a counter, a dict entry, a total) ran in two "
                "threads at once. Guard it with a threading.Lock, or use an atomic structure (itertools.count, "
                "queue.Queue, the database's own increment)")
    elif kinds["answer"] and wrong and max(wrong) < 2 * concurrency:
        main = ("only the first requests were wrong: something built lazily (a cache, a client, a table) raced "
                "while it was being built. Build it once at start-up (at import or in the lifespan)")
    elif kinds["answer"]:
        main = ("requests saw each other's data: state every request shares (a module-level buffer, list or dict, "
                "an object that is not thread-safe) changed under a request. Make the buffer local to the request, "
                "or give each thread its own (threading.local)")
    elif kinds["status"]:
        main = ("requests failed only when they overlapped: an exception raised under concurrency (the server log "
                "has its traceback); look for state the failing code shares between requests")
    else:
        main = "requests got no answer under concurrency: the server crashed or stopped answering (see its log)"
    also = [f"{n} {what}" for what, n in (("answered with another status", kinds["status"]),
                                          ("got no answer", kinds["no answer"])) if n and what not in main]
    return main + (f" (also: {', '.join(also)})" if also and not main.startswith("requests failed") else "") + "."


def endpoint_checks(plans: Mapping[str, EndpointPlan], arms: Sequence[ArmAnswers],
                    tallies: Sequence[Mapping[str, Tally]], requests: Sequence[SentRequest],
                    concurrency: int) -> tuple[list[EndpointCheck], list[MismatchExample]]:
    """Per endpoint: its mismatches in every arm, its classification and advice; and the examples."""
    counts = Counter(r.endpoint for r in requests)
    checks, examples = [], []
    for name in sorted(plans):
        plan = plans[name]
        per_arm = []
        ft_wrong = gil_wrong = False
        for arm, tally in zip(arms, (t[name] for t in tallies), strict=True):
            mismatches = tally.mismatches
            low, high = wilson(mismatches, tally.requests)
            per_arm.append(ArmMismatches(arm.name, arm.interpreter, arm.python_gil, arm.concurrency, tally.requests,
                                         mismatches, round(mismatches / tally.requests, 6) if tally.requests else 0.0,
                                         round(low, 6), round(high, 6)))
            if mismatches:
                if arm.interpreter == "3.14t":
                    ft_wrong = True
                else:
                    gil_wrong = True
            examples += tally.examples
        compared = any(a.requests for a in per_arm)
        classification = classify(ft_wrong, gil_wrong, compared)
        hint = None if classification in ("consistent", "not-compared") else advice(
            [t[name] for t in tallies], concurrency)
        checks.append(EndpointCheck(name, counts[name], "not compared" if not compared else plan.compared,  # type: ignore[arg-type]
                                    tuple(per_arm), classification, hint))
    return checks, examples
