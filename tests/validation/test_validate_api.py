"""``asl.validation.validate``, ``ValidationError`` and definition loading.

The corpus in ``invalid/`` holds one definition per mistake, each with the diagnostics
(code and location) validation must report for it: exactly those, unless the entry says
``"exact": false`` (definitions with many mistakes, where the schema pass adds its own).
"""

import io
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.definition import DefinitionError, load_definition, read_definition, substitute
from asl.validation import Diagnostic, ValidationError, is_valid, validate

CORPUS = sorted((Path(__file__).parent / "invalid").glob("*.json"))
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"
VALID = {"Comment": "valid", "StartAt": "Work", "States": {
    "Work": {"Type": "Task", "Resource": LAMBDA, "Next": "Done"},
    "Done": {"Type": "Succeed"}}}


def corpus_entry(path):
    entry = json.loads(path.read_text(encoding="utf-8"))
    return entry.get("text", entry.get("definition")), entry


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_invalid_corpus(path):
    source, entry = corpus_entry(path)
    result = validate(source)
    got = {(d.code, d.location) for d in result}
    expected = {(e["code"], e["location"]) for e in entry["expect"]}
    if entry.get("exact", True):
        assert got == expected, [str(d) for d in result]
    else:
        assert expected <= got, [str(d) for d in result]
    severities = {(d.code, d.location): d.severity for d in result}
    for e in entry["expect"]:
        assert severities[e["code"], e["location"]] == e.get("severity", "ERROR")
    # A corpus entry is invalid exactly when it expects an error.
    assert is_valid(result) is all(e.get("severity") == "WARNING" for e in entry["expect"])


def test_the_corpus_covers_every_code():
    codes = {e["code"] for path in CORPUS for e in corpus_entry(path)[1]["expect"]}
    assert codes >= {"SCHEMA_VALIDATION_FAILED", "MISSING_TRANSITION_TARGET", "MISSING_END_STATE",
                     "DUPLICATE_STATE_NAME", "INVALID_JSONATA_EXPRESSION", "NO_DOLLAR", "NO_PATH",
                     "PASS_RESULT_IS_STATIC", "SHADOWED_RULE", "UNSUPPORTED_JSONATA_EXPRESSION",
                     "INTRINSIC_ARGUMENTS"}


def test_schema_and_semantic_problems_are_reported_together():
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": LAMBDA, "Next": "Missing", "Bogus": 1},
        "B": {"Type": "Teleport"}}}
    result = validate(definition)
    assert ("MISSING_TRANSITION_TARGET", "/States/A/Next") in {(d.code, d.location) for d in result}
    assert any(d.code == "SCHEMA_VALIDATION_FAILED" and d.location.startswith("/States/A")
               for d in result)
    assert any(d.code == "SCHEMA_VALIDATION_FAILED" and d.location.startswith("/States/B")
               for d in result)
    assert len(set(result)) == len(result)


def test_diagnostics_come_in_document_order():
    definition = {"StartAt": "Zulu", "States": {
        "Zulu": {"Type": "Pass", "InputPath": "bad", "Next": "Nowhere"},
        "Alpha": {"Type": "Pass", "End": True},
        "Mike": {"Type": "Wait", "Timestamp": "soon", "End": True}}}
    assert [d.location for d in validate(definition)] == [
        "/States/Zulu/InputPath", "/States/Zulu/Next", "/States/Alpha", "/States/Mike",
        "/States/Mike/Timestamp"]


def test_a_twenty_thousand_state_chain_and_fifty_levels_of_nesting():
    states = {f"S{i}": {"Type": "Pass", "Parameters": {"i": i, "x.$": "$.x"}, "Next": f"S{i + 1}"}
              for i in range(20_000)}
    states["S20000"] = {"Type": "Succeed"}
    assert validate({"StartAt": "S0", "States": states}) == []
    states["S5"]["Next"] = "Nowhere"
    result = validate({"StartAt": "S0", "States": states})
    assert [d.location for d in result[:2]] == ["/States/S5/Next", "/States/S6"]
    assert len(result) == 1 + 19_995

    definition = {"StartAt": "Leaf", "States": {"Leaf": {"Type": "Pass", "Next": "Gone"},
                                                "LeafEnd": {"Type": "Succeed"}}}
    location = ""
    for depth in range(1, 51):
        if depth % 2:
            state = {"Type": "Parallel", "Branches": [definition], "End": True}
            location = f"/States/N{depth}/Branches/0" + location
        else:
            state = {"Type": "Map", "ItemProcessor": definition, "End": True}
            location = f"/States/N{depth}/ItemProcessor" + location
        definition = {"StartAt": f"N{depth}", "States": {f"N{depth}": state}}
    assert [(d.code, d.location) for d in validate(definition)] == [
        ("MISSING_TRANSITION_TARGET", location + "/States/Leaf/Next"),
        ("MISSING_TRANSITION_TARGET", location + "/States/LeafEnd")]


