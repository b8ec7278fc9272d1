"""The base of every typed record: a frozen dataclass that converts itself to and from JSON.

A record's fields are its JSON keys, and their type hints say how each value is read
back: ``int``, ``float``, ``str``, ``bool``, ``None``, ``Literal[...]``, unions,
``tuple[X, ...]`` (a JSON list), ``Mapping[str, X]`` (a JSON object), ``Any`` and
nested records. Reading is strict: a missing key, an unknown key or a value of the
wrong type is a :class:`RecordError` that names the record and the path to the value,
so drift between writer and reader fails loudly instead of becoming a silent default.
Old files are brought up to date by migrations (``migrations.py``) before they are read.

A field's documentation is its ``doc(...)`` text: ``schema.py`` turns the same type
hints and texts into a JSON Schema and into docs/run-json.md, so the documentation
cannot drift from the code.

Two things let a record's JSON object differ from its fields, so a record can hold
another without changing the file: a field declared with :func:`inline` writes the
keys of the record it holds into its parent's object (a cell's configuration sits
beside the cell's figures), and ``derived_keys`` names properties that are written
too and, when read back, must equal what the record computes (a cell's ``id``).
:func:`json_keys` is the object's layout, which reading, writing and the schema share.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin

from loadtests.core.errors import ResultsError

R = TypeVar("R", bound="Record")
DOC = "doc"
INLINE = "inline"  # field metadata: the held record's keys sit in the parent's object (value: renames)
_MISSING = dataclasses.MISSING


class RecordError(ResultsError):
    """A JSON document does not have the shape its record declares (a key, a type, a value)."""


def doc(text: str, default: Any = _MISSING, *, compare: bool = True) -> Any:
    """A dataclass field with its documentation (and an optional default).

    ``compare=False`` leaves the field out of equality and hashing (a label, not identity).
    """
    return dataclasses.field(default=default, compare=compare, metadata={DOC: text})


def inline(text: str, renames: Mapping[str, str] | None = None) -> Any:
    """A field holding a record whose keys are written into the parent's JSON object, not under the field's name.

    ``renames`` maps the held record's field names to their keys in the parent, where the parent's
    file named them otherwise.
    """
    return dataclasses.field(metadata={DOC: text, INLINE: dict(renames or {})})


class Record:
    """Mixin for frozen dataclasses: ``to_json`` and ``from_json`` derived from the fields."""

    #: Properties written to JSON beside the fields; when read back they must equal the computed value.
    derived_keys: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        out = {name: dump(getattr(self, name)) for name in self.derived_keys}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if INLINE in f.metadata:
                renames = f.metadata[INLINE]
                out.update((renames.get(key, key), item) for key, item in value.to_json().items())
            else:
                out[f.name] = dump(value)
        return out

    @classmethod
    def from_json(cls: type[R], data: Any, path: str = "") -> R:
        return load(cls, data, path or cls.__name__)


@dataclasses.dataclass(frozen=True)
class JsonKey:
    """One key of a record's JSON object: its type hint, its documentation, whether a document must have it."""

    name: str
    hint: Any
    text: str
    required: bool


def json_keys(cls: type) -> tuple[JsonKey, ...]:
    """The keys of ``cls``'s JSON object in the order they are written: derived keys, then each field's
    (an inline field's keys in its place)."""
    return _json_keys(cls)


@functools.cache
def _json_keys(cls: type) -> tuple[JsonKey, ...]:
    keys = []
    for name in getattr(cls, "derived_keys", ()):
        getter = getattr(cls, name).fget
        text = (getter.__doc__ or "").strip().splitlines()[0]
        keys.append(JsonKey(name, typing.get_type_hints(getter)["return"], text, required=True))
    hints = record_hints(cls)
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if INLINE in f.metadata:
            renames = f.metadata[INLINE]
            keys += [dataclasses.replace(key, name=renames.get(key.name, key.name)) for key in json_keys(hints[f.name])]
        else:
            required = f.default is _MISSING and f.default_factory is _MISSING
            keys.append(JsonKey(f.name, hints[f.name], str(f.metadata.get(DOC, "")), required))
    names = [key.name for key in keys]
    if len(set(names)) != len(names):
        raise TypeError(f"{cls.__name__} writes a JSON key twice: {sorted(n for n in names if names.count(n) > 1)}")
    return tuple(keys)


