"""Map Runs through real boto3: DescribeMapRun, ListMapRuns, UpdateMapRun."""

from __future__ import annotations

import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from asl.server import running_server

from .support import FUNCTION, ROLE, client, definition, task, wait_done, wait_for

ACCOUNT_REGION = "us-east-1:123456789012"


class Gate:
    """A task that waits for the test to open it (items with ``"wait": true``), then
    fails items with ``"fail": true``."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self, payload):
        if payload.get("wait"):
            self.entered.set()
            if not self.opened.wait(10):
                raise TimeoutError("the test never opened the gate")
        if payload.get("fail"):
            raise ValueError(f"item {payload.get('v')} fails")
        return {"v": payload.get("v")}


class FailsOnce:
    """Fails the first time it sees each item marked ``"flaky": true``."""

    def __init__(self) -> None:
        self.seen: set = set()
        self.calls = 0

    def __call__(self, payload):
        self.calls += 1
        if payload.get("flaky") and payload["v"] not in self.seen:
            self.seen.add(payload["v"])
            raise ValueError("first attempt fails")
        return {"v": payload["v"]}


class Probe:
    """Counts the calls in flight when each starts; ``"wait": true`` items wait for the
    test to open it, the others take 0.1 s."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.in_flight_at_start: list[int] = []
        self.opened = threading.Event()

    def __call__(self, payload):
        with self.lock:
            self.now += 1
            self.in_flight_at_start.append(self.now)
        try:
            if payload.get("wait"):
                self.opened.wait(10)
            else:
                time.sleep(0.1)
        finally:
            with self.lock:
                self.now -= 1
        return {"v": payload["v"]}


@pytest.fixture
def gate():
    gate = Gate()
    yield gate
    gate.opened.set()           # never leave an execution blocked behind a failed test


@pytest.fixture
def resources(tokens, gate):
    from .support import boom, double
    probe = Probe()
    yield {"double": double, "boom": boom, "callback": tokens, "gate": gate,
           "flaky": FailsOnce(), "probe": probe}
    probe.opened.set()


def distributed(resource: str | None = "gate", work_name: str = "Work", **fields) -> dict:
    """A Distributed Map over ``$.items`` whose children run ``resource`` (None: a Pass);
    it ends the machine unless ``Next`` is given."""
    work = (task(FUNCTION.format(resource), End=True) if resource is not None
            else {"Type": "Pass", "End": True})
    state = {"Type": "Map", "ItemsPath": "$.items",
             "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
                                                   "ExecutionType": "STANDARD"},
                               "StartAt": work_name, "States": {work_name: work}}}
    state.update(fields)
    if "Next" not in state:
        state["End"] = True
    return state


def start(sfn, machine_arn: str, items: list, name: str = "run-1") -> str:
    return sfn.start_execution(stateMachineArn=machine_arn, name=name,
                               input=json.dumps({"items": items}))["executionArn"]


def only_map_run(sfn, execution_arn: str) -> dict:
    runs = sfn.list_map_runs(executionArn=execution_arn)["mapRuns"]
    assert len(runs) == 1, runs
    return runs[0]


def counts(described: dict, key: str = "executionCounts") -> dict:
    return {k: v for k, v in described[key].items()}


def error_of(exc: pytest.ExceptionInfo) -> tuple[str, str | None]:
    response = exc.value.response
    return response["Error"]["Code"], response.get("reason")