@pytest.mark.parametrize("make_source", [
    lambda tmp: VALID,
    lambda tmp: json.dumps(VALID),
    lambda tmp: json.dumps(VALID, indent=2),
    lambda tmp: "StartAt: Work\nStates:\n  Work: {Type: Task, Resource: '%s', Next: Done}\n"
                "  Done:\n    Type: Succeed\n" % LAMBDA,
    lambda tmp: _write(tmp / "machine.json", json.dumps(VALID)),
    lambda tmp: str(_write(tmp / "machine.json", json.dumps(VALID))),
    lambda tmp: _write(tmp / "machine.asl.yaml", "StartAt: Work\nStates:\n  Work:\n    Type: Task\n"
                       f"    Resource: {LAMBDA}\n    Next: Done\n  Done:\n    Type: Succeed\n"),
], ids=["dict", "json-text", "json-indented", "yaml-text", "path", "str-path", "yaml-file"])
def test_validate_accepts_every_kind_of_source(tmp_path, make_source):
    assert validate(make_source(tmp_path)) == []


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_validation_error_lists_the_diagnostics():
    diagnostics = validate({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                                        "C": {"Type": "Pass", "End": True}}})
    error = ValidationError(diagnostics)
    assert isinstance(error, ValueError)
    assert error.diagnostics == diagnostics
    lines = str(error).splitlines()
    assert lines[0] == "invalid state machine definition: 2 errors"
    assert lines[1:] == [f"  {d}" for d in diagnostics]
    assert "ERROR MISSING_TRANSITION_TARGET /States/A/Next: 'Next' names 'B'" in str(error)


def test_diagnostic_is_reexported():
    assert Diagnostic("/States/A", "X", "m").to_dict() == {
        "severity": "ERROR", "code": "X", "message": "m", "location": "/States/A"}


# -- loading -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("", "empty definition"),
    ("   \n", "empty definition"),
    ("[1, 2]", "not a JSON object (got an array)"),
    ('"just a string"', "not a JSON object (got a string)"),
    ('{"StartAt" "A"}', "invalid JSON at line 1, column 12: Expecting ':' delimiter"),
    ('{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass" "End": true}\n  }\n}',
     "invalid JSON at line 4, column 26: Expecting ',' delimiter"),
    ('{"a": NaN}', "invalid JSON: 'NaN' is not a JSON value"),
    ("StartAt: [unclosed\n", "not valid JSON or YAML at line 2, column 1"),
    ("- a\n- b\n", "not a JSON object (got an array)"),
    ("no-such-file.json", "cannot read 'no-such-file.json': No such file or directory"),
    ("not a definition", "'not a definition' is neither an existing file nor a JSON or YAML object"),
    ("[" * 100_000, "nested too deeply"),
])
def test_definition_errors_for_text(text, message):
    with pytest.raises(DefinitionError) as caught:
        load_definition(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name, content, message", [
    ("empty.json", b"", "empty.json: empty file"),
    ("bad.json", b'{"StartAt": "A",}', "bad.json: invalid JSON at line 1, column 17"),
    ("array.json", b"[]", "array.json: not a JSON object (got an array)"),
    ("binary.json", bytes(range(256)), "binary.json: not a text file"),
    ("latin1.yaml", "StartAt: café".encode("latin-1"), "latin1.yaml: not UTF-8 text"),
    ("scalar.yml", b"42\n", "scalar.yml: not a JSON object (got a number)"),
    ("tabs.yaml", b"StartAt: A\n\tStates: {}\n", "tabs.yaml: invalid YAML at line 2"),
])
def test_definition_errors_for_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    assert str(caught.value).startswith(str(tmp_path / name).split(name)[0]) or message in str(caught.value)
    assert message in str(caught.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DefinitionError, match="No such file or directory"):
        load_definition(tmp_path / "missing.json")
    with pytest.raises(DefinitionError, match="Is a directory"):
        load_definition(tmp_path)


