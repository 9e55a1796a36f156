"""Behaviour of the States.* intrinsic functions (JSONPath mode), as AWS runs them.

Tables of (expression, input, expected). Sources: the AWS page "Intrinsic functions for
JSONPath states" (every example), AWS-recorded LocalStack snapshots, and the AWS
observations listed in asl/intrinsics.py.
"""

import json
import re
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.errors import StatesError
from asl.language.intrinsics import (
    FUNCTION_NAMES, STRING_RETURNING, IntrinsicSyntaxError, check_intrinsic,
    compile_intrinsic, is_intrinsic_call,
)
from asl.language.jsonpath import PathNotFound

CONTEXT = {
    "Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:sm:run-1",
                  "Input": {"start": 2, "end": 6, "step": 2, "csv": "x,y,z"}},
    "StateMachine": {"Name": "my-state-machine-v2"},
}
VARIABLES = {"total": 41, "tags": ["a", "b", "a"], "order": {"id": "o-1", "lines": [1, 2]}}
ENV = SimpleNamespace(context=CONTEXT, variables=VARIABLES)


def run(expression, data=None):
    return compile_intrinsic(expression).evaluate(data if data is not None else {}, ENV)


def case(expression, data, expected, id=None):
    return pytest.param(expression, data, expected, id=id or expression[:70])


# -- Every example of the AWS page -------------------------------------------------------

IMAGE_RECIPE = {"ImageRecipe": {"Arn": "arn:aws:imagebuilder:us-east-1:123456789012:"
                                       "image-recipe/my-recipe/2.7.1"}}