def test_a_distributed_map_with_tolerated_failures_is_listed_and_described(sfn, make_machine):
    machine = make_machine("fan", {"Fan": distributed(
        MaxConcurrency=2, ToleratedFailurePercentage=50)})
    items = [{"v": 1}, {"v": 2, "fail": True}, {"v": 3}, {"v": 4, "fail": True}]
    execution = start(sfn, machine, items)
    assert wait_done(sfn, execution)["status"] == "SUCCEEDED"

    listed = only_map_run(sfn, execution)
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    started = [e for e in events if e["type"] == "MapRunStarted"]
    assert listed["mapRunArn"] == started[0]["mapRunStartedEventDetails"]["mapRunArn"]
    assert listed["mapRunArn"].startswith(f"arn:aws:states:{ACCOUNT_REGION}:mapRun:fan/Fan:")
    assert listed["executionArn"] == execution
    assert listed["stateMachineArn"] == f"{machine}/Fan"
    assert listed["startDate"] <= listed["stopDate"]

    described = sfn.describe_map_run(mapRunArn=listed["mapRunArn"])
    assert described["mapRunArn"] == listed["mapRunArn"]
    assert described["executionArn"] == execution
    assert described["status"] == "SUCCEEDED"
    assert (described["startDate"], described["stopDate"]) == (listed["startDate"],
                                                               listed["stopDate"])
    assert described["maxConcurrency"] == 2
    assert described["toleratedFailurePercentage"] == 50.0
    assert described["toleratedFailureCount"] == 0
    expected = {"pending": 0, "running": 0, "succeeded": 2, "failed": 2, "timedOut": 0,
                "aborted": 0, "total": 4, "resultsWritten": 4,
                # the execution succeeded: its failed children can never be redriven
                "failuresNotRedrivable": 2, "pendingRedrive": 0}
    assert counts(described) == expected
    assert counts(described, "itemCounts") == expected
    assert described["redriveCount"] == 0 and "redriveDate" not in described


