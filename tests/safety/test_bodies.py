"""Answers compared path by path, and the paths a team marks volatile."""

from __future__ import annotations

import pytest

from loadtests.core.errors import ConfigError
from loadtests.safety.bodies import (
    NOT_JSON,
    canonical,
    compile_pattern,
    covered,
    differences,
    normalise,
    parse_json,
    strip,
    text_diff,
)


def test_differences_name_each_path_with_the_reference_value_first() -> None:
    lines = [d.line() for d in differences({"a": [1, 2], "b": {"c": 1}, "t": "x", "gone": 1},
                                           {"a": [1, 3], "b": {"c": 1, "d": 2}, "t": "y"})]
    assert lines == ['$.a[1]: expected 2, got 3', '$.b.d: unexpected (got 2)', '$.t: expected "x", got "y"',
                     '$.gone: missing (expected 1)']


def test_a_list_of_another_length_and_a_value_of_another_type_are_one_difference_each() -> None:
    (length,) = differences({"items": [1, 2]}, {"items": [1, 2, 3]})
    (kind,) = differences({"n": "1"}, {"n": 1})
    assert (length.what, length.generic) == ("length", "$.items") and kind.what == "type"
    assert list(differences({"n": 1}, {"n": 1.0})) == []  # a number is a number


def test_generic_paths_stand_for_every_item_of_a_list() -> None:
    (d,) = differences({"items": [{"p": 1}, {"p": 2}]}, {"items": [{"p": 1}, {"p": 3}]})
    assert (d.path, d.generic) == ("$.items[1].p", "$.items[*].p")


@pytest.mark.parametrize(("pattern", "path", "hit"), [
    ("generated_at", "$.generated_at", True),
    ("$.generated_at", "$.generated_at.seconds", True),  # and everything under it
    ("$.generated_at", "$.generated_atx", False),
    ("$.items[*].etag", "$.items[12].etag", True),
    ("$.items[*].etag", "$.items[12].etags", False),
    ("$..request_id", "$.a.b[2].request_id", True),
    ("$..request_id", "$.request_id", True),
    ("$.*.id", "$.user.id", True),
    ("$.*.id", "$.user.profile.id", False),
    ('$["odd key"]', '$["odd key"]', True),
])
def test_patterns_cover_the_paths_they_name(pattern: str, path: str, hit: bool) -> None:
    assert covered(path, [compile_pattern(pattern)]) is hit


@pytest.mark.parametrize("bad", ["$.a[", "$..", "$.a b"])
def test_a_pattern_that_does_not_parse_is_a_clear_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="JSON path"):
        compile_pattern(bad)


def test_strip_removes_covered_paths_before_answers_are_compared_as_a_set() -> None:
    patterns = [compile_pattern(p) for p in ("$.at", "$.items[*].etag")]
    assert strip({"at": 1, "items": [{"etag": "x", "v": 2}], "k": 3}, patterns) == {"items": [{"v": 2}], "k": 3}
    assert canonical(200, b'{"at": 1, "k": 3}', patterns) == canonical(200, b'{"k": 3, "at": 2}', patterns)
    assert canonical(200, b"plain", patterns) == (200, "bytes:plain")


def test_a_server_address_in_an_answer_is_not_a_difference() -> None:
    first = normalise(b'{"next": "http://127.0.0.1:41234/page/2"}', ["http://127.0.0.1:41234"])
    second = normalise(b'{"next": "http://127.0.0.1:50001/page/2"}', ["http://127.0.0.1:50001"])
    assert first == second


def test_non_json_bodies_are_text_diffs() -> None:
    assert parse_json(b"hello") is NOT_JSON and parse_json(b"") is NOT_JSON and parse_json(b"[1]") == [1]
    diff = text_diff(b"a\nb\nc\n", b"a\nB\nc\n")
    assert "-b" in diff and "+B" in diff
