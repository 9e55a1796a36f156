"""A giant JSONata expression (issue 12): a definition may hold one expression of up to
AWS's 1 MB definition quota. One the parser cannot handle is refused at once as
INVALID_JSONATA_EXPRESSION with a short diagnostic (it used to take seconds before the
parser overflowed, and quoted the whole expression); one it can handle stays valid and
runs. No test here measures time: the timings are in docs/fidelity.md and issue 12."""

import gc
import random
import sys

import pytest

import asl
from asl.language import jsonata as J
from asl.language.jsonata import JSONataSyntaxError, check_expression, compile_template
from asl.validation import is_valid, validate
from asl.validation.diagnostics import INVALID_JSONATA_EXPRESSION

GIANT = {
    "sum": lambda n: "+".join(["1"] * n),
    "concatenation": lambda n: " & ".join(f"$a{i % 10}" for i in range(n)),
    "path": lambda n: "$states.input" + ".a" * n,
    "mixed precedence": lambda n: "+".join(["2*3"] * n),
    "division": lambda n: "/".join(["8"] * n),
    "sum of blocks": lambda n: "+".join(["(1)"] * n),
    "conjunction": lambda n: " and ".join(["true"] * n),
    "parentheses": lambda n: "(" * n + "1" + ")" * n,
    "arrays": lambda n: "[" * n + "1" + "]" * n,
    "objects": lambda n: '{"a":' * n + "1" + "}" * n,
    "calls": lambda n: "$string(" * n + "1" + ")" * n,
    "chain after a flat array": lambda n: "[" + ",".join(["1"] * n) + "] ~> $count" * 1
                                          + " & 1" * n,
}


def _definition(expression: str) -> dict:
    return {"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": "{% " + expression + " %}", "End": True}}}


def _library_parses(text: str) -> bool:
    """Whether the library's parser accepts ``text`` (asl's scan bypassed)."""
    try:
        J._lib().Jsonata(text, J._bounded_regex)
    except Exception:  # noqa: BLE001 - RecursionError, JException, the port's own errors
        return False
    return True


# -- refused, with a clear diagnostic --------------------------------------------------------

@pytest.mark.parametrize("shape", list(GIANT))
def test_a_giant_expression_is_invalid_with_a_short_diagnostic(shape):
    expression = GIANT[shape](100_000)
    diagnostics = validate(_definition(expression))
    assert [d.code for d in diagnostics] == [INVALID_JSONATA_EXPRESSION]
    message = diagnostics[0].message
    assert "is not valid: nested too deeply to parse: " in message
    assert f"({len(expression)} characters)" in message     # quoted, but not in full
    assert len(message) < 600


def test_a_megabyte_expression_is_refused_the_same_way():
    diagnostics = validate(_definition("+".join(["1"] * 500_000)))
    assert [d.code for d in diagnostics] == [INVALID_JSONATA_EXPRESSION]
    assert "a chain of at least 1000 '+' operators" in diagnostics[0].message


def test_the_machine_and_the_compiler_refuse_it_without_a_traceback():
    expression = GIANT["concatenation"](100_000)
    with pytest.raises(asl.ValidationError) as caught:
        asl.StateMachine(_definition(expression))
    assert caught.value.diagnostics[0].code == INVALID_JSONATA_EXPRESSION
    with pytest.raises(JSONataSyntaxError) as refused:
        compile_template("{% " + expression + " %}", "Output")
    assert "nested too deeply to parse" in refused.value.detail
    assert len(str(refused.value)) < 600
    assert refused.value.expression == expression           # the exception keeps it whole


def test_what_the_scan_lets_through_the_parser_still_refuses_cleanly():
    """999 operators: below the scan's threshold, beyond what the parser can recurse."""
    problem = check_expression("+".join(["1"] * 1000))
    assert problem == ("nested too deeply to parse: the parser exceeded its recursion limit "
                       f"({sys.getrecursionlimit()})")


# -- the scan refuses only what the parser refuses -------------------------------------------

def _largest_parsing(shape) -> int:
    low, high = 1, 2 * sys.getrecursionlimit()
    assert _library_parses(shape(low)) and not _library_parses(shape(high))
    while low + 1 < high:
        middle = (low + high) // 2
        if _library_parses(shape(middle)):
            low = middle
        else:
            high = middle
    return low


_MEASURED = [s for s in GIANT if s != "chain after a flat array"]


@pytest.mark.parametrize("shape, limit", [(s, None) for s in _MEASURED] + [
    (s, 2500) for s in _MEASURED if s != "path"])     # the port's paths parse in n² time
