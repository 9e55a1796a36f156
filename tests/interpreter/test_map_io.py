"""Distributed Map I/O through the resources mapping: ItemReader supplies the items,
ResultWriter receives the results (reference section 8, Map)."""

import re

import pytest

import asl

from .support import ACCOUNT, MACHINE, REGION, run

DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def reader_map(reader: dict, processor_state: dict | None = None, **fields) -> dict:
    state = {"Type": "Map", "End": True, "ItemReader": reader,
             "ItemProcessor": {"ProcessorConfig": DISTRIBUTED, "StartAt": "P",
                               "States": {"P": processor_state or {"Type": "Pass", "End": True}}}}
    state.update(fields)
    return {"StartAt": "M", "States": {"M": state}}


@pytest.mark.parametrize("config, content, items", [
    ({"InputType": "JSON"}, '[{"a": 1}, {"a": 2}]', [{"a": 1}, {"a": 2}]),
    ({"InputType": "JSONL"}, '{"a": 1}\n{"a": 2}\n', [{"a": 1}, {"a": 2}]),
    ({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}, "a,b\n1,2\n3,4,5\n",
     [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]),                       # long rows are truncated
    ({"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["x", "y"]}, "1,2\n3\n",
     [{"x": "1", "y": "2"}, {"x": "3", "y": ""}]),                        # short rows padded with ""
    ({"InputType": "CSV", "CSVDelimiter": "PIPE", "CSVHeaderLocation": "FIRST_ROW"}, "a|b\n1|2\n",
     [{"a": "1", "b": "2"}]),
    ({"InputType": "JSON", "MaxItems": 2}, "[1, 2, 3, 4]", [1, 2]),
])
def test_item_reader_formats(config, content, items):
    received = []

    def get_object(arguments):
        received.append(arguments)
        return content

    definition = reader_map({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config,
                             "Parameters": {"Bucket.$": "$.bucket", "Key": "data"}})
    result, _, _ = run(definition, {"bucket": "b"}, resources={"arn:aws:states:::s3:getObject": get_object})
    assert (result.status, result.output) == ("SUCCEEDED", items), (result.error, result.cause)
    assert received == [{"Bucket": "b", "Key": "data"}]


def test_item_reader_duplicate_csv_headers():
    """Reference 8 [observed]: States.ItemReaderFailed, 'CSV headers cannot contain duplicates.'"""
    definition = reader_map({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                             "Parameters": {"Bucket": "b", "Key": "k"}})
    result, _, _ = run(definition, {}, resources={"arn:aws:states:::s3:getObject": lambda a: "a,a\n1,2\n"})
    assert (result.status, result.error) == ("FAILED", "States.ItemReaderFailed")
    assert "CSV headers cannot contain duplicates." in result.cause


def test_item_reader_failure_is_catchable():
    def broken(arguments):
        raise RuntimeError("NoSuchKey")

    definition = reader_map({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                             "Parameters": {"Bucket": "b", "Key": "k"}},
                            Catch=[{"ErrorEquals": ["States.ItemReaderFailed"], "Next": "Handled"}])
    definition["States"]["M"].pop("End")
    definition["States"]["M"]["Next"] = "Done"
    definition["States"].update({"Handled": {"Type": "Pass", "End": True}, "Done": {"Type": "Succeed"}})
    result, _, _ = run(definition, {}, resources={"arn:aws:states:::s3:getObject": broken})
    assert result.status == "SUCCEEDED"
    assert result.output["Error"] == "States.ItemReaderFailed"


def test_result_writer_receives_the_results_and_the_map_returns_the_manifest():
    """Reference 8 [observed]: with ResultWriter the result is {MapRunArn,
    ResultWriterDetails: {Bucket, Key: <prefix>/<uuid>/manifest.json}}."""
    written = []
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True,
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "results", "Prefix": "runs"}},
        "ItemProcessor": {"ProcessorConfig": DISTRIBUTED, "StartAt": "P", "States": {
            "P": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($, $)"}, "End": True}}}}}}
    result, _, _ = run(definition, [1, 2, 3], resources={"arn:aws:states:::s3:putObject": written.append})
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert written == [{"Bucket": "results", "Prefix": "runs", "Results": [{"doubled": 2}, {"doubled": 4}, {"doubled": 6}]}]
    output = result.output
    assert set(output) == {"MapRunArn", "ResultWriterDetails"}
    assert re.fullmatch(rf"arn:aws:states:{REGION}:{ACCOUNT}:mapRun:{MACHINE}/M:{UUID}", output["MapRunArn"])
    assert output["ResultWriterDetails"]["Bucket"] == "results"
    assert re.fullmatch(rf"runs/{UUID}/manifest\.json", output["ResultWriterDetails"]["Key"])


def test_item_reader_and_result_writer_accept_context_taking_callables():
    """A resources-mapping callable may take a second (context) argument: that holds for
    the ItemReader's and the ResultWriter's callables as for a Task's."""
    written, contexts = [], []

    def get_object(arguments, context):
        contexts.append(context)
        return "[1, 2]"

    def put_object(arguments, context):
        contexts.append(context)
        written.append(arguments["Results"])

    definition = reader_map({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                             "Parameters": {"Bucket": "b", "Key": "k"}},
                            ResultWriter={"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "r", "Prefix": "p"}})
    result, _, _ = run(definition, {}, resources={"arn:aws:states:::s3:getObject": get_object,
                                                  "arn:aws:states:::s3:putObject": put_object})
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert written == [[1, 2]]
    assert [type(c) for c in contexts] == [asl.TaskContext, asl.TaskContext]
    assert contexts[0].context["State"]["Name"] == "M"