def record_hints(cls: type) -> dict[str, Any]:
    """The resolved type hints of a record's fields (cached: records are read by the thousand)."""
    return _hints(cls)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def dump(value: Any) -> Any:
    """A record, tuple, mapping or scalar as plain JSON values."""
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, tuple | list):
        return [dump(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): dump(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        raise RecordError(f"{value!r} cannot be written to JSON: a measurement produced a non-finite number")
    return value


def load(hint: Any, value: Any, path: str) -> Any:
    """Read ``value`` as the type ``hint`` says; raise RecordError naming ``path`` otherwise."""
    if hint is Any:
        return value
    if isinstance(hint, type) and issubclass(hint, Record):
        return _load_record(hint, value, path)
    origin = get_origin(hint)
    if origin is Literal:
        if value not in get_args(hint):
            raise RecordError(f"{path}: {value!r} is not one of {', '.join(map(repr, get_args(hint)))}")
        return value
    if origin in (Union, types.UnionType):
        return _load_union(hint, value, path)
    if origin is tuple:
        return _load_tuple(hint, value, path)
    if origin in (Mapping, dict, typing.Mapping, typing.Dict):  # noqa: UP006 - typing.Dict may appear in hints
        return _load_mapping(hint, value, path)
    if hint is type(None):
        if value is not None:
            raise RecordError(f"{path}: expected null, got {value!r}")
        return None
    return _load_scalar(hint, value, path)


def _load_record(cls: type[R], value: Any, path: str) -> R:
    if not isinstance(value, Mapping):
        raise RecordError(f"{path}: expected an object for {cls.__name__}, got {type(value).__name__}")
    keys = json_keys(cls)
    unknown = sorted(set(value) - {key.name for key in keys})
    if unknown:
        raise RecordError(f"{path}: unknown key(s) {', '.join(unknown)} for {cls.__name__}")
    missing = [key.name for key in keys if key.required and key.name not in value]
    if missing:
        raise RecordError(f"{path}: missing key {missing[0]!r} for {cls.__name__}")
    hints = record_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if INLINE in f.metadata:
            held = {f.metadata[INLINE].get(key.name, key.name): key.name for key in json_keys(hints[f.name])}
            kwargs[f.name] = _load_record(hints[f.name], {name: value[key] for key, name in held.items()
                                                          if key in value}, path)
        elif f.name in value:
            kwargs[f.name] = load(hints[f.name], value[f.name], f"{path}.{f.name}")
    try:
        record = cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise RecordError(f"{path}: {exc}") from exc
    for name in cls.derived_keys:
        computed = dump(getattr(record, name))
        if value[name] != computed:
            raise RecordError(f"{path}.{name}: {value[name]!r} does not match the record, which gives {computed!r}")
    return record


def _load_union(hint: Any, value: Any, path: str) -> Any:
    options = get_args(hint)
    if value is None and type(None) in options:
        return None
    errors = []
    for option in options:
        if option is type(None):
            continue
        try:
            return load(option, value, path)
        except RecordError as exc:
            errors.append(str(exc))
    raise RecordError(errors[0] if len(errors) == 1 else f"{path}: {value!r} matches none of: " + "; ".join(errors))


def _load_tuple(hint: Any, value: Any, path: str) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise RecordError(f"{path}: expected a list, got {type(value).__name__}")
    args = get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(load(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
    if len(args) != len(value):
        raise RecordError(f"{path}: expected {len(args)} items, got {len(value)}")
    return tuple(load(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))


def _load_mapping(hint: Any, value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise RecordError(f"{path}: expected an object, got {type(value).__name__}")
    args = get_args(hint) or (str, Any)
    return {str(k): load(args[1], v, f"{path}.{k}") for k, v in value.items()}


def _load_scalar(hint: Any, value: Any, path: str) -> Any:
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint in (str, bool):
        if isinstance(value, hint):
            return value
    else:
        raise RecordError(f"{path}: the record declares an unsupported type {hint!r}")
    raise RecordError(f"{path}: expected {hint.__name__}, got {value!r}")
