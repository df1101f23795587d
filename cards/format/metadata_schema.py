"""The one validator of learner.json: pydantic models made from the typed sections' own fields.

Each `Section` dataclass (cards/format/metadata_sections.py) names its fields once; `schema_of` turns it into a
strict pydantic model (no coercion: a bool is not a number, "100" is not an integer; unknown keys allowed),
with the types a section adds for validation only (`Section.schema_types`: learner.json's `evaluations` are
`cards.format.evaluation_records.EvaluationRecord`s). `validated` checks parsed JSON against it and says every
problem on one line, in JSON's words: "learner.json is malformed: field corpus.name must be a string, not a
number." The dataclass is then built from the checked data, so the file stays exactly as written.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model

from .errors import LearnerFormatError
from .metadata_sections import Section, SectionT, section_type, union_options

_CONFIG = ConfigDict(extra="allow", strict=True)
_SCHEMAS: dict[type, type[BaseModel]] = {}


def _empty_is_none(value: Any) -> Any:
    """Format 1 wrote `{}` for an absent optional section."""
    return None if value == {} else value


def schema_of(section: type[Section]) -> type[BaseModel]:
    """The pydantic model of `section` (made once per class: listings validate thousands of files).

    An optional field accepts null (the same as absent), an optional section `{}` too."""
    if section not in _SCHEMAS:
        required = section.required_fields()
        fields: dict[str, Any] = {}
        for name, hint in section.known_fields().items():
            hint = section.schema_types.get(name, hint)
            nested = section_type(hint)
            if nested is not None:
                hint = schema_of(nested)
            if name in required:
                fields[name] = (hint, ...)
            elif nested is not None:
                fields[name] = (Annotated[hint | None, BeforeValidator(_empty_is_none)], None)
            else:
                fields[name] = (hint | None, None)
        _SCHEMAS[section] = create_model(f"{section.__name__}Schema", __config__=_CONFIG, **fields)
    return _SCHEMAS[section]


def validated(section: type[SectionT], data: Any, *, source: str, where: str = "") -> SectionT:
    """The `section` of parsed JSON `data`, or LearnerFormatError naming each problem on one line
    (`where` prefixes the field names of a nested section checked alone, e.g. "corpus")."""
    if not isinstance(data, dict):
        raise LearnerFormatError(f"{source} is malformed: {where or 'the file'} must be an object, not "
                                 f"{json_type(data)}.")
    try:
        schema_of(section).model_validate(data)
    except ValidationError as error:
        problems = list(dict.fromkeys(_problem(section, item, where) for item in error.errors()))
        raise LearnerFormatError(f"{source} is malformed: {'; '.join(problems)}.") from None
    return section.from_dict(data)


def _problem(section: type[Section], error: Any, where: str) -> str:
    """One pydantic error in learner.json's words, its field named by the section's own type hints."""
    path: list[str] = [where] if where else []
    hint: Any = None
    fields: dict[str, Any] | None = section.known_fields()
    for step in error["loc"]:
        if isinstance(step, int):   # an item of a list: the list is what is wrong
            holding = json_type(error["input"])
            return f"field {'.'.join(path)} must be {describe_type(hint)}, not a list holding {holding}"
        if fields is None or step not in fields:
            break
        path.append(str(step))
        hint = fields[step]
        nested = section_type(hint)
        fields = nested.known_fields() if nested is not None else None
    name = ".".join(path) or "the file"
    if error["type"] == "missing":
        return f"field {name} is missing"
    expected = "an object" if section_type(hint) is not None else describe_type(hint)
    return f"field {name} must be {expected}, not {json_type(error['input'])}"


def describe_type(hint: Any) -> str:
    """`str | None` -> "a string or null", as a problem message names it."""
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "an object",
             list: "a list", type(None): "null"}
    described = []
    for option in union_options(hint):
        item = typing.get_args(option)[0] if typing.get_origin(option) is list and typing.get_args(option) else Any
        described.append(f"a list of {describe_type(item).split(' ', 1)[1]}s" if item is not Any
                         else names.get(typing.get_origin(option) or option, "an object"))
    return " or ".join(described)


def json_type(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words."""
    return {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "a string",
            dict: "an object", list: "a list"}.get(type(value), type(value).__name__)
