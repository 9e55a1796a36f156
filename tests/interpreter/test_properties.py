"""Rules that hold whatever the tasks do (hypothesis)."""

import json
import random
import time

from hypothesis import given, settings
from hypothesis import strategies as st

import asl

from .support import T0, machine

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2 ** 53), max_value=2 ** 53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)

error_names = st.text(min_size=1, max_size=30).filter(lambda s: not s.startswith("States."))
exception_classes = st.sampled_from([ValueError, KeyError, RuntimeError, TypeError, ZeroDivisionError,
                                     Exception, ArithmeticError, LookupError])
outcomes = st.one_of(
    st.tuples(st.just("return"), json_values),
    st.tuples(st.just("raise"), st.tuples(exception_classes, st.text(max_size=30))),
    st.tuples(st.just("fail"), st.tuples(error_names, st.text(max_size=30))),
    st.tuples(st.just("weird"), st.sampled_from([{1, 2}, object(), float("nan"), b"bytes"])),
)

RESOURCES = ["arn:aws:lambda:us-east-1:123456789012:function:fn", "arn:aws:states:::lambda:invoke",
             "arn:aws:states:::dynamodb:putItem", "arn:aws:states:us-east-1:123456789012:activity:fn"]


def behave(outcome):
    kind, value = outcome

    def handler(payload):
        if kind == "return":
            return value
        if kind == "raise":
            cls, message = value
            raise cls(message)
        if kind == "fail":
            raise asl.TaskFailed(*value)
        return value
    return handler


def task_machine(resource: str, **fields) -> asl.StateMachine:
    state = {"Type": "Task", "Resource": resource, "End": True, **fields}
    if resource.endswith("lambda:invoke"):
        state["Parameters"] = {"FunctionName": "fn", "Payload.$": "$"}
    return machine({"StartAt": "T", "States": {"T": state}})


MACHINES = {resource: task_machine(resource) for resource in RESOURCES}


@settings(max_examples=100)
@given(outcome=outcomes, resource=st.sampled_from(RESOURCES), input=json_values)
def test_execute_always_returns_a_result(outcome, resource, input):
    result = MACHINES[resource].execute(input if input is not None else {}, resources={"fn": behave(outcome), resource: behave(outcome)},
                                        clock=asl.VirtualClock(start=T0))
    assert result.status in ("SUCCEEDED", "FAILED")
    if result.status == "FAILED":
        assert isinstance(result.error, str) and result.error
        assert isinstance(result.cause, str)
        assert result.history[-1]["type"] == "ExecutionFailed"
    else:
        assert result.history[-1]["type"] == "ExecutionSucceeded"
        json.dumps(result.output)
    if outcome[0] == "return" and resource != "arn:aws:states:::lambda:invoke":
        assert result.status == "SUCCEEDED"
        assert result.output == outcome[1]
    if outcome[0] in ("raise", "fail"):
        assert result.status == "FAILED"
    if outcome[0] == "fail":
        assert (result.error, result.cause) == outcome[1]


@settings(max_examples=60)
@given(max_attempts=st.integers(min_value=0, max_value=8), fail_first=st.integers(min_value=0, max_value=12),
       interval=st.integers(min_value=1, max_value=5), backoff=st.sampled_from([1, 1.5, 2, 3]))
def test_a_task_is_called_at_most_max_attempts_plus_one_times(max_attempts, fail_first, interval, backoff):
    calls = []

    def flaky(payload):
        calls.append(payload)
        if len(calls) <= fail_first:
            raise asl.TaskFailed("Flaky", str(len(calls)))
        return "ok"

    sm = task_machine("arn:aws:lambda:us-east-1:123456789012:function:flaky", Retry=[{"ErrorEquals": ["Flaky"], "MaxAttempts": max_attempts,
                                       "IntervalSeconds": interval, "BackoffRate": backoff}])
    clock = asl.VirtualClock(start=T0)
    result = sm.execute({}, resources={"flaky": flaky}, clock=clock)
    assert len(calls) <= max_attempts + 1
    assert len(calls) == min(fail_first, max_attempts) + 1
    assert result.status == ("SUCCEEDED" if fail_first <= max_attempts else "FAILED")
    assert [w.seconds for w in clock.waits] == [interval * backoff ** i for i in range(len(calls) - 1)]


@settings(max_examples=100)
@given(outcome=st.one_of(st.tuples(st.just("raise"), st.tuples(exception_classes, st.text(max_size=30))),
                         st.tuples(st.just("fail"), st.tuples(error_names, st.text(max_size=30)))),
       resource=st.sampled_from(RESOURCES), result_path=st.sampled_from([None, "$", "$.error", "$.a.b"]))
def test_a_caught_error_output_has_error_and_cause_strings(outcome, resource, result_path):
    catcher = {"ErrorEquals": ["States.ALL"], "Next": "Handled"}
    if result_path != "$":
        catcher["ResultPath"] = result_path
    state = {"Type": "Task", "Resource": resource, "End": True, "Catch": [catcher]}
    if resource.endswith("lambda:invoke"):
        state["Parameters"] = {"FunctionName": "fn"}
    sm = machine({"StartAt": "T", "States": {"T": state, "Handled": {"Type": "Pass", "End": True}}})
    result = sm.execute({"in": 1}, resources={"fn": behave(outcome), resource: behave(outcome)},
                        clock=asl.VirtualClock(start=T0))
    assert result.status == "SUCCEEDED"
    if result_path is None:
        assert result.output == {"in": 1}
        return
    error_output = {"$": lambda o: o, "$.error": lambda o: o["error"], "$.a.b": lambda o: o["a"]["b"]}[result_path](result.output)
    assert set(error_output) == {"Error", "Cause"}
    assert isinstance(error_output["Error"], str) and isinstance(error_output["Cause"], str)
    if outcome[0] == "fail":
        assert (error_output["Error"], error_output["Cause"]) == outcome[1]
    else:
        assert error_output["Error"] == outcome[1][0].__name__


@settings(max_examples=20, deadline=None)
@given(delays=st.lists(st.integers(min_value=0, max_value=15), min_size=2, max_size=5))
def test_parallel_output_order_is_branches_order_whatever_the_timings(delays):
    """Branches finish in an order set by real sleeps (0-15 ms); the output still
    follows Branches."""
    order = []

    def make(index, delay):
        def branch(payload):
            time.sleep(delay / 1000)
            order.append(index)
            return {"branch": index, "delay": delay}
        return branch

    branches = [{"StartAt": f"B{i}", "States": {f"B{i}": {"Type": "Task", "Resource": f"arn:aws:lambda:us-east-1:123456789012:function:b{i}", "End": True}}}
                for i in range(len(delays))]
    sm = machine({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": branches, "End": True}}})
    result = sm.execute({}, resources={f"b{i}": make(i, d) for i, d in enumerate(delays)})
    assert result.status == "SUCCEEDED"
    assert result.output == [{"branch": i, "delay": d} for i, d in enumerate(delays)]
    assert sorted(order) == list(range(len(delays)))


@settings(max_examples=30)
@given(items=st.lists(json_values, max_size=8), max_concurrency=st.integers(min_value=0, max_value=3))
def test_map_output_order_is_item_order(items, max_concurrency):
    def work(payload):
        time.sleep(random.random() / 2000)
        return {"item": payload}

    sm = machine({"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "MaxConcurrency": max_concurrency,
                  "ItemSelector": {"v.$": "$$.Map.Item.Value"},
                  "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "End": True}}}}}})
    result = sm.execute(items, resources={"work": work})
    assert result.status == "SUCCEEDED"
    assert result.output == [{"item": {"v": item}} for item in items]
