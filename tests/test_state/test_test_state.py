"""Offline TestState: one state, its input and a mock (or a callable) in; AWS's status,
nextState, output, error, cause and inspection data out.

Where a case reproduces a recorded AWS answer (the shapes of AWS's own TestState
responses, as recorded against AWS by LocalStack's parity tests), the expected values are
AWS's.
"""

import json
import time

import pytest

import asl
from asl import MissingResourceError, TaskFailed, ValidationError
from asl.test_state import TestStateResult
from asl.test_state import test_state as run_test_state

HELLO = {"Value": "HelloWorld"}
NESTED = {"initialData": {"fieldFromInput": "value from input", "otherField": "other"},
          "unrelatedData": {"someOtherField": 1234}}
MOCK_ERROR = {"errorOutput": {"error": "MockException", "cause": "Mock the cause of the error."}}

LAMBDA_INVOKE_JSONATA = {
    "QueryLanguage": "JSONata", "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
    "Arguments": {"FunctionName": "foo", "Payload": "bar"}, "End": True}


def jsonata_task(**fields):
    return {**LAMBDA_INVOKE_JSONATA, **fields}


# -- Pass ------------------------------------------------------------------------------------

def test_pass_at_info_has_no_inspection_data():
    result = run_test_state({"Type": "Pass", "End": True}, HELLO)
    assert isinstance(result, TestStateResult)
    assert (result.status, result.next_state, result.output) == ("SUCCEEDED", None, HELLO)
    assert result.inspection_data is None
    assert result.to_dict() == {"output": json.dumps(HELLO, separators=(",", ":")),
                                "status": "SUCCEEDED"}


def test_pass_debug_reports_every_stage_as_aws_does():
    result = run_test_state({"Type": "Pass", "End": True}, HELLO, inspection_level="DEBUG")
    assert result.inspection_data == {
        "input": HELLO, "afterInputPath": HELLO, "afterParameters": HELLO,
        "afterResultSelector": HELLO, "afterResultPath": HELLO}


def test_pass_io_stages():
    state = {"Type": "Pass", "InputPath": "$.initialData",
             "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
             "ResultPath": "$.modifiedData", "Next": "After"}
    result = run_test_state(state, json.dumps(NESTED), inspection_level="TRACE")
    modified = {"staticValue": "some value", "inputValue": "value from input"}
    assert result.status == "SUCCEEDED"
    assert result.next_state == "After"
    assert result.output == {**NESTED, "modifiedData": modified}
    assert result.inspection_data == {
        "input": NESTED,
        "afterInputPath": NESTED["initialData"],
        "afterParameters": modified,
        "afterResultSelector": modified,
        "afterResultPath": {**NESTED, "modifiedData": modified}}
    shaped = result.to_dict()
    assert shaped["nextState"] == "After"
    assert json.loads(shaped["output"]) == result.output
    assert json.loads(shaped["inspectionData"]["afterParameters"]) == modified


def test_pass_with_result_reports_result_not_the_input_stages():
    state = {"Type": "Pass", "Result": {"resultKey": "result value"},
             "ResultPath": "$.modifiedData", "End": True}
    result = run_test_state(state, NESTED, inspection_level="DEBUG")
    placed = {**NESTED, "modifiedData": {"resultKey": "result value"}}
    assert result.output == placed
    assert result.inspection_data == {
        "input": NESTED, "result": {"resultKey": "result value"},
        "afterResultSelector": {"resultKey": "result value"}, "afterResultPath": placed}


def test_output_path_applies_after_result_path():
    state = {"Type": "Pass", "Result": 7, "ResultPath": "$.seven", "OutputPath": "$.seven",
             "End": True}
    result = run_test_state(state, {"a": 1}, inspection_level="DEBUG")
    assert result.output == 7
    assert result.inspection_data["afterResultPath"] == {"a": 1, "seven": 7}


# -- Task ------------------------------------------------------------------------------------

def test_task_mock_result_is_the_whole_service_response():
    state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
             "Parameters": {"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"},
             "ResultSelector": {"body.$": "$.Payload"}, "ResultPath": "$.answer",
             "Next": "Done"}
    response = {"Payload": "function output", "SdkHttpMetadata": {"HttpStatusCode": 200}}
    result = run_test_state(state, {"FunctionName": "fn", "Payload": None},
                            mock={"result": json.dumps(response)}, inspection_level="DEBUG")
    assert result.status == "SUCCEEDED"
    assert result.next_state == "Done"
    expected = {"FunctionName": "fn", "Payload": None, "answer": {"body": "function output"}}
    assert result.output == expected
    assert result.inspection_data == {
        "input": {"FunctionName": "fn", "Payload": None},
        "afterInputPath": {"FunctionName": "fn", "Payload": None},
        "afterParameters": {"FunctionName": "fn", "Payload": None},
        "result": response,
        "afterResultSelector": {"body": "function output"},
        "afterResultPath": expected}


