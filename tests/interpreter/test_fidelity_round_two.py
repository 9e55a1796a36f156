"""Differences found against executions recorded on AWS (issue 13), each closed here.

Evidence for each is named in docs/fidelity.md.
"""

import base64
import json

import pytest

import asl
from asl.testing import Fault, FaultPlan, run_with_faults

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"


def _run(definition, input=None, resources=None, **options):
    machine = asl.StateMachine(definition, **{k: options.pop(k) for k in ("type",) if k in options})
    return machine.execute({} if input is None else input, resources or {},
                           clock=asl.VirtualClock(), **options)


def test_timeout_seconds_path_reads_the_input_after_input_path_not_parameters():
    seen = []

    def work(payload, context):
        seen.append(payload)
        context.sleep(3)          # longer than 2 s, shorter than 5 s
        return "done"

    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": LAMBDA, "InputPath": "$.job",
        "Parameters": {"limit": 5}, "TimeoutSecondsPath": "$.limit", "End": True}}}
    result = _run(definition, {"job": {"limit": 2}}, {"work": work})
    assert seen == [{"limit": 5}]
    assert (result.status, result.error) == ("FAILED", "States.Timeout")


def test_a_sync_integration_gets_a_task_token():
    received = []
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"Input": {"token.$": "$$.Task.Token"}}, "End": True}}}
    result = _run(definition, {}, {"arn:aws:states:::states:startExecution.sync:2":
                                   lambda payload: received.append(payload) or {"Output": "{}"}})
    assert result.status == "SUCCEEDED"
    token = received[0]["Input"]["token"]
    assert isinstance(token, str) and len(token) >= 32


def test_bracket_notation_with_escaped_characters_finds_the_key():
    definition = {"StartAt": "A", "States": {"A": {
        "Type": "Pass", "Parameters": {"v.$": "$['Test\\\\\"Name\"']"}, "End": True}}}
    assert _run(definition, {'Test\\"Name"': 42}).output == {"v": 42}


def _reader_machine(reader_config, jsonata=False):
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                 "StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}
    reader = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": reader_config}
    reader["Arguments" if jsonata else "Parameters"] = {"Bucket": "b", "Key": "items.json"}
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemReader": reader, "ItemProcessor": processor, "End": True}}}
    if jsonata:
        definition["QueryLanguage"] = "JSONata"
    return definition


def _reading(content):
    return {"arn:aws:states:::s3:getObject": lambda payload: content}


@pytest.mark.parametrize("config, input, count", [
    ({"InputType": "JSON", "MaxItemsPath": "$.max"}, {"max": 2}, 2),
    ({"InputType": "JSON", "MaxItemsPath": "$.max"}, {"max": "3"}, 3),
    ({"InputType": "JSON"}, {}, 5),
])
def test_max_items_path_is_honoured(config, input, count):
    result = _run(_reader_machine(config), input, _reading(json.dumps([1, 2, 3, 4, 5])))
    assert result.status == "SUCCEEDED"
    assert len(result.output) == count


def test_a_jsonata_max_items_is_honoured():
    definition = _reader_machine({"InputType": "JSON", "MaxItems": "{% $states.input.max %}"},
                                 jsonata=True)
    result = _run(definition, {"max": 1}, _reading("[1, 2, 3]"))
    assert result.output == [1]


@pytest.mark.parametrize("max_items", [0, -1])
def test_a_non_positive_max_items_from_the_input_fails_the_reader(max_items):
    result = _run(_reader_machine({"InputType": "JSON", "MaxItemsPath": "$.max"}),
                  {"max": max_items}, _reading("[1, 2]"))
    assert (result.status, result.error, result.cause) == (
        "FAILED", "States.ItemReaderFailed", "field MaxItems must be positive")


def test_a_json_object_read_by_an_item_reader_fails_the_reader():
    result = _run(_reader_machine({"InputType": "JSON"}), {}, _reading('{"a": 1}'))
    assert (result.status, result.error, result.cause) == (
        "FAILED", "States.ItemReaderFailed", "Attempting to map over non-iterable node.")


def test_the_map_run_arn_uses_the_label_and_the_writer_reuses_the_map_run_id():
    definition = _reader_machine({"InputType": "JSON"})
    definition["States"]["M"]["Label"] = "Batches"
    definition["States"]["M"]["ResultWriter"] = {"Resource": "arn:aws:states:::s3:putObject",
                                                 "Parameters": {"Bucket": "out", "Prefix": "runs"}}
    resources = dict(_reading("[1]"), **{"arn:aws:states:::s3:putObject": lambda payload: {}})
    result = _run(definition, {}, resources)
    arn = result.output["MapRunArn"]
    assert ":mapRun:StateMachine/Batches:" in arn
    run_id = arn.rpartition(":")[2]
    assert result.output["ResultWriterDetails"] == {"Bucket": "out",
                                                    "Key": f"runs/{run_id}/manifest.json"}
    started = [e for e in result.history if e["type"] == "MapRunStarted"]
    assert started[0]["mapRunStartedEventDetails"]["mapRunArn"] == arn