@pytest.mark.parametrize("value", [[1], 42, None, 3.5])
def test_non_object_python_values_are_definition_errors(value):
    with pytest.raises(DefinitionError):
        load_definition(value)


def test_a_dict_is_returned_as_is():
    assert load_definition(VALID) is VALID


def test_json_numbers_keep_their_type():
    loaded = load_definition('{"StartAt": "A", "States": {}, "a": 1, "b": 1.0, "c": 12345678901234567890}')
    assert (type(loaded["a"]), type(loaded["b"]), loaded["c"]) == (int, float, 12345678901234567890)


def test_yaml_keeps_timestamps_as_written(tmp_path):
    path = _write(tmp_path / "wait.yaml", "StartAt: W\nStates:\n  W:\n    Type: Wait\n"
                  "    Timestamp: 2016-03-14T01:59:00Z\n    End: true\n")
    assert load_definition(path)["States"]["W"]["Timestamp"] == "2016-03-14T01:59:00Z"
    assert validate(path) == []


def test_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(VALID).encode())))
    assert load_definition("-") == VALID


def test_repeated_keys_are_reported():
    # The first "A" is dropped whole, so only keys repeated in what is kept are reported.
    text = ('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B", "Next": "C"},'
            ' "A": {"Type": "Pass", "End": true, "End": true}}}')
    assert read_definition(text).duplicate_keys == ("/States/A", "/States/A/End")
    yaml_text = "StartAt: A\nStates:\n  A: {Type: Pass, End: true}\n  A: {Type: Succeed}\n"
    assert read_definition(yaml_text).duplicate_keys == ("/States/A",)


# -- substitutions -----------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("${Fn}", LAMBDA),
    ("prefix-${Env}-${Env}", "prefix-prod-prod"),
    ("${Unknown}", "${Unknown}"),
    ("${Fn", "${Fn"),
    ("$Fn", "$Fn"),
    ("States.Format('{}', $.a)", "States.Format('{}', $.a)"),
    ("{% $states.input %}", "{% $states.input %}"),
])
def test_substitute_fills_placeholders(value, expected):
    assert substitute({"v": value}, {"Fn": LAMBDA, "Env": "prod"}) == {"v": expected}


def test_substitute_reaches_keys_lists_and_leaves_the_input_alone():
    definition = {"StartAt": "${Start}", "States": {"${Start}": {"Type": "Task", "Resource": "${Fn}",
                                                                  "Parameters": {"list": ["${Env}", 1]},
                                                                  "End": True}}}
    filled = substitute(definition, {"Start": "Go", "Fn": LAMBDA, "Env": "prod", "Count": 3})
    assert filled == {"StartAt": "Go", "States": {"Go": {"Type": "Task", "Resource": LAMBDA,
                                                          "Parameters": {"list": ["prod", 1]},
                                                          "End": True}}}
    assert definition["StartAt"] == "${Start}"
    assert substitute({"n": "${Count}"}, {"Count": 3}) == {"n": "3"}


def test_load_definition_applies_substitutions():
    text = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${Fn}", "End": True}}})
    assert load_definition(text, {"Fn": LAMBDA})["States"]["A"]["Resource"] == LAMBDA


# -- properties --------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6) | st.sampled_from(["Task", "Pass", "Choice", "Map", "Parallel", "$.a", "A"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["StartAt", "States", "Type", "Next", "End", "Branches", "ItemProcessor",
                         "Choices", "Parameters", "Assign", "QueryLanguage", "A"]) | st.text(max_size=4),
        children, max_size=4),
    max_leaves=20)


@settings(max_examples=100)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=5) | st.fixed_dictionaries(
    {"StartAt": json_values, "States": st.dictionaries(st.sampled_from(["A", "B"]), json_values)}))
def test_validate_never_raises_on_a_json_object(definition):
    result = validate(definition)
    assert all(isinstance(d, Diagnostic) for d in result)
    assert len(set(result)) == len(result)


@settings(max_examples=100)
@given(json_values)
def test_validate_of_any_json_value_gives_diagnostics_or_a_definition_error(value):
    try:
        result = validate(value)
    except DefinitionError as problem:
        assert not isinstance(value, dict) and "\n" not in str(problem)
    else:
        assert isinstance(result, list)
