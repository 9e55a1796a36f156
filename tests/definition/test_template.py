"""State machine definitions out of CloudFormation / SAM templates and ``cdk synth`` output."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

import asl
from asl.definition.template import (MAX_EXPANDED_NODES, TemplateDefinition, TemplateError,
                                     load_template)

HERE = Path(__file__).parent / "templates"
SAM = HERE / "sam-stock-trading" / "template.yaml"
CDK = HERE / "cdk" / "OrderStack.template.json"
INLINE = HERE / "inline-definition.yaml"

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:"


def run(definition, input, resources):
    return asl.StateMachine(definition).execute(input, resources=resources,
                                                clock=asl.VirtualClock())


# -- SAM: DefinitionUri + DefinitionSubstitutions --------------------------------------------

def test_sam_sample_resolves_definition_uri_and_substitutions():
    loaded = load_template(SAM)
    assert isinstance(loaded, TemplateDefinition)
    assert (loaded.logical_id, loaded.resource_type, loaded.field) == (
        "StockTradingStateMachine", "AWS::Serverless::StateMachine", "Properties.DefinitionUri")
    assert Path(loaded.definition_file) == SAM.parent / "statemachine" / "stock_trader.asl.json"
    assert loaded.template == str(SAM)
    states = loaded.definition["States"]
    assert states["Check Stock Value"]["Resource"] == LAMBDA + "StockCheckerFunction"
    assert states["Sell Stock"]["Resource"] == LAMBDA + "StockSellerFunction"
    assert states["Buy Stock"]["Resource"] == LAMBDA + "StockBuyerFunction"
    assert states["Record Transaction"]["Resource"] == "arn:aws:states:::dynamodb:putItem"
    assert states["Record Transaction"]["Parameters"]["TableName"] == "TransactionTable"
    assert loaded.substitutions["DDBTable"] == "TransactionTable"
    assert loaded.unresolved == ()
    # Everything else is the file as written.
    on_disk = json.loads(Path(loaded.definition_file).read_text())
    assert states["Buy or Sell?"] == on_disk["States"]["Buy or Sell?"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.logical_id = "other"


@pytest.mark.parametrize("price, bought", [(30, True), (80, False)])
def test_sam_sample_runs_with_handlers_keyed_by_arn(price, bought):
    definition = load_template(SAM).definition
    recorded = []

    def trade(kind):
        return lambda event: {"id": "t-1", "price": str(event["stock_price"]), "type": kind,
                              "qty": "10", "timestamp": "2024-01-01T00:00:00Z"}

    result = run(definition, {}, {
        LAMBDA + "StockCheckerFunction": lambda event: {"stock_price": price},
        LAMBDA + "StockBuyerFunction": trade("buy"),
        LAMBDA + "StockSellerFunction": trade("sell"),
        "arn:aws:states:::dynamodb:putItem": lambda params: recorded.append(params) or {},
    })
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert recorded == [{"TableName": "TransactionTable", "Item": {
        "Id": {"S": "t-1"}, "Type": {"S": "buy" if bought else "sell"},
        "Price": {"N": str(price)}, "Quantity": {"N": "10"},
        "Timestamp": {"S": "2024-01-01T00:00:00Z"}}}]


def test_sam_sample_runs_with_handlers_keyed_by_logical_id():
    definition = load_template(SAM).definition
    result = run(definition, {}, {
        "StockCheckerFunction": lambda event: {"stock_price": 10},
        "StockBuyerFunction": lambda event: {"id": "1", "price": "10", "type": "buy",
                                             "qty": "1", "timestamp": "t"},
        "StockSellerFunction": lambda event: pytest.fail("not a sale"),
        "arn:aws:states:::dynamodb:putItem": lambda params: {},
    })
    assert result.status == "SUCCEEDED", (result.error, result.cause)


def test_substitutions_override_definition_substitutions_and_pseudo_parameters():
    loaded = load_template(SAM, substitutions={
        "StockCheckerFunctionArn": LAMBDA + "RealChecker",       # a DefinitionSubstitutions key
        "TransactionTable": "prod-transactions",                 # a logical ID (Ref)
        "StockBuyerFunction.Arn": LAMBDA + "RealBuyer",          # a GetAtt
        "AWS::Partition": "aws-cn",
        "AWS::Region": "cn-north-1",
    })
    states = loaded.definition["States"]
    assert states["Check Stock Value"]["Resource"] == LAMBDA + "RealChecker"
    assert states["Buy Stock"]["Resource"] == LAMBDA + "RealBuyer"
    assert states["Sell Stock"]["Resource"] == \
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:StockSellerFunction"
    assert states["Record Transaction"]["Resource"] == "arn:aws-cn:states:::dynamodb:putItem"
    assert states["Record Transaction"]["Parameters"]["TableName"] == "prod-transactions"


def test_definition_uri_relative_to_base_dir_for_template_text(tmp_path):
    text = SAM.read_text()
    with pytest.raises(TemplateError, match=r"DefinitionUri: definition file "
                                            r"'statemachine/stock_trader.asl.json' not found"):
        load_template(text, base_dir=tmp_path)
    loaded = load_template(text, base_dir=SAM.parent)
    assert loaded.template is None
    assert loaded.definition["States"]["Buy Stock"]["Resource"] == LAMBDA + "StockBuyerFunction"


def test_unquoted_placeholder_is_filled_in_the_text(tmp_path):
    (tmp_path / "flow.asl.json").write_text(
        '{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": ${Delay}, "End": true}}}')
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Flow:\n"
        "    Type: AWS::Serverless::StateMachine\n"
        "    Properties:\n"
        "      DefinitionUri: flow.asl.json\n"
        "      DefinitionSubstitutions: {Delay: 5}\n")
    loaded = load_template(tmp_path / "template.yaml")
    assert loaded.definition["States"]["W"]["Seconds"] == 5
    assert run(loaded.definition, {"a": 1}, {}).output == {"a": 1}


def test_yaml_definition_file_and_definition_s3_location(tmp_path):
    (tmp_path / "flow.asl.yaml").write_text(
        "StartAt: P\nStates:\n  P:\n    Type: Pass\n    Result: ${Greeting}\n"
        "    Comment: '2024-01-01T00:00:00Z'\n    End: true\n")
    (tmp_path / "t.json").write_text(json.dumps({"Resources": {"Flow": {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {"DefinitionS3Location": "flow.asl.yaml",
                       "DefinitionSubstitutions": {"Greeting": {"Fn::Sub": "hi from ${AWS::Region}"}},
                       "RoleArn": "arn:aws:iam::123456789012:role/r"}}}}))
    loaded = load_template(str(tmp_path / "t.json"))
    assert loaded.field == "Properties.DefinitionS3Location"
    assert loaded.definition["States"]["P"]["Result"] == "hi from us-east-1"
    assert run(loaded.definition, {}, {}).output == "hi from us-east-1"


@pytest.mark.parametrize("location, message", [
    ({"Bucket": "my-bucket", "Key": "flow.json"}, r"points at S3 \(s3://my-bucket/flow.json\)"),
    ("s3://my-bucket/flow.json", r"points at S3 \(s3://my-bucket/flow.json\)"),
    ("missing/flow.json", r"definition file 'missing/flow.json' not found"),
])
def test_definition_location_must_be_a_local_file(tmp_path, location, message):
    template = {"Resources": {"Flow": {"Type": "AWS::Serverless::StateMachine",
                                       "Properties": {"DefinitionUri": location}}}}
    with pytest.raises(TemplateError, match=r"resource 'Flow', Properties.DefinitionUri: " + message):
        load_template(template, base_dir=tmp_path)


# -- cdk synth: DefinitionString as Fn::Join ------------------------------------------------

def test_cdk_synth_output_resolves_fn_join_of_strings_and_getatt():
    loaded = load_template(CDK)
    assert (loaded.logical_id, loaded.resource_type, loaded.field) == (
        "OrderFlow6E2F3B9A", "AWS::StepFunctions::StateMachine", "Properties.DefinitionString")
    states = loaded.definition["States"]
    assert states["Validate Order"]["Resource"] == "arn:aws:states:::lambda:invoke"
    assert states["Validate Order"]["Parameters"] == {
        "FunctionName": LAMBDA + "ValidateOrderFn3A6B0E0C", "Payload.$": "$"}
    assert states["Save Order"]["Resource"] == "arn:aws:states:::dynamodb:putItem"
    assert states["Save Order"]["Parameters"]["TableName"] == "OrdersTable3B1F9D8E"
    assert states["Notify"]["Resource"] == LAMBDA + "NotifyFnB2C1A7D4"
    assert loaded.definition["TimeoutSeconds"] == 300


@pytest.mark.parametrize("keyed_by", ["arn", "logical id"])
def test_cdk_synth_output_runs(keyed_by):
    definition = load_template(CDK).definition
    key = (lambda lid: LAMBDA + lid) if keyed_by == "arn" else (lambda lid: lid)
    saved, notified = [], []
    resources = {
        key("ValidateOrderFn3A6B0E0C"): lambda order: {**order, "valid": order["qty"] > 0},
        key("NotifyFnB2C1A7D4"): lambda order: notified.append(order["orderId"]) or "sent",
        "arn:aws:states:::dynamodb:putItem": lambda params: saved.append(params) or {},
    }
    result = run(definition, {"orderId": "o-1", "qty": 2}, resources)
    assert (result.status, result.output) == ("SUCCEEDED", "sent")
    assert saved == [{"Item": {"orderId": {"S": "o-1"}}, "TableName": "OrdersTable3B1F9D8E"}]
    assert notified == ["o-1"]
    rejected = run(definition, {"orderId": "o-2", "qty": 0}, resources)
    assert (rejected.status, rejected.error) == ("FAILED", "OrderRejected")


def test_definition_string_fn_sub_with_and_without_variable_map():
    body = ('{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "${Fn.Arn}", '
            '"Parameters": {"queue": "${Queue}", "region": "${AWS::Region}", '
            '"who": "${Who}", "kept": "${!Literal}", "later": "${Later}"}, "End": true}}}')
    resources = {"Fn": {"Type": "AWS::Serverless::Function"},
                 "Queue": {"Type": "AWS::SQS::Queue"}}

    def template(sub):
        return {"Resources": {**resources, "M": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {"DefinitionString": {"Fn::Sub": sub},
                           "DefinitionSubstitutions": {"Later": "filled"}}}}}

    plain = load_template(template(body.replace("${Who}", "nobody")))
    params = plain.definition["States"]["T"]["Parameters"]
    assert plain.definition["States"]["T"]["Resource"] == LAMBDA + "Fn"
    assert params == {"queue": "https://sqs.us-east-1.amazonaws.com/123456789012/Queue",
                      "region": "us-east-1", "who": "nobody", "kept": "${Literal}",
                      "later": "filled"}
    assert plain.unresolved == ("Literal",)
    mapped = load_template(template([body, {"Who": {"Fn::GetAtt": ["Queue", "QueueName"]}}]))
    assert mapped.definition["States"]["T"]["Parameters"]["who"] == "Queue"
    result = run(mapped.definition, {}, {"Fn": lambda event: event})
    assert result.output["queue"].endswith("/Queue")


# -- YAML: inline Definition with short forms -----------------------------------------------

def test_yaml_inline_definition_with_short_forms():
    loaded = load_template(INLINE)
    assert (loaded.logical_id, loaded.field) == ("Pipeline", "Properties.Definition")
    d = loaded.definition
    assert d["Comment"] == "Pipeline for dev in us-east-1"
    assert d["TimeoutSeconds"] == 60
    process = d["States"]["Process"]
    assert process["Resource"] == LAMBDA + "ProcessFunction"
    assert process["Retry"][0]["MaxAttempts"] == 2
    assert d["States"]["Describe"]["Result"] == {
        "function": LAMBDA + "ProcessFunction", "zone": "us-east-1a", "area": "east",
        "greeting": "aGVsbG8=", "stack": "asl-stack", "devInUsEast": True,
        "literal": "${NotReplaced}"}            # prodOnly: AWS::NoValue drops the key
    assert d["States"]["Enqueue"]["Parameters"]["QueueUrl"] == \
        "https://sqs.us-east-1.amazonaws.com/123456789012/WorkQueue"
    assert d["States"]["Alert"]["Parameters"]["TopicArn"] == \
        "arn:aws:sns:us-east-1:123456789012:AlertsTopic"
    assert d["States"]["Alert"]["Parameters"]["Subject"] == "dev order processed"


def test_yaml_inline_definition_conditions_follow_parameters():
    d = load_template(INLINE, substitutions={"Stage": "prod"}).definition
    assert d["TimeoutSeconds"] == 600
    assert d["States"]["Process"]["Retry"][0]["MaxAttempts"] == 5
    assert d["States"]["Describe"]["Result"]["prodOnly"] == "yes"
    assert d["States"]["Describe"]["Result"]["devInUsEast"] is False


def test_yaml_inline_definition_runs():
    definition = load_template(INLINE).definition
    sent, published = [], []
    result = run(definition, {"order": {"id": 7}}, {
        "ProcessFunction": lambda event: {**event, "processed": True},
        "arn:aws:states:::sqs:sendMessage": lambda params: sent.append(params) or {},
        "arn:aws:states:::sns:publish": lambda params: published.append(params) or {},
    })
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["processed"] is True
    assert result.output["about"]["zone"] == "us-east-1a"
    assert sent[0]["MessageBody"] == {"id": 7}
    assert published[0]["Message"] == '{"id":7}'


# -- placeholder ARNs ------------------------------------------------------------------------

SHAPES = """
Resources:
  Fn: {Type: AWS::Lambda::Function}
  SamFn: {Type: AWS::Serverless::Function}
  Table: {Type: AWS::DynamoDB::Table}
  Simple: {Type: AWS::Serverless::SimpleTable}
  Topic: {Type: AWS::SNS::Topic}
  Queue: {Type: AWS::SQS::Queue}
  Child: {Type: AWS::StepFunctions::StateMachine, Properties: {Definition: {}}}
  Bus: {Type: AWS::Events::EventBus}
  Role: {Type: AWS::IAM::Role}
  Bucket: {Type: AWS::S3::Bucket}
  Secret: {Type: AWS::SecretsManager::Secret}
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition:
        StartAt: P
        States:
          P:
            Type: Pass
            End: true
            Result:
              fn_arn: !GetAtt Fn.Arn
              fn_ref: !Ref Fn
              fn_sub: !Sub "${Fn} ${Fn.Arn}"
              sam_fn_arn: !GetAtt [SamFn, Arn]
              table_ref: !Ref Table
              table_arn: !GetAtt Table.Arn
              simple_ref: !Ref Simple
              topic_ref: !Ref Topic
              topic_name: !GetAtt Topic.TopicName
              queue_ref: !Ref Queue
              queue_arn: !GetAtt Queue.Arn
              child_ref: !Ref Child
              child_arn: !GetAtt Child.Arn
              bus_arn: !GetAtt Bus.Arn
              role_arn: !GetAtt Role.Arn
              implicit_role: !GetAtt FlowRole.Arn
              bucket_arn: !GetAtt Bucket.Arn
              secret_ref: !Ref Secret
              pseudo: !Sub "${AWS::Region} ${AWS::AccountId} ${AWS::Partition} ${AWS::StackName} ${AWS::URLSuffix}"
