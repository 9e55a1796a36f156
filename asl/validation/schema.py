"""The schema pass of the validator: the structural rules of the Amazon States Language.

AWS's ValidateStateMachineDefinition reports every structural mistake (unknown or missing
fields, wrong types, out-of-range numbers, conflicting fields, badly shaped Choice rules)
as ``SCHEMA_VALIDATION_FAILED``, located by a JSON pointer, all at once. The rules live in
``schemas/asl.schema.json`` (JSON Schema 2020-12), which editors can use on their own;
this module applies them and words the findings.

How: the top level is checked first, then each state against its Type's subschema in
``$defs`` (Parallel branches and Map processors are walked here, iteratively, so nesting
depth costs nothing). The schema is compiled once into plain predicates (``_compile``),
which accept a valid object in microseconds; for an object they reject, ``_Rules.errors``
walks down only the parts that fail and ``_explain`` words each failure as AWS would.
The test suite checks that this agrees with ``jsonschema`` on the published schema.
Graph rules, path and expression syntax, and which fields each query language allows
belong to the semantic pass, not here.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from asl.language import JSONATA, JSONPATH, is_number
from asl.validation.diagnostics import SCHEMA_VALIDATION_FAILED, Diagnostic, pointer

#: The published schema, package data of ``asl.schemas`` (``schemas/asl.schema.json``
#: links to it).
SCHEMA_PATH = Path(str(importlib.resources.files("asl.schemas").joinpath("asl.schema.json")))

# In AWS's order, as its message for an unknown Type lists them.
STATE_TYPES = ("Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map")

Test = Callable[[Any], bool]


def schema_diagnostics(definition: Any) -> list[Diagnostic]:
    """Every structural problem of ``definition`` (any JSON value), in document order.

    Never raises: a definition that is not an object gets AWS's own message for it, and
    one nested too deeply for the validator gets a diagnostic at the state concerned.
    """
    if not isinstance(definition, dict):
        return [_diagnostic((), "Definition must be a valid JSON object")]
    try:
        _load_schema()
    except (OSError, ValueError) as problem:
        return [_diagnostic((), f"The ASL JSON Schema could not be read from {SCHEMA_PATH}: {problem}")]
    machine_language = _language(definition.get("QueryLanguage"), JSONPATH)
    found: list[Diagnostic] = []
    try:
        _validate(definition, None, machine_language, (), found)
        for location, state in _states(definition):
            # Nested states inherit the state machine's language, not their parent's [spec].
            language = _language(state.get("QueryLanguage"), machine_language)
            _validate(state, state["Type"] + "State", language, location, found)
    except RecursionError:
        found.append(_diagnostic((), "The definition is nested too deeply to be checked "
                                     "against the schema"))
    return list(dict.fromkeys(found))


def _language(value: Any, default: str) -> str:
    return value if value in (JSONPATH, JSONATA) else default


def _states(definition: dict) -> Iterator[tuple[tuple, dict]]:
    """(location, state) of every state with a known Type, each followed by its nested ones."""
    pending = [_entries(("States",), definition.get("States"))]
    while pending:
        entry = next(pending[-1], None)
        if entry is None:
            pending.pop()
            continue
        location, state = entry
        yield location, state
        pending.append(_nested_states(location, state))


def _entries(location: tuple, states: Any) -> Iterator[tuple[tuple, dict]]:
    if isinstance(states, dict):
        for name, state in states.items():
            if isinstance(state, dict) and isinstance(state.get("Type"), str) and state["Type"] in STATE_TYPES:
                yield (*location, name), state


def _nested_states(location: tuple, state: dict) -> Iterator[tuple[tuple, dict]]:
    """The states of a Parallel's branches, or of a Map's ItemProcessor (or legacy Iterator)."""
    if state["Type"] == "Parallel" and isinstance(state.get("Branches"), list):
        for index, branch in enumerate(state["Branches"]):
            if isinstance(branch, dict):
                yield from _entries((*location, "Branches", index, "States"), branch.get("States"))
    elif state["Type"] == "Map":
        for field in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(field), dict):
                yield from _entries((*location, field, "States"), state[field].get("States"))


def _validate(instance: dict, definition_name: str | None, language: str, location: tuple,
              found: list[Diagnostic]) -> None:
    """Check one object (the top level, or one state) against its part of the schema."""
    rules = _rules(language)
    part = rules.schema if definition_name is None else rules.defs[definition_name]
    try:
        if rules.test(part)(instance):
            return
        explained = [pair for error in rules.errors(part, instance, ()) for pair in _explain(error, rules)]
    except RecursionError:
        found.append(_diagnostic(location, "The definition is nested too deeply to be validated"))
        return
    found.extend(_diagnostic((*location, *path), message) for path, message in explained)


def _diagnostic(parts: tuple, message: str) -> Diagnostic:
    return Diagnostic(pointer(*parts), SCHEMA_VALIDATION_FAILED, message)


# ---------------------------------------------------------------------------------------
# The schema, compiled once per query language.

@functools.cache
def _load_schema() -> dict:
    with open(SCHEMA_PATH, encoding="utf-8") as file:
        return json.load(file)


@dataclass(frozen=True)
class _Error:
    """One schema keyword that a value fails (the counterpart of a jsonschema error)."""

    keyword: str | None      # None: the value meets a ``false`` schema
    argument: Any            # the keyword's value in the schema
    instance: Any            # the failing value
    schema: Any              # the (sub)schema holding the keyword
    path: tuple              # where the value is, within the checked object


class _Rules:
    """The schema as it applies to the states of one query language, compiled once.

    Two changes to the published schema: states are checked one at a time by Type (so
    ``$defs/State`` keeps only its check of ``Type``), and in JSONPath states a
    ``{% ... %}`` expression cannot stand in for a number or object.
    """

    def __init__(self, schema: dict, language: str):
        self.schema = json.loads(json.dumps(schema))
        self.defs = self.schema["$defs"]
        del self.defs["State"]["allOf"]
        if language == JSONPATH:
            self.defs["ExpressionInJSONataState"] = False
        self._by_name: dict[str, Test] = {}
        self._by_name.update((name, _compile(part, self._by_name)) for name, part in self.defs.items())
        # Keyed by id(): every subschema lives as long as self.schema does.
        self._by_part: dict[int, Test] = {}
        self._by_keyword: dict[tuple[int, str], Test] = {}

    def test(self, part: Any) -> Test:
        """The compiled predicate of a subschema of ``self.schema``."""
        test = self._by_part.get(id(part))
        if test is None:
            test = self._by_part[id(part)] = _compile(part, self._by_name)
        return test

    def _keyword_test(self, part: dict, keyword: str) -> Test:
        """The compiled predicate of one keyword of a subschema."""
        key = (id(part), keyword)
        test = self._by_keyword.get(key)
        if test is None:
            test = self._by_keyword[key] = _KEYWORD_TESTS[keyword](part[keyword], part, self._by_name)
        return test

    def resolve(self, part: Any) -> Any:
        """The subschema that a bare ``$ref`` (plus annotations) stands for."""
        while isinstance(part, dict) and "$ref" in part and not (set(part) - _ANNOTATIONS - {"$ref"}):
            part = self.defs[_def_name(part["$ref"])]
        return part

    def errors(self, part: Any, value: Any, path: tuple) -> Iterator[_Error]:
        """Every keyword of ``part`` that ``value`` fails, descending only where tests fail."""
        if self.test(part)(value):
            return
        if part is False:
            yield _Error(None, None, value, part, path)
            return
        if isinstance(value, dict):
            yield from self._object_errors(part, value, path)
        for keyword, argument in part.items():
            if keyword in _ANNOTATIONS or keyword in _OBJECT_KEYWORDS or keyword in ("then", "else"):
                continue
            if keyword == "$ref":
                yield from self.errors(self.defs[_def_name(argument)], value, path)
            elif keyword == "allOf":
                for inner in argument:
                    yield from self.errors(inner, value, path)
            elif keyword == "if":
                chosen = part.get("then", True) if self.test(argument)(value) else part.get("else", True)
                yield from self.errors(chosen, value, path)
            elif keyword == "items":
                if isinstance(value, list):
                    for index, item in enumerate(value):
                        yield from self.errors(argument, item, (*path, index))
            elif keyword == "propertyNames":
                if isinstance(value, dict):
                    yield from (_Error(keyword, argument, name, part, path)
                                for name in value if not self.test(argument)(name))
            elif not self._keyword_test(part, keyword)(value):
                yield _Error(keyword, argument, value, part, path)

    def _object_errors(self, part: dict, value: dict, path: tuple) -> Iterator[_Error]:
        known = part.get("properties", {})
        for name, inner in known.items():
            if name in value:
                yield from self.errors(inner, value[name], (*path, name))
        others = part.get("additionalProperties", True)
        extra = [name for name in value if name not in known]
        if others is False and extra:
            yield _Error("additionalProperties", others, value, part, path)
        elif others is not True:
            for name in extra:
                yield from self.errors(others, value[name], (*path, name))
        if any(name not in value for name in part.get("required", ())):
            yield _Error("required", part["required"], value, part, path)


_OBJECT_KEYWORDS = frozenset({"properties", "additionalProperties", "required"})


@functools.cache
def _rules(language: str) -> _Rules:
    return _Rules(_load_schema(), language)


def _def_name(ref: str) -> str:
    if not ref.startswith("#/$defs/"):
        raise ValueError(f"only local '#/$defs/...' references are supported, not {ref!r}")
    return ref[len("#/$defs/"):]


# ---------------------------------------------------------------------------------------
# The fast test: the schema compiled into plain Python predicates. It supports exactly the
# keywords the ASL schema uses and follows jsonschema's semantics for them (the test suite
# checks that both agree); any other keyword is refused when the schema is compiled.

_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description",
                          "default", "examples", "deprecated"})


_TYPE_TESTS: dict[str, Test] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "number": is_number,
    # As in JSON Schema, 1.0 is an integer.
    "integer": lambda value: is_number(value) and (isinstance(value, int) or value.is_integer()),
}


def _compile(schema: Any, tests: dict[str, Test]) -> Test:
    """A predicate telling whether a value satisfies ``schema``.

    ``$ref`` looks its target up in ``tests`` when called, so recursive definitions work.
    """
    if schema is True:
        return lambda value: True
    if schema is False:
        return lambda value: False
    fields = _required_fields(schema)
    if fields is not None:
        return lambda value: not isinstance(value, dict) or all(name in value for name in fields)
    checks: list[Test] = []
    if {"properties", "additionalProperties", "required"} & set(schema):
        checks.append(_object_test(schema, tests))
    for keyword, argument in schema.items():
        if keyword in _ANNOTATIONS or keyword in ("properties", "additionalProperties", "required", "then", "else"):
            continue
        make = _KEYWORD_TESTS.get(keyword)
        if make is None:
            raise ValueError(f"the schema uses {keyword!r}, which the fast test does not support")
        checks.append(make(argument, schema, tests))
    if len(checks) == 1:
        return checks[0]

    def all_hold(value: Any) -> bool:
        for check in checks:
            if not check(value):
                return False
        return True
    return all_hold


def _required_fields(schema: Any) -> tuple | None:
    """The fields a schema made only of ``required`` asks for (None for any other schema)."""
    if isinstance(schema, dict) and set(schema) - _ANNOTATIONS == {"required"}:
        return tuple(schema["required"])
    return None


def _single_fields(parts: list) -> frozenset | None:
    """For alternatives that each require one field: those fields (None otherwise)."""
    fields = [_required_fields(part) for part in parts]
    if all(names is not None and len(names) == 1 for names in fields):
        return frozenset(names[0] for names in fields)
    return None


def _object_test(schema: dict, tests: dict[str, Test]) -> Test:
    known = {name: _compile(part, tests) for name, part in schema.get("properties", {}).items()}
    others = schema.get("additionalProperties", True)
    other_test = None if others is True else _compile(others, tests)
    required = tuple(schema.get("required", ()))

    def test(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for name, item in value.items():
            check = known.get(name, other_test)
            if check is not None and not check(item):
                return False
        for name in required:
            if name not in value:
                return False
        return True
    return test


def _ref_test(ref, schema, tests):
    name = _def_name(ref)
    return lambda value: tests[name](value)


def _type_test(types, schema, tests):
    checks = [_TYPE_TESTS[name] for name in ([types] if isinstance(types, str) else types)]
    if len(checks) == 1:
        return checks[0]
    return lambda value: any(check(value) for check in checks)


def _enum_test(values, schema, tests):
    if all(isinstance(v, str) for v in values):
        strings = frozenset(values)
        return lambda value: isinstance(value, str) and value in strings
    if all(isinstance(v, bool) for v in values):
        return lambda value: isinstance(value, bool) and value in values
    raise ValueError("the fast test supports string or boolean enums only")


def _number_test(compare):
    def make(limit, schema, tests):
        # Written as "not out of range", as jsonschema does, so NaN passes both.
        return lambda value: not is_number(value) or not compare(value, limit)
    return make


def _length_test(too_far):
    def make(limit, schema, tests):
        return lambda value: not isinstance(value, str) or not too_far(len(value), limit)
    return make


def _pattern_test(pattern, schema, tests):
    search = re.compile(pattern).search
    return lambda value: not isinstance(value, str) or search(value) is not None


def _items_test(part, schema, tests):
    check = _compile(part, tests)
    return lambda value: not isinstance(value, list) or all(check(item) for item in value)


def _min_items_test(limit, schema, tests):
    return lambda value: not isinstance(value, list) or len(value) >= limit


def _property_names_test(part, schema, tests):
    check = _compile(part, tests)
    return lambda value: not isinstance(value, dict) or all(check(name) for name in value)


def _dependent_required_test(dependencies, schema, tests):
    pairs = tuple(dependencies.items())
    return lambda value: not isinstance(value, dict) or all(
        all(needed in value for needed in needs) for name, needs in pairs if name in value)


def _all_of_test(parts, schema, tests):
    checks = [_compile(part, tests) for part in parts]

    def test(value: Any) -> bool:
        for check in checks:
            if not check(value):
                return False
        return True
    return test


def _any_of_test(parts, schema, tests):
    fields = _single_fields(parts)
    if fields is not None:  # "at least one of these fields", as a set operation
        return lambda value: not isinstance(value, dict) or not fields.isdisjoint(value)
    checks = [_compile(part, tests) for part in parts]
    return lambda value: any(check(value) for check in checks)


def _one_of_test(parts, schema, tests):
    fields = _single_fields(parts)
    if fields is not None:  # "exactly one of these fields"
        # A non-object satisfies every "required", hence all alternatives at once.
        return lambda value: isinstance(value, dict) and len(fields.intersection(value)) == 1 or (
            not isinstance(value, dict) and len(fields) == 1)
    checks = [_compile(part, tests) for part in parts]
    return lambda value: sum(1 for check in checks if check(value)) == 1


def _not_test(part, schema, tests):
    check = _compile(part, tests)
    return lambda value: not check(value)


def _if_test(part, schema, tests):
    condition = _compile(part, tests)
    then = _compile(schema.get("then", True), tests)
    otherwise = _compile(schema.get("else", True), tests)
    return lambda value: then(value) if condition(value) else otherwise(value)


_KEYWORD_TESTS = {
    "$ref": _ref_test,
    "type": _type_test,
    "enum": _enum_test,
    "const": lambda value, schema, tests: _enum_test([value], schema, tests),
    "minimum": _number_test(lambda value, limit: value < limit),
    "maximum": _number_test(lambda value, limit: value > limit),
    "exclusiveMinimum": _number_test(lambda value, limit: value <= limit),
    "exclusiveMaximum": _number_test(lambda value, limit: value >= limit),
    "minLength": _length_test(lambda length, limit: length < limit),
    "maxLength": _length_test(lambda length, limit: length > limit),
    "pattern": _pattern_test,
    "items": _items_test,
    "minItems": _min_items_test,
    "propertyNames": _property_names_test,
    "dependentRequired": _dependent_required_test,
    "allOf": _all_of_test,
    "anyOf": _any_of_test,
    "oneOf": _one_of_test,
    "not": _not_test,
    "if": _if_test,
}


# ---------------------------------------------------------------------------------------
# Wording: one failed keyword -> (path within the checked object, message) pairs.

def _explain(error: _Error, rules: _Rules) -> list[tuple[tuple, str]]:
    explain = _EXPLANATIONS.get(error.keyword, _explain_otherwise)
    return explain(error, error.path, rules)


def _explain_property_names(error, path, rules):
    name, low, high = error.instance, error.argument.get("minLength"), error.argument.get("maxLength")
    if not isinstance(name, str) or (low is None and high is None):
        return _explain_otherwise(error, path, rules)
    if low is not None and len(name) < low:
        if not name:
            return [((*path, name), "A state name cannot be empty: names have 1 to "
                                    f"{high} characters" if high else "A state name cannot be empty")]
        return [((*path, name), f"The state name '{name}' is {len(name)} characters long; "
                                f"names have at least {low} characters")]
    return [((*path, name), f"The state name '{_short(name)}' is {len(name)} characters long; "
                            f"names have at most {high} characters")]


def _explain_required(error, path, rules):
    return [(path, f"The field '{name}' is required but was missing")
            for name in error.argument if name not in error.instance]


def _explain_dependent_required(error, path, rules):
    return [(path, f"The field '{needed}' is required by '{name}' but was missing")
            for name, needs in error.argument.items() if name in error.instance
            for needed in needs if needed not in error.instance]


def _explain_additional_properties(error, path, rules):
    allowed = ", ".join(sorted(error.schema.get("properties", {})))
    where = "at the top level of a state machine" if error.schema is rules.schema else f"by {_noun(error.schema)}"
    return [((*path, name), f"Field '{name}' is not supported {where}; allowed fields: {allowed}")
            for name in error.instance if name not in error.schema.get("properties", {})]


def _explain_type(error, path, rules):
    types = error.argument if isinstance(error.argument, list) else [error.argument]
    return [(path, f"{_subject(path)} should be {_or([_TYPE_NAMES[t] for t in types], quote=False)}")]


def _explain_enum(error, path, rules):
    values = ", ".join(str(value) for value in error.argument)
    return [(path, f"{_subject(path)} should have one of these values: [{values}]")]


def _explain_const(error, path, rules):
    return [(path, f"{_subject(path)} should be {json.dumps(error.argument)}")]


def _explain_range(wording):
    def explain(error, path, rules):
        return [(path, f"{_subject(path)} should be {wording} {error.argument}, but was {_short(error.instance)}")]
    return explain


def _explain_min_items(error, path, rules):
    if error.argument == 1:
        return [(path, f"{_subject(path)} cannot be empty")]
    return [(path, f"{_subject(path)} should have at least {error.argument} elements")]


def _explain_length(wording):
    def explain(error, path, rules):
        return [(path, f"{_subject(path)} should be {wording} {error.argument} characters long")]
    return explain


def _explain_pattern(error, path, rules):
    examples = error.schema.get("examples")
    if examples:  # a closed set of values written as a pattern: name them, not the regex
        return [(path, f"{_subject(path)} should be one of the supported values, such as "
                       f"{_or(examples)}, but was '{_short(error.instance)}'")]
    return [(path, f"{_subject(path)} should match the pattern {error.argument}")]


def _explain_one_of(error, path, rules):
    """Exactly one of some fields (Next/End, the Wait forms, a rule's kind or operator...)."""
    fields = _field_alternatives(error.argument, rules)
    if fields is None:
        return _explain_otherwise(error, path, rules)
    if not isinstance(error.instance, dict):
        return []  # field requirements hold vacuously; the type error says what is wrong
    present = [[name for name in names if name in error.instance] for names in fields]
    chosen = [names[0] for names in present if names]
    if not chosen:
        return [(path, _one_required([names[0] for names in fields]))]
    return [(path, f"The fields {_and(chosen)} cannot be used together")]


def _explain_any_of(error, path, rules):
    """At least one of some fields, or a value of one of several kinds."""
    fields = _field_alternatives(error.argument, rules)
    if fields is not None:
        if not isinstance(error.instance, dict):
            return []
        names = [names[0] for names in fields]
        wording = _one_required(names) if len(names) == 2 else f"At least one of the fields {_or(names)} is required"
        return [(path, wording)]
    kinds = [rules.resolve(part) for part in error.argument]
    fitting = [index for index, kind in enumerate(kinds) if kind is not False and _fits_type(error.instance, kind)]
    # A value of the right type but out of range: say what is wrong with it.
    if len(fitting) == 1 and kinds[fitting[0]] is not rules.defs["JSONataExpression"]:
        inner = list(rules.errors(error.argument[fitting[0]], error.instance, path))
        if inner:
            return [found for e in inner for found in _explain(e, rules)]
    described = [text for text in (_describe(kind, rules) for kind in kinds) if text]
    return [(path, f"{_subject(path)} should be {' or '.join(described)}")]


def _explain_not(error, path, rules):
    excluded = rules.resolve(error.argument)
    if isinstance(excluded, dict) and set(excluded) - _ANNOTATIONS == {"required"}:
        if not isinstance(error.instance, dict):
            return []
        return [(path, f"The fields {_and(excluded['required'])} cannot be used together")]
    return _explain_otherwise(error, path, rules)


def _explain_otherwise(error, path, rules):
    # Not reached with the ASL schema; kept so that a schema change never yields silence.
    return [(path, f"{_subject(path)} is not valid here")]


_EXPLANATIONS = {
    "propertyNames": _explain_property_names,
    "required": _explain_required,
    "dependentRequired": _explain_dependent_required,
    "additionalProperties": _explain_additional_properties,
    "type": _explain_type,
    "enum": _explain_enum,
    "const": _explain_const,
    "minimum": _explain_range("at least"),
    "maximum": _explain_range("at most"),
    "exclusiveMinimum": _explain_range("greater than"),
    "exclusiveMaximum": _explain_range("less than"),
    "minItems": _explain_min_items,
    "minLength": _explain_length("at least"),
    "maxLength": _explain_length("at most"),
    "pattern": _explain_pattern,
    "oneOf": _explain_one_of,
    "anyOf": _explain_any_of,
    "not": _explain_not,
}

_TYPE_NAMES = {"object": "an object", "array": "an array", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "a boolean", "null": "null"}


def _field_alternatives(parts: list, rules: _Rules) -> list[list[str]] | None:
    """For alternatives that only require fields: the fields of each (any one of them will do).

    ``[{"required": ["Next"]}, {"required": ["End"]}]`` gives ``[["Next"], ["End"]]``; an
    alternative that is itself an ``anyOf`` of such requirements gives all their fields.
    """
    alternatives = []
    for part in parts:
        part = rules.resolve(part)
        if not isinstance(part, dict):
            return None
        keywords = set(part) - _ANNOTATIONS
        if keywords == {"required"} and len(part["required"]) == 1:
            alternatives.append(list(part["required"]))
        elif keywords == {"anyOf"}:
            inner = _field_alternatives(part["anyOf"], rules)
            if inner is None:
                return None
            alternatives.append([names[0] for names in inner])
        else:
            return None
    return alternatives


def _fits_type(value: Any, kind: Any) -> bool:
    if not isinstance(kind, dict) or "type" not in kind:
        return True
    types = kind["type"] if isinstance(kind["type"], list) else [kind["type"]]
    return any(_TYPE_TESTS[name](value) for name in types)


def _describe(kind: Any, rules: _Rules) -> str | None:
    """'an integer from 1 to 99999999', 'a JSONata expression ...': what a value may be."""
    if kind is rules.defs["JSONataExpression"]:
        return "a JSONata expression ('{% ... %}')"
    if not isinstance(kind, dict) or "type" not in kind:
        return None
    types = kind["type"] if isinstance(kind["type"], list) else [kind["type"]]
    text = _or([_TYPE_NAMES[name] for name in types], quote=False)
    low, high = kind.get("minimum"), kind.get("maximum")
    if low is not None and high is not None:
        text += f" from {low} to {high}"
    elif low is not None:
        text += f" of at least {low}"
    elif high is not None:
        text += f" of at most {high}"
    return text


def _subject(path: tuple) -> str:
    """How a message names the value at ``path``: "The field 'Retry[0]'", "The state 'A'"."""
    if len(path) >= 2 and path[-2] == "States":
        return f"The state '{path[-1]}'"
    if not path:
        return "The value"
    named = len(path)
    while named > 0 and not isinstance(path[named - 1], str):
        named -= 1
    label = str(path[named - 1]) if named else ""
    label += "".join(f"[{index}]" for index in path[named:])
    return f"The field '{label}'"


def _noun(schema: dict) -> str:
    title = schema.get("title", "object")
    return ("an " if title[:1].upper() in "AEIOU" else "a ") + title


def _one_required(names: list[str]) -> str:
    if len(names) == 2:
        return f"The field '{names[0]}' or '{names[1]}' is required"
    return f"One of the fields {_or(names)} is required"


def _or(names: list[str], quote: bool = True) -> str:
    return _join(names, "or", quote)


def _and(names: list[str]) -> str:
    return _join(names, "and", True)


def _join(names: list[str], word: str, quote: bool) -> str:
    shown = [f"'{name}'" if quote else name for name in names]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} {word} {shown[-1]}"


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 3] + "..."
