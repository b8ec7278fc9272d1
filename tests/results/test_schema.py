"""schema.py: docs/run-json.md and docs/run.schema.json are generated from the records and up to date."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from loadtests.results import schema
from loadtests.results.store import load_run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "run-json"


def test_the_committed_docs_match_the_records() -> None:
    for path, text in schema.expected_files().items():
        assert path.read_text() == text, f"{path} is stale: run `python -m loadtests.results.schema --write`"


def test_every_record_key_is_documented() -> None:
    reference = schema.reference_markdown()
    assert "| `gil_enabled_by` |" in reference and "| `config_id` |" in reference
    assert "|  |" not in reference.replace("| `", "|`")  # no key without a meaning


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("v*/*.json")), ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_migrated_runs_validate_against_the_generated_schema(path: Path) -> None:
    document = load_run(path).to_json()
    jsonschema.validate(document, schema.json_schema())


@pytest.mark.slow
def test_the_schema_rejects_what_the_reader_rejects() -> None:
    document = load_run(FIXTURES / "v1" / "smoke.json").to_json()
    document["cells"][0]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema.json_schema())
    del document["cells"][0]["surprise"]
    document["cells"][0]["outcome"] = "exploded"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(json.dumps(document)), schema.json_schema())