AWS_DOC_EXAMPLES = [
    case("States.Array($.Id)", {"Id": 123456}, [123456]),
    case("States.ArrayPartition($.inputArray,4)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
         [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
    case("States.ArrayContains($.inputArray, $.lookingFor)",
         {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5}, True),
    case("States.ArrayRange(1, 9, 2)", {}, [1, 3, 5, 7, 9]),
    case("States.ArrayGetItem($.inputArray, $.index)",
         {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5}, 6),
    case("States.ArrayLength($.inputArray)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, 9),
    case("States.ArrayUnique($.inputArray)", {"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]},
         [1, 2, 3, 4]),
    case("States.Base64Encode($.input)", {"input": "Data to encode"}, "RGF0YSB0byBlbmNvZGU="),
    # The page prints "Decoded data", but that Base64 text decodes to its own example input.
    case("States.Base64Decode($.base64)", {"base64": "RGF0YSB0byBlbmNvZGU="}, "Data to encode"),
    # The page's digest drops a digit; this is SHA-1("input data") [observed].
    case("States.Hash($.Data, $.Algorithm)", {"Data": "input data", "Algorithm": "SHA-1"},
         "aaff4a450a104cd177d28d18d74485e8cae074b7"),
    case("States.JsonMerge($.json1, $.json2, false)",
         {"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}},
         {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3}),
    case("States.StringToJson($.escapedJsonString)", {"escapedJsonString": '{"foo": "bar"}'},
         {"foo": "bar"}),
    case("States.JsonToString($.unescapedJson)", {"unescapedJson": {"foo": "bar"}},
         '{"foo":"bar"}'),
    case("States.MathAdd($.value1, $.step)", {"value1": 111, "step": -1}, 110),
    case("States.StringSplit($.inputString, $.splitter)",
         {"inputString": "1,2,3,4,5", "splitter": ","}, ["1", "2", "3", "4", "5"]),
    case("States.StringSplit($.inputString, $.splitter)",
         {"inputString": "This.is+a,test=string", "splitter": ".+,="},
         ["This", "is", "a", "test", "string"], id="StringSplit multiple delimiters"),
    case("States.Format('Hello, my name is {}.', $.name)",
         {"name": "Arnav", "template": "Hello, my name is {}."}, "Hello, my name is Arnav."),
    case("States.Format($.template, $.name)",
         {"name": "Arnav", "template": "Hello, my name is {}."}, "Hello, my name is Arnav."),
    # The page's nine-function example, with as many {} as arguments.
    case("States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem("
         "States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem("
         "States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), "
         "2), '.'), 1))", IMAGE_RECIPE, "2.7", id="nine nested functions"),
    # The page's bracket notation for a field with a space: $.abc.['def ghi'].
    case("States.Array($.abc.['def ghi'])", {"abc": {"def ghi": 7}}, [7]),
]


@pytest.mark.parametrize("expression, data, expected", AWS_DOC_EXAMPLES)
def test_aws_documentation_examples(expression, data, expected):
    assert run(expression, data) == expected


def test_aws_documentation_nine_nested_example_has_one_placeholder_too_many():
    # As printed, '{}.{}.{}' has three placeholders for two arguments: valid syntax,
    # but the call fails when it runs.
    text = ("States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit(States."
            "ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States."
            "ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit("
            "$.ImageRecipe.Arn, '/'), 2), '.'), 1))")
    assert check_intrinsic(text) is None
    with pytest.raises(StatesError) as failure:
        run(text, IMAGE_RECIPE)
    assert failure.value.error == "States.Runtime"
    assert failure.value.cause == "Invalid arguments in States.Format"


def test_aws_documentation_random_and_uuid_examples():
    for _ in range(20):
        value = run("States.MathRandom($.start, $.end)", {"start": 1, "end": 999})
        assert type(value) is int and 1 <= value < 999
    uuid = run("States.UUID()")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        uuid)
    assert run("States.UUID()") != uuid


# -- Each function, quirks included --------------------------------------------------------

OBJECT = {"Arg1": 1, "Arg2": []}

BEHAVIOUR = [
    # States.Format: natural string forms; Java Map/List rendering for objects [observed].
    case("States.Format('{}', $.v)", {"v": ""}, ""),
    case("States.Format('{}', $.v)", {"v": "HelloWorld"}, "HelloWorld"),
    case("States.Format('{}', $.v)", {"v": None}, "null"),
    case("States.Format('{}', $.v)", {"v": 1}, "1"),
    case("States.Format('{}', $.v)", {"v": 1.1}, "1.1"),
    case("States.Format('{}', $.v)", {"v": 100.0}, "100.0"),
    case("States.Format('{}', $.v)", {"v": 1e10}, "1.0E10", id="Format Java double"),
    case("States.Format('{}', $.v)", {"v": 9007199254740993}, "9007199254740993"),
    case("States.Format('{} {}', $.t, $.f)", {"t": True, "f": False}, "true false"),
    case("States.Format('{}', $.v)", {"v": OBJECT}, "{Arg1=1, Arg2=[]}"),
    case("States.Format('{}', $.v)", {"v": [1, "x", None, {"k": [True]}]},
         "[1, x, null, {k=[true]}]"),
    case("States.Format('{}', $.v)", {"v": '{"Arg1": 1, "Arg2": []}'}, '{"Arg1": 1, "Arg2": []}'),
    case("States.Format('{} {} {} {}', 'a', 2, null, true)", {}, "a 2 null true"),
    case("States.Format('no placeholders')", {}, "no placeholders"),
    case("States.Format('  {}  ', $.a)", {"a": "x"}, "  x  "),
    case("States.Format('arn:{}:{}', $.svc, States.JsonToString($.obj))",
         {"svc": "lambda", "obj": {"k": 1}}, 'arn:lambda:{"k":1}'),
    case("States.Format('Name: \\'{}\\', Surname: \"{}\"', $.n, $.s)",
         {"n": "Gabriel", "s": "Moreira"}, "Name: 'Gabriel', Surname: \"Moreira\""),
    case(r"States.Format('\{\} is literal, {} is not', 'this')", {},
         "{} is literal, this is not"),
    case(r"States.Format('back\\slash {}', 1)", {}, "back\\slash 1"),
    case("States.Format($.t, $.a)", {"t": "{} and \\{\\}", "a": 1}, "1 and {}",
         id="Format runtime template honours escapes"),
    # States.StringToJson
    case("States.StringToJson($.s)", {"s": '{"a":1}'}, {"a": 1}),
    case("States.StringToJson($.s)", {"s": "[1,2.5,\"x\"]"}, [1, 2.5, "x"]),
    case("States.StringToJson($.s)", {"s": ""}, None),
    case("States.StringToJson($.s)", {"s": " "}, None),
    case("States.StringToJson($.s)", {"s": "-0"}, 0),
    case("States.StringToJson($.s)", {"s": ' {"a":1} '}, {"a": 1}),
    case("States.StringToJson($.s)", {"s": "null"}, None),
    case("States.StringToJson($.s)", {"s": "\"hello\""}, "hello"),
    case("States.StringToJson('{\"a\": [true]}')", {}, {"a": [True]}),
    # States.JsonToString: compact, non-ASCII kept
    case("States.JsonToString($.v)", {"v": OBJECT}, '{"Arg1":1,"Arg2":[]}'),
    case("States.JsonToString($.v)", {"v": "HelloWorld"}, '"HelloWorld"'),
    case("States.JsonToString($.v)", {"v": None}, "null"),
    case("States.JsonToString($.v)", {"v": {"é": "日本", "q": "a\"b"}},
         '{"é":"日本","q":"a\\"b"}'),
    case("States.JsonToString('x')", {}, '"x"'),
    case("States.JsonToString(States.Array($.a, $.b))", {"a": 1, "b": 2}, "[1,2]"),
    # States.Array
    case("States.Array()", {}, []),
    case("States.Array('a', 1, 2.5, true, false, null)", {}, ["a", 1, 2.5, True, False, None]),
    case("States.Array($.fst, $.snd)", {"fst": OBJECT, "snd": OBJECT}, [OBJECT, OBJECT]),
    case("States.Array(1, States.Array(2, 3))", {}, [1, [2, 3]]),
    case("States.Array( $.a ,  $.b )", {"a": 1, "b": 2}, [1, 2]),
    case("States.Array(-1, 0, 1e3, 2E-2, -0)", {}, [-1, 0, 1000.0, 0.02, 0]),
    # States.ArrayPartition (non-integer sizes truncated [observed])
    case("States.ArrayPartition($.a, 2)", {"a": [1, 2, 3, 4]}, [[1, 2], [3, 4]]),
    case("States.ArrayPartition($.a, 5)", {"a": [0, 1, 2]}, [[0, 1, 2]]),
    case("States.ArrayPartition($.a, 3)", {"a": []}, []),
    case("States.ArrayPartition($.a, 2.6)", {"a": [1, 2, 3, 4, 5]}, [[1, 2], [3, 4], [5]]),
    case("States.ArrayPartition($.a, 2147483647)", {"a": [1, 2, 3]}, [[1, 2, 3]]),
    case("States.ArrayPartition(States.Array(1,2,3,4,5), 2)", {}, [[1, 2], [3, 4], [5]]),
    # States.ArrayContains: deep equality, booleans are not numbers, 1 == 1.0
    case("States.ArrayContains($.a, $.v)", {"a": [], "v": None}, False),
    case("States.ArrayContains($.a, $.v)", {"a": [], "v": []}, False),
    case("States.ArrayContains($.a, $.v)", {"a": [[1, 2, 3], 2], "v": None}, False),
    case("States.ArrayContains($.a, $.v)", {"a": [[1, 2, 3], 2], "v": [1, 2, 3]}, True),
    case("States.ArrayContains($.a, $.v)", {"a": [{"1": 2, "2": []}], "v": []}, False),
    case("States.ArrayContains($.a, $.v)", {"a": [{"1": 2, "2": []}], "v": {"1": 2, "2": []}},
         True),
    case("States.ArrayContains($.a, $.v)", {"a": [True, False], "v": True}, True),
    case("States.ArrayContains($.a, $.v)", {"a": [True, False], "v": False}, True),
    case("States.ArrayContains($.a, false)", {"a": [0, 1, -1, -1.5]}, False),
    case("States.ArrayContains($.a, 1)", {"a": [True]}, False),
    case("States.ArrayContains($.a, true)", {"a": [1]}, False),
    case("States.ArrayContains($.a, 1)", {"a": [1.0]}, True),
    case("States.ArrayContains($.a, '1')", {"a": [1]}, False),
    case("States.ArrayContains($.a, null)", {"a": [1, None]}, True),
    case("States.ArrayContains($.a, $.v)", {"a": [{"a": 1}], "v": {"a": 1, "extra": None}}, False),
    case("States.ArrayContains($.a, $.v)", {"a": [[0, True]], "v": [0, 1]}, False),
    # States.ArrayRange: end only if hit exactly; non-integers truncated [observed]
    case("States.ArrayRange(0, 9, 3)", {}, [0, 3, 6, 9]),
    case("States.ArrayRange(0, 10, 3)", {}, [0, 3, 6, 9]),
    case("States.ArrayRange(1, 9, 9)", {}, [1]),
    case("States.ArrayRange(-2, 2, 2)", {}, [-2, 0, 2]),
    case("States.ArrayRange(3, 3, 1)", {}, [3]),
    case("States.ArrayRange(3, 3, -1)", {}, [3]),
    case("States.ArrayRange(5, 1, -2)", {}, [5, 3, 1]),
    case("States.ArrayRange(5, 1, 1)", {}, []),
    case("States.ArrayRange(1, 5, -1)", {}, []),
    case("States.ArrayRange(1.4, 5.6, 2.2)", {}, [1, 3, 5]),
    case("States.ArrayRange(1.6, 1.4, 1)", {}, [1]),
    case("States.ArrayRange(5.4, -0.6, -2.4)", {}, [5, 3, 1]),
    case("States.ArrayRange(States.MathAdd($.base, 1), States.MathAdd($.base, 5), 2)",
         {"base": 0}, [1, 3, 5]),
    # States.ArrayGetItem (a fractional index is truncated [observed])
    case("States.ArrayGetItem($.a, 0)", {"a": ["a", "b", "c"]}, "a"),
    case("States.ArrayGetItem($.a, 0)", {"a": [None]}, None),
    case("States.ArrayGetItem($.a, 1)", {"a": [{"a": 1}, {"b": 2}]}, {"b": 2}),
    case("States.ArrayGetItem($.a, 1.2)", {"a": [10, 20, 30]}, 20),
    case("States.ArrayGetItem(States.Array('x', 'y', 'z'), 1)", {}, "y"),
    # States.ArrayLength
    case("States.ArrayLength($.a)", {"a": []}, 0),
    case("States.ArrayLength($.a)", {"a": [[1], [2], [3]]}, 3),
    case("States.ArrayLength($.a)", {"a": list(range(1000))}, 1000),
    # States.ArrayUnique: first occurrences, deep equality, booleans distinct from numbers
    case("States.ArrayUnique($.a)", {"a": ["a", "b", "a", "c", "b"]}, ["a", "b", "c"]),
    case("States.ArrayUnique($.a)", {"a": [None, None, True, True, False, False, 1, 1, 1.1, 0, 0,
                                           "HelloWorld", "HelloWorld", [], [], [None], [None],
                                           {"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 1, "b": 1}]},
         [None, True, False, 1, 1.1, 0, "HelloWorld", [], [None], {"a": 1, "b": 2},
          {"a": 1, "b": 1}]),
    case("States.ArrayUnique($.a)", {"a": [1, "1", 1.0, "01"]}, [1, "1", "01"]),
    case("States.ArrayUnique($.a)", {"a": [{"a": 1, "b": 2}, {"b": 2, "a": 1}]},
         [{"a": 1, "b": 2}]),
    case("States.ArrayUnique($.a)", {"a": [[1, 2], [1, 2], [2, 1]]}, [[1, 2], [2, 1]]),
    case("States.ArrayUnique($.a)", {"a": [0, False, 1, True, [0], [False]]},
         [0, False, 1, True, [0], [False]]),
    # States.Base64Encode / States.Base64Decode
    case("States.Base64Encode('')", {}, ""),
    case("States.Base64Encode('hello')", {}, "aGVsbG8="),
    case("States.Base64Encode($.s)", {"s": "こんにちは"}, "44GT44KT44Gr44Gh44Gv"),
    case("States.Base64Encode('🚀')", {}, "8J+agA=="),
    case("States.Base64Encode($.s)", {"s": "line1\nline2"}, "bGluZTEKbGluZTI="),
    case("States.Base64Encode(States.Format('{}-{}', $.a, $.b))", {"a": "x", "b": "y"}, "eC15"),
    case("States.Base64Decode('')", {}, ""),
    case("States.Base64Decode('4pyT')", {}, "✓"),
    case("States.Base64Decode($.s)", {"s": "YWJjAGRlZg=="}, "abc\x00def"),
    case("States.Base64Decode(' YWJjZA== ')", {}, "abcd"),
    case("States.Base64Decode('YWJjZA')", {}, "abcd"),
    case("States.Base64Decode('ab==cd')", {}, "i"),
    case("States.Base64Decode(States.Base64Encode($.s))", {"s": "hello"}, "hello"),
    # States.Hash: data not a string is hashed as its JSON text [observed]
    case("States.Hash('hello', 'MD5')", {}, "5d41402abc4b2a76b9719d911017c592"),
    case("States.Hash('hello', 'SHA-1')", {}, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
    case("States.Hash('hello', 'SHA-256')", {},
         "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
    case("States.Hash('hello', 'SHA-384')", {},
         "59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90"
         "125a3c79f90397bdf5f6a13de828684f"),
    case("States.Hash('hello', 'SHA-512')", {},
         "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7"
         "2323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043"),
    case("States.Hash('', 'SHA-256')", {},
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    case("States.Hash($.s, 'SHA-256')", {"s": "こんにちは"},
         "125aeadf27b0459b8760c13a3d80912dfa8a81a68261906f60d87f4a0268646c"),
    case("States.Hash($.s, $.algo)", {"s": "Data to encode", "algo": "MD5"},
         "ca405671828a177e26947171bbe1e352"),
    case("States.Hash(123, 'MD5')", {}, "202cb962ac59075b964b07152d234b70"),
    case("States.Hash($.o, 'MD5')", {"o": {}}, "99914b932bd37a50b983c5e7c90ae93b"),
    # States.JsonMerge: shallow; any third argument but true merges [observed]
    case("States.JsonMerge($.a, $.b, false)", {"a": {"x": 1, "y": 2}, "b": {"y": 3, "z": 4}},
         {"x": 1, "y": 3, "z": 4}),
    case("States.JsonMerge($.a, $.b, false)", {"a": {"n": {"l": True}, "k": 1}, "b": {"n": None}},
         {"n": None, "k": 1}),
    case("States.JsonMerge($.a, $.b, $.deep)", {"a": {"x": 1}, "b": {}, "deep": "false"},
         {"x": 1}),
    case("States.JsonMerge(States.StringToJson($.a), States.StringToJson($.b), false)",
         {"a": '{"left":1}', "b": '{"right":2}'}, {"left": 1, "right": 2}),
    # States.MathAdd: Java Math.round of each argument, then the sum [observed]
    case("States.MathAdd(-9, 3)", {}, -6),
    case("States.MathAdd(1.49, 1.5)", {}, 3),
    case("States.MathAdd(1.5, 1.51)", {}, 4),
    case("States.MathAdd(-1.49, -1.5)", {}, -2),
    case("States.MathAdd(-1.5, -1.51)", {}, -3),
    case("States.MathAdd(1.49, -1.49)", {}, 0),
    case("States.MathAdd(0.5, 0)", {}, 1),
    case("States.MathAdd(2.5, 0)", {}, 3),
    case("States.MathAdd(3.5, 0)", {}, 4),
    case("States.MathAdd(-0.5, 0.5)", {}, 1),
    case("States.MathAdd(-0.5, 0)", {}, 0),
    case("States.MathAdd(-1.5, 0)", {}, -1),
    case("States.MathAdd(-2.5, 0)", {}, -2),
    case("States.MathAdd(-3.5, 0)", {}, -3),
    case("States.MathAdd($.a, $.b)", {"a": 1.6, "b": 2.7}, 5),
    case("States.MathAdd(0.49999999999999994, 0)", {}, 0),
    case("States.MathAdd(2147483646, 1)", {}, 2147483647),
    case("States.MathAdd(-2147483647, -1)", {}, -2147483648),
    case("States.MathAdd(States.MathAdd($.x, 1), 2)", {"x": 5}, 8),
    # States.StringSplit: a set of delimiter characters; empty tokens dropped [observed]
    case("States.StringSplit($.s, $.d)", {"s": ", , ,", "d": ","}, [" ", " "]),
    case("States.StringSplit($.s, $.d)", {"s": ",,,,", "d": ","}, []),
    case("States.StringSplit($.s, ',')", {"s": "a,,b"}, ["a", "b"]),
    case("States.StringSplit($.s, ',')", {"s": ",a,b,"}, ["a", "b"]),
    case("States.StringSplit($.s, ',')", {"s": ""}, []),
    case("States.StringSplit($.s, 'ab')", {"s": "1a2b3ab4"}, ["1", "2", "3", "4"]),
    case("States.StringSplit($.s, '.')", {"s": "a.b.c"}, ["a", "b", "c"]),
    case("States.StringSplit($.s, '|')", {"s": "a|b|c"}, ["a", "b", "c"]),
    case("States.StringSplit('Hello\nWorld', '\n')", {}, ["Hello", "World"]),
    case("States.StringSplit($.s, '')", {"s": "abc"}, ["abc"]),
    case("States.StringSplit(States.Format('{}-{}', $.a, $.b), '-')", {"a": "x", "b": "y"},
         ["x", "y"]),
    # States.MathRandom with a seed draws java.util.Random's value: AWS gave -5 here.
    case("States.MathRandom(-5, 5, 42)", {}, -5),
]


@pytest.mark.parametrize("expression, data, expected", BEHAVIOUR)
def test_function_behaviour(expression, data, expected):
    result = run(expression, data)
    assert result == expected
    assert json.dumps(result) == json.dumps(expected)  # also tells true from 1, 1.0 from 1


# -- Paths to $$, variables, brackets, filters ---------------------------------------------

PATHS = [
    case("States.ArrayRange($$.Execution.Input.start, $$.Execution.Input.end, "
         "$$.Execution.Input.step)", {}, [2, 4, 6]),
    case("States.StringSplit($$.Execution.Input.csv, ',')", {}, ["x", "y", "z"]),
    case("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), "
         "States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))",
         {}, "v2"),
    case("States.MathAdd($total, 1)", {}, 42),
    case("States.ArrayUnique($tags)", {}, ["a", "b"]),
    case("States.Format('{}:{}', $order.id, $order.lines[1])", {}, "o-1:2"),
    case("States.JsonToString($)", {"a": 1}, '{"a":1}'),
    case("States.Array($.a['b c'], $.a[\"d,e\"])", {"a": {"b c": 1, "d,e": 2}}, [1, 2]),
    case("States.Array($.a['it\\'s'])", {"a": {"it's": 3}}, [3]),
    case("States.Array($.items[?(@.x == 'a,b')].y, 1)", {"items": [{"x": "a,b", "y": 1},
                                                                   {"x": "c", "y": 2}]},
         [[1], 1]),
    case("States.Array($.items[0,1])", {"items": ["p", "q", "r"]}, [["p", "q"]]),
    case("States.Array($..id)", {"a": {"id": 1}, "b": [{"id": 2}]}, [[1, 2]]),
]


@pytest.mark.parametrize("expression, data, expected", PATHS)
def test_path_arguments(expression, data, expected):
    assert run(expression, data) == expected


def test_a_missing_path_propagates_path_not_found_for_the_caller_to_word():
    with pytest.raises(PathNotFound) as missing:
        run("States.Format('{}', $.missing)", {"a": 1})
    assert missing.value.path == "$.missing"
    with pytest.raises(PathNotFound):
        run("States.MathAdd($unknownVariable, 1)")


def test_the_same_seed_gives_the_same_number():
    values = {run("States.MathRandom(1, 1000, $.seed)", {"seed": 7}) for _ in range(5)}
    assert len(values) == 1
    assert 1 <= values.pop() < 1000


# -- Failures when the call runs: States.Runtime --------------------------------------------

RUNTIME_FAILURES = [
    ("States.Format('{} {}', $.a)", {"a": "x"}, "States.Format", "placeholder"),
    ("States.Format('{}', $.a, $.b)", {"a": "x", "b": "y"}, "States.Format", "placeholder"),
    ("States.Format('Hello {', $.a)", {"a": "x"}, "States.Format", "unmatched '{'"),
    ("States.Format('Hello {{}}', $.a)", {"a": "x"}, "States.Format", "unmatched '{'"),
    ("States.Format('}')", {}, "States.Format", "unmatched '}'"),
    ("States.Format($.t, $.a)", {"t": 123, "a": "x"}, "States.Format", "string"),
    ("States.StringToJson($.s)", {"s": "{bad json}"}, "States.StringToJson", "not valid JSON"),
    ("States.StringToJson($.s)", {"s": '{"a":1'}, "States.StringToJson", "not valid JSON"),
    ("States.StringToJson($.s)", {"s": "undefined"}, "States.StringToJson", "not valid JSON"),
    ("States.StringToJson($.s)", {"s": "NaN"}, "States.StringToJson", "not valid JSON"),
    ("States.StringToJson($.s)", {"s": 123}, "States.StringToJson", "string"),
    ("States.StringToJson($.s)", {"s": {"a": 1}}, "States.StringToJson", "string"),
    ("States.ArrayPartition($.a, 0)", {"a": [1]}, "States.ArrayPartition", "positive"),
    ("States.ArrayPartition($.a, -1)", {"a": [1]}, "States.ArrayPartition", "positive"),
    ("States.ArrayPartition($.a, 0.6)", {"a": [1]}, "States.ArrayPartition", "positive"),
    ("States.ArrayPartition($.a, $.n)", {"a": [1], "n": "2"}, "States.ArrayPartition", "number"),
    ("States.ArrayPartition($.a, 2)", {"a": "not-array"}, "States.ArrayPartition", "array"),
    ("States.ArrayContains($.a, 1)", {"a": {"k": 1}}, "States.ArrayContains", "array"),
    ("States.ArrayRange(1, 10, 0)", {}, "States.ArrayRange", "zero"),
    ("States.ArrayRange(1, 10, 0.49)", {}, "States.ArrayRange", "zero"),
    ("States.ArrayRange(1, 1001, 1)", {}, "States.ArrayRange", "1000"),
    ("States.ArrayRange(1001, 1, -1)", {}, "States.ArrayRange", "1000"),
    ("States.ArrayRange($.a, 5, 1)", {"a": True}, "States.ArrayRange", "number"),
    ("States.ArrayGetItem($.a, 3)", {"a": [10, 20, 30]}, "States.ArrayGetItem", "out of range"),
    ("States.ArrayGetItem($.a, -1)", {"a": [10, 20, 30]}, "States.ArrayGetItem", "out of range"),
    ("States.ArrayGetItem($.a, $.i)", {"a": [10], "i": "0"}, "States.ArrayGetItem", "number"),
    ("States.ArrayLength($.o)", {"o": {"k": 1}}, "States.ArrayLength", "array"),
    ("States.ArrayUnique($.o)", {"o": "abc"}, "States.ArrayUnique", "array"),
    ("States.Base64Encode($.s)", {"s": "a" * 10001}, "States.Base64Encode", "10000"),
    ("States.Base64Encode($.s)", {"s": ["x"]}, "States.Base64Encode", "string"),
    ("States.Base64Decode($.s)", {"s": "A" * 10001}, "States.Base64Decode", "10000"),
    ("States.Base64Decode($.s)", {"s": {}}, "States.Base64Decode", "string"),
    ("States.Hash($.s, 'SHA-256')", {"s": "a" * 10001}, "States.Hash", "10000"),
    ("States.Hash($.s, 'SHA-256')", {"s": "🚀" * 5001}, "States.Hash", "10000"),
    ("States.Hash('data', $.alg)", {"alg": "SHA256"}, "States.Hash", "unknown algorithm"),
    ("States.Hash('data', $.alg)", {"alg": 256}, "States.Hash", "string"),
    ("States.JsonMerge($.a, $.b, true)", {"a": {}, "b": {}}, "States.JsonMerge", "deep"),
    ("States.JsonMerge($.a, $.b, $.d)", {"a": {}, "b": {}, "d": True}, "States.JsonMerge", "deep"),
    ("States.JsonMerge($.a, $.b, false)", {"a": None, "b": {}}, "States.JsonMerge", "object"),
    ("States.JsonMerge($.a, $.b, false)", {"a": {}, "b": "x"}, "States.JsonMerge", "object"),
    ("States.MathRandom(1, 1)", {}, "States.MathRandom", "less than"),
    ("States.MathRandom(10, 5)", {}, "States.MathRandom", "less than"),
    ("States.MathRandom(1.4, 1.6)", {}, "States.MathRandom", "less than"),
    ("States.MathRandom($.s, 10)", {"s": None}, "States.MathRandom", "number"),
    ("States.MathRandom(1, 10, $.seed)", {"seed": None}, "States.MathRandom", "number"),
    ("States.MathRandom(1, 10, $.seed)", {"seed": "seed"}, "States.MathRandom", "number"),
    ("States.MathAdd(2147483647, 1)", {}, "States.MathAdd", "32-bit"),
    ("States.MathAdd(-2147483648, -1)", {}, "States.MathAdd", "32-bit"),
    ("States.MathAdd(3000000000, 1)", {}, "States.MathAdd", "32-bit"),
    ("States.MathAdd($.a, 1)", {"a": "1"}, "States.MathAdd", "number"),
    ("States.MathAdd($.a, 1)", {"a": True}, "States.MathAdd", "number"),
    ("States.MathAdd($.a, 1)", {"a": [1]}, "States.MathAdd", "number"),
    ("States.MathAdd(1e309, 1)", {}, "States.MathAdd", "finite"),
    ("States.StringSplit($.s, ',')", {"s": 123}, "States.StringSplit", "string"),
    ("States.StringSplit($.s, $.d)", {"s": "a,b", "d": [","]}, "States.StringSplit", "string"),
    ("States.StringSplit($.s, $.d)", {"s": "a,b", "d": None}, "States.StringSplit", "string"),
]


@pytest.mark.parametrize("expression, data, function, reason", RUNTIME_FAILURES,
                         ids=[f[0][:70] for f in RUNTIME_FAILURES])
def test_runtime_failures_are_states_runtime(expression, data, function, reason):
    with pytest.raises(StatesError) as failure:
        run(expression, data)
    assert failure.value.error == "States.Runtime"
    assert failure.value.cause == f"Invalid arguments in {function}"
    assert failure.value.function == function
    assert reason in failure.value.reason


# -- Syntax: what check_intrinsic / compile_intrinsic refuse ---------------------------------

NESTED_10 = "States.Array(" * 10 + ")" * 10
NESTED_11 = "States.Array(" * 11 + ")" * 11

SYNTAX_ERRORS = [
    ("States.Foo()", "unknown intrinsic function 'States.Foo'"),
    ("Custom.Thing($.a)", "only the built-in States.* functions"),
    ("states.format('x')", "unknown intrinsic function"),
    ("States.ArrayLength()", "takes 1 argument(s), got 0"),
    ("States.ArrayLength($.a, 999)", "takes 1 argument(s), got 2"),
    ("States.ArrayPartition($.a)", "takes 2 argument(s), got 1"),
    ("States.ArrayRange(1, 5)", "takes 3 argument(s), got 2"),
    ("States.ArrayContains($.a, 2, 999)", "takes 2 argument(s)"),
    ("States.MathRandom(1)", "takes 2 to 3 argument(s), got 1"),
    ("States.MathRandom(1, 10, 5, 99)", "takes 2 to 3 argument(s), got 4"),
    ("States.JsonMerge($.a, $.b)", "takes 3 argument(s)"),
    ("States.Hash('hello')", "takes 2 argument(s)"),
    ("States.UUID(1)", "takes 0 argument(s)"),
    ("States.Format()", "at least 1 argument(s)"),
    (r"States.Format('a\n')", "invalid escape '\\n'"),
    (r"States.Base64Decode('YWJj\nZA==')", "invalid escape"),
    ("States.Array('abc", "unterminated string"),
    (r"States.Array('abc\')", "unterminated string"),
    ("States.Array(", "unbalanced parentheses"),
    ("States.Array($.a", "unbalanced parentheses"),
    ("States.ArrayLength(States.Array(1, 2)", "unbalanced parentheses"),
    ("States.Array($.a))", "unexpected ')' after the call"),
    ("States.Array($.a) trailing", "unexpected 'trailing' after the call"),
    (NESTED_11, "nested more than 10 levels"),
    ("States.Array($.a, )", "an argument is missing"),
    ("States.Array(, 1)", "an argument is missing"),
    ("States.Array([1,2])", "unexpected '['"),
    ("States.Array(1.)", "unexpected '.' after '1'"),
    ("States.Array(.5)", "is not an argument"),
    ("States.Array(nulls)", "is not an argument"),
    ("States.Array(True)", "is not an argument"),
    ("States.Array(\"x\")", "unexpected '\"'"),
    ("States.Array(States.UUID)", "is not an argument"),
    ("States.Array('a' 'b')", "expected ',' or ')'"),
    ("States.Array($.a[)", "invalid path argument"),
    ("States.Array($.a['b)", "unterminated quoted name"),
    ("States.ArrayLength('abc')", "argument 1 must be an array, not a string"),
    ("States.ArrayLength(3)", "must be an array, not a number"),
    ("States.ArrayPartition($.a, '2')", "argument 2 must be a number, not a string"),
    ("States.ArrayPartition($.a, null)", "must be a number, not a null"),
    ("States.MathAdd(true, 1)", "must be a number, not a boolean"),
    ("States.MathAdd(States.Format('1'), 1)", "must be a number, not a string"),
    ("States.ArrayLength(States.Format('x'))", "must be an array, not a string"),
    ("States.Base64Encode(123)", "must be a string, not a number"),
    ("States.StringToJson(States.Array())", "must be a string, not an array"),
    ("States.JsonMerge('a', $.b, false)", "must be an object, not a string"),
    ("States.Hash('data', 'sha-256')", "unknown algorithm 'sha-256'"),
    ("States.Hash('data', 'MD-5')", "unknown algorithm"),
    (" States.UUID()", "expected a function call"),
    ("$.a", "expected a function call"),
]


@pytest.mark.parametrize("expression, message", SYNTAX_ERRORS,
                         ids=[e[0][:70] for e in SYNTAX_ERRORS])
def test_syntax_errors(expression, message):
    problem = check_intrinsic(expression)
    assert problem is not None and message in problem, problem
    with pytest.raises(IntrinsicSyntaxError) as error:
        compile_intrinsic(expression)
    assert str(error.value) == problem
    assert isinstance(error.value, ValueError)


VALID = [
    NESTED_10,
    "States.UUID()",
    "States.Array( )",
    "States.Array(\t$.a ,\n$.b\t)",
    r"States.Format('\'\{\}\\ {}', $.a)",
    "States.ArrayLength(States.StringToJson($.s))",  # StringToJson may return an array
    "States.ArrayLength(States.ArrayGetItem($.a, 0))",
    "States.MathAdd(States.ArrayLength($.a), -1)",
    "States.JsonMerge(States.StringToJson($.a), $.b, false)",
    "States.Hash($.anything, 'SHA-512')",
    "States.Format($.template)",
    "States.JsonToString('x')",
    "States.MathRandom(1, 10, -10)",
]


@pytest.mark.parametrize("expression", VALID)
def test_valid_calls(expression):
    assert check_intrinsic(expression) is None
    compiled = compile_intrinsic(expression)
    assert compiled.text == expression


def test_static_problems_become_runtime_failures_when_not_strict():
    # AWS accepts these definitions and fails when the state runs [observed].
    for expression, function in [("States.ArrayLength('not-array')", "States.ArrayLength"),
                                 ("States.Hash()", "States.Hash"),
                                 ("States.ArrayContains($.a)", "States.ArrayContains")]:
        compiled = compile_intrinsic(expression, strict=False)
        with pytest.raises(StatesError) as failure:
            compiled.evaluate({"a": [1]}, ENV)
        assert failure.value.error == "States.Runtime"
        assert failure.value.cause == f"Invalid arguments in {function}"
    with pytest.raises(IntrinsicSyntaxError):  # grammar errors stay load-time errors
        compile_intrinsic("States.Array(", strict=False)


@pytest.mark.parametrize("text, expected", [
    ("States.Format('x')", True),
    ("States.UUID()", True),
    ("Custom.fn_2(1)", True),
    ("States.Format ('x')", False),
    ("$.a", False),
    ("$$.Execution.Id", False),
    ("$var", False),
    ("States.Format", False),
    ("", False),
    (" States.UUID()", False),
    (None, False),
])
def test_is_intrinsic_call(text, expected):
    assert is_intrinsic_call(text) is expected


def test_function_names_and_string_returning_functions():
    assert len(FUNCTION_NAMES) == 18
    assert STRING_RETURNING == {"States.Format", "States.JsonToString", "States.ArrayGetItem",
                                "States.Base64Encode", "States.Base64Decode", "States.Hash",
                                "States.UUID"}
    assert STRING_RETURNING < FUNCTION_NAMES
    assert compile_intrinsic("States.Format('x')").returns_string
    assert compile_intrinsic("States.Format('x')").name == "States.Format"
    assert not compile_intrinsic("States.Array(States.Format('x'))").returns_string


# -- Properties ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 63, 2 ** 63)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_json_to_string_then_string_to_json_round_trips(value):
    text = run("States.JsonToString($.v)", {"v": value})
    assert text == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    back = run("States.StringToJson($.s)", {"s": text})
    assert json.dumps(back, sort_keys=True) == json.dumps(value, sort_keys=True)


@settings(max_examples=150, deadline=None)
@given(st.lists(json_values, max_size=30), st.integers(1, 12))
def test_array_partition_chunks_concatenate_back(array, size):
    chunks = run("States.ArrayPartition($.a, $.n)", {"a": array, "n": size})
    assert [item for chunk in chunks for item in chunk] == array
    assert all(len(chunk) == size for chunk in chunks[:-1])
    assert all(1 <= len(chunk) <= size for chunk in chunks)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab,;. \n-", max_size=40), st.text(alphabet=",;.-x", min_size=1,
                                                           max_size=4))
def test_string_split_tokens_are_the_text_between_delimiters(text, delimiters):
    tokens = run("States.StringSplit($.s, $.d)", {"s": text, "d": delimiters})
    assert all(token and not set(token) & set(delimiters) for token in tokens)
    pattern = "[" + re.escape(delimiters) + "]"
    assert tokens == [t for t in re.split(pattern, text) if t]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_an_escaped_string_formats_back_to_itself(text):
    escaped = re.sub(r"(['{}\\])", r"\\\1", text)
    assert run(f"States.Format('{escaped}')") == text
    assert run(f"States.Array('{escaped}')") == [text]


@settings(max_examples=200, deadline=None)
@given(st.integers(-50, 50), st.integers(-50, 50), st.integers(-7, 7).filter(bool))
def test_array_range_steps_from_start_without_passing_end(start, end, step):
    values = run("States.ArrayRange($.a, $.b, $.c)", {"a": start, "b": end, "c": step})
    assert values == list(range(start, end + (1 if step > 0 else -1), step))
    assert all(b - a == step for a, b in zip(values, values[1:]))


@settings(max_examples=100, deadline=None)
@given(st.lists(json_values, max_size=15))
def test_array_unique_keeps_first_occurrences_of_distinct_values(array):
    unique = run("States.ArrayUnique($.a)", {"a": array + array})
    assert unique == run("States.ArrayUnique($.a)", {"a": array})
    for value in array:
        assert run("States.ArrayContains($.u, $.v)", {"u": unique, "v": value})


# -- intrinsic_problems: what the validator reports (syntax errors vs argument warnings) ---

ARGUMENT_PROBLEMS = [e for e in SYNTAX_ERRORS if any(word in e[1] for word in (
    "argument(s)", "must be", "unknown algorithm"))]


def test_argument_problems_cover_count_type_and_algorithm():
    kinds = {word for _, message in ARGUMENT_PROBLEMS
             for word in ("argument(s)", "must be", "unknown algorithm") if word in message}
    assert kinds == {"argument(s)", "must be", "unknown algorithm"}


@pytest.mark.parametrize("expression, message", ARGUMENT_PROBLEMS,
                         ids=[e[0][:70] for e in ARGUMENT_PROBLEMS])
def test_argument_problems_are_not_syntax_errors(expression, message):
    from asl.language.intrinsics import intrinsic_problems

    syntax, problems = intrinsic_problems(expression)
    assert syntax is None
    assert len(problems) == 1 and message in problems[0]
    assert problems[0].startswith(expression.split("(", 1)[0] + ": ")
    # What AWS does with them: the definition loads, the call fails when it runs.
    with pytest.raises(StatesError) as failure:
        compile_intrinsic(expression, strict=False).evaluate({"a": [1], "b": {}}, ENV)
    assert failure.value.error == "States.Runtime"
    assert failure.value.cause.startswith("Invalid arguments in States.")


@pytest.mark.parametrize("expression, message", [e for e in SYNTAX_ERRORS if e not in ARGUMENT_PROBLEMS],
                         ids=[e[0][:70] for e in SYNTAX_ERRORS if e not in ARGUMENT_PROBLEMS])
def test_grammar_errors_stay_syntax_errors(expression, message):
    from asl.language.intrinsics import intrinsic_problems

    syntax, problems = intrinsic_problems(expression)
    assert syntax == check_intrinsic(expression) and message in syntax
    assert problems == []


@pytest.mark.parametrize("expression", VALID)
def test_valid_calls_have_no_problem(expression):
    from asl.language.intrinsics import intrinsic_problems

    assert intrinsic_problems(expression) == (None, [])


def test_every_wrong_call_is_reported_outermost_first():
    from asl.language.intrinsics import intrinsic_problems

    syntax, problems = intrinsic_problems(
        "States.ArrayLength(States.Hash('a', 'SHA-3'), States.MathAdd(true, 1))")
    assert syntax is None
    assert [p.split(":", 1)[0] for p in problems] == [
        "States.ArrayLength", "States.Hash", "States.MathAdd"]
    assert intrinsic_problems(None)[0] is not None