def test_task_mock_error_output_fails_the_state():
    result = run_test_state(LAMBDA_INVOKE_JSONATA, HELLO, mock=MOCK_ERROR,
                            inspection_level="DEBUG")
    assert (result.status, result.error, result.cause) == (
        "FAILED", "MockException", "Mock the cause of the error.")
    assert result.next_state is None and result.output is None
    assert result.inspection_data == {
        "input": HELLO, "afterArguments": {"FunctionName": "foo", "Payload": "bar"}}
    assert result.to_dict() == {"error": "MockException",
                                "cause": "Mock the cause of the error.",
                                "inspectionData": {
                                    "input": '{"Value":"HelloWorld"}',
                                    "afterArguments": '{"FunctionName":"foo","Payload":"bar"}'},
                                "status": "FAILED"}


def test_task_calls_the_callable_from_resources():
    calls = []

    def greet(event):
        calls.append(event)
        return event["inputData"] + "!"

    state = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:greet",
             "End": True}
    result = run_test_state(state, {"inputData": "HelloWorld"}, resources={"greet": greet},
                            inspection_level="DEBUG")
    assert result.status == "SUCCEEDED"
    assert result.output == "HelloWorld!"
    assert calls == [{"inputData": "HelloWorld"}]
    assert result.inspection_data == {
        "input": {"inputData": "HelloWorld"}, "afterInputPath": {"inputData": "HelloWorld"},
        "afterParameters": {"inputData": "HelloWorld"}, "result": "HelloWorld!",
        "afterResultSelector": "HelloWorld!", "afterResultPath": "HelloWorld!"}
    assert result.to_dict()["output"] == '"HelloWorld!"'


def test_callable_failure_is_the_task_error():
    def decline(event):
        raise TaskFailed("PaymentDeclined", "card declined")

    result = run_test_state({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge", "End": True}, {},
                            resources={"charge": decline})
    assert (result.status, result.error, result.cause) == (
        "FAILED", "PaymentDeclined", "card declined")


def test_lambda_invoke_callable_result_is_wrapped_as_aws_wraps_it():
    state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
             "Parameters": {"FunctionName": "double", "Payload.$": "$"},
             "OutputPath": "$.Payload", "End": True}
    result = run_test_state(state, {"n": 2}, resources={"double": lambda e: e["n"] * 2},
                            inspection_level="DEBUG")
    assert result.output == 4
    assert result.inspection_data["result"]["StatusCode"] == 200
    assert result.inspection_data["afterParameters"] == {"FunctionName": "double",
                                                         "Payload": {"n": 2}}


def test_unmocked_task_without_a_callable_is_refused():
    with pytest.raises(MissingResourceError):
        run_test_state({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:nowhere", "End": True}, {})


def test_wait_for_task_token_mock_is_the_token_answer():
    state = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
             "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
             "End": True}
    result = run_test_state(state, {}, mock={"result": '{"approved": true}'},
                            inspection_level="DEBUG")
    assert (result.status, result.output) == ("SUCCEEDED", {"approved": True})
    assert isinstance(result.inspection_data["afterParameters"]["MessageBody"]["token"], str)


# -- Retry and Catch -------------------------------------------------------------------------

RETRY = jsonata_task(Retry=[{"ErrorEquals": ["MockException"], "IntervalSeconds": 1,
                             "MaxAttempts": 5, "BackoffRate": 2.0}])


def test_retrier_with_attempts_left_is_retriable():
    result = run_test_state(RETRY, {"Values": ["first"]}, mock=MOCK_ERROR,
                            inspection_level="DEBUG")
    assert (result.status, result.error, result.cause) == (
        "RETRIABLE", "MockException", "Mock the cause of the error.")
    assert result.output is None and result.next_state is None
    assert result.inspection_data["errorDetails"] == {"retryIndex": 0,
                                                      "retryBackoffIntervalSeconds": 1}
    assert "output" not in result.to_dict()


def test_retrier_retry_count_gives_the_backoff_of_the_next_retry():
    # AWS, recorded: retrierRetryCount 4 of MaxAttempts 5 -> RETRIABLE, 1 * 2**4 s.
    result = run_test_state(RETRY, {"Values": ["first"]}, mock=MOCK_ERROR,
                            inspection_level="DEBUG",
                            state_configuration={"retrierRetryCount": 4})
    assert result.status == "RETRIABLE"
    assert result.inspection_data == {
        "input": {"Values": ["first"]},
        "afterArguments": {"FunctionName": "foo", "Payload": "bar"},
        "errorDetails": {"retryIndex": 0, "retryBackoffIntervalSeconds": 16}}


def test_exhausted_retrier_fails_with_its_index():
    # AWS, recorded: retrierRetryCount 5 of MaxAttempts 5 -> FAILED, errorDetails.retryIndex.
    started = time.monotonic()
    result = run_test_state(RETRY, {"Values": ["first"]}, mock=MOCK_ERROR,
                            inspection_level="DEBUG",
                            state_configuration={"retrierRetryCount": 5})
    assert time.monotonic() - started < 5          # no back-off was waited
    assert (result.status, result.error) == ("FAILED", "MockException")
    assert result.inspection_data["errorDetails"] == {"retryIndex": 0}


def test_retry_picks_the_first_matching_retrier_and_caps_the_delay():
    state = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "End": True,
             "Retry": [{"ErrorEquals": ["Other"]},
                       {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10,
                        "BackoffRate": 3, "MaxAttempts": 9, "MaxDelaySeconds": 60}]}
    result = run_test_state(state, {}, mock={"errorOutput": {"error": "Boom", "cause": "c"}},
                            inspection_level="DEBUG", state_configuration={"retrierRetryCount": 2})
    assert result.status == "RETRIABLE"
    assert result.inspection_data["errorDetails"] == {"retryIndex": 1,
                                                      "retryBackoffIntervalSeconds": 60}