"""


def test_placeholder_shapes_per_resource_type():
    definition = load_template(SHAPES, "Flow").definition
    result = definition["States"]["P"]["Result"]
    assert run(definition, {}, {}).output == result
    assert result == {
        "fn_arn": LAMBDA + "Fn",
        "fn_ref": "Fn",                        # Ref of a function is its name, as in AWS
        "fn_sub": f"Fn {LAMBDA}Fn",
        "sam_fn_arn": LAMBDA + "SamFn",
        "table_ref": "Table",
        "table_arn": "arn:aws:dynamodb:us-east-1:123456789012:table/Table",
        "simple_ref": "Simple",
        "topic_ref": "arn:aws:sns:us-east-1:123456789012:Topic",
        "topic_name": "Topic",
        "queue_ref": "https://sqs.us-east-1.amazonaws.com/123456789012/Queue",
        "queue_arn": "arn:aws:sqs:us-east-1:123456789012:Queue",
        "child_ref": "arn:aws:states:us-east-1:123456789012:stateMachine:Child",
        "child_arn": "arn:aws:states:us-east-1:123456789012:stateMachine:Child",
        "bus_arn": "arn:aws:events:us-east-1:123456789012:event-bus/Bus",
        "role_arn": "arn:aws:iam::123456789012:role/Role",
        "implicit_role": "arn:aws:iam::123456789012:role/FlowRole",
        "bucket_arn": "arn:aws:s3:::bucket",
        "secret_ref": "arn:aws:secretsmanager:us-east-1:123456789012:secret/Secret",
        "pseudo": "us-east-1 123456789012 aws asl-stack amazonaws.com",
    }


def test_placeholders_are_deterministic():
    assert load_template(SHAPES, "Flow") == load_template(SHAPES, "Flow")


# -- choosing the state machine ---------------------------------------------------------------

SEVERAL = """
Resources:
  First:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      DefinitionString: '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}'
  Helper: {Type: AWS::Lambda::Function}
  Second:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: {StartAt: B, States: {B: {Type: Pass, Result: second, End: true}}}
