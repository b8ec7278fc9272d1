"""gil-lab-safety.toml: what a team marks volatile or not repeatable, and the errors for a bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.core.errors import ConfigError
from loadtests.safety.team_config import CONFIG_NAME, TeamMarks, covers, read_marks


def test_the_file_in_the_app_directory_is_read_and_keys_cover_endpoints(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).write_text('[volatile]\n"*" = ["$.request_id"]\n"GET /status" = "$.at"\n'
                                        '[not_repeatable]\n"/lottery" = "a random draw"\n')
    marks = read_marks(None, tmp_path)
    assert marks.volatile_for("GET /status") == ("$.request_id", "$.at")
    assert marks.volatile_for("POST /status") == ("$.request_id",)
    assert marks.not_repeatable_for("POST /lottery") == "a random draw"
    assert marks.unused(["GET /status"]) == ["/lottery"]
    assert covers("*", "GET /x") and covers("/x", "PUT /x") and not covers("GET /x", "PUT /x")


def test_no_file_marks_nothing(tmp_path: Path) -> None:
    assert read_marks(None, tmp_path) == TeamMarks()


@pytest.mark.parametrize(("text", "message"), [
    ("[volatil]\n", "unknown table"),
    ('[volatile]\n"GET /x" = ["$.a["]\n', "JSON path"),
    ('[volatile]\n"status" = ["$.a"]\n', "does not name an endpoint"),
    ('[not_repeatable]\n"/x" = ""\n', "reason in words"),
    ("[volatile\n", "not valid TOML"),
])
def test_a_bad_file_says_what_to_write(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "safety.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_marks(path, None)


def test_a_missing_file_given_explicitly_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        read_marks(tmp_path / "nope.toml", tmp_path)
