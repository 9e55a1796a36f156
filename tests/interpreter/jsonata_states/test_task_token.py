"""``$states.context.Task.Token`` in a JSONata ``.waitForTaskToken`` Task.

AWS docs (Callback pattern): pass the token to the worker in Arguments with
``"{% $states.context.Task.Token %}"``; what SendTaskSuccess sends becomes
``$states.result``; SendTaskFailure fails the task with its error and cause, which a
JSONata Catcher sees as ``$states.errorOutput``.
"""

from __future__ import annotations

import asl

from .support import EXECUTION, T0, machine

DEFINITION = {"QueryLanguage": "JSONata", "StartAt": "Approve", "States": {
    "Approve": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Arguments": {"FunctionName": "approver",
                              "Payload": {"token": "{% $states.context.Task.Token %}", "order": "{% $states.input.order %}"}},
                "Assign": {"approvedBy": "{% $states.result.by %}"},
                "Output": {"order": "{% $states.input.order %}", "approved": "{% $states.result.approved %}"},
                "Catch": [{"ErrorEquals": ["Rejected"], "Output": "{% $states.errorOutput %}", "Next": "Rejected"}],
                "Next": "Done"},
    "Done": {"Type": "Succeed", "Output": "{% $merge([$states.input, {'by': $approvedBy}]) %}"},
    "Rejected": {"Type": "Fail", "Error": "{% $states.input.Error %}", "Cause": "{% $states.input.Cause %}"}}}


def approver(decision):
    seen = []

    def handler(payload, context):
        seen.append((payload["token"], context.token, payload["order"]))
        if decision == "approve":
            context.send_task_success({"approved": True, "by": "ops"})
        else:
            context.send_task_failure("Rejected", f"order {payload['order']} rejected")
        return None

    return handler, seen


def run_with(decision):
    handler, seen = approver(decision)
    result = machine(DEFINITION).execute({"order": "o-1"}, resources={"approver": handler},
                                         clock=asl.VirtualClock(start=T0), name=EXECUTION)
    return result, seen


def test_the_token_reaches_the_worker_and_its_answer_is_the_result():
    result, seen = run_with("approve")
    assert result.status == "SUCCEEDED", result.cause
    [(token_in_payload, token_in_context, order)] = seen
    assert token_in_payload == token_in_context and len(token_in_payload) > 20
    assert order == "o-1"
    assert result.output == {"order": "o-1", "approved": True, "by": "ops"}


def test_send_task_failure_is_caught_with_its_error_and_cause():
    result, seen = run_with("reject")
    assert (result.status, result.error, result.cause) == ("FAILED", "Rejected", "order o-1 rejected")
    assert result.states == ["Approve", "Rejected"]
