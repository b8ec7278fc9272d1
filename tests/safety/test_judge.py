"""What the response check compares, and each endpoint's verdict, from answers made up for the purpose."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from loadtests.safety import judge
from loadtests.safety.exchange import Answer, SentRequest
from loadtests.safety.team_config import TeamMarks

NO_MARKS = TeamMarks()


def request(index: int, endpoint: str, target: str | None = None, body: bytes = b"") -> SentRequest:
    method, route = endpoint.split(" ", 1)
    return SentRequest(index, method, target or route, (), body, route, endpoint)


def ok(value: object) -> Answer:
    return Answer(200, json.dumps(value).encode())


def verdicts(requests: Sequence[SentRequest], recording: Mapping[int, Answer], reference: Mapping[int, Answer],
             arms: Mapping[str, tuple[Mapping[int, Answer], Sequence[Answer]]], marks: TeamMarks = NO_MARKS,
             readback_answers: tuple[Sequence[Answer], Sequence[Answer]] | None = None):
    plans = judge.plan_endpoints(requests, recording, reference, marks)
    judge.validate_sets(plans, requests, recording, reference)
    readback = judge.readback_requests(requests, plans)
    same = [reference[r.index] for r in readback]  # no read-back given: the state read back agrees
    recording_back, reference_back = readback_answers or (same, same)
    valid = judge.valid_readbacks(readback, recording_back, reference_back, plans) if readback else []
    candidates = [judge.ArmAnswers(name, name.split(" ")[0], None, 8, answers, back or same)
                  for name, (answers, back) in arms.items()]
    tallies = [judge.tally_arm(plans, requests, reference, arm, readback, reference_back, valid) for arm in candidates]
    checks, examples = judge.endpoint_checks(plans, candidates, tallies, requests, 8)
    return {c.endpoint: c for c in checks}, examples, judge.exclusions(plans, marks), readback


GREETINGS = [request(i, "GET /greeting", f"/greeting?name=n{i % 5}") for i in range(40)]
RIGHT = {r.index: ok({"greeting": f"Hello, n{r.index % 5}!"}) for r in GREETINGS}


def test_an_answer_that_carries_another_requests_data_is_wrong_only_without_the_gil() -> None:
    wrong = {**RIGHT, 30: ok({"greeting": "Hello, n3!"})}
    checks, examples, excluded, _ = verdicts(GREETINGS, RIGHT, RIGHT, {"3.14t ×8": (wrong, []),
                                                                        "3.14 ×8": (RIGHT, [])})
    check = checks["GET /greeting"]
    assert check.classification == "wrong-without-gil" and check.compared == "per request" and not excluded
    ft, gil = check.arms
    assert (ft.requests, ft.mismatches, gil.mismatches) == (40, 1, 0) and 0 < ft.ci_low < ft.rate < ft.ci_high
    (example,) = examples
    assert example.index == 30 and example.diff == '$.greeting: expected "Hello, n0!", got "Hello, n3!"'
    assert "local to the request" in str(check.advice)


def test_wrong_answers_on_3_14_too_are_wrong_under_any_concurrency() -> None:
    wrong = {**RIGHT, 3: Answer(500, b"Internal Server Error")}
    checks, _, _, _ = verdicts(GREETINGS, RIGHT, RIGHT, {"3.14t ×8": (RIGHT, []), "3.14 ×8": (wrong, [])})
    assert checks["GET /greeting"].classification == "wrong-under-concurrency"
    assert "only when they overlapped" in str(checks["GET /greeting"].advice)


def test_a_clean_run_is_consistent_and_bytes_are_compared_as_bytes() -> None:
    texts = [request(i, "GET /export") for i in range(10)]
    same = {r.index: Answer(200, b"id: 1\ntitle: x\n") for r in texts}
    checks, _, _, _ = verdicts(texts, same, same, {"3.14t ×8": (same, []), "3.14 ×8": (same, [])})
    assert checks["GET /export"].classification == "consistent" and checks["GET /export"].advice is None
    garbled = {**same, 4: Answer(200, b"id: 2\ntitle: x\n")}
    checks, examples, _, _ = verdicts(texts, same, same, {"3.14t ×8": (garbled, []), "3.14 ×8": (same, [])})
    assert checks["GET /export"].arms[0].mismatches == 1 and "-id: 1" in examples[0].diff


VISITS = [request(i, "POST /visits") for i in range(30)] + [request(30 + i, "GET /visits") for i in range(3)]


def counter(order: Sequence[int], lost: int = 0) -> tuple[dict[int, Answer], int]:
    """A counter's answers when requests arrive in ``order``; ``lost`` updates make numbers repeat."""
    count, out = 0, {}
    for position, index in enumerate(order):
        if index < 30:
            count += 0 if position % 7 == 3 and lost > 0 and (lost := lost - 1) >= 0 else 1
            out[index] = ok({"visit": count})
        else:
            out[index] = ok({"count": count})
    return out, count


