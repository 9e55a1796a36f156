"""The semantic pass of the validator: the rules of AWS's validator a JSON Schema can't say.

* the graph of every scope (the machine, each Parallel branch, each Map item processor):
  transition targets, reachability, a terminal state, names unique machine-wide;
* Retry and Catch: ``States.ALL`` alone and last, known ``States.*`` names, rules that can
  never match because an earlier rule catches everything they list (a warning);
* JSONPath syntax of every path field, and the ``.$`` fields of payload templates;
  intrinsic calls AWS accepts but that fail when they run (a wrong argument count, a
  certainly-wrong literal) are asl's own INTRINSIC_ARGUMENTS warning, not an error;
* which fields each query language allows, and JSONata ``{% ... %}`` syntax (a string
  not flush with its delimiters is a literal, not checked); an expression reading the
  top-level context (``{% phone %}``, ``{% $.x %}``, ``$$``) is AWS's
  UNSUPPORTED_JSONATA_EXPRESSION;
* ``Assign`` variable names, static timestamps, HeartbeatSeconds < TimeoutSeconds;
* a Task's ``Resource`` is an ARN (``arn:<partition>:<service>:<region>:<account>:...``),
  as AWS requires: a bare word such as ``"charge"`` is refused;
* AWS's three warnings (NO_DOLLAR, NO_PATH, PASS_RESULT_IS_STATIC).

It never raises on a JSON value of the wrong type: whatever it cannot understand it
skips, because the schema pass reports it. Every walk is iterative, so a definition
nested hundreds of levels deep is no problem, and every check is linear in the size of
the definition (a 20,000-state machine takes tens of milliseconds).
"""

from __future__ import annotations

import re
from collections import deque

from asl import errors
from asl.definition.reader import PLACEHOLDER
from asl.language import JSONATA, JSONPATH, is_jsonata_expression, is_number
from asl.language.intrinsics import STRING_RETURNING, intrinsic_problems, is_intrinsic_call
from asl.language.jsonpath import PathSyntaxError, compile_path, compile_reference_path, is_variable_name
from asl.language.timestamps import is_timestamp
from asl.validation.diagnostics import (
    DUPLICATE_STATE_NAME,
    ERROR,
    INTRINSIC_ARGUMENTS,
    INVALID_JSONATA_EXPRESSION,
    MISSING_END_STATE,
    MISSING_TRANSITION_TARGET,
    NO_DOLLAR,
    NO_PATH,
    PASS_RESULT_IS_STATIC,
    SCHEMA_VALIDATION_FAILED,
    UNSUPPORTED_JSONATA_EXPRESSION,
    WARNING,
    Diagnostic,
    pointer,
)

#: Our own warning code (AWS has none for this): a Retrier or Catcher placed after rules
#: that already match every error it lists, so it can never be chosen.
SHADOWED_RULE = "SHADOWED_RULE"


MAX_NAME_LENGTH = 80

_COMPARISONS = tuple(
    f"{kind}{op}"
    for kind in ("String", "Numeric", "Timestamp")
    for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
) + ("BooleanEquals",)
_PATH_OPERATORS = frozenset(op + "Path" for op in _COMPARISONS)
_TIMESTAMP_OPERATORS = frozenset(op for op in _COMPARISONS if op.startswith("Timestamp"))
_STRING_OPERATORS = frozenset(op for op in _COMPARISONS if op.startswith("String")) | {"StringMatches"}
_TYPE_TESTS = ("StringMatches", "IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean",
               "IsTimestamp")

# Fields only one query language has (spec, "Fields forbidden in JSONata states").
_STATE_JSONPATH_ONLY = frozenset({
    "InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath", "Result",
    "ItemsPath", "MaxConcurrencyPath", "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath", "TimeoutSecondsPath", "HeartbeatSecondsPath",
    "SecondsPath", "TimestampPath", "ErrorPath", "CausePath",
})
_STATE_JSONATA_ONLY = frozenset({"Arguments", "Output", "Items"})
_RULE_JSONPATH_ONLY = frozenset({"Variable", "And", "Or", "Not", *_COMPARISONS, *_PATH_OPERATORS,
                                 *_TYPE_TESTS})
_RULE_JSONATA_ONLY = frozenset({"Condition", "Output"})
_CATCHER_JSONPATH_ONLY = frozenset({"ResultPath"})
_CATCHER_JSONATA_ONLY = frozenset({"Output"})
_IO_JSONPATH_ONLY = frozenset({"Parameters", "MaxItemsPath", "MaxItemsPerBatchPath",
                               "MaxInputBytesPerBatchPath"})
_IO_JSONATA_ONLY = frozenset({"Arguments"})

# JSONPath fields holding any Path.
_ANY_PATH_FIELDS = frozenset({"InputPath", "OutputPath"})
# JSONPath fields holding a Reference Path to a value the state reads.
_REFERENCE_PATH_FIELDS = frozenset({
    "ItemsPath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "SecondsPath", "TimestampPath",
    "MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath",
})
# JSONPath payload templates of a state: keys ending in '.$' are evaluated.
_STATE_TEMPLATES = frozenset({"Parameters", "ResultSelector", "ItemSelector", "Credentials"})
_DISTRIBUTED_FIELDS = ("ItemReader", "ItemBatcher", "ResultWriter")
_FAIL_FIELDS = frozenset({"Error", "Cause", "ErrorPath", "CausePath"})
_WITH_RESULT_STATES = frozenset({"Task", "Parallel", "Map"})
# JSONata: the state fields whose strings may be {% expressions %}.
_STATE_EXPRESSION_FIELDS = (
    "Arguments", "Items", "ItemSelector", "MaxConcurrency", "ToleratedFailureCount",
    "ToleratedFailurePercentage", "TimeoutSeconds", "HeartbeatSeconds", "Seconds", "Timestamp",
    "Error", "Cause", "ItemReader", "ItemBatcher", "ResultWriter", "Credentials",
)