def test_the_thresholds_lie_above_what_the_parser_handles(shape, limit):
    """Measured: the largest size of each shape that the library parses is not refused
    by the scan (from the shallow stack of a test, so the margin holds from anywhere),
    and a size the parser cannot handle is; also with a raised recursion limit."""
    saved = sys.getrecursionlimit()
    if limit:
        sys.setrecursionlimit(limit)
    try:
        build = GIANT[shape]
        largest = _largest_parsing(build)
        current = sys.getrecursionlimit()
        assert J._too_deep(build(largest), current) is None
        assert J._too_deep(build(2 * current), current) is not None
    finally:
        sys.setrecursionlimit(saved)


# Operands that exercise what the scan must read as the library does: strings, quoted
# names, comments and regexes holding brackets and operators, '/' after a bracket, lambdas
# (with signatures), order-by, keep-array '[]', placeholders, transforms, unbalanced text.
_OPERANDS = [
    "1", "2.5e3", '"a(b[{"', "'x+y+z'", "`c (d`", "$v", "$states.input.a", "name", "true",
    "null", '$match("a", /a(b/)', '$match("a", /\\/(/i)', "$f(1, 2)", "(1; 2)", "[1, 2][0]",
    "a[]", '{"k": 1}.k', "a^(>b)", "function($x){$x}", "function($x)<n:n>{$x}",
    "/* c ( + */ 1", "-1", "*", "%.a", "($x := 1)", "(a ? b : c)", "a ?? b", "|a|{}|",
    "a@$x", "a#$i", "[1..3]", 'x.y{"a": 1}', "(1)/2", "$f(1)/2", "a[]/b/", "a^(b)/c/",
    "function($x){1}/d/", "and", "or", "in", "λ($y){$y}", "$", "$$", "**", '"\\"(("',
    "a[b>1]", "$f(?, 1)", "((((1))))", "[[[[]]]]", "{}", "()", "$x.$y", "a.b.c",
    '"unterminated', "`bad", "/* open", ")", "]", "(",
]
_OPERATORS = ["+", "-", "*", "/", "%", "&", "=", "!=", "<", "<=", ">", ">=", "~>", "and", "or",
              "in", ".", "?:", "??", ":=", ",", ";", "^", "|", "?", ":"]


def _random_expression(rng: random.Random) -> str:
    noise = rng.choice([0.0, 0.002, 0.01, 0.05, 0.5])
    other_operators = rng.choice([0.0, 0.001, 0.01, 0.1])
    main = rng.choice(_OPERATORS[:17])
    parts = [rng.choice(_OPERANDS)]
    for _ in range(rng.choice([5, 400, 1200, 2500])):
        parts.append(rng.choice(_OPERATORS) if rng.random() < other_operators else main)
        parts.append(rng.choice(_OPERANDS) if rng.random() < noise else rng.choice(_OPERANDS[:10]))
    text = " ".join(parts)
    if rng.random() < 0.2:
        depth = rng.choice([100, 400, 600])
        text = "(" * depth + text + ")" * depth
    return text


def test_a_refusal_is_always_an_expression_the_parser_refuses():
    rng = random.Random(12)
    limit = sys.getrecursionlimit()
    refused = 0
    for _ in range(300):
        text = _random_expression(rng)
        if J._too_deep(text, limit) is not None:
            refused += 1
            assert not _library_parses(text), text[:200]
    assert refused > 20        # the scan does refuse, in all this noise


@pytest.mark.parametrize("text", [
    '1 + "' + "+1" * 2000,                            # a chain after an unterminated string
    '"' + "(" * 2000 + '"',                           # inside a string
    "`" + "+1" * 2000 + "`",                          # inside a quoted name
    "/* " + "(" * 2000 + " */ 1",                     # inside a comment
    "$match('a', /" + "\\(" * 2000 + "/)",            # escaped in a regex
    "$match('a', /" + "[a]" * 2000 + "/)",            # balanced in a regex
    "[" + ",".join(["1+1"] * 2000) + "]",             # many short chains
    "+".join(["(" + "+".join(["1"] * 30) + ")"] * 200),
    "(1)" + "/(1)" * 900,                             # division (after ')'), not a regex
    "function($x)<" + "n" * 3000 + ":n>{$x}",         # a signature is not read
    "|a|{}| " + "/ 1" * 1500,                         # '/' after a transform: unsure
])
def test_no_verdict_where_the_scan_cannot_be_sure(text):
    assert J._too_deep(text, sys.getrecursionlimit()) is None