def test_a_map_run_past_its_tolerance_fails(sfn, make_machine):
    machine = make_machine("strict", {"Fan": distributed(
        MaxConcurrency=1, ToleratedFailureCount=0)})
    execution = start(sfn, machine, [{"v": 1}, {"v": 2, "fail": True}, {"v": 3}])
    done = wait_done(sfn, execution)
    assert (done["status"], done["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    described = sfn.describe_map_run(mapRunArn=only_map_run(sfn, execution)["mapRunArn"])
    assert described["status"] == "FAILED" and "stopDate" in described
    # one succeeded, one failed, and the last never started: the Map Run failed first
    assert counts(described) == {"pending": 1, "running": 0, "succeeded": 1, "failed": 1,
                                 "timedOut": 0, "aborted": 0, "total": 3, "resultsWritten": 0,
                                 "failuresNotRedrivable": 0, "pendingRedrive": 0}
    types = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert "MapRunFailed" in types and "MapRunSucceeded" not in types


def test_an_item_batcher_counts_items_and_child_executions_apart(sfn, make_machine):
    machine = make_machine("batches", {"Fan": distributed(
        None, ItemBatcher={"MaxItemsPerBatch": 2}, Label="Batches")})
    execution = start(sfn, machine, [{"v": n} for n in range(5)])
    assert wait_done(sfn, execution)["status"] == "SUCCEEDED"
    listed = only_map_run(sfn, execution)
    assert ":mapRun:batches/Batches:" in listed["mapRunArn"]
    described = sfn.describe_map_run(mapRunArn=listed["mapRunArn"])
    assert described["maxConcurrency"] == 0          # none given: no limit
    assert (described["executionCounts"]["total"], described["executionCounts"]["succeeded"]) \
        == (3, 3)
    assert (described["itemCounts"]["total"], described["itemCounts"]["succeeded"]) == (5, 5)


def test_update_map_run_changes_a_running_map_run(sfn, make_machine, gate):
    machine = make_machine("live", {"Fan": distributed(
        MaxConcurrency=1, ToleratedFailureCount=0)})
    execution = start(sfn, machine, [{"v": 1, "wait": True}, {"v": 2, "fail": True}, {"v": 3}])
    assert gate.entered.wait(5)
    arn = wait_for(lambda: sfn.list_map_runs(executionArn=execution)["mapRuns"])[0]["mapRunArn"]
    listed = only_map_run(sfn, execution)
    assert "stopDate" not in listed

    running = sfn.describe_map_run(mapRunArn=arn)
    assert running["status"] == "RUNNING" and "stopDate" not in running
    assert (running["executionCounts"]["running"], running["executionCounts"]["pending"]) == (1, 2)
    assert (running["maxConcurrency"], running["toleratedFailureCount"]) == (1, 0)

    assert sfn.update_map_run(mapRunArn=arn, maxConcurrency=3, toleratedFailureCount=1,
                              toleratedFailurePercentage=40.5)["ResponseMetadata"][
        "HTTPStatusCode"] == 200
    updated = sfn.describe_map_run(mapRunArn=arn)
    assert (updated["maxConcurrency"], updated["toleratedFailureCount"],
            updated["toleratedFailurePercentage"]) == (3, 1, 40.5)

    gate.opened.set()
    # with the tolerance as the Map started with, the failure would fail it (see above)
    assert wait_done(sfn, execution)["status"] == "SUCCEEDED"
    done = sfn.describe_map_run(mapRunArn=arn)
    assert done["status"] == "SUCCEEDED"
    assert (done["executionCounts"]["succeeded"], done["executionCounts"]["failed"]) == (2, 1)
    assert done["toleratedFailureCount"] == 1

    with pytest.raises(ClientError) as completed:
        sfn.update_map_run(mapRunArn=arn, maxConcurrency=5)
    assert error_of(completed) == ("ValidationException", "CANNOT_UPDATE_COMPLETED_MAP_RUN")


def test_a_lower_max_concurrency_holds_back_children_not_started(sfn, make_machine, resources):
    probe = resources["probe"]
    machine = make_machine("narrow", {"Fan": distributed("probe", MaxConcurrency=3)})
    execution = start(sfn, machine, [{"v": n, "wait": n < 3} for n in range(6)])
    arn = wait_for(lambda: sfn.list_map_runs(executionArn=execution)["mapRuns"])[0]["mapRunArn"]
    wait_for(lambda: sfn.describe_map_run(mapRunArn=arn)["executionCounts"]["running"] == 3)
    # a child counts as running before its callable is called: wait for all three calls
    wait_for(lambda: len(probe.in_flight_at_start) == 3)
    sfn.update_map_run(mapRunArn=arn, maxConcurrency=1)
    probe.opened.set()
    assert wait_done(sfn, execution)["status"] == "SUCCEEDED"
    # the three children started after the update ran one at a time (each 0.1 s long:
    # three workers would have overlapped them)
    assert probe.in_flight_at_start[:3] == [1, 2, 3]
    assert probe.in_flight_at_start[3:] == [1, 1, 1]
    described = sfn.describe_map_run(mapRunArn=arn)
    assert (described["maxConcurrency"], described["executionCounts"]["succeeded"]) == (1, 6)


def test_stopping_the_execution_aborts_its_map_run(sfn, make_machine, gate):
    machine = make_machine("stopped", {"Fan": distributed(MaxConcurrency=1)})
    execution = start(sfn, machine, [{"v": 1, "wait": True}, {"v": 2}])
    assert gate.entered.wait(5)
    arn = wait_for(lambda: sfn.list_map_runs(executionArn=execution)["mapRuns"])[0]["mapRunArn"]
    sfn.stop_execution(executionArn=execution, error="Enough", cause="stopped by the test")
    assert wait_done(sfn, execution)["status"] == "ABORTED"
    described = sfn.describe_map_run(mapRunArn=arn)
    assert described["status"] == "ABORTED" and "stopDate" in described
    assert (described["executionCounts"]["aborted"], described["executionCounts"]["pending"]) \
        == (1, 1)
    types = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert types[-2:] == ["MapRunAborted", "ExecutionAborted"]
    with pytest.raises(ClientError) as completed:
        sfn.update_map_run(mapRunArn=arn, toleratedFailureCount=3)
    assert error_of(completed)[1] == "CANNOT_UPDATE_COMPLETED_MAP_RUN"


def test_a_redriven_map_run_counts_its_redrive_and_reuses_what_succeeded(sfn, make_machine,
                                                                          resources):
    machine = make_machine("again", {"Fan": distributed("flaky", MaxConcurrency=1)})
    execution = start(sfn, machine, [{"v": 1}, {"v": 2, "flaky": True}, {"v": 3}])
    assert wait_done(sfn, execution)["status"] == "FAILED"
    arn = only_map_run(sfn, execution)["mapRunArn"]
    failed = sfn.describe_map_run(mapRunArn=arn)
    assert failed["status"] == "FAILED"
    assert (failed["executionCounts"]["succeeded"], failed["executionCounts"]["failed"],
            failed["executionCounts"]["pending"]) == (1, 1, 1)
    assert failed["executionCounts"]["failuresNotRedrivable"] == 0     # it can be redriven

    redriven_at = sfn.redrive_execution(executionArn=execution)["redriveDate"]
    assert wait_done(sfn, execution)["status"] == "SUCCEEDED"
    assert resources["flaky"].calls == 4        # the first item was not run again
    assert only_map_run(sfn, execution)["mapRunArn"] == arn
    described = sfn.describe_map_run(mapRunArn=arn)
    assert described["status"] == "SUCCEEDED"
    assert described["startDate"] == failed["startDate"]
    assert described["redriveCount"] == 1
    assert described["redriveDate"] >= redriven_at
    assert (described["executionCounts"]["succeeded"], described["executionCounts"]["total"]) \
        == (3, 3)


def test_list_map_runs_pages_in_start_order(sfn, make_machine):
    machine = make_machine("three", {
        "A": distributed(None, "WorkA", Next="B", ResultPath=None),
        "B": distributed(None, "WorkB", Next="C", ResultPath=None),
        "C": distributed(None, "WorkC")})
    execution = start(sfn, machine, [{"v": 1}, {"v": 2}])
    assert wait_done(sfn, execution)["status"] == "SUCCEEDED"
    first = sfn.list_map_runs(executionArn=execution, maxResults=2)
    assert [r["stateMachineArn"] for r in first["mapRuns"]] == [f"{machine}/A", f"{machine}/B"]
    second = sfn.list_map_runs(executionArn=execution, maxResults=2,
                               nextToken=first["nextToken"])
    assert [r["stateMachineArn"] for r in second["mapRuns"]] == [f"{machine}/C"]
    assert "nextToken" not in second
    paged = [r["mapRunArn"] for page in sfn.get_paginator("list_map_runs").paginate(
        executionArn=execution, PaginationConfig={"PageSize": 1}) for r in page["mapRuns"]]
    assert paged == [r["mapRunArn"] for r in first["mapRuns"] + second["mapRuns"]]
    assert len(set(paged)) == 3
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.list_map_runs(executionArn=execution, nextToken="not-a-token")


def test_an_inline_map_has_no_map_run(sfn, make_machine):
    inline = distributed(None)
    inline["ItemProcessor"]["ProcessorConfig"] = {"Mode": "INLINE"}
    machine = make_machine("inline", {"Fan": inline})
    execution = start(sfn, machine, [{"v": 1}])
    assert wait_done(sfn, execution)["status"] == "SUCCEEDED"
    assert sfn.list_map_runs(executionArn=execution)["mapRuns"] == []


def test_map_run_errors_are_aws_shaped(sfn, make_machine):
    unknown = (f"arn:aws:states:{ACCOUNT_REGION}:mapRun:nothing/Here:"
               "00000000-0000-0000-0000-000000000000")
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_map_run(mapRunArn="nope")
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_map_run(mapRunArn=f"arn:aws:states:{ACCOUNT_REGION}:stateMachine:M")
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.describe_map_run(mapRunArn=unknown)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.list_map_runs(executionArn="nope")
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.list_map_runs(executionArn=f"arn:aws:states:{ACCOUNT_REGION}:execution:M:none")
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.update_map_run(mapRunArn="nope", maxConcurrency=1)
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.update_map_run(mapRunArn=unknown, maxConcurrency=1)
    with pytest.raises(ClientError) as nothing:
        sfn.update_map_run(mapRunArn=unknown)
    assert error_of(nothing) == ("ValidationException", "MISSING_REQUIRED_PARAMETER")
    with pytest.raises(ClientError) as too_many:
        sfn.update_map_run(mapRunArn=unknown, toleratedFailurePercentage=150.0)
    assert error_of(too_many)[0] == "ValidationException"
    assert "toleratedFailurePercentage" in too_many.value.response["Error"]["Message"]


def test_map_runs_outlive_the_server(tmp_path, resources):
    db = str(tmp_path / "asl.db")
    with running_server(db=db, resources=resources) as url:
        sfn = client(url)
        machine = sfn.create_state_machine(
            name="kept", roleArn=ROLE, definition=definition({"Fan": distributed(
                "gate", ToleratedFailureCount=1)}))["stateMachineArn"]
        execution = start(sfn, machine, [{"v": 1}, {"v": 2, "fail": True}])
        assert wait_done(sfn, execution)["status"] == "SUCCEEDED"
        arn = only_map_run(sfn, execution)["mapRunArn"]
        before = sfn.describe_map_run(mapRunArn=arn)
    with running_server(db=db, resources=resources) as url:
        sfn = client(url)
        assert only_map_run(sfn, execution)["mapRunArn"] == arn
        after = sfn.describe_map_run(mapRunArn=arn)
    for response in (before, after):
        response.pop("ResponseMetadata")
    assert after == before
    assert (after["status"], after["executionCounts"]["failed"]) == ("SUCCEEDED", 1)