_STATES_FIELD_RE = re.compile(r"\$states\s*\.\s*([A-Za-z_]\w*)")
_STATES_FIELDS = frozenset({"input", "context", "result", "errorOutput"})
_INPUT_ONLY = frozenset({"input", "context"})
_WITH_RESULT = frozenset({"input", "context", "result"})
_WITH_ERROR_OUTPUT = frozenset({"input", "context", "errorOutput"})

#: What a Task's Resource must look like: an ARN, ``arn:<partition>:<service>:<region>:
#: <account>:<resource>`` (region and account may be empty, as in ``arn:aws:states:::...``),
#: in an AWS partition (``aws``, ``aws-cn``, ``aws-us-gov``, ``aws-iso-b``...).
TASK_RESOURCE_ARN = re.compile(r"arn:aws(?:-[a-z0-9]+)*:[a-z0-9][a-z0-9-]*:[^:\s]*:[^:\s]*:\S+")
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

_SCOPE_NOUN = {"machine": "machine", "branch": "branch", "processor": "item processor"}
_NO_TERMINAL = {
    "machine": "Workflow has no terminal state",
    "branch": "Branch has no terminal state",
    "processor": "Item processor has no terminal state",
}


def semantic_diagnostics(definition) -> list[Diagnostic]:
    """Every semantic problem of ``definition`` (any JSON value), never raising."""
    if not isinstance(definition, dict):
        return []
    check = _Checker(definition)
    check.run()
    return check.found + _outer_names_assigned_inside(definition)


def _assignments(state: dict, at: str):
    """(variable name, pointer) of every Assign of a state that writes into its scope: its
    own, its catchers' and (Choice) its rules'."""
    places = [(state.get("Assign"), at + "/Assign")]
    for field in ("Catch", "Choices"):
        rules = state.get(field)
        if isinstance(rules, list):
            places += [(r.get("Assign"), f"{at}/{field}/{i}/Assign")
                       for i, r in enumerate(rules) if isinstance(r, dict)]
    for assign, where in places:
        if isinstance(assign, dict):
            for key in assign:
                if isinstance(key, str):
                    yield (key[:-2] if key.endswith(".$") else key), where + pointer(key)


def _outer_names_assigned_inside(definition: dict) -> list[Diagnostic]:
    """A Parallel branch or Map iteration may read the variables of the scopes around it,
    but may not assign a name one of them assigns (AWS: names are unique across nested
    scopes)."""
    found = []

    def walk(scope, at: str, outer: frozenset, depth: int) -> None:
        states = scope.get("States") if isinstance(scope, dict) else None
        if not isinstance(states, dict) or depth > 200:
            return
        here = []
        for name, state in states.items():
            if isinstance(state, dict):
                here += list(_assignments(state, f"{at}/States{pointer(name)}"))
        for name, where in here:
            if name in outer:
                found.append(Diagnostic(where, SCHEMA_VALIDATION_FAILED,
                                        f"Variable '{name}' is assigned in an enclosing scope: a "
                                        "Parallel branch or Map iteration may read it but not "
                                        "assign it"))
        inner = outer | {name for name, _ in here}
        for name, state in states.items():
            if not isinstance(state, dict):
                continue
            base = f"{at}/States{pointer(name)}"
            branches = state.get("Branches")
            if isinstance(branches, list):
                for i, branch in enumerate(branches):
                    walk(branch, f"{base}/Branches/{i}", inner, depth + 1)
            for field in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(field), dict):
                    walk(state[field], f"{base}/{field}", inner, depth + 1)

    walk(definition, "", frozenset(), 0)
    return found


def _materialize(loc) -> str:
    """A JSON pointer from a location: a pointer string, or a (parent, key) chain of them."""
    keys = []
    while isinstance(loc, tuple):
        loc, key = loc
        keys.append(key)
    return loc + pointer(*reversed(keys)) if keys else loc


def _looks_like_path(value: str) -> bool:
    """What AWS's NO_DOLLAR / NO_PATH warnings call "looks like a JSONPath"."""
    return value.startswith(("$.", "$[", "$$"))