"""


def test_several_state_machines_error_lists_them():
    with pytest.raises(TemplateError) as caught:
        load_template(SEVERAL)
    message = str(caught.value)
    assert "\n" not in message
    assert "2 state machines found (First, Second)" in message


def test_several_state_machines_pick_one():
    assert load_template(SEVERAL, "Second").definition["States"]["B"]["Result"] == "second"
    first = load_template(SEVERAL, logical_id="First")
    assert (first.field, first.resource_type) == ("Properties.DefinitionString",
                                                  "AWS::StepFunctions::StateMachine")
    assert run(first.definition, {"x": 1}, {}).status == "SUCCEEDED"


@pytest.mark.parametrize("logical_id, message", [
    ("Third", r"no resource 'Third' \(state machines: First, Second\)"),
    ("Helper", r"resource 'Helper' is 'AWS::Lambda::Function', not a state machine "
               r"\(state machines: First, Second\)"),
])
def test_unknown_logical_id(logical_id, message):
    with pytest.raises(TemplateError, match=message):
        load_template(SEVERAL, logical_id)


def test_no_state_machine():
    with pytest.raises(TemplateError, match="no state machine found"):
        load_template("Resources:\n  Fn: {Type: AWS::Lambda::Function}\n")
    with pytest.raises(TemplateError, match="not a CloudFormation template"):
        load_template('{"StartAt": "A", "States": {}}')


# -- errors ----------------------------------------------------------------------------------

def _machine(definition: str, extra: str = "") -> str:
    return (f"{extra}Resources:\n  M:\n    Type: AWS::StepFunctions::StateMachine\n"
            f"    Properties:\n      {definition}\n")


@pytest.mark.parametrize("text, message", [
    (_machine("Definition: {StartAt: A, States: {A: {Type: Task, Resource: !GetAtt Nope.Arn, End: true}}}"),
     r"resource 'M', Properties.Definition.States.A.Resource.Fn::GetAtt: cannot resolve "
     r"Fn::GetAtt Nope.Arn: no resource 'Nope'"),
    (_machine("DefinitionString: !Sub '{\"StartAt\": \"${Missing}\"}'"),
     r"Properties.DefinitionString.Fn::Sub: cannot resolve \$\{Missing\} in Fn::Sub"),
    (_machine("Definition: {Comment: !Ref Owner, StartAt: A, States: {}}",
              "Parameters:\n  Owner: {Type: String}\n"),
     r"cannot resolve Ref 'Owner': parameter 'Owner' has no Default"),
    (_machine("Definition: {Comment: !ImportValue shared-arn, StartAt: A, States: {}}"),
     r"cannot resolve Fn::ImportValue 'shared-arn'"),
    (_machine("Definition: {Comment: !Cidr [10.0.0.0/16, 2, 8], StartAt: A, States: {}}"),
     r"intrinsic function Fn::Cidr is not supported"),
    (_machine("RoleArn: x"), r"Properties has no Definition, DefinitionString, DefinitionUri "
                             r"or DefinitionS3Location"),
    (_machine("Definition: {}\n      DefinitionString: '{}'"),
     r"Properties has both Definition and DefinitionString"),
    (_machine("DefinitionString: '{\"StartAt\": '"),
     r"Properties.DefinitionString: invalid JSON at line 1"),
    (_machine("Definition: {Comment: !Bogus x}"), r"could not determine a constructor for the tag '!Bogus'"),
    (_machine("Definition: !!python/object/apply:os.system [echo hi]"),
     r"could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'"),
])
def test_errors_are_one_line_template_errors(text, message):
    with pytest.raises(TemplateError, match=message) as caught:
        load_template(text)
    assert isinstance(caught.value, ValueError)
    assert "\n" not in str(caught.value)


def test_unresolvable_parameter_can_be_substituted():
    text = _machine("Definition: {Comment: !Ref Owner, StartAt: A, States: {A: {Type: Succeed}}}",
                    "Parameters:\n  Owner: {Type: String}\n")
    assert load_template(text, substitutions={"Owner": "team-a"}).definition["Comment"] == "team-a"


def test_import_value_can_be_substituted():
    text = _machine("Definition: {StartAt: A, States: {A: {Type: Task, "
                    "Resource: !ImportValue shared-fn-arn, End: true}}}")
    loaded = load_template(text, substitutions={"shared-fn-arn": LAMBDA + "Shared"})
    assert loaded.definition["States"]["A"]["Resource"] == LAMBDA + "Shared"
    assert run(loaded.definition, 1, {"Shared": lambda n: n + 1}).output == 2


def test_missing_template_file(tmp_path):
    with pytest.raises(TemplateError, match="cannot read template"):
        load_template(tmp_path / "nope.yaml")


# -- YAML safety -----------------------------------------------------------------------------

BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
Resources:
  M:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      Definition: {StartAt: A, States: {A: {Type: Pass, Result: *i, End: true}}}
"""


