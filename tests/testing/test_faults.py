"""Faults as data: which call fails, with what, and everything else runs the real handler."""

import pytest

import asl
from asl.testing import Fault, FaultPlan, run_with_faults, task_states

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:"


def task(function, **fields):
    state = {"Type": "Task", "Resource": LAMBDA + function, **fields}
    if "Next" not in fields:
        state.setdefault("End", True)
    return state


#: A Task with a Retry, a Parallel with a branch Task, a Map with a processor Task.
NESTED = {
    "StartAt": "Charge",
    "States": {
        "Charge": task("charge", Next="Both", TimeoutSeconds=30, ResultPath=None,
                       Retry=[{"ErrorEquals": ["Gateway.Busy"], "MaxAttempts": 2,
                               "IntervalSeconds": 1, "BackoffRate": 2}],
                       Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                               "Next": "Refund"}]),
        "Both": {"Type": "Parallel", "Next": "Each", "ResultPath": None, "Branches": [
            {"StartAt": "Ship", "States": {"Ship": task("ship")}},
            {"StartAt": "Invoice", "States": {"Invoice": task("invoice")}}]},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.notified", "End": True,
                 "ItemProcessor": {"StartAt": "Notify", "States": {"Notify": task("notify")}}},
        "Refund": task("refund", Next="Failed"),
        "Failed": {"Type": "Fail", "Error": "OrderFailed"},
    },
}


@pytest.fixture(scope="module")
def machine():
    return asl.StateMachine(NESTED, name="Nested")


@pytest.fixture
def handlers():
    calls = []

    def make(name):
        def handler(payload):
            calls.append(name)
            return {"by": name}
        return handler

    resources = {name: make(name) for name in ("charge", "ship", "invoice", "notify", "refund")}
    return resources, calls


INPUT = {"items": [1, 2, 3]}


def test_task_states_lists_every_task_at_any_depth_with_its_rules(machine):
    tasks = {t.name: t for t in task_states(machine)}
    assert list(tasks) == ["Charge", "Ship", "Invoice", "Notify", "Refund"]
    assert tasks["Charge"].retriers[0].error_equals == ("Gateway.Busy",)
    assert tasks["Charge"].catchers[0].next == "Refund"
    assert tasks["Charge"].timeout == 30
    assert (tasks["Ship"].enclosing, tasks["Ship"].in_map) == (("Both",), False)
    assert (tasks["Notify"].enclosing, tasks["Notify"].in_map) == (("Each",), True)


@pytest.mark.parametrize("fault, text", [
    (Fault("Charge"), "Charge: States.TaskFailed (every attempt)"),
    (Fault("Charge", "Gateway.Busy", attempt=2), "Charge: Gateway.Busy (attempt 2)"),
    (Fault("Notify", call=3), "Notify: States.TaskFailed (call 3)"),
    (Fault("Charge", "States.Timeout", timeout=True), "Charge: timeout (every attempt)"),
])
def test_a_fault_reads_as_what_it_does(fault, text):
    assert str(fault) == text


def test_plans_are_frozen_hashable_values():
    plan = FaultPlan([Fault("A"), Fault("B", attempt=1)])
    assert plan == FaultPlan.of(Fault("A"), Fault("B", attempt=1))
    assert len({plan, FaultPlan.of(Fault("A"), Fault("B", attempt=1))}) == 1
    assert str(plan) == "A: States.TaskFailed (every attempt); B: States.TaskFailed (attempt 1)"
    assert str(FaultPlan()) == "no faults"
    with pytest.raises(AttributeError):
        plan.faults = ()


def test_without_faults_every_call_reaches_the_real_handler(machine, handlers):
    resources, calls = handlers
    run = run_with_faults(machine, resources, FaultPlan(), INPUT)
    assert run.result.status == "SUCCEEDED"
    assert run.result.output["notified"] == [{"by": "notify"}] * 3
    assert sorted(calls) == ["charge", "invoice", "notify", "notify", "notify", "ship"]
    assert not run.faulted


