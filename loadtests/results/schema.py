"""JSON Schemas for ``run.json`` and ``summary.json``, generated from the records, and their references.

They come from the same type hints and ``doc(...)`` texts that ``record.py`` reads and
writes with, so neither the schemas nor docs/run-json.md and docs/summary-json.md can
drift from the code: a test regenerates them and compares.

``python -m loadtests.results.schema --write`` rewrites ``docs/*.schema.json`` and the
generated part of each page (between its two markers); ``--check`` exits 1 when any
is out of date.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from loadtests.core.paths import PROJECT_ROOT
from loadtests.results.record import Record, json_keys
from loadtests.results.records import SCHEMA_VERSION, RunRecord, SummaryRecord

DOCS = PROJECT_ROOT / "docs"
#: record -> (its JSON Schema file, its reference page)
CONTRACTS: dict[type[Record], tuple[Path, Path]] = {
    RunRecord: (DOCS / "run.schema.json", DOCS / "run-json.md"),
    SummaryRecord: (DOCS / "summary.schema.json", DOCS / "summary-json.md"),
}
BEGIN = "<!-- BEGIN GENERATED: python -m loadtests.results.schema --write -->"
END = "<!-- END GENERATED -->"


def _type_schema(hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if hint is Any:
        return {}
    if isinstance(hint, type) and issubclass(hint, Record):
        _define(hint, defs)
        return {"$ref": f"#/$defs/{hint.__name__}"}
    origin = get_origin(hint)
    if origin is Literal:
        return {"enum": list(get_args(hint))}
    if origin in (Union, types.UnionType):
        return {"anyOf": [_type_schema(a, defs) for a in get_args(hint)]}
    if origin is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _type_schema(args[0], defs)}
        return {"type": "array", "prefixItems": [_type_schema(a, defs) for a in args], "minItems": len(args),
                "maxItems": len(args)}
    if origin in (Mapping, dict, typing.Mapping):
        args = get_args(hint) or (str, Any)
        return {"type": "object", "additionalProperties": _type_schema(args[1], defs)}
    simple = {type(None): "null", bool: "boolean", int: "integer", float: "number", str: "string"}
    if hint in simple:
        return {"type": simple[hint]}
    raise TypeError(f"no JSON Schema for {hint!r}")


def _define(cls: type[Record], defs: dict[str, Any]) -> None:
    if cls.__name__ in defs:
        return
    defs[cls.__name__] = {}  # placeholder: records may refer to themselves through others
    properties, required = {}, []
    for key in json_keys(cls):
        prop = _type_schema(key.hint, defs)
        if key.text:
            prop = {**prop, "description": key.text}
        properties[key.name] = prop
        if key.required:
            required.append(key.name)
    defs[cls.__name__] = {"type": "object", "description": _first_line(cls), "properties": properties,
                          "required": required, "additionalProperties": False}


def _first_line(cls: type) -> str:
    """The docstring's first line, with reStructuredText's double backquotes as Markdown's single ones."""
    return (cls.__doc__ or cls.__name__).strip().splitlines()[0].replace("``", "`")


def json_schema(root_record: type[Record] = RunRecord) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a current-version document (run.json by default)."""
    defs: dict[str, Any] = {}
    root = _type_schema(root_record, defs)
    name = CONTRACTS[root_record][1].stem.replace("-json", ".json")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": f"gil-lab {name}, schema_version "
            f"{SCHEMA_VERSION}", **root, "$defs": dict(sorted(defs.items()))}


def _type_name(hint: Any) -> str:
    if hint is Any:
        return "any"
    if isinstance(hint, type) and issubclass(hint, Record):
        return f"[{hint.__name__}](#{hint.__name__.lower()})"
    origin = get_origin(hint)
    if origin is Literal:
        return " \\| ".join(f'"{a}"' for a in get_args(hint))
    if origin in (Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in get_args(hint))
    if origin is tuple:
        args = get_args(hint)
        inner = _type_name(args[0]) if len(args) == 2 and args[1] is Ellipsis else ", ".join(map(_type_name, args))
        return f"list of {inner}" if len(args) == 2 and args[1] is Ellipsis else f"[{inner}]"
    if origin in (Mapping, dict, typing.Mapping):
        args = get_args(hint) or (str, Any)
        return f"object of {_type_name(args[1])}"
    return {type(None): "null", bool: "bool", int: "int", float: "number", str: "string"}.get(hint, str(hint))


def _records(cls: type[Record], seen: dict[str, type[Record]]) -> Iterator[type[Record]]:
    """``cls`` and every record it contains, depth first, each once."""
    if cls.__name__ in seen:
        return
    seen[cls.__name__] = cls
    yield cls
    for key in json_keys(cls):
        for inner in _nested(key.hint):
            yield from _records(inner, seen)


def _nested(hint: Any) -> Iterator[type[Record]]:
    if isinstance(hint, type) and issubclass(hint, Record):
        yield hint
    for arg in get_args(hint):
        yield from _nested(arg)


def reference_markdown(root_record: type[Record] = RunRecord) -> str:
    """One table per record: every key, its type and what it means."""
    schema_file = CONTRACTS[root_record][0].name
    out = [f"Generated from the records of `loadtests/results/records/` (schema_version {SCHEMA_VERSION}). The same "
           f"records produce [`{schema_file}`]({schema_file}).", ""]
    for cls in _records(root_record, {}):
        out += [f"### {cls.__name__}", "", _first_line(cls), "", "| key | type | meaning |", "|---|---|---|"]
        for key in json_keys(cls):
            text = key.text.replace("|", "\\|").replace("``", "`")
            out.append(f"| `{key.name}` | {_type_name(key.hint)} | {text} |")
        out.append("")
    return "\n".join(out)


def rendered_doc(current: str, root_record: type[Record] = RunRecord) -> str:
    """``current`` with its generated part replaced by today's reference."""
    if BEGIN not in current or END not in current:
        raise ValueError(f"{CONTRACTS[root_record][1]} has lost its generated-section markers ({BEGIN} ... {END})")
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{reference_markdown(root_record)}\n{END}{tail}"


def expected_files() -> dict[Path, str]:
    out = {}
    for record, (schema_file, doc_file) in CONTRACTS.items():
        out[schema_file] = json.dumps(json_schema(record), indent=2) + "\n"
        out[doc_file] = rendered_doc(doc_file.read_text(), record)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.results.schema", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite docs/run.schema.json and docs/run-json.md")
    mode.add_argument("--check", action="store_true", help="exit 1 when either is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in expected_files().items():
        if path.is_file() and path.read_text() == text:
            continue
        if args.write:
            path.write_text(text)
            print(f"wrote {path}")
        else:
            stale.append(str(path))
    if stale:
        print(f"out of date: {', '.join(stale)}; run `python -m loadtests.results.schema --write`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