def test_fast_forwarded_retries_never_call_the_callable_again():
    calls = []

    def flaky(event):
        calls.append(event)
        raise TaskFailed("Flaky", "try later")

    state = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky", "End": True,
             "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 3}]}
    result = run_test_state(state, {"x": 1}, resources={"flaky": flaky},
                            state_configuration={"retrierRetryCount": 2})
    assert result.status == "RETRIABLE"
    assert len(calls) == 1
    result = run_test_state(state, {"x": 1}, resources={"flaky": flaky},
                            state_configuration={"retrierRetryCount": 3})
    assert (result.status, result.error) == ("FAILED", "Flaky")


def test_retry_count_is_visible_in_the_context_object():
    state = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:count", "ResultPath": "$.retries", "End": True,
             "Parameters": {"n.$": "$$.State.RetryCount"},
             "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}]}
    result = run_test_state(state, {}, resources={"count": lambda e: e["n"]})
    assert result.output == {"retries": 0}


CATCH = jsonata_task(Catch=[
    {"ErrorEquals": ["MockException"], "Output": "{% $states.errorOutput %}",
     "Next": "HandleMockError"},
    {"ErrorEquals": ["States.TaskFailed"], "Output": "{% $states %}", "Next": "HandleThreshold"}])


def test_catcher_gives_caught_error_with_its_next_and_output():
    result = run_test_state(CATCH, HELLO, mock=MOCK_ERROR, inspection_level="DEBUG")
    assert (result.status, result.next_state) == ("CAUGHT_ERROR", "HandleMockError")
    assert (result.error, result.cause) == ("MockException", "Mock the cause of the error.")
    assert result.output == {"Error": "MockException", "Cause": "Mock the cause of the error."}
    assert result.inspection_data["errorDetails"] == {"catchIndex": 0}
    shaped = result.to_dict()
    assert shaped["status"] == "CAUGHT_ERROR" and shaped["nextState"] == "HandleMockError"
    assert json.loads(shaped["output"]) == result.output


def test_second_catcher_and_states_context_in_its_output():
    # AWS, recorded: States.TaskFailed goes to the second catcher, whose Output is
    # $states (input, context, errorOutput), with the state named "StateName".
    result = run_test_state(CATCH, HELLO, inspection_level="DEBUG",
                            mock={"errorOutput": {"error": "States.TaskFailed",
                                                  "cause": "The task failed."}})
    assert (result.status, result.next_state) == ("CAUGHT_ERROR", "HandleThreshold")
    assert result.inspection_data["errorDetails"] == {"catchIndex": 1}
    assert result.output["input"] == HELLO
    assert result.output["errorOutput"] == {"Error": "States.TaskFailed",
                                            "Cause": "The task failed."}
    context = result.output["context"]
    assert context["State"]["Name"] == "StateName"
    assert context["State"]["RetryCount"] == 0
    assert context["Execution"]["Input"] == HELLO
    assert ":express:" in context["Execution"]["Id"]


