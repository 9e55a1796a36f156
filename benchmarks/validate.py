"""How long ``asl.validation.validate`` takes: a typical definition and a huge one.

    python benchmarks/validate.py [rounds]

Prints the median over ``rounds`` (default 7) for a realistic ~30-state order workflow
(Parallel, Map, Choice, Retry/Catch, templates, intrinsics, Assign) and for a generated
20,000-state chain, for the whole of ``validate`` and for each pass on its own.
"""

from __future__ import annotations

import statistics
import sys
import time

from asl.validation import validate
from asl.validation.semantic import semantic_diagnostics

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:{}"


def task(name: str, **fields) -> dict:
    state = {"Type": "Task", "Resource": LAMBDA.format(name), "TimeoutSeconds": 30,
             "Retry": [{"ErrorEquals": ["Lambda.ServiceException", "Lambda.TooManyRequestsException"],
                        "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2},
                       {"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}]}
    state.update(fields)
    return state


def typical_definition() -> dict:
    """An order workflow of 31 states, in the shapes real definitions use."""
    states = {
        "ValidateOrder": task("validate", Parameters={"order.$": "$.order", "requestedAt.$": "$$.Execution.StartTime"},
                              ResultSelector={"valid.$": "$.Payload.valid", "reasons.$": "$.Payload.reasons"},
                              ResultPath="$.validation", Next="IsValid",
                              Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}]),
        "IsValid": {"Type": "Choice", "Choices": [
            {"And": [{"Variable": "$.validation.valid", "BooleanEquals": True},
                     {"Variable": "$.order.total", "NumericLessThanEquals": 10000}], "Next": "ReserveStock"},
            {"Variable": "$.validation.valid", "BooleanEquals": False, "Next": "RejectOrder"}],
            "Default": "ManualReview"},
        "ManualReview": task("review", Resource="arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                             Parameters={"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/review",
                                         "MessageBody": {"order.$": "$.order", "token.$": "$$.Task.Token"}},
                             HeartbeatSeconds=3600, TimeoutSeconds=86400, ResultPath="$.review", Next="ReviewDecision"),
        "ReviewDecision": {"Type": "Choice", "Choices": [
            {"Variable": "$.review.approved", "BooleanEquals": True, "Next": "ReserveStock"}], "Default": "RejectOrder"},
        "ReserveStock": {"Type": "Map", "ItemsPath": "$.order.lines", "MaxConcurrency": 5,
                         "ItemSelector": {"sku.$": "$$.Map.Item.Value.sku", "qty.$": "$$.Map.Item.Value.qty",
                                          "orderId.$": "$.order.id"},
                         "ItemProcessor": {"StartAt": "Reserve", "States": {
                             "Reserve": task("reserve", Next="Reserved?", ResultPath="$.reservation"),
                             "Reserved?": {"Type": "Choice", "Choices": [
                                 {"Variable": "$.reservation.ok", "BooleanEquals": True, "Next": "LineDone"}],
                                 "Default": "Backorder"},
                             "Backorder": task("backorder", Next="LineDone"),
                             "LineDone": {"Type": "Succeed"}}},
                         "ResultPath": "$.reservations", "Next": "ChargePayment",
                         "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "ReleaseStock"}]},
        "ChargePayment": task("charge", Parameters={"amount.$": "$.order.total", "currency": "EUR",
                                                    "idempotencyKey.$": "States.Format('{}-charge', $.order.id)"},
                              Assign={"chargeId.$": "$.Payload.chargeId"}, ResultPath="$.payment",
                              Next="Fulfil",
                              Catch=[{"ErrorEquals": ["PaymentDeclined"], "ResultPath": "$.error", "Next": "ReleaseStock"},
                                     {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RefundPayment"}]),
        "Fulfil": {"Type": "Parallel", "ResultPath": "$.fulfilment", "Next": "WaitForDelivery",
                   "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RefundPayment"}],
                   "Branches": [
                       {"StartAt": "PackOrder", "States": {
                           "PackOrder": task("pack", Next="PrintLabel"),
                           "PrintLabel": task("label", Next="HandToCarrier"),
                           "HandToCarrier": task("carrier", End=True)}},
                       {"StartAt": "SendConfirmation", "States": {
                           "SendConfirmation": task("email", Parameters={"to.$": "$.order.email", "template": "confirmation"},
                                                    Next="ConfirmationSent"),
                           "ConfirmationSent": {"Type": "Pass", "Result": {"sent": True}, "End": True}}},
                       {"StartAt": "UpdateLedger", "States": {
                           "UpdateLedger": task("ledger", Parameters={"chargeId.$": "$chargeId"}, End=True)}}]},
        "WaitForDelivery": {"Type": "Wait", "SecondsPath": "$.fulfilment[0].eta", "Next": "CheckDelivery"},
        "CheckDelivery": task("tracking", ResultPath="$.tracking", Next="Delivered?"),
        "Delivered?": {"Type": "Choice", "Choices": [
            {"Variable": "$.tracking.status", "StringEquals": "DELIVERED", "Next": "RequestReview"},
            {"Variable": "$.tracking.status", "StringMatches": "LOST*", "Next": "RefundPayment"}],
            "Default": "WaitForDelivery"},
        "RequestReview": task("review-request", Next="Archive"),
        "Archive": task("archive", Parameters={"order.$": "$.order", "archivedAt.$": "$$.State.EnteredTime"},
                        ResultPath=None, Next="OrderComplete"),
        "OrderComplete": {"Type": "Succeed"},
        "RejectOrder": task("reject", Next="OrderRejected"),
        "OrderRejected": {"Type": "Fail", "Error": "OrderRejected", "CausePath": "States.JsonToString($.validation)"},
        "ReleaseStock": task("release", Next="NotifyFailure"),
        "RefundPayment": task("refund", Next="ReleaseStock"),
        "NotifyFailure": task("notify", Next="OrderFailed"),
        "OrderFailed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    }
    return {"Comment": "Order processing", "StartAt": "ValidateOrder", "States": states}


def chain_definition(n: int = 20_000) -> dict:
    states = {f"Step{i}": {"Type": "Pass", "Parameters": {"step": i, "input.$": "$"},
                           "ResultPath": "$.last", "Next": f"Step{i + 1}"} for i in range(n - 1)}
    states[f"Step{n - 1}"] = {"Type": "Succeed"}
    return {"StartAt": "Step0", "States": states}


def median_seconds(function, argument, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = function(argument)
        times.append(time.perf_counter() - start)
        assert [d for d in result if d.severity == "ERROR"] == [], result
    return statistics.median(times)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    try:
        from asl.validation.schema import schema_diagnostics
    except ImportError:
        schema_diagnostics = None
    typical, huge = typical_definition(), chain_definition()
    validate(typical)  # first call pays the imports (jsonpath-ng, jsonschema)
    count = lambda d: str(sum(1 for _ in _all_states(d)))  # noqa: E731
    print(f"{'definition':<28}{'states':>8}{'validate':>12}{'schema':>12}{'semantic':>12}")
    for label, definition in (("typical order workflow", typical), ("generated chain", huge)):
        row = [median_seconds(validate, definition, rounds),
               median_seconds(schema_diagnostics, definition, rounds) if schema_diagnostics else None,
               median_seconds(semantic_diagnostics, definition, rounds)]
        cells = "".join(f"{t * 1000:>10.2f}ms" if t is not None else f"{'-':>12}" for t in row)
        print(f"{label:<28}{count(definition):>8}{cells}")
    print(f"(median of {rounds} rounds)")


def _all_states(definition: dict):
    pending = [definition]
    while pending:
        for state in pending.pop().get("States", {}).values():
            yield state
            pending.extend(state.get("Branches", []))
            if "ItemProcessor" in state:
                pending.append(state["ItemProcessor"])


if __name__ == "__main__":
    main()