def test_states_all_catches_an_oversized_task_result():
    definition = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": LAMBDA, "End": True,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "End": True}}}
    result = _run(definition, {}, {"work": lambda payload: "x" * 300_000})
    assert result.status == "SUCCEEDED"
    assert result.output["Error"] == "States.DataLimitExceeded"


def test_task_failed_does_not_catch_an_oversized_result():
    definition = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": LAMBDA, "End": True,
              "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "End": True}}}
    result = _run(definition, {}, {"work": lambda payload: "x" * 300_000})
    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")


def test_send_task_failure_without_error_or_cause_catches_as_nulls():
    definition = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
              "Parameters": {"FunctionName": "work", "Payload": {"token.$": "$$.Task.Token"}},
              "End": True, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "End": True}}}
    execution = asl.StateMachine(definition).start({}, {"work": lambda payload: None})
    execution.send_task_failure(execution.wait_for_task_token())
    result = execution.result(timeout=5)
    assert result.status == "SUCCEEDED"
    assert result.output == {"Error": None, "Cause": None}
    failed = [e for e in result.history if e["type"] == "TaskFailed"][0]
    assert failed["taskFailedEventDetails"] == {"resourceType": "lambda",
                                                "resource": "invoke.waitForTaskToken"}


def test_a_fail_state_without_error_or_cause_still_catches_as_empty_strings():
    branch = {"StartAt": "F", "States": {"F": {"Type": "Fail"}}}
    definition = {"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [branch], "End": True,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "End": True}}}
    assert _run(definition).output == {"Error": "", "Cause": ""}


@pytest.mark.parametrize("log_type", ["Tail", "None"])
def test_lambda_invoke_log_type_tail_carries_the_log_result(log_type):
    def work(payload, context):
        context.log("processing")
        context.log("done")
        return {"ok": True}

    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "work", "Payload": {}, "LogType": log_type}, "End": True}}}
    result = _run(definition, {}, {"work": work})
    assert result.output["Payload"] == {"ok": True}
    if log_type == "Tail":
        assert base64.b64decode(result.output["LogResult"]).decode() == "processing\ndone\n"
    else:
        assert "LogResult" not in result.output


def test_an_express_machine_has_the_express_context_and_arns():
    definition = {"StartAt": "A", "States": {"A": {
        "Type": "Pass", "Parameters": {"execution.$": "$$.Execution"}, "End": True}}}
    result = _run(definition, {}, type="EXPRESS", name="run-1")
    execution = result.output["execution"]
    assert "RedriveCount" not in execution
    assert execution["Id"].startswith(
        "arn:aws:states:us-east-1:123456789012:express:StateMachine:run-1:")
    standard = _run(definition, {}, name="run-1").output["execution"]
    assert standard["RedriveCount"] == 0


@pytest.mark.parametrize("resource", ["arn:aws:states:::lambda:invoke.waitForTaskToken",
                                      "arn:aws:states:::states:startExecution.sync"])
def test_an_express_machine_refuses_callback_and_sync_patterns(resource):
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": resource, "Parameters": {"FunctionName": "f"}, "End": True}}}
    asl.StateMachine(definition)                        # STANDARD: fine
    with pytest.raises(asl.ValidationError) as caught:
        asl.StateMachine(definition, type="EXPRESS")
    assert caught.value.diagnostics[0].location == "/States/T/Resource"


def test_an_express_machine_refuses_a_distributed_map_of_standard_children():
    definition = _reader_machine({"InputType": "JSON"})
    with pytest.raises(asl.ValidationError):
        asl.StateMachine(definition, type="EXPRESS")
    definition["States"]["M"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "EXPRESS"
    asl.StateMachine(definition, type="EXPRESS")


def test_a_fault_run_reads_through_to_its_result():
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA,
                                                   "End": True}}}
    run = run_with_faults(asl.StateMachine(definition), {"work": lambda payload: payload},
                          FaultPlan.of(Fault("T")), {"x": 1})
    assert (run.status, run.error) == (run.result.status, run.result.error) == (
        "FAILED", "States.TaskFailed")
    assert run.cause == run.result.cause
    assert run.output is None and run.states == ["T"]
    assert run.history == run.result.history


def test_raw_result_is_exported_and_returned_exactly():
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "work", "Payload": {}}, "End": True}}}
    whole = {"StatusCode": 200, "Payload": {"mocked": True}}
    result = _run(definition, {}, {"work": lambda payload: asl.RawResult(whole)})
    assert result.output == whole


def test_a_processor_config_inside_a_legacy_iterator_is_accepted_and_runs():
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "Iterator": {
        "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I",
        "States": {"I": {"Type": "Pass", "End": True}}}}}}
    assert asl.validate(definition) == []
    assert _run(definition, [1, 2]).output == [1, 2]


def test_a_static_max_items_of_zero_is_accepted_and_means_no_limit():
    definition = _reader_machine({"InputType": "JSON", "MaxItems": 0})
    assert asl.validate(definition) == []
    assert _run(definition, {}, _reading("[1, 2, 3]")).output == [1, 2, 3]
