"""Activities: CreateActivity and friends, and a worker that polls GetActivityTask and
answers with SendTaskSuccess / SendTaskFailure, all through boto3."""

from __future__ import annotations

import json
import threading

import pytest

from .support import client, definition, task, wait_done


def test_activity_crud_and_pagination(sfn):
    created = sfn.create_activity(name="approve")
    arn = created["activityArn"]
    assert arn == "arn:aws:states:us-east-1:123456789012:activity:approve"
    assert sfn.create_activity(name="approve")["activityArn"] == arn     # idempotent
    assert sfn.describe_activity(activityArn=arn)["name"] == "approve"
    for i in range(3):
        sfn.create_activity(name=f"a{i}")
    page = sfn.list_activities(maxResults=2)
    assert [a["name"] for a in page["activities"]] == ["approve", "a0"]
    rest = sfn.list_activities(maxResults=2, nextToken=page["nextToken"])
    assert [a["name"] for a in rest["activities"]] == ["a1", "a2"]
    sfn.delete_activity(activityArn=arn)
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.describe_activity(activityArn=arn)
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.get_activity_task(activityArn=arn)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_activity(activityArn="arn:aws:states:us-east-1:123456789012:nope")


def test_activity_worker_answers_the_task(server, sfn, make_machine):
    activity = sfn.create_activity(name="review")["activityArn"]
    arn = make_machine("Review", {"R": task(activity, End=True)})
    answered = []

    def worker() -> None:
        mine = client(server)
        for _ in range(2):
            polled = mine.get_activity_task(activityArn=activity, workerName="w1")
            payload = json.loads(polled["input"])
            answered.append(payload)
            if payload.get("ok"):
                mine.send_task_success(taskToken=polled["taskToken"],
                                       output=json.dumps({"reviewed": payload["doc"]}))
            else:
                mine.send_task_failure(taskToken=polled["taskToken"], error="Rejected",
                                       cause="not ok")

    thread = threading.Thread(target=worker)
    thread.start()
    good = sfn.start_execution(stateMachineArn=arn,
                               input='{"doc": "d1", "ok": true}')["executionArn"]
    described = wait_done(sfn, good)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"reviewed": "d1"}
    bad = sfn.start_execution(stateMachineArn=arn, input='{"doc": "d2"}')["executionArn"]
    described = wait_done(sfn, bad)
    thread.join(timeout=10)
    assert described["status"] == "FAILED" and described["error"] == "Rejected"
    assert [a["doc"] for a in answered] == ["d1", "d2"]
    types = [e["type"] for e in sfn.get_execution_history(executionArn=good)["events"]]
    assert "ActivityScheduled" in types and "ActivitySucceeded" in types


def test_task_on_unknown_activity_fails_the_execution(sfn, make_machine):
    arn = make_machine("NoActivity", definition(
        {"R": task("arn:aws:states:us-east-1:123456789012:activity:ghost", End=True)}))
    described = wait_done(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])
    assert described["status"] == "FAILED"
    assert "ghost" in described["cause"]