def test_jsonpath_catcher_places_the_error_output_with_its_result_path():
    state = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "Next": "Done",
             "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 1}],
             "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.error", "Next": "Recover"}]}
    result = run_test_state(state, {"order": 1}, inspection_level="DEBUG",
                            mock={"errorOutput": {"error": "Boom", "cause": "it broke"}},
                            state_configuration={"retrierRetryCount": 1})
    assert (result.status, result.next_state) == ("CAUGHT_ERROR", "Recover")
    assert result.output == {"order": 1, "error": {"Error": "Boom", "Cause": "it broke"}}
    assert result.inspection_data["errorDetails"] == {"catchIndex": 0, "retryIndex": 0}


def test_runtime_errors_are_never_retried_nor_caught():
    state = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "End": True, "ResultPath": "$.a.b",
             "Retry": [{"ErrorEquals": ["States.ALL"]}],
             "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}]}
    result = run_test_state(state, {"a": 5}, mock={"result": "1"})
    # ResultPathMatchFailure is no runtime error: retried, and caught once retries are over
    assert (result.status, result.error) == ("RETRIABLE", "States.ResultPathMatchFailure")
    result = run_test_state(state, {"a": 5}, mock={"result": "1"},
                            state_configuration={"retrierRetryCount": 3})
    assert (result.status, result.next_state) == ("CAUGHT_ERROR", "Recover")
    result = run_test_state({"Type": "Pass", "InputPath": "$.missing", "End": True}, {})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "'StateName'" in result.cause


# -- Choice, Wait, Succeed, Fail ----------------------------------------------------------------

CHOICE = {"Type": "Choice", "Default": "Other",
          "Choices": [{"And": [{"Variable": "$.type", "StringEquals": "Private"},
                               {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                               {"Variable": "$.value", "NumericLessThan": 30}],
                       "Next": "ValueInTwenties"}]}


def test_choice_reports_the_next_state():
    # AWS, recorded: nextState ValueInTwenties, output = input; DEBUG: input, afterInputPath.
    result = run_test_state(CHOICE, {"type": "Private", "value": 22}, inspection_level="DEBUG")
    assert (result.status, result.next_state) == ("SUCCEEDED", "ValueInTwenties")
    assert result.output == {"type": "Private", "value": 22}
    assert result.inspection_data == {"input": {"type": "Private", "value": 22},
                                      "afterInputPath": {"type": "Private", "value": 22}}
    other = run_test_state(CHOICE, {"type": "Public", "value": 22})
    assert other.next_state == "Other"


def test_choice_without_a_match_fails():
    choice = {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "A"}]}
    result = run_test_state(choice, {"n": 2})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "StateName" in result.cause


def test_wait_does_not_wait():
    started = time.monotonic()
    result = run_test_state({"Type": "Wait", "Seconds": 3600, "Next": "Later"}, {"a": 1},
                            inspection_level="DEBUG")
    assert time.monotonic() - started < 5
    assert (result.status, result.next_state, result.output) == ("SUCCEEDED", "Later", {"a": 1})
    assert result.inspection_data == {"input": {"a": 1}, "afterInputPath": {"a": 1}}
    result = run_test_state({"Type": "Wait", "SecondsPath": "$.s", "End": True}, {"s": 10 ** 6})
    assert result.status == "SUCCEEDED"


def test_succeed():
    result = run_test_state({"Type": "Succeed", "OutputPath": "$.Value"}, HELLO,
                            inspection_level="DEBUG")
    assert (result.status, result.next_state, result.output) == ("SUCCEEDED", None, "HelloWorld")
    assert result.inspection_data == {"input": HELLO, "afterInputPath": HELLO}


def test_fail():
    # AWS, recorded: FAILED with the state's Error and Cause; DEBUG: input, afterInputPath.
    state = {"Type": "Fail", "Error": "SomeFailure",
             "Cause": "This state machines raises a 'SomeFailure' failure."}
    result = run_test_state(state, HELLO, inspection_level="DEBUG")
    assert (result.status, result.error, result.cause) == (
        "FAILED", "SomeFailure", "This state machines raises a 'SomeFailure' failure.")
    assert result.inspection_data == {"input": HELLO, "afterInputPath": HELLO}
    assert result.to_dict() == {
        "error": "SomeFailure", "cause": "This state machines raises a 'SomeFailure' failure.",
        "inspectionData": {"input": '{"Value":"HelloWorld"}',
                           "afterInputPath": '{"Value":"HelloWorld"}'},
        "status": "FAILED"}


def test_fail_with_error_path():
    state = {"Type": "Fail", "ErrorPath": "$.code", "CausePath": "States.Format('no {}', $.id)"}
    result = run_test_state(state, {"code": "E42", "id": 7})
    assert (result.status, result.error, result.cause) == ("FAILED", "E42", "no 7")


# -- JSONata and variables -----------------------------------------------------------------------

