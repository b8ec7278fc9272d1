"""Every visit gets its own number: passes alone, fails when threads race on the counter (on both interpreters)."""

import threading

from races import visits, work

_seen: set[int] = set()
_seen_lock = threading.Lock()


def test_each_visit_gets_its_own_number() -> None:
    numbers = [visits.record() for _ in range(100)]
    with _seen_lock:
        repeated = _seen.intersection(numbers) | {n for n in numbers if numbers.count(n) > 1}
        _seen.update(numbers)
    assert not repeated, f"{len(repeated)} visit numbers were handed out twice, e.g. {sorted(repeated)[:5]}"


def test_tickets_are_deterministic() -> None:
    assert work.ticket("Ada") == work.ticket("Ada") != work.ticket("Grace")