def test_lost_updates_show_in_the_set_of_answers_and_the_state_read_back() -> None:
    recording, total = counter(range(33))
    reference, _ = counter(list(reversed(range(33))))
    racy, racy_total = counter(range(33), lost=3)
    checks, examples, excluded, readback = verdicts(
        VISITS, recording, reference, {"3.14t ×8": (racy, [ok({"count": racy_total})]),
                                       "3.14 ×8": (recording, [ok({"count": total})])},
        readback_answers=([ok({"count": total})], [ok({"count": total})]))
    post, get = checks["POST /visits"], checks["GET /visits"]
    assert post.compared == get.compared == "order-dependent"  # the serial passes answered by their order
    assert {(x.endpoint, x.what, x.source) for x in excluded} == {("POST /visits", "$.visit", "serial passes"),
                                                                 ("GET /visits", "$.count", "serial passes")}
    assert [r.target for r in readback] == ["/visits"]
    assert post.classification == get.classification == "wrong-without-gil"
    assert post.arms[0].mismatches == 3 and post.arms[1].mismatches == 0
    assert get.arms[0].mismatches == 1 and get.arms[0].requests == 4  # three answers and the read-back
    assert {e.check for e in examples} == {"set of answers", "read-back"}
    assert "threading.Lock" in str(post.advice)


def test_a_volatile_field_the_team_marked_is_left_out_and_named() -> None:
    stamps = [request(i, "GET /status") for i in range(10)]

    def at(seconds: float) -> dict[int, Answer]:
        return {r.index: ok({"workers": 2, "generated_at": seconds + r.index}) for r in stamps}

    marks = TeamMarks({"GET /status": ("$.generated_at",)})
    checks, _, excluded, _ = verdicts(stamps, at(1.0), at(2.0), {"3.14t ×8": (at(3.0), []), "3.14 ×8": (at(4.0), [])},
                                      marks)
    assert checks["GET /status"].classification == "consistent" and checks["GET /status"].compared == "per request"
    assert [(x.what, x.source) for x in excluded] == [("$.generated_at", "team")]
    unmarked, _, excluded, _ = verdicts(stamps, at(1.0), at(2.0), {"3.14t ×8": (at(3.0), []),
                                                                   "3.14 ×8": (at(4.0), [])})
    assert unmarked["GET /status"].classification == "consistent"  # the serial passes found it anyway ...
    assert [(x.what, x.source) for x in excluded] == [("$.generated_at", "serial passes")]  # ... and said so


def test_an_endpoint_the_team_calls_not_repeatable_is_sent_but_never_compared() -> None:
    draws = [request(i, "GET /lottery") for i in range(5)]
    answers = {r.index: ok({"n": r.index}) for r in draws}
    other = {r.index: ok({"n": -r.index}) for r in draws}
    marks = TeamMarks(not_repeatable={"/lottery": "draws a random number"})
    checks, _, excluded, _ = verdicts(draws, answers, answers, {"3.14t ×8": (other, []), "3.14 ×8": (other, [])},
                                      marks)
    assert checks["GET /lottery"].classification == "not-compared"
    assert excluded[0].reason == "not repeatable: draws a random number"


def test_statuses_that_differ_between_serial_passes_leave_the_answers_out() -> None:
    orders = [request(i, "POST /orders/{id}/pay", f"/orders/{i % 3}/pay") for i in range(6)]
    first = {r.index: Answer(200 if r.index < 3 else 409, b"{}") for r in orders}
    second = {r.index: Answer(409 if r.index < 3 else 200, b"{}") for r in orders}
    checks, _, excluded, _ = verdicts(orders, first, second, {"3.14t ×8": (first, []), "3.14 ×8": (second, [])})
    assert checks["POST /orders/{id}/pay"].classification == "consistent"  # compared as a set, which holds
    assert ("status and answer", "serial passes") in {(x.what, x.source) for x in excluded}


def test_no_answer_under_concurrency_is_a_mismatch() -> None:
    dead = {**RIGHT, 7: Answer(None, b"", "ConnectionResetError: reset")}
    checks, examples, _, _ = verdicts(GREETINGS, RIGHT, RIGHT, {"3.14t ×8": (dead, []), "3.14 ×8": (RIGHT, [])})
    assert checks["GET /greeting"].arms[0].mismatches == 1 and examples[0].check == "no answer"