def test_jsonata_task_arguments_result_and_assigned_variables():
    state = jsonata_task(
        Arguments={"FunctionName": "price", "Payload": {"sku": "{% $states.input.sku %}",
                                                        "rate": "{% $rate %}"}},
        Assign={"last": "{% $states.result.Payload.total %}"},
        Output={"total": "{% $states.result.Payload.total %}", "was": "{% $last %}"},
        End=None, Next="Ship")
    state.pop("End")
    mocked = {"Payload": {"total": 12}, "StatusCode": 200}
    result = run_test_state(state, {"sku": "A-1"}, mock={"result": json.dumps(mocked)},
                            variables={"rate": 1.2, "last": None}, inspection_level="DEBUG")
    assert (result.status, result.next_state) == ("SUCCEEDED", "Ship")
    assert result.output == {"total": 12, "was": None}   # Output reads the variables on entry
    assert result.inspection_data == {
        "input": {"sku": "A-1"},
        "afterArguments": {"FunctionName": "price", "Payload": {"sku": "A-1", "rate": 1.2}},
        "result": mocked,
        "variables": {"rate": 1.2, "last": 12}}
    assert json.loads(result.to_dict()["inspectionData"]["variables"]) == {"rate": 1.2,
                                                                           "last": 12}


def test_jsonata_pass_with_variables_as_json_text():
    # AWS, recorded: a JSONata state given variables: inspection data input and variables.
    state = {"QueryLanguage": "JSONata", "Type": "Pass", "End": True,
             "Output": {"ja_var_access": "{% $var_input_value %}",
                        "ja_expr": "{% $sum($states.input.input_values) + $var_constant_1 %}",
                        "ja_states_input": "{% $states.input %}"}}
    result = run_test_state(state, '{"input_values": [1, 2, 3]}', inspection_level="TRACE",
                            variables='{"var_input_value": "test_value", "var_constant_1": 10}')
    assert result.output == {"ja_var_access": "test_value", "ja_expr": 16,
                             "ja_states_input": {"input_values": [1, 2, 3]}}
    assert result.inspection_data == {
        "input": {"input_values": [1, 2, 3]},
        "variables": {"var_input_value": "test_value", "var_constant_1": 10}}


def test_jsonata_choice_condition_and_assign():
    state = {"QueryLanguage": "JSONata", "Type": "Choice", "Default": "Ask for Approval",
             "Choices": [{"Condition": "{% $states.input.cost < 10 %}",
                          "Assign": {"approved": True}, "Next": "Purchase Approved"}]}
    small = run_test_state(state, {"cost": 9}, inspection_level="TRACE")
    assert (small.next_state, small.output) == ("Purchase Approved", {"cost": 9})
    assert small.inspection_data == {"input": {"cost": 9}, "variables": {"approved": True}}
    large = run_test_state(state, {"cost": 10}, inspection_level="TRACE")
    assert large.next_state == "Ask for Approval"
    assert large.inspection_data == {"input": {"cost": 10}}


def test_jsonpath_assign_updates_the_variables():
    state = {"Type": "Pass", "Assign": {"seen.$": "$.id", "count.$": "$count"}, "End": True}
    result = run_test_state(state, {"id": 3}, variables={"count": 2}, inspection_level="DEBUG")
    assert result.inspection_data["variables"] == {"count": 2, "seen": 3}


def test_jsonata_query_error_is_a_failure():
    state = {"QueryLanguage": "JSONata", "Type": "Pass", "Output": "{% $undefined.x %}",
             "End": True}
    result = run_test_state(state, {})
    assert result.status in ("SUCCEEDED", "FAILED")
    state["Output"] = "{% $error('boom') %}"
    result = run_test_state(state, {})
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")


# -- the context object ---------------------------------------------------------------------------

CONTEXT = {
    "Execution": {"Id": "arn:aws:states:::execution:MyStateMachine:execution-name-12345",
                  "Input": {"message": "test data"}, "Name": "execution-name-12345",
                  "RoleArn": "arn:aws:iam:::role/StepFunctionsRole",
                  "StartTime": "2025-01-15T10:30:00.000Z"},
    "State": {"EnteredTime": "2025-01-15T10:30:01.500Z", "Name": "MyTaskState",
              "RetryCount": 0},
    "StateMachine": {"Id": "arn:aws:states:::stateMachine:MyStateMachine",
                     "Name": "MyStateMachine"}}


def test_given_context_is_what_the_state_sees():
    state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
             "Parameters": {"FunctionName": "f", "Payload.$": "$"},
             "ResultSelector": {"ctx.$": "$$"}, "ResultPath": "$.result", "End": True}
    result = run_test_state(state, {"x": 1}, context=json.dumps(CONTEXT),
                            mock={"result": '{"pokemon": "pikachu"}'})
    assert result.output == {"x": 1, "result": {"ctx": CONTEXT}}