def test_alias_bomb_is_refused_quickly():
    started = time.perf_counter()
    with pytest.raises(TemplateError, match=f"aliases expand to more than {MAX_EXPANDED_NODES:,}"):
        load_template(BOMB)
    assert time.perf_counter() - started < 1.0


def test_recursive_alias_is_refused():
    with pytest.raises(TemplateError, match="refused"):
        load_template("Resources: &r\n  M: *r\n")


def test_modest_aliases_are_fine():
    text = ("Retry: &retry [{ErrorEquals: [States.ALL], MaxAttempts: 2, IntervalSeconds: 1}]\n"
            + _machine("Definition: {StartAt: A, States: {A: {Type: Pass, End: true, "
                       "Parameters: {r: *retry}}}}"))
    loaded = load_template(text)
    assert loaded.definition["States"]["A"]["Parameters"]["r"][0]["MaxAttempts"] == 2


def test_yaml_timestamps_stay_strings():
    loaded = load_template(_machine(
        "Definition: {StartAt: W, States: {W: {Type: Wait, Timestamp: 2024-01-01T00:00:00Z, End: true}}}"))
    assert loaded.definition["States"]["W"]["Timestamp"] == "2024-01-01T00:00:00Z"
    asl.StateMachine(loaded.definition)


def test_definition_object_with_definition_substitutions():
    text = _machine(
        "Definition: {StartAt: T, States: {T: {Type: Task, Resource: '${WorkerArn}', "
        "Parameters: {env: '${Env}', debug: '${Debug}'}, End: true}}}\n"
        "      DefinitionSubstitutions:\n"
        "        WorkerArn: !GetAtt Worker.Arn\n"
        "        Env: !Ref Stage\n"
        "        Debug: !If [IsProd, !Ref AWS::NoValue, verbose]",
        "Parameters:\n  Stage: {Type: String, Default: dev}\n"
        "Conditions:\n  IsProd: !Equals [prod, !Ref Stage]\n"
    ).replace("Resources:\n", "Resources:\n  Worker: {Type: AWS::Serverless::Function}\n")
    dev = load_template(text)
    assert dev.definition["States"]["T"]["Resource"] == LAMBDA + "Worker"
    assert dev.definition["States"]["T"]["Parameters"] == {"env": "dev", "debug": "verbose"}
    assert run(dev.definition, {}, {"Worker": lambda e: e}).output == {"env": "dev", "debug": "verbose"}
    prod = load_template(text, substitutions={"Stage": "prod"})
    assert prod.definition["States"]["T"]["Parameters"] == {"env": "prod", "debug": "${Debug}"}
    assert prod.unresolved == ("Debug",)
