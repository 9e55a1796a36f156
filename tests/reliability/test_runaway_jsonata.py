"""A JSONata expression that never ends is bounded (issue 12): the machine's
TimeoutSeconds and stop() end it, and without them MAX_EVALUATION_SECONDS fails the state
with States.QueryEvaluationError."""

import time

import pytest

import asl
import asl.language.jsonata as jsonata_module

ENDLESS = "{% ($f := function($n){ $n < 0 ? $n : $f($n + 1) }; $f(0)) %}"
CATASTROPHIC = "{% $match('" + "a" * 40 + "!', /(a|aa)+$/) %}"


def _machine(expression, **top):
    return asl.StateMachine({"QueryLanguage": "JSONata", "StartAt": "A", **top, "States": {
        "A": {"Type": "Pass", "Output": expression, "End": True}}})


@pytest.mark.parametrize("expression", [ENDLESS, CATASTROPHIC], ids=["recursion", "regex"])
def test_timeout_seconds_ends_a_runaway_expression(expression):
    began = time.monotonic()
    result = _machine(expression, TimeoutSeconds=1).execute({})
    assert result.status == "TIMED_OUT"
    assert time.monotonic() - began < 4


@pytest.mark.parametrize("expression", [ENDLESS, CATASTROPHIC], ids=["recursion", "regex"])
def test_stop_ends_a_runaway_expression(expression):
    execution = _machine(expression).start({})
    time.sleep(0.3)
    began = time.monotonic()
    execution.stop()
    result = execution.result(timeout=5)
    assert result.status == "ABORTED"
    assert time.monotonic() - began < 1.0


@pytest.mark.parametrize("expression", [ENDLESS, CATASTROPHIC], ids=["recursion", "regex"])
def test_the_evaluation_bound_fails_the_state(monkeypatch, expression):
    monkeypatch.setattr(jsonata_module, "MAX_EVALUATION_SECONDS", 0.5)
    began = time.monotonic()
    result = _machine(expression).execute({})
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")
    assert "D1012" in result.cause
    assert time.monotonic() - began < 4


def test_the_bound_is_catchable_like_any_query_error(monkeypatch):
    monkeypatch.setattr(jsonata_module, "MAX_EVALUATION_SECONDS", 0.3)
    machine = asl.StateMachine({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "Arguments": ENDLESS, "End": True, "Catch": [
            {"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "Output": "caught", "End": True}}})
    assert machine.execute({}, {"work": lambda payload: payload}).output == "caught"


def test_ordinary_regexes_still_match():
    result = _machine("{% {'m': $match('ab12cd345', /[0-9]+/).match, 'r': $replace('a-b-c', /-/, '+'),"
                      " 's': $split('a1b2c', /[0-9]/), 'c': $contains('HELLO', /l+/i)} %}").execute({})
    assert result.output == {"m": ["12", "345"], "r": "a+b+c", "s": ["a", "b", "c"], "c": True}