def test_context_is_refused_where_aws_refuses_it():
    with pytest.raises(ValidationError):
        run_test_state({"Type": "Pass", "End": True}, {}, context=CONTEXT)
    with pytest.raises(ValidationError, match="Map"):
        run_test_state({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:r", "End": True}, {},
                       context={"Map": {}}, mock={"result": "{}"})


# -- the whole machine and state_name ----------------------------------------------------------

MACHINE = {
    "StartAt": "Approval Required",
    "QueryLanguage": "JSONata",
    "States": {
        "Approval Required": {"Type": "Choice", "Default": "Ask for Approval",
                              "Choices": [{"Condition": "{% $states.input.cost < 10 %}",
                                           "Next": "Purchase Approved"}]},
        "Ask for Approval": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                             "Arguments": {"Method": "POST", "ApiEndpoint": "example.com",
                                           "RequestBody": {"cost": "{% $states.input.cost %}"}},
                             "Output": "{% $merge([$states.result, {'approved_by': 'Mary'}]) %}",
                             "Next": "Check Approval"},
        "Check Approval": {"Type": "Choice", "Default": "Not Approved",
                           "Choices": [{"Condition": "{% $states.input.approval %}",
                                        "Next": "Purchase Approved"}]},
        "Not Approved": {"Type": "Fail", "Error": "Denied"},
        "Purchase Approved": {"Type": "Pass", "Next": "Branches"},
        "Branches": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Output": {"in": 1},
                                                      "End": True}}}]},
    },
}


def test_whole_machine_with_state_name():
    # After AWS's worked example (the approval workflow): each state tested on its own.
    small = run_test_state(MACHINE, {"cost": 9}, state_name="Approval Required",
                           inspection_level="TRACE")
    assert (small.status, small.next_state, small.output) == (
        "SUCCEEDED", "Purchase Approved", {"cost": 9})
    assert small.inspection_data == {"input": {"cost": 9}}
    large = run_test_state(json.dumps(MACHINE), {"cost": 10}, state_name="Approval Required")
    assert large.next_state == "Ask for Approval"
    ask = run_test_state(MACHINE, {"cost": 10}, state_name="Ask for Approval",
                         mock={"result": '{"approval": true }'}, inspection_level="TRACE")
    assert (ask.status, ask.next_state) == ("SUCCEEDED", "Check Approval")
    assert ask.output == {"approval": True, "approved_by": "Mary"}
    assert ask.inspection_data == {
        "input": {"cost": 10},
        "afterArguments": {"Method": "POST", "ApiEndpoint": "example.com",
                           "RequestBody": {"cost": 10}},
        "result": {"approval": True}}
    denied = run_test_state(MACHINE, {"approval": False}, state_name="Check Approval")
    assert denied.next_state == "Not Approved"
    failed = run_test_state(MACHINE, {}, state_name="Not Approved")
    assert (failed.status, failed.error) == ("FAILED", "Denied")


def test_state_name_may_name_a_nested_state():
    result = run_test_state(MACHINE, {}, state_name="Inner")
    assert (result.status, result.output) == ("SUCCEEDED", {"in": 1})


def test_state_name_must_exist_and_needs_a_machine():
    with pytest.raises(ValidationError, match="no state named"):
        run_test_state(MACHINE, {}, state_name="Nope")
    with pytest.raises(ValidationError, match="fully-formed"):
        run_test_state({"Type": "Pass", "End": True}, {}, state_name="X")
    with pytest.raises(ValidationError, match="state_name"):
        run_test_state(MACHINE, {})


def test_an_invalid_machine_is_refused():
    broken = {**MACHINE, "States": {**MACHINE["States"],
                                    "Purchase Approved": {"Type": "Pass", "Next": "X"}}}
    with pytest.raises(ValidationError):
        run_test_state(broken, {}, state_name="Approval Required")


# -- Parallel and Map (with a mock only) -------------------------------------------------------

PARALLEL = {"Type": "Parallel", "Next": "After", "ResultSelector": {"first.$": "$[0]"},
            "ResultPath": "$.out",
            "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                         {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]}


def test_parallel_mock_result_is_the_branches_outputs():
    result = run_test_state(PARALLEL, {"in": 1}, mock={"result": '[{"a": 1}, {"b": 2}]'},
                            inspection_level="DEBUG")
    assert (result.status, result.next_state) == ("SUCCEEDED", "After")
    assert result.output == {"in": 1, "out": {"first": {"a": 1}}}
    assert result.inspection_data["result"] == [{"a": 1}, {"b": 2}]
    assert result.inspection_data["afterResultSelector"] == {"first": {"a": 1}}


def test_parallel_mock_error_goes_to_retry_and_catch():
    state = {**PARALLEL, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}]}
    result = run_test_state(state, {"in": 1}, mock=MOCK_ERROR, inspection_level="DEBUG",
                            state_configuration={"errorCausedByState": "B"})
    assert (result.status, result.next_state) == ("CAUGHT_ERROR", "Recover")
    assert result.output == {"Error": "MockException", "Cause": "Mock the cause of the error."}