class _Checker:
    """One run of the semantic pass over one definition."""

    def __init__(self, definition: dict) -> None:
        self.definition = definition
        self.found: list[Diagnostic] = []
        language = definition.get("QueryLanguage")
        self.top_language = JSONATA if language == JSONATA else JSONPATH
        self._path_errors: dict[tuple[str, bool], str | None] = {}
        self._jsonata_errors: dict[str, str | None] = {}
        self._top_level: dict[str, list[str]] = {}

    # -- reporting -----------------------------------------------------------------------

    def report(self, loc, code: str, message: str, severity: str = ERROR) -> None:
        self.found.append(Diagnostic(_materialize(loc), code, message, severity))

    # -- scopes and graph ----------------------------------------------------------------

    def run(self) -> None:
        self.check_names()
        scopes = deque([(self.definition, "", "machine")])
        while scopes:
            body, base, kind = scopes.popleft()
            scopes.extend(self.check_scope(body, base, kind))

    def check_names(self) -> None:
        """State names are unique across the whole machine (their length is a schema rule).

        Names are visited in document order (a state, then the states nested in it), so
        the second occurrence in the text is the one reported.
        """
        first_seen: dict[str, str] = {}
        for name, at in _states_in_document_order(self.definition):
            first = first_seen.get(name)
            if first is None:
                first_seen[name] = at
            else:
                self.report(at, DUPLICATE_STATE_NAME,
                            f"State name '{name}' is already used at {first}: state names must be "
                            "unique across the whole state machine, branches and item processors "
                            "included")

    def check_scope(self, body: dict, base: str, kind: str) -> list:
        """Check one ``{StartAt, States}`` object; return the scopes nested in it."""
        states = body.get("States")
        if not isinstance(states, dict):
            return []
        noun = _SCOPE_NOUN[kind]
        start = body.get("StartAt")
        if isinstance(start, str) and start not in states:
            self.report(base + "/StartAt", MISSING_TRANSITION_TARGET,
                        f"'StartAt' names '{start}', which is not a state of this {noun}")
        nested: list = []
        edges: dict[str, list[str]] = {}
        has_terminal = False
        for name, state in states.items():
            if not isinstance(name, str):
                continue
            at = base + "/States/" + name.replace("~", "~0").replace("/", "~1")
            if not isinstance(state, dict):
                continue
            kind_of_state = state.get("Type")
            if not isinstance(kind_of_state, str):
                kind_of_state = None  # the schema pass reports it
            if kind_of_state in ("Succeed", "Fail") or state.get("End") is True:
                has_terminal = True
            edges[name] = self.check_transitions(state, at, states, noun)
            self.check_state(state, at, kind_of_state, nested)
        if states and not has_terminal:
            # AWS reports only this for such a scope: unreachable states are not listed.
            self.report(base, MISSING_END_STATE, _NO_TERMINAL[kind])
        elif isinstance(start, str):
            # Also when StartAt names no state: AWS then lists every state as unreachable.
            for name in _unreachable(start, states, edges):
                self.report(base + "/States/" + name.replace("~", "~0").replace("/", "~1"),
                            MISSING_TRANSITION_TARGET, f'State "{name}" is not reachable.')
        return nested

    def check_transitions(self, state: dict, at: str, states: dict, noun: str) -> list[str]:
        """Every Next, Default and Catch Next names a state of the same scope."""
        targets = []

        def target(value, loc, field):
            if not isinstance(value, str):
                return
            if value in states:
                targets.append(value)
            else:
                self.report(loc, MISSING_TRANSITION_TARGET,
                            f"'{field}' names '{value}', which is not a state of this {noun}")

        target(state.get("Next"), at + "/Next", "Next")
        if state.get("Type") == "Choice":
            target(state.get("Default"), at + "/Default", "Default")
            rules = state.get("Choices")
            if isinstance(rules, list):
                for i, rule in enumerate(rules):
                    if isinstance(rule, dict):
                        target(rule.get("Next"), f"{at}/Choices/{i}/Next", "Next")
        catchers = state.get("Catch")
        if isinstance(catchers, list):
            for i, catcher in enumerate(catchers):
                if isinstance(catcher, dict):
                    target(catcher.get("Next"), f"{at}/Catch/{i}/Next", "Next")
        return targets

    # -- one state -----------------------------------------------------------------------

    def check_state(self, state: dict, at: str, kind, nested: list) -> None:
        language = self.check_language(state, at)
        self.forbid(state, at, _STATE_JSONPATH_ONLY if language == JSONATA else _STATE_JSONATA_ONLY,
                    language)
        if language == JSONPATH:
            self.check_jsonpath_state(state, at, kind)
        else:
            self.check_jsonata_state(state, at, kind)
        if "Assign" in state:
            self.check_assign(state["Assign"], at + "/Assign", language,
                              _WITH_RESULT if kind in _WITH_RESULT_STATES else _INPUT_ONLY)
        if "Retry" in state:
            self.check_error_rules(state["Retry"], at + "/Retry", "Retry")
        if "Catch" in state:
            self.check_error_rules(state["Catch"], at + "/Catch", "Catch")
            self.check_catchers(state["Catch"], at + "/Catch", language)
        if kind == "Task":
            self.check_timeouts(state, at)
            self.check_task_resource(state.get("Resource"), at + "/Resource")
        elif kind == "Choice":
            self.check_choice_rules(state.get("Choices"), at + "/Choices", language)
        elif kind == "Wait":
            timestamp = state.get("Timestamp")
            if isinstance(timestamp, str) and not is_jsonata_expression(timestamp):
                self.check_timestamp(timestamp, at + "/Timestamp")
        elif kind == "Parallel":
            if isinstance(state.get("Branches"), list):
                for i, branch in enumerate(state["Branches"]):
                    if isinstance(branch, dict):
                        nested.append((branch, f"{at}/Branches/{i}", "branch"))
        elif kind == "Map":
            self.check_distributed_language(state, at, language)
            for field in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(field), dict):
                    nested.append((state[field], f"{at}/{field}", "processor"))

    def check_language(self, state: dict, at: str) -> str:
        """The state's effective query language: its own, else the machine's (spec)."""
        language = state.get("QueryLanguage")
        if language == JSONPATH and self.top_language == JSONATA:
            self.report(at, SCHEMA_VALIDATION_FAILED,
                        "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole "
                        "state machine")
            return JSONATA
        if language in (JSONPATH, JSONATA):
            return language
        return self.top_language

    def check_distributed_language(self, state: dict, at: str, language: str) -> None:
        """ItemReader / ItemBatcher / ResultWriter have language-specific fields too."""
        forbidden = _IO_JSONPATH_ONLY if language == JSONATA else _IO_JSONATA_ONLY
        for field in _DISTRIBUTED_FIELDS:
            part = state.get(field)
            if isinstance(part, dict):
                self.forbid(part, at + "/" + field, forbidden, language)
                if isinstance(part.get("ReaderConfig"), dict):
                    self.forbid(part["ReaderConfig"], f"{at}/{field}/ReaderConfig", forbidden, language)

    def forbid(self, holder: dict, at: str, fields: frozenset, language: str) -> None:
        """JSONPath-only fields in a JSONata object, and the reverse, are errors."""
        other = JSONATA if language == JSONPATH else JSONPATH
        for field in holder:
            if field in fields:
                # AWS reports this at the object holding the field, not at the field.
                self.report(at, SCHEMA_VALIDATION_FAILED,
                            f"The QueryLanguage is set to '{language}', but field '{field}' is "
                            f"only supported for the '{other}' QueryLanguage")

    # -- JSONPath states -----------------------------------------------------------------

    def check_jsonpath_state(self, state: dict, at: str, kind) -> None:
        for field, value in state.items():
            if field in _ANY_PATH_FIELDS:
                if isinstance(value, str):
                    self.check_path(value, at + "/" + field, field, reference=False)
            elif field == "ResultPath":
                self.check_result_path(value, at + "/ResultPath")
            elif field in _REFERENCE_PATH_FIELDS:
                if isinstance(value, str):
                    self.check_path(value, at + "/" + field, field, reference=True)
            elif field in _STATE_TEMPLATES:
                self.check_template(value, at + "/" + field)
            elif field in _DISTRIBUTED_FIELDS:
                if isinstance(value, dict):
                    self.check_distributed_jsonpath(field, value, at + "/" + field)
            elif kind == "Pass" and field == "Result":
                self.check_static_result(value, at + "/Result")
            elif kind == "Fail" and field in _FAIL_FIELDS:
                self.check_fail_field(field, value, at + "/" + field)

    def check_distributed_jsonpath(self, field: str, part: dict, at: str) -> None:
        """ItemReader / ItemBatcher / ResultWriter of a JSONPath Map."""
        if field in ("ItemReader", "ResultWriter") and "Parameters" in part:
            self.check_template(part["Parameters"], at + "/Parameters")
        if field == "ItemReader":
            config = part.get("ReaderConfig")
            if isinstance(config, dict) and isinstance(config.get("MaxItemsPath"), str):
                self.check_path(config["MaxItemsPath"], at + "/ReaderConfig/MaxItemsPath",
                                "MaxItemsPath", reference=True)
        if field == "ItemBatcher":
            for name in ("MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"):
                if isinstance(part.get(name), str):
                    self.check_path(part[name], f"{at}/{name}", name, reference=True)
            if "BatchInput" in part:
                self.check_template(part["BatchInput"], at + "/BatchInput")

    def path_error(self, text: str, reference: bool) -> str | None:
        """Why ``text`` is not a valid (Reference) Path, or None. Cached per run."""
        key = (text, reference)
        if key in self._path_errors:
            return self._path_errors[key]
        try:
            (compile_reference_path if reference else compile_path)(text)
            problem = None
        except PathSyntaxError as exc:
            problem = _reason(str(exc), text)
        except (RecursionError, Exception) as exc:  # noqa: BLE001 - a parser bug is still "invalid"
            problem = f"'{text}' could not be parsed: {exc}"
        self._path_errors[key] = problem
        return problem

    def check_path(self, text: str, loc, field: str, reference: bool) -> bool:
        problem = self.path_error(text, reference)
        if problem is None:
            return True
        kind = "Reference Path" if reference else "JSONPath"
        self.report(loc, SCHEMA_VALIDATION_FAILED,
                    f"The value for the field '{field}' must be a valid {kind}: {problem}")
        return False

    def check_result_path(self, value, loc) -> None:
        """ResultPath: a Reference Path into the input, never the Context or a variable."""
        if not isinstance(value, str):
            return
        if value.startswith("$$"):
            self.report(loc, SCHEMA_VALIDATION_FAILED,
                        "'ResultPath' can not start with '$$': the result cannot be written into "
                        "the Context object")
        elif self.check_path(value, loc, "ResultPath", reference=True):
            if value[1:2] not in ("", ".", "["):
                self.report(loc, SCHEMA_VALIDATION_FAILED,
                            f"'ResultPath' can not name a variable ('{value}'): use 'Assign' to "
                            "set variables")

    def check_template(self, template, loc) -> None:
        """A JSONPath payload template: each 'key.$' holds a path or an intrinsic call."""
        stack = [(template, loc)]
        while stack:
            node, at = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    key_at = (at, key)
                    if isinstance(key, str) and key.endswith(".$"):
                        if key[:-2] in node:
                            self.report(key_at, SCHEMA_VALIDATION_FAILED,
                                        f"The field '{key[:-2]}' is given twice, as '{key[:-2]}' "
                                        f"and as '{key}'")
                        self.check_dynamic_value(value, key_at, key)
                    elif isinstance(value, str):
                        if self.looks_dynamic(value):
                            self.report(key_at, NO_DOLLAR,
                                        f"The value of '{key}' looks like a JSONPath or an "
                                        "intrinsic function, but the field name does not end "
                                        f"in '.$', so it is used as a literal string (write "
                                        f"'{key}.$' to evaluate it)", WARNING)
                    elif isinstance(value, (dict, list)):
                        stack.append((value, key_at))
            elif isinstance(node, list):
                for i, value in enumerate(node):
                    if isinstance(value, (dict, list)):
                        stack.append((value, (at, i)))

    def check_dynamic_value(self, value, loc, key: str) -> None:
        """The value of a 'key.$' field: a path, a context path or an intrinsic call."""
        detail = None
        if isinstance(value, str):
            if value.startswith("$"):
                detail = self.path_error(value, reference=False)
                if detail is None:
                    return
            else:
                is_call, check, _ = self.intrinsics()
                if is_call(value):
                    detail, problems = check(value)
                    if detail is None:
                        self.report_intrinsic_arguments(loc, key, problems)
                        return
        message = (f"The value for the field '{key}' must be a valid JSONPath or a valid "
                   "intrinsic function call")
        self.report(loc, SCHEMA_VALIDATION_FAILED, f"{message}: {detail}" if detail else message)

    def report_intrinsic_arguments(self, loc, field: str, problems: list[str]) -> None:
        """INTRINSIC_ARGUMENTS warnings: AWS accepts these calls, and fails when they run."""
        for problem in problems:
            self.report(loc, INTRINSIC_ARGUMENTS,
                        f"The intrinsic function call in '{field}' will fail with States.Runtime "
                        f"when the state runs: {problem}", WARNING)

    def looks_dynamic(self, value: str) -> bool:
        if _looks_like_path(value):
            return True
        if value.startswith("States.") and value.rstrip().endswith(")"):
            is_call, _, _ = self.intrinsics()
            return is_call(value)
        return False

    def check_fail_field(self, field: str, value, loc: str) -> None:
        """Fail ErrorPath/CausePath are paths or intrinsics; Error/Cause that look like paths warn."""
        if not isinstance(value, str):
            return
        if field.endswith("Path"):
            self.check_fail_path(value, loc, field)
        elif _looks_like_path(value):
            self.report(loc, NO_PATH,
                        f"The value of '{field}' looks like a path, but the field name does not "
                        f"end with 'Path': it is used as a literal string (use '{field}Path' to "
                        "read it from the input)", WARNING)

    def check_fail_path(self, value: str, loc, field: str) -> None:
        is_call, check, string_returning = self.intrinsics()
        if not value.startswith("$") and is_call(value):
            problem, problems = check(value)
            name = value.split("(", 1)[0].strip()
            if problem is None:
                self.report_intrinsic_arguments(loc, field, problems)
            if problem is not None:
                self.report(loc, SCHEMA_VALIDATION_FAILED,
                            f"The value for the field '{field}' must be a valid Reference Path or "
                            f"a valid intrinsic function call: {problem}")
            elif name not in string_returning:
                allowed = ", ".join(sorted(string_returning))
                self.report(loc, SCHEMA_VALIDATION_FAILED,
                            f"'{field}' can only use an intrinsic function that returns a string "
                            f"({allowed}); '{name}' does not")
            return
        self.check_path(value, loc, field, reference=True)

    def check_static_result(self, result, loc) -> None:
        """PASS_RESULT_IS_STATIC: a Pass Result is never evaluated, so paths in it stay text."""
        stack = [(result, loc)]
        while stack:
            node, at = stack.pop()
            if isinstance(node, str):
                if _looks_like_path(node):
                    self.report(at, PASS_RESULT_IS_STATIC,
                                "The Result of a Pass state is static: this value looks like a "
                                "path but is used as a literal string (use 'Parameters' to "
                                "select data from the input)", WARNING)
            elif isinstance(node, dict):
                for key, value in node.items():
                    if isinstance(key, str) and key.endswith(".$"):
                        self.report((at, key), PASS_RESULT_IS_STATIC,
                                    f"The Result of a Pass state is static: '{key}' is not "
                                    "evaluated (use 'Parameters' to select data from the "
                                    "input)", WARNING)
                    elif isinstance(value, (dict, list, str)):
                        stack.append((value, (at, key)))
            elif isinstance(node, list):
                for i, value in enumerate(node):
                    if isinstance(value, (dict, list, str)):
                        stack.append((value, (at, i)))

    # -- JSONata states ------------------------------------------------------------------

    def check_jsonata_state(self, state: dict, at: str, kind) -> None:
        for field in _STATE_EXPRESSION_FIELDS:
            if field in state:
                value = state[field]
                if field == "ItemReader":
                    value = _without_csv_headers(value)
                self.check_expressions(value, at + "/" + field, _INPUT_ONLY)
        if "Output" in state:
            allowed = _WITH_RESULT if kind in ("Task", "Parallel", "Map") else _INPUT_ONLY
            self.check_expressions(state["Output"], at + "/Output", allowed)

    def check_expressions(self, value, loc, allowed: frozenset) -> None:
        """Every ``{% ... %}`` string in ``value`` parses and reads only available $states."""
        stack = [(value, loc)]
        while stack:
            node, at = stack.pop()
            if isinstance(node, str):
                self.check_expression(node, at, allowed)
            elif isinstance(node, dict):
                for key, child in node.items():
                    if isinstance(child, (str, dict, list)):
                        stack.append((child, (at, key)))
            elif isinstance(node, list):
                for i, child in enumerate(node):
                    if isinstance(child, (str, dict, list)):
                        stack.append((child, (at, i)))

    def check_expression(self, text: str, loc, allowed: frozenset) -> None:
        if not is_jsonata_expression(text):
            # Not flush at both ends (" {% x %}", "a {% 1 %}"): a literal string, which AWS
            # neither refuses nor evaluates [recorded].
            return
        expression = text[2:-2]
        problem = self.jsonata_error(expression)
        if problem is not None:
            from asl.language.jsonata import abbreviated

            self.report(loc, INVALID_JSONATA_EXPRESSION,
                        f"The JSONata expression '{abbreviated(expression.strip())}' is not "
                        f"valid: {problem}")
            return
        for name in self.top_level_references(expression):
            # AWS's wording first (as a peer measured it on AWS), then how to write it.
            if name == "$$":
                message = ("Reference to '$$' is not supported. Read the Context object as "
                           "'$states.context'")
            elif name == "$":
                message = ("Reference to '$' at the top level is not supported. Read the state "
                           "input as '$states.input'")
            else:
                message = (f"Reference to '{name}' at the top level is not supported. Read the "
                           f"state input as '$states.input.{name}', a variable as '${name}'")
            self.report(loc, UNSUPPORTED_JSONATA_EXPRESSION, message)
        if "$states" not in expression:
            return
        for name in _STATES_FIELD_RE.findall(expression):
            if name in allowed:
                continue
            code = INVALID_JSONATA_EXPRESSION
            if name == "result":
                message = ("'$states.result' is only available in the Output and Assign of a "
                           "Task, Parallel or Map state")
            elif name == "errorOutput":
                # AWS files this one with the top-level references [peer's AWS-validated tests].
                code = UNSUPPORTED_JSONATA_EXPRESSION
                message = "'$states.errorOutput' is only available in the Output and Assign of a Catcher"
            elif name in _STATES_FIELDS:
                continue
            else:
                message = (f"'$states.{name}' does not exist: $states has input, context, result "
                           "and errorOutput")
            self.report(loc, code, message)

    def top_level_references(self, expression: str) -> list[str]:
        """What a parsed expression reads from the top-level context. Cached per run
        (filled by :meth:`jsonata_error`, which parses each expression once)."""
        found = self._top_level.get(expression)
        if found is None:
            try:
                found = _top_level_references(expression)
            except RecursionError:
                found = []
            self._top_level[expression] = found
        return found

    def jsonata_error(self, expression: str) -> str | None:
        """Why the JSONata expression does not parse, or None. Cached per run."""
        if expression in self._jsonata_errors:
            return self._jsonata_errors[expression]
        # Imported here: only definitions using JSONata pay for the library.
        from asl.language.jsonata import parse_expression

        ast, problem = parse_expression(expression)
        if ast is not None:
            # The tree is at hand: read its top-level references now rather than parse
            # the expression a second time for them (a large one takes seconds).
            self._top_level[expression] = _top_level_references(expression, ast)
        self._jsonata_errors[expression] = problem
        return problem

    # -- Assign --------------------------------------------------------------------------

    def check_assign(self, assign, loc, language: str, allowed: frozenset) -> None:
        """Assign keys are variable names (not 'states'); values are templates/expressions."""
        if not isinstance(assign, dict):
            return
        for key in assign:
            if not isinstance(key, str):
                continue
            name = key[:-2] if language == JSONPATH and key.endswith(".$") else key
            if name == "states":
                self.report((loc, key), SCHEMA_VALIDATION_FAILED,
                            "'states' is a reserved name and can not be assigned")
            elif not is_variable_name(name):
                self.report((loc, key), SCHEMA_VALIDATION_FAILED,
                            f"'{name}' is not a valid variable name: it must start with a letter "
                            "or '_' and contain only letters, digits and '_'")
            elif len(name) > MAX_NAME_LENGTH:
                self.report((loc, key), SCHEMA_VALIDATION_FAILED,
                            f"Variable name '{name[:30]}…' is {len(name)} characters long; the "
                            f"limit is {MAX_NAME_LENGTH}")
        if language == JSONPATH:
            self.check_template(assign, loc)
        else:
            self.check_expressions(assign, loc, allowed)

    # -- Retry and Catch -----------------------------------------------------------------

    def check_error_rules(self, rules, loc: str, field: str) -> None:
        """States.ALL alone and last; known States.* names; no rule hidden by earlier ones."""
        if not isinstance(rules, list):
            return
        noun = "retrier" if field == "Retry" else "catcher"
        earlier: list[str] = []
        earlier_at: list[str] = []
        last = len(rules) - 1
        for i, rule in enumerate(rules):
            if not isinstance(rule, dict) or not isinstance(rule.get("ErrorEquals"), list):
                continue
            names = [n for n in rule["ErrorEquals"] if isinstance(n, str)]
            at = f"{loc}/{i}/ErrorEquals"
            if errors.ALL in names:
                if len(rule["ErrorEquals"]) > 1:
                    self.report(at, SCHEMA_VALIDATION_FAILED,
                                "'States.ALL' must appear alone in 'ErrorEquals'")
                if i != last:
                    self.report(at, SCHEMA_VALIDATION_FAILED,
                                f"'States.ALL' can only appear in the last {noun}")
            for j, name in enumerate(rule["ErrorEquals"]):
                if (isinstance(name, str) and name.startswith("States.")
                        and name not in errors.KNOWN_STATES_ERRORS):
                    self.report(f"{at}/{j}", SCHEMA_VALIDATION_FAILED,
                                f"'{name}' is not a predefined error name: names starting with "
                                "'States.' are reserved")
            if names and earlier and all(_covered(name, earlier) for name in names):
                shadowing = sorted({earlier_at[k] for k, e in enumerate(earlier)
                                    if _covers(e, names)})
                self.report(f"{loc}/{i}", SHADOWED_RULE,
                            f"This {noun} can never be used: every error it lists is already "
                            f"matched by an earlier {noun} ({', '.join(shadowing)})", WARNING)
            earlier.extend(names)
            earlier_at.extend([f"{loc}/{i}"] * len(names))

    def check_catchers(self, catchers, loc: str, language: str) -> None:
        if not isinstance(catchers, list):
            return
        for i, catcher in enumerate(catchers):
            if not isinstance(catcher, dict):
                continue
            at = f"{loc}/{i}"
            if language == JSONATA:
                self.forbid(catcher, at, _CATCHER_JSONPATH_ONLY, language)
                if "Output" in catcher:
                    self.check_expressions(catcher["Output"], at + "/Output", _WITH_ERROR_OUTPUT)
            else:
                self.forbid(catcher, at, _CATCHER_JSONATA_ONLY, language)
                self.check_result_path(catcher.get("ResultPath"), at + "/ResultPath")
            self.check_assign(catcher.get("Assign"), at + "/Assign", language, _WITH_ERROR_OUTPUT)

    # -- Choice --------------------------------------------------------------------------

    def check_choice_rules(self, rules, loc: str, language: str) -> None:
        """Choice rules, nested ones included: paths, operands, language-specific fields."""
        if not isinstance(rules, list):
            return
        stack = [(rule, f"{loc}/{i}", True) for i, rule in enumerate(rules)]
        while stack:
            rule, at, top = stack.pop()
            if not isinstance(rule, dict):
                continue
            if language == JSONATA:
                self.forbid(rule, at, _RULE_JSONPATH_ONLY, language)
                if "Condition" in rule:
                    self.check_expressions(rule["Condition"], at + "/Condition", _INPUT_ONLY)
                if "Output" in rule:
                    self.check_expressions(rule["Output"], at + "/Output", _INPUT_ONLY)
            else:
                self.forbid(rule, at, _RULE_JSONATA_ONLY, language)
                self.check_data_test(rule, at)
                for field in ("And", "Or"):
                    if isinstance(rule.get(field), list):
                        stack.extend((r, f"{at}/{field}/{j}", False) for j, r in enumerate(rule[field]))
                if "Not" in rule:
                    stack.append((rule["Not"], at + "/Not", False))
            if top:
                self.check_assign(rule.get("Assign"), at + "/Assign", language, _INPUT_ONLY)

    def check_data_test(self, rule: dict, at: str) -> None:
        variable = rule.get("Variable")
        if isinstance(variable, str):
            self.check_path(variable, at + "/Variable", "Variable", reference=True)
        for field, value in rule.items():
            if not isinstance(value, str):
                continue
            if field in _PATH_OPERATORS:
                self.check_path(value, f"{at}/{field}", field, reference=True)
            elif field in _TIMESTAMP_OPERATORS:
                self.check_timestamp(value, f"{at}/{field}")
            elif field in _STRING_OPERATORS and _looks_like_path(value):
                self.report(f"{at}/{field}", NO_PATH,
                            f"The value of '{field}' looks like a path, but the field name does "
                            "not end with 'Path': it is compared as a literal string"
                            + (f" (use '{field}Path' to compare with the value at that path)"
                               if field != "StringMatches" else ""), WARNING)

    # -- values --------------------------------------------------------------------------

    def check_timeouts(self, state: dict, at: str) -> None:
        """HeartbeatSeconds must be smaller than TimeoutSeconds (when both are numbers)."""
        heartbeat, timeout = state.get("HeartbeatSeconds"), state.get("TimeoutSeconds")
        if is_number(heartbeat) and is_number(timeout) and heartbeat >= timeout:
            self.report(at + "/HeartbeatSeconds", SCHEMA_VALIDATION_FAILED,
                        f"'HeartbeatSeconds' ({heartbeat}) must be smaller than 'TimeoutSeconds' "
                        f"({timeout})")

    def check_task_resource(self, resource, loc: str) -> None:
        """A Task's Resource is an ARN; AWS refuses anything else at CreateStateMachine
        (``SCHEMA_VALIDATION_FAILED: Value is not a valid resource ARN``). A string holding
        an unfilled ``${Name}`` placeholder is left alone, like every other one."""
        if not isinstance(resource, str) or TASK_RESOURCE_ARN.fullmatch(resource) or \
                PLACEHOLDER.search(resource):
            return  # the schema pass reports a Resource that is not a string
        shown = resource if len(resource) <= 80 else resource[:77] + "..."
        if _FUNCTION_NAME.fullmatch(resource):
            hint = (f": for a Lambda function, 'arn:aws:lambda:us-east-1:123456789012:function:"
                    f"{resource}' (a resources mapping may still key it by '{resource}')")
        else:
            hint = (", such as 'arn:aws:states:::lambda:invoke' or "
                    "'arn:aws:lambda:<region>:<account>:function:<name>'")
        self.report(loc, SCHEMA_VALIDATION_FAILED,
                    f"Value is not a valid resource ARN: '{shown}'. A Task's Resource is an "
                    f"ARN{hint}")

    def check_timestamp(self, text: str, loc) -> None:
        if not is_timestamp(text):
            self.report(loc, SCHEMA_VALIDATION_FAILED, "String does not match RFC3339 timestamp")

    def intrinsics(self):
        """(is_intrinsic_call, intrinsic_problems, STRING_RETURNING)."""
        return is_intrinsic_call, intrinsic_problems, STRING_RETURNING