# -- large but parsable: valid, and it runs ---------------------------------------------------

def _nested(depth: int, value):
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("expression, expected", [
    ("+".join(["1"] * 300), 300),
    ("[" + ",".join(["1"] * 5000) + "]", [1] * 5000),
    ("[" * 100 + "7" + "]" * 100, _nested(100, 7)),
    ('"' + "(+[{" * 50_000 + '"', "(+[{" * 50_000),
    ("$count($match('" + "ab" * 1000 + "', /" + "(a)b" * 10 + "/))", 100),
    ("$sum([" + ",".join(f"$states.input.v[{i % 3}]" for i in range(2000)) + "])", 3999),
])
def test_a_large_expression_the_parser_handles_is_valid_and_runs(expression, expected):
    definition = _definition(expression)
    assert is_valid(validate(definition))
    result = asl.StateMachine(definition).execute({"v": [1, 2, 3]})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == expected


def test_a_tree_deeper_than_evaluation_allows_fails_the_state_not_the_machine():
    """400 operators parse, and asl's own walk of the tree is iterative (it recursed, and
    raised RecursionError out of StateMachine); evaluating them recurses in the library."""
    machine = asl.StateMachine(_definition("+".join(["1"] * 401)))
    result = machine.execute({})
    assert (result.status, result.output if result.status == "SUCCEEDED" else result.error) in (
        ("SUCCEEDED", 401), ("FAILED", "States.QueryEvaluationError"))


def test_the_else_branch_of_a_condition_is_read_for_its_variables():
    """Found while making that walk iterative: it skipped the '_else' attribute."""
    evaluate = compile_template("{% $states.input.yes ? 1 : $v %}", "Output")
    assert evaluate({"input": {"yes": False}}, {"v": 5}) == 5
    assert J.references("$flag ? 1 : $v") == {"$flag", "$v"}


# -- the faster tokenizer and the collector pause ----------------------------------------------

_TOKENIZER_CORPUS = [
    "$states.input.a + 12.5e-3 * $x", "a and b or c in [1..3]", "x != 1 and y <= 2 or z >= 3",
    "$f ~> $g", "a ?: b ?? c", "$x := 1; $y", "`quoted name`.b", "\"s\\\"t\\u0041\" & 'q'",
    "/* comment */ 1 /* again */", "$match(a, /x\\/y/im)", "0123", "1e999", "1.", "a..b",
    "  \t\n  ", "", "**.a", "%.b", "λ($x){$x}", "\u00e9t\u00e9 + 1", "a\u00a0b", "true false null",
    "$", "$$", "a!b", "a~b", "{\"a\": [1, -2]}", "x ? y : z", "a^(>b, <c)", "a@$v#$i", "|a|{}|",
]


@pytest.mark.parametrize("text", _TOKENIZER_CORPUS)
def test_the_fast_tokenizer_reads_what_the_original_reads(text):
    J._lib()
    from jsonata import tokenizer
    fast = tokenizer.Tokenizer.next
    original = J._ORIGINAL_NEXT[0]
    for flags in ([True] * 40, [False] * 40, [i % 2 == 0 for i in range(40)]):
        ours, theirs = (tokenizer.Tokenizer(text, J._bounded_regex) for _ in range(2))
        for prefix in flags:
            got, expected = _read(fast, ours, prefix), _read(original, theirs, prefix)
            assert got == expected
            if expected is None or expected[0] == "error":
                break


def _read(next_token, lexer, prefix):
    try:
        token = next_token(lexer, prefix)
    except Exception as exc:  # noqa: BLE001
        return ("error", type(exc).__name__, getattr(exc, "error", None))
    if token is None:
        return None
    value = token.value
    if token.type == "regex":
        value = (value.compiled.pattern, value.compiled.flags)
    return (token.type, value, type(value).__name__, token.position, lexer.position)


def test_the_operator_characters_are_the_libraries():
    J._lib()
    from jsonata import tokenizer
    assert set(J._OPERATOR_CHARS) == {op for op in tokenizer.Tokenizer.operators if len(op) == 1}


@pytest.mark.parametrize("enabled", [True, False])
def test_parsing_a_long_expression_leaves_the_collector_as_it_was(enabled):
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        assert check_expression("[" + ",".join(["1"] * 20_000) + "]") is None
        assert check_expression("[" + ",".join(["1"] * 20_000)) is not None
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