def test_parallel_and_map_need_a_mock_and_the_right_shape():
    with pytest.raises(ValidationError, match="does not support Map or Parallel"):
        run_test_state(PARALLEL, {})
    with pytest.raises(ValidationError, match="same number of items"):
        run_test_state(PARALLEL, {}, mock={"result": "[1]"})
    with pytest.raises(ValidationError, match="must be an array"):
        run_test_state(PARALLEL, {}, mock={"result": "{}"})


MAP = {"Type": "Map", "ItemsPath": "$.Values", "ToleratedFailureCount": 1, "End": True,
       "ItemSelector": {"v.$": "$$.Map.Item.Value"},
       "ItemProcessor": {"StartAt": "Work", "States": {
           "Work": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "End": True}}}}


def test_map_mock_result_and_inspection():
    result = run_test_state(MAP, {"Values": ["first", "second", "third"]},
                            mock={"result": "[1, 1, 1]"}, inspection_level="DEBUG",
                            state_configuration={"mapIterationFailureCount": 1})
    assert (result.status, result.output) == ("SUCCEEDED", [1, 1, 1])
    data = result.inspection_data
    assert data["afterItemsPath"] == ["first", "second", "third"]
    assert data["afterItemSelector"] == [{"v": "first"}, {"v": "second"}, {"v": "third"}]
    assert data["maxConcurrency"] == 0 and data["toleratedFailureCount"] == 1
    assert result.to_dict()["inspectionData"]["maxConcurrency"] == 0


def test_map_iteration_failures_beyond_tolerance():
    # AWS, recorded: mapIterationFailureCount 2 over ToleratedFailureCount 1.
    result = run_test_state(MAP, {"Values": ["first", "second", "third"]},
                            mock={"result": "[0, 0, 1]"},
                            state_configuration={"mapIterationFailureCount": 2})
    assert (result.status, result.error, result.cause) == (
        "FAILED", "States.ExceedToleratedFailureThreshold",
        "The specified tolerated failure threshold was exceeded")
    retrying = {**MAP, "Retry": [{"ErrorEquals": ["States.ALL"]}]}
    result = run_test_state(retrying, {"Values": [1, 2, 3]}, mock={"result": "[0, 0, 1]"},
                            state_configuration={"mapIterationFailureCount": 2},
                            inspection_level="DEBUG")
    assert result.status == "RETRIABLE"
    assert result.inspection_data["errorDetails"] == {"retryIndex": 0,
                                                      "retryBackoffIntervalSeconds": 1}


DISTRIBUTED = {
    "QueryLanguage": "JSONata", "Type": "Map", "End": True, "MaxConcurrency": 1,
    "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                   "ReaderConfig": {"InputType": "JSON"},
                   "Arguments": {"Bucket": "{% $states.input.Bucket %}",
                                 "Key": "{% $states.input.Key %}"}},
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                      "StartAt": "HandleItem",
                      "States": {"HandleItem": {"Type": "Pass", "End": True}}}}


def test_distributed_map_reads_map_item_reader_data():
    # AWS, recorded: output [1, 4, 9]; DEBUG: input and maxConcurrency.
    source = {"Bucket": "test-bucket", "Key": "test-key"}
    result = run_test_state(DISTRIBUTED, source, mock={"result": "[1, 4, 9]"},
                            inspection_level="DEBUG",
                            state_configuration={"mapItemReaderData": "[1, 2, 3]"})
    assert (result.status, result.output) == ("SUCCEEDED", [1, 4, 9])
    assert result.inspection_data == {"input": source, "maxConcurrency": 1}
    failed = run_test_state(DISTRIBUTED, source, mock=MOCK_ERROR, inspection_level="DEBUG",
                            state_configuration={"mapItemReaderData": "[1, 2, 3]",
                                                 "errorCausedByState": "HandleItem",
                                                 "mapIterationFailureCount": 2})
    assert (failed.status, failed.error) == ("FAILED", "MockException")
    assert failed.inspection_data == {"input": source, "maxConcurrency": 1}
    with pytest.raises(ValidationError, match="mapItemReaderData"):
        run_test_state(DISTRIBUTED, source, mock={"result": "[1]"})
    with pytest.raises(ValidationError, match="errorCausedByState"):
        run_test_state(DISTRIBUTED, source, mock=MOCK_ERROR,
                       state_configuration={"errorCausedByState": "Elsewhere",
                                            "mapItemReaderData": "[]"})