def _without_csv_headers(reader):
    """A JSONata ItemReader without ReaderConfig.CSVHeaders: column names, never evaluated
    (AWS keeps a '{% ... %}' there as text)."""
    config = reader.get("ReaderConfig") if isinstance(reader, dict) else None
    if not isinstance(config, dict) or "CSVHeaders" not in config:
        return reader
    return {**reader, "ReaderConfig": {k: v for k, v in config.items() if k != "CSVHeaders"}}


def _top_level_references(expression: str, ast=None) -> list[str]:
    """The names a JSONata expression (that parses) reads from the top-level context, in
    the order written: ``phone`` for ``{% phone %}``, ``$`` for ``{% $.phone %}``, ``$$``.

    A Step Functions expression runs with no context item: the input is
    ``$states.input``, variables are ``$name``. AWS refuses a path that starts from the
    context item (UNSUPPORTED_JSONATA_EXPRESSION). Only a path's first step is read
    against it: later steps, predicates, sort terms and grouping run against what the
    step before produced. A lambda body keeps the context of the expression around it,
    and an object constructor's keys are expressions too (``{aaa: 1}`` reads ``aaa``).
    These rules follow measurements against AWS published by a peer emulator (Floci,
    ``JsonataTopLevelReferences``); AWS itself documents only the ``$states`` model.
    ``ast`` is the expression already parsed, if it is.
    """
    from asl.language.jsonata import _lib

    lib = _lib()
    Symbol = lib.Symbol
    names: list[str] = []
    pending = [lib.parse(expression) if ast is None else ast]
    while pending:
        node = pending.pop()
        if isinstance(node, (list, tuple)):
            pending.extend(reversed(node))
            continue
        if not isinstance(node, Symbol):
            continue
        kind = getattr(node, "type", None)
        children: list = []
        if kind == "path":
            steps = getattr(node, "steps", None) or ()
            children = [steps[0]] if steps else []
        elif kind == "name":
            names.append(str(node.value))
        elif kind == "variable":
            if node.value == "":
                names.append("$")
            elif node.value == "$":
                names.append("$$")
        elif kind == "unary":
            if node.value == "[":
                children = [getattr(node, "expressions", None)]
            elif node.value == "{":
                children = [getattr(node, "lhs_object", None)]
            else:
                children = [getattr(node, "expression", None)]
        elif kind in ("binary", "apply"):
            children = [node.lhs, node.rhs]
        elif kind in ("function", "partial"):
            children = [node.procedure, getattr(node, "arguments", None)]
        elif kind == "lambda":
            children = [getattr(node, "body", None)]
        elif kind == "condition":
            children = [node.condition, getattr(node, "then", None), getattr(node, "_else", None)]
        elif kind == "block":
            children = [getattr(node, "expressions", None)]
        elif kind == "bind":
            children = [node.rhs]
        # literals, strings, numbers, regexes, wildcards, descendants, transforms, parent
        # steps: nothing read from the top-level context.
        pending.extend(reversed([c for c in children if c is not None]))
    return list(dict.fromkeys(names))


