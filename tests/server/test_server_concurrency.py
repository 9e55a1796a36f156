"""Many clients at once: every execution completes and the store stays consistent."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from .support import FUNCTION, client, definition, task, wait_done

SAGA = definition({
    "Reserve": task(FUNCTION.format("double"), Next="Both"),
    "Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Left", "States": {"Left": task(FUNCTION.format("double"), End=True)}},
        {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}}]}})


def test_fifty_clients_start_and_poll(server, make_machine):
    arn = make_machine("Concurrent", SAGA)
    clients = [client(server) for _ in range(10)]

    def one(i: int) -> tuple[str, dict]:
        sfn = clients[i % len(clients)]
        execution = sfn.start_execution(stateMachineArn=arn, name=f"c{i}",
                                        input=json.dumps({"value": i}))["executionArn"]
        return execution, wait_done(sfn, execution, timeout=20)

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(one, range(50)))
    assert all(d["status"] == "SUCCEEDED" for _, d in outcomes)
    for i, (_, described) in enumerate(outcomes):
        assert json.loads(described["output"]) == [{"value": 4 * i}, {"value": 2 * i}]
    sfn = clients[0]
    listed = [e for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
              for e in page["executions"]]
    assert sorted(e["name"] for e in listed) == sorted(f"c{i}" for i in range(50))
    assert {e["status"] for e in listed} == {"SUCCEEDED"}
    events = sfn.get_execution_history(executionArn=outcomes[7][0])["events"]
    assert events[-1]["type"] == "ExecutionSucceeded"
    assert len({e["id"] for e in events}) == len(events)