def test_map_with_result_writer_mock_is_the_whole_result():
    writer = {**DISTRIBUTED, "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                                              "Arguments": {"Bucket": "out", "Prefix": "p"}}}
    written = {"MapRunArn": "arn:run", "ResultWriterDetails": {"Bucket": "out", "Key": "p/m"}}
    result = run_test_state(writer, {"Bucket": "b", "Key": "k"},
                            mock={"result": json.dumps(written)},
                            state_configuration={"mapItemReaderData": "[1]"})
    assert (result.status, result.output) == ("SUCCEEDED", written)
    with pytest.raises(ValidationError, match="JSON object"):
        run_test_state(writer, {}, mock={"result": "[1]"},
                       state_configuration={"mapItemReaderData": "[1]"})


def test_map_mock_result_must_be_an_array():
    with pytest.raises(ValidationError, match="must be an array"):
        run_test_state(MAP, {"Values": []}, mock={"result": '{"a": 1}'})


# -- what TestState refuses ------------------------------------------------------------------------

@pytest.mark.parametrize("kind, state", [
    ("Pass", {"Type": "Pass", "End": True}),
    ("Fail", {"Type": "Fail", "Error": "E"}),
    ("Succeed", {"Type": "Succeed"}),
    ("Wait", {"Type": "Wait", "Seconds": 1, "End": True}),
])
def test_mock_only_for_task_map_parallel(kind, state):
    for mock in ({"result": '{"mock": "the unmockable"}'}, MOCK_ERROR):
        with pytest.raises(ValidationError,
                           match=f"State type '{kind}' is not supported when a mock is specified"):
            run_test_state(state, {}, mock=mock)


def test_mock_shape_is_checked():
    task = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:r", "End": True}
    with pytest.raises(ValidationError, match=r"only one of the following fields"):
        run_test_state(task, {}, mock={"result": "{}", **MOCK_ERROR})
    with pytest.raises(ValidationError, match="valid JSON"):
        run_test_state(task, {}, mock={"result": "not JSON string", "fieldValidationMode": "NONE"})
    with pytest.raises(ValidationError, match="RevealSecrets"):
        run_test_state(task, {}, mock={"result": "{}"}, reveal_secrets=True)
    with pytest.raises(ValidationError, match="fieldValidationMode"):
        run_test_state(task, {}, mock={"result": "{}", "fieldValidationMode": "LAX"})


def test_invalid_state_definitions_are_refused():
    with pytest.raises(ValidationError) as raised:
        run_test_state({"Type": "Pass", "Next": "A", "End": True}, {})
    assert raised.value.diagnostics
    assert all(not d.location.startswith("/States/") for d in raised.value.diagnostics)
    with pytest.raises(ValidationError):
        run_test_state({"Type": "Nope"}, {})
    with pytest.raises(ValidationError):
        run_test_state("{not json", {})
    with pytest.raises(ValidationError):
        run_test_state({"Type": "Pass", "End": True}, {}, inspection_level="VERBOSE")
    with pytest.raises(ValidationError):
        run_test_state({"Type": "Pass", "End": True}, {},
                       state_configuration={"retrierRetryCount": -1})


def test_invalid_input_is_refused():
    with pytest.raises(asl.InvalidExecutionInput):
        run_test_state({"Type": "Pass", "End": True}, {"x": float("nan")})
    with pytest.raises(ValidationError):
        run_test_state({"Type": "Pass", "End": True}, "{oops")


def test_definition_as_json_text_and_default_input():
    result = run_test_state('{"Type": "Pass", "Result": {"ok": true}, "End": true}')
    assert (result.status, result.output) == ("SUCCEEDED", {"ok": True})


def test_one_engine_test_state_agrees_with_an_execution():
    """The same state, run by an execution and by TestState, gives the same output."""
    state = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:add", "InputPath": "$.numbers",
             "ResultSelector": {"sum.$": "$.total"}, "ResultPath": "$.result",
             "OutputPath": "$.result", "End": True}
    add = {"add": lambda numbers: {"total": sum(numbers)}}
    data = {"numbers": [1, 2, 3]}
    machine = asl.StateMachine({"StartAt": "S", "States": {"S": state}})
    executed = machine.execute(data, resources=add)
    tested = run_test_state(state, data, resources=add)
    assert executed.output == tested.output == {"sum": 6}
