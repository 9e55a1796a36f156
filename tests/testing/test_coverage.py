"""ASL coverage: the edges of a definition, the ones executions took, and the plugin report."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import asl
from asl.testing import Coverage, Fault, FaultPlan, definition_edges, exercised, run_with_faults
from asl.testing.coverage import Edge, format_report

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:"

DEFINITION = {
    "StartAt": "Route",
    "States": {
        "Route": {"Type": "Choice", "Default": "Charge", "Choices": [
            {"Variable": "$.kind", "StringEquals": "free", "Next": "Done"},
            {"Variable": "$.kind", "StringEquals": "gift", "Next": "Done"},
            {"Variable": "$.kind", "StringEquals": "vip", "Next": "Both"}]},
        "Charge": {"Type": "Task", "Resource": LAMBDA + "charge", "Next": "Both", "ResultPath": None,
                   "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 2}],
                   "Catch": [{"ErrorEquals": ["Declined"], "Next": "Refused"},
                             {"ErrorEquals": ["States.ALL"], "Next": "Broken"}]},
        "Both": {"Type": "Parallel", "Next": "Done", "ResultPath": None,
                 "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
                 "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Broken"}],
                 "Branches": [{"StartAt": "Ship", "States": {
                     "Ship": {"Type": "Task", "Resource": LAMBDA + "ship", "End": True}}}]},
        "Done": {"Type": "Succeed"},
        "Refused": {"Type": "Fail", "Error": "Refused"},
        "Broken": {"Type": "Fail", "Error": "Broken"},
    },
}
RESOURCES = {"charge": lambda d: {}, "ship": lambda d: {}}


def edge_texts(edges):
    return sorted(str(e) for e in edges)


def test_every_edge_of_a_definition():
    assert [str(e) for e in definition_edges(DEFINITION)] == [
        "Route --Choices[0], Choices[1]--> Done",
        "Route --Choices[2]--> Both",
        "Route --Default--> Charge",
        "Charge --Next--> Both",
        "Charge --Retry[0] (Busy)--> Charge",
        "Charge --Catch[0] (Declined)--> Refused",
        "Charge --Catch[1] (States.ALL)--> Broken",
        "Both --Next--> Done",
        "Both --Retry[0] (States.ALL)--> Both",
        "Both --Catch[0] (States.ALL)--> Broken",
    ]


@pytest.fixture(scope="module")
def machine():
    return asl.StateMachine(DEFINITION)


@pytest.mark.parametrize("kind, plan, states, edges", [
    ("free", [], {"Route", "Done"}, ["Route --Choices[0], Choices[1]--> Done"]),
    ("paid", [Fault("Charge", "Busy", attempt=1)], {"Route", "Charge", "Both", "Ship", "Done"},
     ["Both --Next--> Done", "Charge --Next--> Both", "Charge --Retry[0] (Busy)--> Charge",
      "Route --Default--> Charge"]),
    ("paid", [Fault("Charge", "Declined")], {"Route", "Charge", "Refused"},
     ["Charge --Catch[0] (Declined)--> Refused", "Route --Default--> Charge"]),
    ("paid", [Fault("Charge", "Busy")], {"Route", "Charge", "Broken"},
     ["Charge --Catch[1] (States.ALL)--> Broken", "Charge --Retry[0] (Busy)--> Charge",
      "Route --Default--> Charge"]),
    ("vip", [Fault("Ship")], {"Route", "Both", "Ship", "Broken"},
     ["Both --Catch[0] (States.ALL)--> Broken", "Both --Retry[0] (States.ALL)--> Both",
      "Route --Choices[2]--> Both"]),
])
def test_edges_read_back_from_a_history(machine, kind, plan, states, edges):
    run = run_with_faults(machine, RESOURCES, FaultPlan(tuple(plan)), {"kind": kind})
    seen_states, seen_edges = exercised(DEFINITION, run.result.history)
    assert seen_states == states
    assert edge_texts(seen_edges) == edges


def test_coverage_accumulates_and_lists_what_was_never_exercised(machine):
    coverage = Coverage()
    for kind, plan in (("free", ()), ("paid", (Fault("Charge", "Declined"),))):
        run = run_with_faults(machine, RESOURCES, FaultPlan(plan), {"kind": kind})
        coverage.record(machine.definition, run.result, "Orders")
    [orders] = coverage.machines()
    assert orders.executions == 2
    assert orders.missing_states == ["Both", "Ship", "Broken"]
    assert edge_texts(orders.missing_edges) == [
        "Both --Catch[0] (States.ALL)--> Broken", "Both --Next--> Done",
        "Both --Retry[0] (States.ALL)--> Both", "Charge --Catch[1] (States.ALL)--> Broken",
        "Charge --Next--> Both", "Charge --Retry[0] (Busy)--> Charge", "Route --Choices[2]--> Both"]
    report = coverage.report()["machines"][0]
    assert report["states"] == {"total": 7, "exercised": 4, "missing": ["Both", "Ship", "Broken"]}
    assert report["edges"]["by_kind"]["Catch"] == {"exercised": 1, "total": 3}
    text = format_report(coverage.machines())
    assert text.startswith("Orders: 41% (2 executions) - states 4/7, edges: Choice 2/3, Next 0/2, "
                           "Retry 0/2, Catch 1/3")
    assert "  never taken:   Charge --Retry[0] (Busy)--> Charge" in text


def test_two_definitions_with_one_name_are_reported_apart():
    coverage = Coverage()
    for end in ("A", "B"):
        definition = {"StartAt": end, "States": {end: {"Type": "Succeed"}}}
        coverage.record(definition, asl.StateMachine(definition).execute({}), "Same")
    assert [m.name for m in coverage.machines()] == ["Same #1", "Same #2"]
    assert Edge("A", "Next", "B", "Next") < Edge("B", "Next", "A", "Next")


PLUGIN_TEST = textwrap.dedent('''
    import asl
    from asl.testing import Fault, FaultPlan, run_with_faults

    DEFINITION = %r

    def test_fixtures(virtual_clock, ledger):
        assert virtual_clock.time() == 0 and ledger.events == []

    def test_happy_and_declined():
        machine = asl.StateMachine(DEFINITION, name="Orders")
        resources = {"charge": lambda d: {}, "ship": lambda d: {}}
        machine.execute({"kind": "free"}, resources)
        run_with_faults(machine, resources, FaultPlan.of(Fault("Charge", "Declined")), {"kind": "paid"})
        machine.start({"kind": "vip"}, resources).result(5)

    def test_profile_is_registered():
        from hypothesis import settings
        assert settings.get_profile("asl").deadline is None
''')


def test_the_pytest_plugin_reports_coverage_across_the_session(tmp_path):
    (tmp_path / "test_orders.py").write_text(PLUGIN_TEST % (DEFINITION,))
    report = tmp_path / "coverage.json"
    # Autoload off: the plugin comes from -p alone, whether or not its entry point is installed.
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "asl.testing.pytest_plugin", "-q", "-p", "no:cacheprovider",
         "--asl-coverage", f"--asl-coverage-json={report}", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ASL coverage" in done.stdout
    assert "Orders: " in done.stdout and "(3 executions)" in done.stdout
    assert "never taken:   Charge --Retry[0] (Busy)--> Charge" in done.stdout
    [orders] = json.loads(report.read_text())["machines"]
    assert orders["name"] == "Orders" and orders["executions"] == 3
    assert orders["states"]["missing"] == ["Broken"]