def _states_in_document_order(definition: dict):
    """(name, pointer) of every state, each followed by the states nested in it."""
    pending = [iter(_scope_states(definition, ""))]
    while pending:
        entry = next(pending[-1], None)
        if entry is None:
            pending.pop()
            continue
        name, at, state = entry
        yield name, at
        if isinstance(state, dict):
            inner = []
            if state.get("Type") == "Parallel" and isinstance(state.get("Branches"), list):
                for i, branch in enumerate(state["Branches"]):
                    inner.extend(_scope_states(branch, f"{at}/Branches/{i}"))
            elif state.get("Type") == "Map":
                for field in ("ItemProcessor", "Iterator"):
                    inner.extend(_scope_states(state.get(field), f"{at}/{field}"))
            if inner:
                pending.append(iter(inner))


def _scope_states(body, base: str) -> list:
    states = body.get("States") if isinstance(body, dict) else None
    if not isinstance(states, dict):
        return []
    return [(name, base + "/States/" + name.replace("~", "~0").replace("/", "~1"), state)
            for name, state in states.items() if isinstance(name, str)]


def _reason(problem: str, text: str) -> str:
    """The part of a PathSyntaxError message after "'<text>' is not a ...: "."""
    prefix = f"'{text}' is not"
    rest = problem[len(prefix):]
    if problem.startswith(prefix) and ": " in rest:
        return rest.split(": ", 1)[1]
    return problem


def _unreachable(start: str, states: dict, edges: dict[str, list[str]]) -> list[str]:
    """States of a scope that no path from StartAt reaches, in document order."""
    seen = {start}
    queue = [start]
    while queue:
        for target in edges.get(queue.pop(), ()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return [name for name in states if name not in seen]


def _covered(name: str, earlier: list[str]) -> bool:
    """Whether every error ``name`` stands for is matched by one of the ``earlier`` names."""
    if name == errors.ALL:
        return errors.ALL in earlier
    return errors.matches(earlier, name)


def _covers(earlier_name: str, names: list[str]) -> bool:
    return any(_covered(name, [earlier_name]) for name in names)
