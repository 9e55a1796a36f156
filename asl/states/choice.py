"""Choice: the first rule that holds picks the next state.

The state (:class:`ChoiceState`) and its JSONPath Choice Rules, compiled once into cheap
predicates; JSONata rules are a ``Condition`` expression each.

:func:`compile_rule` turns one Choice Rule (top-level or nested) into a function
``predicate(data, env) -> bool``. ``data`` is the Choice state's effective input (after
InputPath); ``env`` supplies ``$$`` (``env.context``) and workflow variables
(``env.variables``). Every path, literal, timestamp and pattern is parsed at compile
time; a predicate only walks paths, type-checks and compares.

AWS semantics reproduced here:

* a value of the wrong type for the operator makes the test false, never an error
  (booleans are not numbers, numeric strings are not numbers, ``1 == 1.0``);
* strings order by UTF-16 code units, as Java's ``String.compareTo``;
* timestamps compare as instants, to the nanosecond; an invalid one makes the test false;
* ``IsPresent`` is true for a path that exists even when its value is null, and never
  fails; every other operator fails the execution with ``States.Runtime`` when its
  ``Variable`` (or its ``...Path`` operand) selects nothing;
* ``And``/``Or`` short-circuit, so a guarded missing path is never read.

The AWS wording of the no-match failure is :data:`NO_CHOICE_MATCHED_CAUSE`.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from asl.errors import RUNTIME, RUNTIME_CAUSE_PREFIX, StatesError
from asl.language import is_number
from asl.language.jsonpath import PathNotFound, PathSyntaxError, compile_path
from asl.language.paths import compile_template
from asl.language.timestamps import timestamp_key
from asl.states.base import CompileOptions, Frame, State, Step
from asl.states.io import as_data_evaluator, common_fields, exit_without_result, jsonata_field

Predicate = Callable[[Any, Any], bool]

#: The cause, after the prefix, when no Choice Rule matched and there is no Default.
NO_CHOICE_MATCHED_DETAIL = "Failed to transition out of the state. The state does not point to a next state."

#: AWS's full ``States.Runtime`` cause for a Choice with no match and no Default, e.g.
#: ``NO_CHOICE_MATCHED_CAUSE.format(state="CheckStatus", event_id=2)``.
NO_CHOICE_MATCHED_CAUSE = RUNTIME_CAUSE_PREFIX + NO_CHOICE_MATCHED_DETAIL

#: The cause, after the prefix, when a rule's ``Variable`` (or ``...Path`` operand)
#: selects nothing: ``INVALID_PATH_DETAIL.format(path="$.type")``.
INVALID_PATH_DETAIL = "Invalid path '{path}': The choice state's condition path references an invalid value."

#: Keys a rule may carry that play no part in its test.
_IGNORED_KEYS = frozenset({"Next", "Assign", "Comment"})

_ORDERINGS = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}

_TYPE_TESTS = {
    "IsNull": lambda value: value is None,
    "IsNumeric": lambda value: type(value) is int or type(value) is float,
    "IsString": lambda value: type(value) is str,
    "IsBoolean": lambda value: type(value) is bool,
    "IsTimestamp": lambda value: timestamp_key(value) is not None,
}


def no_choice_matched(state: str, event_id: int) -> StatesError:
    """The error AWS fails the execution with when no rule matched and there is no Default."""
    # located: the cause already names the state
    return StatesError(RUNTIME, NO_CHOICE_MATCHED_CAUSE.format(state=state, event_id=event_id),
                       located=True)


def compile_rule(rule: dict) -> Predicate:
    """Compile one JSONPath Choice Rule into ``predicate(data, env) -> bool``.

    ``Next``, ``Assign`` and ``Comment`` are ignored. Raises :class:`ValueError` naming
    the problem when the rule is not one this module can compile (unknown operator,
    operand of the wrong type, bad path, dangling escape in a StringMatches pattern...).
    """
    if not isinstance(rule, dict):
        raise ValueError(f"A Choice Rule must be an object, not {_json_type(rule)}")
    keys = [key for key in rule if key not in _IGNORED_KEYS]
    boolean_keys = [key for key in keys if key in ("And", "Or", "Not")]
    if boolean_keys:
        if len(keys) != 1:
            raise ValueError(
                f"A Choice Rule with '{boolean_keys[0]}' must have no other test field, "
                f"found {sorted(keys)}")
        return _compile_boolean(boolean_keys[0], rule[boolean_keys[0]])
    if "Condition" in keys:
        raise ValueError("'Condition' belongs to JSONata Choice Rules, not JSONPath ones")
    if "Variable" not in keys:
        raise ValueError("A Choice Rule needs 'And', 'Or', 'Not' or 'Variable' with one comparison operator")
    operators = [key for key in keys if key != "Variable"]
    if len(operators) != 1:
        raise ValueError(
            f"A Choice Rule with 'Variable' needs exactly one comparison operator, found {sorted(operators) or 'none'}")
    return _compile_data_test(rule["Variable"], operators[0], rule[operators[0]])


@dataclass(slots=True, kw_only=True, eq=False)
class ChoiceState(State):
    """Choice: the first rule that holds (a JSONPath rule, or a JSONata Condition) picks
    Next, and its Assign (and JSONata Output); else Default with the state's own Assign
    and Output; else States.Runtime. JSONPath output: the input after InputPath and
    OutputPath; JSONata: the Output, else the input.

    ``rules``: ``(predicate(data, frame), next, assign, output)`` per Choice Rule.
    """

    type: ClassVar[str] = "Choice"

    rules: tuple = ()
    default: str | None = None

    @classmethod
    def compile(cls, name: str, definition: dict, options: CompileOptions) -> "ChoiceState":
        fields = common_fields(name, definition, options)
        if fields["jsonata"]:
            rules = tuple(
                (as_data_evaluator(jsonata_field(rule, "Condition", "boolean",
                                                 f"Choices/{i}/Condition")),
                 rule["Next"], jsonata_field(rule, "Assign"), jsonata_field(rule, "Output"))
                for i, rule in enumerate(definition["Choices"]))
        else:
            rules = tuple(
                (compile_rule(rule), rule["Next"],
                 compile_template(rule["Assign"]) if "Assign" in rule else None, None)
                for rule in definition["Choices"])
        return cls(**fields, rules=rules, default=definition.get("Default"))

    def run(self, frame: Frame, raw: Any, size: int | None) -> Step:
        frame.enter(self, raw)
        effective = raw if self.input_path is None else self.input_path(raw, frame)
        for predicate, next_state, assign, output in self.rules:
            if predicate(effective, frame):
                break
        else:
            if self.default is None:
                raise no_choice_matched(self.name, frame.entered_id)
            next_state, assign, output = self.default, self.assign, self.output
        return exit_without_result(self, frame, raw, effective, size, next_state, assign, output)


# --- boolean rules ---------------------------------------------------------------


def _compile_boolean(name: str, operand) -> Predicate:
    """And / Or (non-empty lists, short-circuit, in order) and Not (one rule)."""
    if name == "Not":
        if not isinstance(operand, dict):
            raise ValueError(f"'Not' takes one Choice Rule (an object), not {_json_type(operand)}")
        inner = compile_rule(operand)
        return lambda data, env: not inner(data, env)
    if not isinstance(operand, list) or not operand:
        raise ValueError(f"'{name}' takes a non-empty array of Choice Rules")
    rules = tuple(compile_rule(r) for r in operand)
    if len(rules) == 1:
        return rules[0]
    if name == "And":
        def all_of(data, env):
            for rule in rules:
                if not rule(data, env):
                    return False
            return True
        return all_of

    def any_of(data, env):
        for rule in rules:
            if rule(data, env):
                return True
        return False
    return any_of


# --- data-test rules -------------------------------------------------------------


def _compile_data_test(variable, name: str, operand) -> Predicate:
    """``Variable`` + one operator: fetch the value, then apply the compiled test."""
    path = _compile_rule_path(variable, "Variable")
    if name == "IsPresent":
        _require_bool(name, operand)
        exists = path.exists
        if operand:
            return exists
        return lambda data, env: not exists(data, env)
    get = path.get
    detail = INVALID_PATH_DETAIL.format(path=path.text)

    if name.endswith("Path"):
        test2 = _binary_test(name[:-4])
        if test2 is None:
            raise ValueError(f"Unknown Choice comparison operator '{name}'")
        other = _compile_rule_path(operand, name)
        other_get = other.get
        other_detail = INVALID_PATH_DETAIL.format(path=other.text)

        def compare_with_path(data, env):
            try:
                value = get(data, env)
            except PathNotFound:
                raise StatesError(RUNTIME, detail) from None
            try:
                expected = other_get(data, env)
            except PathNotFound:
                raise StatesError(RUNTIME, other_detail) from None
            return test2(value, expected)
        return compare_with_path

    test = _unary_test(name, operand)

    def compare(data, env):
        try:
            value = get(data, env)
        except PathNotFound:
            raise StatesError(RUNTIME, detail) from None
        return test(value)
    return compare


def _unary_test(name: str, operand) -> Callable[[Any], bool]:
    """The test of ``value`` against a literal operand, with the operand prepared once."""
    if name in _TYPE_TESTS:
        _require_bool(name, operand)
        is_type = _TYPE_TESTS[name]
        if operand:
            return is_type
        return lambda value: not is_type(value)
    if name == "BooleanEquals":
        _require_bool(name, operand)
        return lambda value: value is operand  # True/False are singletons; 1 is not True
    if name == "StringMatches":
        if type(operand) is not str:
            raise ValueError(f"'StringMatches' takes a string pattern, not {_json_type(operand)}")
        fullmatch = _wildcard_regex(operand).fullmatch
        return lambda value: type(value) is str and fullmatch(value) is not None
    family, compare = _split_operator(name)
    if family == "String":
        if type(operand) is not str:
            raise ValueError(f"'{name}' takes a string, not {_json_type(operand)}")
        if compare is operator.eq:
            return lambda value: type(value) is str and value == operand
        key = _utf16(operand)
        return lambda value: type(value) is str and compare(_utf16(value), key)
    if family == "Numeric":
        if not is_number(operand):
            raise ValueError(f"'{name}' takes a number, not {_json_type(operand)}")
        return lambda value: (type(value) is int or type(value) is float) and compare(value, operand)
    if family == "Timestamp":
        key = timestamp_key(operand)
        if key is None:
            raise ValueError(
                f"'{name}' takes an RFC 3339 timestamp such as '2016-03-14T01:59:00Z', not {operand!r}")

        def timestamp_test(value):
            value_key = timestamp_key(value)
            return value_key is not None and compare(value_key, key)
        return timestamp_test
    raise ValueError(f"Unknown Choice comparison operator '{name}'")


def _binary_test(name: str) -> Callable[[Any, Any], bool] | None:
    """The test of ``value`` against another value selected by a ``...Path`` operand."""
    if name == "BooleanEquals":
        return lambda value, other: type(value) is bool and type(other) is bool and value is other
    if name == "StringMatches":  # AWS has no StringMatchesPath
        return None
    try:
        family, compare = _split_operator(name)
    except ValueError:
        return None
    if family == "String":
        if compare is operator.eq:
            return lambda value, other: type(value) is str and type(other) is str and value == other
        return lambda value, other: (type(value) is str and type(other) is str
                                     and compare(_utf16(value), _utf16(other)))
    if family == "Numeric":
        return lambda value, other: is_number(value) and is_number(other) and compare(value, other)
    if family == "Timestamp":
        def timestamps(value, other):
            value_key = timestamp_key(value)
            if value_key is None:
                return False
            other_key = timestamp_key(other)
            return other_key is not None and compare(value_key, other_key)
        return timestamps
    return None


# --- helpers ----------------------------------------------------------------------


def _split_operator(name: str):
    """``NumericLessThan`` -> ("Numeric", operator.lt); ValueError if not such a name."""
    for family in ("String", "Numeric", "Timestamp"):
        if name.startswith(family) and name[len(family):] in _ORDERINGS:
            return family, _ORDERINGS[name[len(family):]]
    raise ValueError(f"Unknown Choice comparison operator '{name}'")


def _compile_rule_path(text, field: str):
    if not isinstance(text, str):
        raise ValueError(f"'{field}' must be a path string, not {_json_type(text)}")
    try:
        return compile_path(text)
    except PathSyntaxError as exc:
        raise ValueError(f"'{field}': {exc}") from None


def _require_bool(name: str, operand) -> None:
    if type(operand) is not bool:
        raise ValueError(f"'{name}' takes true or false, not {_json_type(operand)}")


def _utf16(text: str) -> bytes:
    """Sort key ordering strings as Java does: by UTF-16 code units, not code points.

    Big-endian code units compare bytewise in code-unit order; ``surrogatepass`` keeps
    lone surrogates (legal in JSON text) as the single code unit Java would see.
    """
    return text.encode("utf-16-be", "surrogatepass")


def _wildcard_regex(pattern: str) -> re.Pattern:
    """StringMatches pattern -> regex: ``*`` is any run of characters, ``\\`` escapes.

    Per the ASL spec ``\\*`` is a literal star and ``\\\\`` a literal backslash; a
    backslash always escapes the next character, so one at the very end is an error.
    """
    parts = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if not parts or parts[-1] != ".*":  # "**" is "*"; fewer stars, less backtracking
                parts.append(".*")
        elif char == "\\":
            i += 1
            if i == len(pattern):
                raise ValueError(f"'StringMatches' pattern {pattern!r} ends with a dangling escape '\\'")
            parts.append(re.escape(pattern[i]))
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