def test_a_faulted_call_raises_instead_of_calling_the_handler(machine, handlers):
    resources, calls = handlers
    run = run_with_faults(machine, resources, FaultPlan.of(Fault("Charge", "Card.Declined", "no")), INPUT)
    assert "charge" not in calls
    assert run.result.status == "FAILED"
    assert run.result.states == ["Charge", "Refund", "Failed"]
    caught = [e for e in run.result.history if e["type"] == "LambdaFunctionFailed"]
    assert caught[0]["lambdaFunctionFailedEventDetails"] == {"error": "Card.Declined", "cause": "no"}
    assert run.calls == [("Charge", 1, True), ("Refund", 1, False)]


@pytest.mark.parametrize("attempt, calls, status", [
    (1, [("Charge", 1, True), ("Charge", 2, False)], "SUCCEEDED"),   # Retry absorbs it
    (2, [("Charge", 1, False)], "SUCCEEDED"),                         # never reached
    (None, [("Charge", 1, True), ("Charge", 2, True), ("Charge", 3, True)], "FAILED"),
])
def test_attempt_selects_one_attempt_of_the_visit(machine, handlers, attempt, calls, status):
    resources, _ = handlers
    run = run_with_faults(machine, resources,
                          FaultPlan.of(Fault("Charge", "Gateway.Busy", attempt=attempt)), INPUT)
    assert [c for c in run.calls if c.state == "Charge"] == calls
    assert run.result.status == status


def test_call_selects_one_map_iteration(machine, handlers):
    resources, _ = handlers
    run = run_with_faults(machine, resources, FaultPlan.of(Fault("Notify", call=2)), INPUT,
                          concurrency="sequential")
    assert [c.faulted for c in run.calls if c.state == "Notify"] == [False, True]
    assert run.result.status == "FAILED"      # the Map has no Catch: the execution fails
    assert (run.result.error, run.result.cause) == ("States.TaskFailed", "injected fault")


def test_a_timeout_fault_spends_the_task_timeout_in_virtual_time(machine, handlers, virtual_clock):
    resources, _ = handlers
    run = run_with_faults(machine, resources, FaultPlan.of(Fault("Charge", timeout=True)),
                          INPUT, clock=virtual_clock)
    timed_out = [e for e in run.result.history if e["type"] == "LambdaFunctionTimedOut"]
    assert timed_out[0]["lambdaFunctionTimedOutEventDetails"]["error"] == "States.Timeout"
    assert run.result.states[:2] == ["Charge", "Refund"]
    assert virtual_clock.schedule == [("Charge", "Task", 30.0)]


def test_a_timeout_fault_without_timeout_seconds_raises_states_timeout(machine, handlers):
    resources, _ = handlers
    run = run_with_faults(machine, resources, FaultPlan.of(Fault("Ship", timeout=True)), INPUT)
    assert (run.result.error, run.result.cause) == ("States.Timeout", "")


def test_handlers_keep_their_context_argument_and_retry_count(machine):
    seen = []

    def charge(payload, context):
        seen.append(context.context["State"]["RetryCount"])
        return {}

    resources = {n: (lambda p: {}) for n in ("ship", "invoice", "notify", "refund")}
    resources["charge"] = charge
    run = run_with_faults(machine, resources,
                          FaultPlan.of(Fault("Charge", "Gateway.Busy", attempt=1)), INPUT)
    assert run.result.status == "SUCCEEDED"
    assert seen == [1]      # the first attempt failed; the retry reached the handler


def test_describe_shows_plan_path_calls_and_the_end_of_the_history(machine, handlers):
    resources, _ = handlers
    run = run_with_faults(machine, resources, FaultPlan.of(Fault("Charge", "Card.Declined")), INPUT)
    text = run.describe()
    assert "fault plan: Charge: Card.Declined (every attempt)" in text
    assert "status: FAILED (OrderFailed" in text
    assert "path: Charge -> Refund -> Failed" in text
    assert "Charge#1 FAULTED" in text
    assert "error=Card.Declined cause=injected fault" in text
    assert text.splitlines()[-1].endswith("ExecutionFailed error=OrderFailed")
