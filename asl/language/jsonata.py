"""JSONata in Step Functions: ``{% expression %}`` fields, compiled once, evaluated as AWS does.

A JSONata state's fields (``Arguments``, ``Output``, ``Assign``, ``Condition``, ``Items``,
``TimeoutSeconds``...) hold either an expression string ``"{% ... %}"`` or a JSON value
in which such strings may be nested (a *template*). :func:`compile_template` turns a
field's value into a function ``evaluate(states, variables, now=None)``: ``states`` is
the ``$states`` dict (``input``, ``context``, and ``result``/``errorOutput`` where they
exist), ``variables`` the workflow variables, bound as ``$name``, and ``now`` the epoch
seconds ``$now()``/``$millis()`` report (the real time by default, a virtual clock's
time in tests). An evaluator of a single expression also carries ``expression`` (the
text inside ``{% %}``) and ``field``, which :func:`expect_type` causes quote.

The JSONata language itself is the ``jsonata-python`` library, imported only when a
definition uses JSONata. This module adds what Step Functions adds around it:

* no implicit input document: ``$``, ``$$`` and bare field names find nothing;
* ``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid``, ``$parse``; no ``$eval``;
* every failure is ``States.QueryEvaluationError`` with AWS's cause wording, naming the
  expression and the field (``Output``, ``Arguments/FunctionName``, ``Assign/total``);
* results are plain JSON: JSONata's ``undefined`` is an error, functions are refused;
* JSON ``null`` stays distinct from ``undefined`` inside the library (it is
  ``Utils.NULL_VALUE`` there), and integers stay integers;
* a few defects of the port are corrected where users meet them (``$number``, ``$sort``,
  Python exceptions instead of JSONata errors, "Object" for "function" in messages,
  debugging output printed to stdout, a parser quadratic in the expression's length);
* an expression nested deeper than the parser can recurse is a syntax error, found at
  once by a linear scan when it certainly is (:func:`_too_deep`).

Cost: the library interprets the AST in pure Python, 15 to 50 microseconds for a simple
expression. So plain paths (``$states.input.order.id``, ``$customer.name``), by far the
most common expressions, are read directly from the dictionaries whenever every step
lands on an object, and so are object and array constructors of them and ``$merge``
(the ResultPath idiom; :func:`_native`). For the others, only the parts of ``$states``
and of variables the expression can reach are converted for the library (a Map iteration
reading ``$states.context.Map.Item.Value`` never walks the execution's input).
"""

from __future__ import annotations

import gc
import json
import math
import random
import re
import sys
import threading
import time
import uuid
from typing import Any, Callable, Mapping

from asl.errors import QUERY_EVALUATION_ERROR, StatesError
from asl.language import HASH_ALGORITHMS, Constant, evaluation, is_jsonata_expression
from asl.payload import dumps

__all__ = [
    "JSONataSyntaxError", "Expression", "is_expression", "compile_template", "expect_type",
    "check_expression", "parse_expression", "references",
]

#: ``$states``: ``{"input": ..., "context": ..., "result"?: ..., "errorOutput"?: ...}``;
#: ``context`` may be a function of no arguments giving it, called only by an expression
#: that reads it (building the Context object is a good part of a simple state's cost).
StatesVars = Mapping[str, Any]
Evaluator = Callable[..., Any]

#: The members ``$states`` may have [AWS].
STATES_MEMBERS = ("input", "context", "result", "errorOutput")


class JSONataSyntaxError(ValueError):
    """A ``{% %}`` expression that does not parse (raised when the definition is compiled)."""

    def __init__(self, expression: str, field: str, detail: str) -> None:
        where = f" specified for the field '{field}'" if field else ""
        super().__init__(f"The JSONata expression '{abbreviated(expression)}'{where} is not "
                         f"valid: {detail}")
        self.expression = expression
        self.field = field
        self.detail = detail


is_expression = is_jsonata_expression

#: Beyond this many characters, a message quotes an expression's beginning and its length.
_QUOTED_AT_MOST = 1000


def abbreviated(expression: str) -> str:
    """``expression`` as a message quotes it: whole, unless it is very long (a 400 KB
    expression is not a readable diagnostic)."""
    if len(expression) <= _QUOTED_AT_MOST:
        return expression
    return f"{expression[:200]}... ({len(expression)} characters)"


# -- Errors, in AWS's words ---------------------------------------------------------------

def _query_error(expression: str, field: str, problem: str) -> StatesError:
    return StatesError(QUERY_EVALUATION_ERROR,
                       f"The JSONata expression '{expression}' specified for the field "
                       f"'{field}' {problem}", location=field)


def _type_name(value: Any) -> str:
    """JSONata's type names, as AWS prints them in 'but was ...'."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if type(value) in (int, float):
        return "number"
    if type(value) is str:
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def expect_type(value: Any, expected: str, expression: str, field: str) -> Any:
    """Check a field's evaluated value; return it (an integral number as an ``int``).

    ``expected`` is one of ``array``, ``number``, ``string``, ``boolean``, ``object``,
    ``integer``, ``null``. A mismatch is States.QueryEvaluationError [observed]:
    ``... returned an unexpected result type. Expected 'array', but was 'number' for
    value: 1``. An integral float (``2.0``) passes as an integer; ``2.5`` is reported as
    a 'number'.
    """
    actual = _type_name(value)
    if expected == "integer":
        if actual == "number" and (type(value) is int or value.is_integer()):
            return int(value)
    elif actual == expected:
        return value
    raise _query_error(expression, field,
                       f"returned an unexpected result type. Expected '{expected}', "
                       f"but was '{actual}' for value: {dumps(value)}")


# -- The library, loaded on first use -----------------------------------------------------

class _Library:
    """jsonata-python and what Step Functions binds around it, built once per process."""

    def __init__(self) -> None:
        # Importing the library raises the interpreter's recursion limit to 10,000 for
        # the whole process; put it back, so that using JSONata changes nothing else.
        recursion_limit = sys.getrecursionlimit()
        from jsonata import functions, jexception, parser, tokenizer, utils
        from jsonata.jsonata import Jsonata
        sys.setrecursionlimit(recursion_limit)
        _speed_up_parsing(tokenizer, parser, utils)

        self.Jsonata = Jsonata
        self.Frame = Jsonata.Frame
        self.JException = jexception.JException
        self.error_codes = jexception.JException.error_codes
        self.Symbol = parser.Parser.Symbol
        self.NULL = utils.Utils.NULL_VALUE
        self.functions = functions.Functions
        self.current = Jsonata.CURRENT
        self.local = threading.local()
        # The port prints to stdout on some errors ("Proc not found 5" before T1006):
        # that would corrupt the JSON a command-line run writes there.
        sys.modules["jsonata.jsonata"].print = _discard

        # Step Functions' global scope: the standard library, AWS's additions, no $eval.
        Native, Guarded = _function_types(Jsonata, self.JException)
        self.frame = Jsonata.Frame(Jsonata.static_frame)
        functions_here = {**_aws_functions(self), **_corrected_functions(self)}
        for name, (implementation, signature_text, arity) in functions_here.items():
            self.frame.bind(name, Native(name, implementation, signature_text, arity))
        for name, translate in _error_translations(self).items():
            self.frame.bind(name, Guarded(Jsonata.static_frame.lookup(name), translate))
        # A binding to undefined hides the built-in: ``$eval(...)`` is then T1006 [AWS].
        self.frame.bindings["eval"] = None
        self.builtins = frozenset(Jsonata.static_frame.bindings) | frozenset(self.frame.bindings)

    def parse(self, text: str):
        """The AST of ``text``; raises the library's JException on a syntax error, and
        :class:`_TooDeep` for an expression nested beyond what the parser can recurse.

        An expression long enough to be that deep is scanned first (:func:`_too_deep`):
        one that certainly is, is refused at once, instead of after seconds of parsing.
        A long one is parsed with the cycle collector paused (:func:`_collector_paused`).
        """
        limit = sys.getrecursionlimit()
        if len(text) > limit // 2:
            problem = _too_deep(text, limit)
            if problem is not None:
                raise _TooDeep(problem)
        try:
            if len(text) < _PAUSE_COLLECTOR_FROM:
                return self.Jsonata(text, _bounded_regex).ast
            with _collector_paused():
                return self.Jsonata(text, _bounded_regex).ast
        except RecursionError:
            raise _TooDeep(f"{_TOO_DEEP}: the parser exceeded its recursion limit "
                           f"({limit})") from None

    def runner(self):
        """This thread's evaluator instance.

        The library keeps evaluation state (current environment, ``$now`` timestamp) on
        the Jsonata object it finds in a thread-local; one private instance per thread
        keeps concurrent Map iterations and Parallel branches apart.
        """
        runner = getattr(self.local, "runner", None)
        if runner is None:
            runner = self.local.runner = self.Jsonata("0", _bounded_regex)
        return runner


def _function_types(Jsonata, JException) -> tuple[type, type]:
    """The two kinds of function bound here, as the library's JFunction subclasses."""

    class Native(Jsonata.JFunction):
        """A function written here, called with its validated arguments."""

        def __init__(self, name: str, implementation, signature_text: str, arity: int) -> None:
            super().__init__(None, signature_text)
            self.function_name = name  # partial application ($f(?, 2)) calls it by name
            self.implementation = implementation
            self.arity = arity

        def call(self, input, args):
            return self.implementation(*(args or ()))

        def get_number_of_args(self) -> int:
            return self.arity

    class Guarded(Jsonata.JFunction):
        """A library function whose Python exceptions become the JSONata error due."""

        def __init__(self, native, translate) -> None:
            super().__init__(None, None)
            self.native = native
            self.signature = native.signature
            self.function_name = native.function_name
            self.translate = translate

        def call(self, input, args):
            try:
                return self.native.call(input, args)
            except JException:
                raise
            except Exception as exc:  # noqa: BLE001 - Python errors of the port
                raise self.translate(list(args or ()), exc) from None

        def get_number_of_args(self) -> int:
            return self.native.get_number_of_args()

    return Native, Guarded


_library: _Library | None = None
_library_lock = threading.Lock()


def _lib() -> _Library:
    global _library
    if _library is None:
        with _library_lock:
            if _library is None:
                _library = _Library()
    return _library


# -- Parsing: faster, and refused at once when certainly too deep ----------------------------

class _TooDeep(Exception):
    """An expression nested deeper than the parser can recurse: for asl, a syntax error."""


_TOO_DEEP = "nested too deeply to parse"


#: The library's own ``Tokenizer.next``, once :func:`_speed_up_parsing` has replaced it.
_ORIGINAL_NEXT: list = []


def _speed_up_parsing(tokenizer, parser, utils) -> None:
    """Remove three costs of the port's parser that grow with the expression.

    * Its tokenizer copies the rest of the text for every number and name it reads
      (``path[position:]``, to match a regex against it), so tokenizing is quadratic: a
      200 KB expression spends seconds copying. Numbers, names, variables and operators
      are read here in place; strings, backquoted names, comments and regexes are left
      to the original method.
    * Every token is a ``copy.copy`` of a prototype symbol, a dozen microseconds each;
      copying the instance dictionary does exactly the same in a fraction of it.
    * Every symbol carries some fifty attributes, nearly all None: they become class
      attributes (below), so that a symbol holds only its own.

    The tokens and symbols are the same as before (tests compare them with the
    original's). Applied once, to the library's classes.
    """
    Tokenizer = tokenizer.Tokenizer
    if _ORIGINAL_NEXT:
        return
    original_next = Tokenizer.next
    _ORIGINAL_NEXT.append(original_next)      # kept for the tests that compare them
    Token = Tokenizer.Token
    convert_number = utils.Utils.convert_number
    singles = frozenset(op for op in Tokenizer.operators if len(op) == 1)
    # The pairs the original tests for before single characters, in its order.
    pairs = frozenset(("..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??"))
    delegated = frozenset("/\"'`")
    number = re.compile(tokenizer._NUMBER_PATTERN.pattern.lstrip("^"))
    name_end = re.compile("[^ \t\n\r" + re.escape("".join(sorted(singles))) + "]*")
    words = {"and": ("operator", "and"), "or": ("operator", "or"), "in": ("operator", "in"),
             "true": ("value", True), "false": ("value", False), "null": ("value", None)}

    def next(self, prefix: bool):
        path, length, position = self.path, self.length, self.position
        while position < length and path[position] in " \t\n\r":
            position += 1
        self.position = position
        if position >= length:
            return None
        char = path[position]
        if char in delegated:
            return original_next(self, prefix)
        if char in singles:
            pair = path[position:position + 2]
            if pair in pairs:
                self.position = position + 2
                return Token("operator", pair, position + 2)
            self.position = position + 1
            return Token("operator", char, position + 1)
        if "0" <= char <= "9":
            text = number.match(path, position).group()
            value = float(text)
            if not math.isfinite(value):
                return original_next(self, prefix)      # S0102, raised as the original does
            self.position = position + len(text)
            return Token("number", convert_number(value), self.position)
        end = name_end.match(path, position).end()
        self.position = end
        if char == "$":
            return Token("variable", path[position + 1:end], end)
        word = path[position:end]
        special = words.get(word)
        if special is not None:
            return Token(special[0], special[1], end)
        return Token("name", word, end)

    Tokenizer.next = next

    Symbol = parser.Parser.Symbol
    original_init = Symbol.__init__
    probe = object.__new__(Symbol)
    original_init(probe, None)
    defaults = {name: value for name, value in vars(probe).items()
                if name not in ("_outer_instance", "id", "value", "bp")}
    if all(value is None or type(value) in (bool, int) for value in defaults.values()):
        # The fifty-odd attributes every symbol starts with, all None, False or 0, as
        # class attributes: an instance holds only what was set on it (a quarter of the
        # memory: a 1 MB expression took 1.6 GB), and copying it is that much cheaper.
        for name, value in defaults.items():
            setattr(Symbol, name, value)

        def __init__(self, outer_instance, id=None, bp=0):
            self._outer_instance = outer_instance
            self.id = id
            self.value = id
            self.bp = bp

        Symbol.__init__ = __init__

    def clone(self):
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        return copy

    Symbol.clone = clone


#: From this many characters on, an expression is parsed with the cycle collector paused.
_PAUSE_COLLECTOR_FROM = 10_000
_pause_lock = threading.Lock()
_pausing = [0, False]           # parses under way with the collector paused; was it enabled


class _collector_paused:
    """Pause Python's cycle collector while a long expression is parsed.

    The parser allocates a few objects per token (a 400 KB expression: a million) and
    frees almost none; the collector, triggered by allocations, then walks the growing
    tree over and over: half the parse time at 100,000 items, and growing faster than
    the expression. The parse's garbage has no cycles (reference counting frees it), so
    nothing accumulates meanwhile. The collector is process-wide: concurrent parses are
    counted, and it is enabled again when the last ends, if it was enabled before.
    """

    def __enter__(self) -> None:
        with _pause_lock:
            if _pausing[0] == 0:
                _pausing[1] = gc.isenabled()
                gc.disable()
            _pausing[0] += 1

    def __exit__(self, *exc_info) -> None:
        with _pause_lock:
            _pausing[0] -= 1
            if _pausing[0] == 0 and _pausing[1]:
                gc.enable()


# What the parser does with an expression, as far as its recursion goes. It parses with
# Pratt's algorithm: each bracket level is at least two nested calls (``expression`` and the
# bracket's nud/led) while its content is parsed, and a left-associative chain of
# operators of one precedence (``1+1+1``, ``$a & $b & $c``, ``$x.a.b.c``) is a tree as deep
# as the chain is long, which its post-processing (``process_ast``) walks with one
# recursive call per operator. Past the interpreter's recursion limit it raises
# RecursionError: for brackets as soon as it reaches that depth, for a chain only after
# having parsed all of it (100,000 terms: seconds).

#: The chained operators, by the parser's binding power (all parse as standard infix
#: operators: ``rhs = expression(bp)``, left-associative).
_CHAINED = {".": 75, "*": 60, "/": 60, "%": 60, "+": 50, "-": 50, "&": 50,
            "=": 40, "!=": 40, "<": 40, "<=": 40, ">": 40, ">=": 40, "~>": 40, "in": 40,
            "and": 30, "or": 25}
#: What every chained operator contains at least one of.
_CHAIN_SIGNS = (".", "*", "/", "%", "+", "-", "&", "=", "<", ">", "~", "and", "or", "in")
#: Where the next token is read for an operand, so that a ``/`` there starts a regex (the
#: parser reads past these with ``advance(..., infix=False)``).
_BEFORE_OPERAND = frozenset((",", ";", ":", "..", "?", ":=", "??", "?:", "@", "#", "^"))
_MATCHING = {"(": ")", "[": "]", "{": "}"}
#: The library's single-character operators, which end a name (checked by a test).
_OPERATOR_CHARS = ".[]{}(),@#;:?+-*/%|=<>^&!~"
_SCAN = re.compile(r"""[ \t\n\r]*(?:
    (?P<comment>/\*.*?\*/)
  | (?P<literal>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`
      |(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[Ee][-+]?[0-9]+)?)
  | (?P<unterminated>/\*|["'`])
  | (?P<op>\.\.|:=|!=|>=|<=|\*\*|~>|\?:|\?\?|[.\[\]{}(),@\#;:?+\-*/%|=<>^&!~])
  | (?P<name>[^ \t\n\r.\[\]{}(),@\#;:?+\-*/%|=<>^&!~]+)
)""", re.VERBOSE | re.DOTALL)
_REGEX_SPECIAL = re.compile(r"[/()\[\]{}]")
_DIVISION, _REGEX, _UNSURE = 0, 1, 2


def _too_deep(text: str, limit: int) -> str | None:
    """Why the parser certainly cannot parse ``text`` within ``limit`` nested calls, or
    None when it may (then it decides).

    One linear pass over the tokens, as the library's tokenizer reads them, stopping at
    the first proof: brackets nested so deep that two calls per level exceed the limit,
    or a chain of at least ``limit`` operators of one precedence whose operands hold only
    operators that bind tighter (then the chain is one spine of the tree). Whatever else
    the expression holds, the parser fails on it: by recursion, or earlier by a syntax
    error. When a ``/`` could be read either as division or as the start of a regex
    (the parser decides by where it stands, which is not worth repeating here), or a
    lambda has a signature, there is no verdict.
    """
    # Neither proof is possible without that many operator characters, or brackets.
    if sum(map(text.count, _CHAIN_SIGNS)) < limit and \
            sum(map(text.count, "([{")) < limit // 2 + 1:
        return None
    levels: list = []          # the open brackets: (closer, kind, the enclosing runs)
    runs: list = []            # chains in progress here: [binding power, count, operator]
    expect = True              # at an operand, or else at an operator
    slash = _REGEX             # how the library will read a '/' here
    previous = ""              # the previous token, for '[]', '^(' and 'function('
    arguments = False          # just closed a lambda's parameter list
    position, match = 0, _SCAN.match
    while True:
        found = match(text, position)
        if found is None:
            return None
        position = found.end()
        group = found.lastgroup
        if group == "comment":
            continue
        if group == "unterminated":
            return None
        token = found.group(group)
        lambda_parameters, arguments = arguments, False
        if group == "op" and token == "/" and slash != _DIVISION:
            if slash == _UNSURE:
                return None
            position = _regex_end(text, position)
            if position < 0:
                return None
            group = "literal"
        if group == "name" and not (token in ("and", "or", "in") and not expect):
            group = "literal"
        if group == "literal":
            if expect:
                expect = False
            else:
                runs = []      # two operands in a row: the parser stops there
            slash = _DIVISION
        elif token in _MATCHING:
            if lambda_parameters and token == "{":
                kind = "lambda"
            elif expect:
                kind = "sort" if previous == "^" else "operand"
            else:
                kind = "arguments" if token == "(" and previous in ("function", "λ") else \
                    "predicate" if token == "[" else "postfix"
                binding = 70 if token == "{" else 80
                while runs and runs[-1][0] >= binding:
                    runs.pop()
            levels.append((_MATCHING[token], kind, runs))
            if 2 * (len(levels) - 1) >= limit:
                return (f"{_TOO_DEEP}: brackets nested at least {len(levels)} deep, each "
                        f"level at least two calls deep in the parser (its limit is {limit})")
            runs, expect = [], True
            slash = _DIVISION if kind == "operand" else _REGEX
        elif token in ")]}":
            if not levels or levels[-1][0] != token:
                return None    # unbalanced: a syntax error there
            _, kind, runs = levels.pop()
            expect = False
            slash = _REGEX if kind in ("sort", "lambda") or (
                kind == "predicate" and previous == "[") else _DIVISION
            arguments = kind == "arguments"
        elif lambda_parameters and token == "<":
            return None        # a signature: read by its own rules
        elif not expect and token in _CHAINED:
            binding = _CHAINED[token]
            while runs and runs[-1][0] > binding:
                runs.pop()
            if runs and runs[-1][0] == binding:
                chain = runs[-1]
                chain[1] += 1
                if chain[2] != token:
                    chain[2] = ""
                if chain[1] >= limit:
                    what = f"'{chain[2]}' operators" if chain[2] else "operators of one precedence"
                    return (f"{_TOO_DEEP}: a chain of at least {chain[1]} {what}, one call "
                            f"deep each in the parser (its limit is {limit})")
            else:
                runs.append([binding, 1, token])
            expect, slash = True, _REGEX
        elif expect and token == "-":
            while runs and runs[-1][0] > 70:
                runs.pop()     # the operand of a prefix minus binds at 70
            slash = _DIVISION
        elif expect and token in ("*", "%", "**"):
            expect, slash = False, _DIVISION      # wildcard, parent, descendants
        else:
            slash = _REGEX if token in (",", ";", ":", "..") or (
                not expect and token in _BEFORE_OPERAND) else _UNSURE
            runs, expect = [], True
        previous = token


def _regex_end(text: str, start: int) -> int:
    """Where a regex literal whose first character is at ``start`` ends (after its
    flags), as the library's tokenizer finds it; -1 if it has no end or is empty."""
    depth = 0
    for found in _REGEX_SPECIAL.finditer(text, start):
        at = found.start()
        char = text[at]
        if char == "/" and depth == 0:
            backslashes = 0
            while text[at - backslashes - 1] == "\\":
                backslashes += 1
            if backslashes % 2 == 0:
                if at == start:
                    return -1
                at += 1
                while at < len(text) and text[at] in "im":
                    at += 1
                return at
        elif char != "/" and text[at - 1] != "\\":
            depth += 1 if char in "([{" else -1
    return -1


# -- JSON <-> the library's values --------------------------------------------------------

def _to_jsonata(value: Any, null: Any) -> Any:
    """``value`` with JSON nulls as the library's NULL_VALUE (its ``None`` is undefined).

    Copies only the containers that hold a null (or hold one that does); everything
    else is shared, so a null-free input costs one walk and no allocation.
    """
    t = type(value)
    if t is dict:
        copy = None
        for key, item in value.items():
            if item is None:
                new = null
            elif type(item) is dict or type(item) is list:
                new = _to_jsonata(item, null)
                if new is item:
                    continue
            else:
                continue
            if copy is None:
                copy = dict(value)
            copy[key] = new
        return value if copy is None else copy
    if t is list:
        copy = None
        for i, item in enumerate(value):
            if item is None:
                new = null
            elif type(item) is dict or type(item) is list:
                new = _to_jsonata(item, null)
                if new is item:
                    continue
            else:
                continue
            if copy is None:
                copy = list(value)
            copy[i] = new
        return value if copy is None else copy
    if value is None:
        return null
    return value


class _Unsupported(Exception):
    """A result that is not JSON: a function, a regex."""


_JS_INTEGER_LIMIT = 2.0 ** 53


def _to_json(value: Any, null: Any) -> Any:
    """A library result as plain JSON (dict, list, str, int, float, bool, None).

    NULL_VALUE becomes None, the library's list subclasses become lists, and an
    integral float beyond 2**53 (where the library's arithmetic gives up on ints)
    becomes the int JavaScript would print. Functions raise :class:`_Unsupported`.
    Plain containers that need no change are returned as they are.
    """
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        if value.is_integer() and _JS_INTEGER_LIMIT <= abs(value) < 1e21:
            return int(value)
        return value
    if value is null:
        return None
    if t is dict:
        copy = None
        for key, item in value.items():
            new = _to_json(item, null)
            if new is not item:
                if copy is None:
                    copy = dict(value)
                copy[key] = new
        return value if copy is None else copy
    if isinstance(value, list):
        items = [_to_json(item, null) for item in value]
        if t is list and all(a is b for a, b in zip(items, value)):
            return value
        return items
    raise _Unsupported()


# -- Error messages: the library's error, as JSONata (and so AWS) words it ------------------

# JSONata's own signature letters, as its T0412 message spells them.
_ARRAY_OF = {"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers",
             "o": "objects", "s": "strings"}

_PLACEHOLDER = re.compile(r"\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}")


def _js_stringify(value: Any) -> str:
    """JSON.stringify, as JSONata fills ``{{value}}`` in its messages."""
    lib = _library
    if lib is not None and value is lib.NULL:
        return "null"
    if type(value) is float and value.is_integer() and abs(value) < 1e21:
        value = int(value)
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _describe(exc: Exception) -> str:
    """``<code>: <message>`` for a JSONata error, e.g. ``T1006: Attempted to invoke a
    non-function`` [observed wording].

    The Python port's message catalogue writes "Object" where JSONata writes "function"
    (a Java-port artefact) and fills placeholders unquoted; messages are re-rendered
    here from the catalogue the way jsonata-js does: ``{{x}}`` JSON-encoded,
    ``{{{x}}}`` raw.
    """
    lib = _lib()
    if not isinstance(exc, lib.JException):
        return _describe_python_error(exc)
    code = exc.error
    template = lib.error_codes.get(code)
    if template is None:
        # The port sometimes raises with the message in place of the code ($replace).
        for known, text in lib.error_codes.items():
            if _js_wording(text) == code:
                code, template = known, text
                break
        else:
            return str(code)
    template = _js_wording(template)
    template = template.replace("must not exceed 1e6", "must not exceed 1e7")  # its limit
    args = [exc.current, exc.expected, exc.extra]
    if code == "T0412" and isinstance(exc.extra, str):
        args[2] = _ARRAY_OF.get(exc.extra, exc.extra)
    elif code == "T0411":
        args = [exc.expected, None, None]
    elif code == "D1002":
        args = [exc.expected, None, None]
    values = iter(args)

    def fill(match: re.Match) -> str:
        value = next(values, None)
        if match.group(1) is not None:
            return "" if value is None else str(value)
        return "undefined" if value is None else _js_stringify(value)

    return f"{code}: {_PLACEHOLDER.sub(fill, template)}"


def _js_wording(template: str) -> str:
    """The port's catalogue entry as jsonata-js words it."""
    return re.sub(r"\bObject\b", "function", template)


def _describe_python_error(exc: Exception) -> str:
    """A Python exception escaping the library (its defects), mapped to JSONata's code."""
    if isinstance(exc, (ZeroDivisionError, OverflowError)):
        # JavaScript arithmetic would give Infinity, which JSONata refuses as a result.
        return "D1001: Number out of range: Infinity"
    if isinstance(exc, RecursionError):
        return ("D1011: Stack overflow. Check for non-terminating recursive function.  "
                "Consider rewriting as tail-recursive")
    if isinstance(exc, (_FunctionError, _TooDeep)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class _FunctionError(Exception):
    """A Step Functions function ($partition, $range...) refusing its arguments."""


# -- The functions Step Functions adds [AWS] -------------------------------------------------

def _integer(value: Any, function: str, what: str) -> int:
    """An integer parameter: AWS rounds non-integers down [AWS]; toward zero, as the
    intrinsic functions were observed to do."""
    if type(value) is float:
        if not math.isfinite(value):
            raise _FunctionError(f"{function}: the {what} must be a finite number")
        return int(value)
    return value


def _aws_functions(lib: _Library) -> dict:
    """name -> (implementation, JSONata signature, arity) for Step Functions' own functions.

    Signatures are JSONata's: the library checks argument types (T0410) and wraps a
    single value passed where an array is expected, as JSONata does for its own.
    """
    null = lib.NULL

    def partition(array, size):
        """$partition(array, size): chunks of ``size`` items, the last possibly shorter."""
        if array is None or size is None:
            return None
        n = _integer(size, "$partition", "chunk size")
        if n <= 0:
            raise _FunctionError(f"$partition: the chunk size must be a positive integer, "
                                 f"got {_js_stringify(size)}")
        items = list(array)
        return [items[i:i + n] for i in range(0, len(items), n)]

    def range_(start, end, step):
        """$range(start, end, step): from start to end inclusive, step may be negative."""
        if start is None or end is None or step is None:
            return None
        first = _integer(start, "$range", "start")
        last = _integer(end, "$range", "end")
        increment = _integer(step, "$range", "step")
        if increment == 0:
            raise _FunctionError("$range: the step must not be zero")
        count = (last - first) // increment + 1
        if count > _MAX_RANGE_ITEMS:
            raise _FunctionError(f"$range: the range would have {count} items, more than "
                                 f"{_MAX_RANGE_ITEMS}")
        items = list(range(first, first + max(count, 0) * increment, increment))
        # A JSONata sequence of one value is that value: $range(1, 9, 9) is 1 [AWS, recorded].
        return items[0] if len(items) == 1 else items

    def hash_(data, algorithm):
        """$hash(data, algorithm): lowercase hex digest of the UTF-8 text of ``data``."""
        if data is None or algorithm is None:
            return None
        digest = HASH_ALGORITHMS.get(algorithm)
        if digest is None:
            raise _FunctionError(f"$hash: unsupported algorithm {_js_stringify(algorithm)}; "
                                 f"use one of {', '.join(HASH_ALGORITHMS)}")
        text = data if type(data) is str else dumps(_to_json(data, null))
        return digest(text.encode("utf-8", "surrogatepass")).hexdigest()

    def random_(seed=None):
        """$random([seed]): 0 <= n < 1; the same seed always draws the same number."""
        if seed is None:
            return random.random()
        return _java_next_double(_integer(seed, "$random", "seed"))

    def uuid_():
        """$uuid(): a random version 4 UUID."""
        return str(uuid.uuid4())

    def parse(text):
        """$parse(json): the JSON value a string holds (JSONata has no $eval on AWS)."""
        if text is None:
            return None
        try:
            value = json.loads(text, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise _FunctionError(f"$parse: the argument is not valid JSON: {exc}") from None
        return _to_jsonata(value, null)

    return {
        "partition": (partition, "<an:a>", 2),
        "range": (range_, "<nnn:a<n>>", 3),
        "hash": (hash_, "<js:s>", 2),
        "random": (random_, "<n?:n>", 1),
        "uuid": (uuid_, "<:s>", 0),
        "parse": (parse, "<s-:j>", 1),
    }


# -- Library functions that differ from JSONata's definition --------------------------------

_JS_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?")
_JS_RADIX = re.compile(r"0[xX][0-9A-Fa-f]+|0[oO][0-7]+|0[bB][01]+")


def _corrected_functions(lib: _Library) -> dict:
    """Replacements for library functions that accept or refuse what JSONata does not."""
    JException = lib.JException

    def number(value=None):
        """$number: JSON-number strings and 0x/0o/0b literals only, else D3030 (the port
        accepted " 12", "+1", "1_000", "NaN" and raised ValueError on "abc")."""
        if value is None or type(value) in (int, float):
            return value
        if value is lib.NULL:  # the port's signature check lets null through
            raise JException("T0410", -1, 1, "number")
        if value is True or value is False:
            return int(value)
        if _JS_DECIMAL.fullmatch(value):
            number = float(value)
            if math.isfinite(number):
                return int(number) if number.is_integer() and abs(number) < 1e21 else number
        elif _JS_RADIX.fullmatch(value):
            return int(value, 0)
        raise JException("D3030", -1, value)

    def sort(array=None, comparator=None):
        """$sort: without a comparator only all-number or all-string arrays (D3070)."""
        if array is not None and comparator is None and len(array) > 1:
            numbers = all(type(v) in (int, float) for v in array)
            if not numbers and not all(type(v) is str for v in array):
                raise JException("D3070", -1)
        return lib.functions.sort(array, comparator)

    return {
        "number": (number, "<(nsb)-:n>", 1),
        "sort": (sort, "<af?:a>", 2),
    }


def _error_translations(lib: _Library) -> dict:
    """Library functions whose Python exceptions stand for a JSONata error code."""
    JException = lib.JException

    def url(name):
        return lambda args, exc: JException("D3140", -1, name, args[0] if args else None)

    return {
        "toMillis": lambda args, exc: JException("D3110", -1, args[0] if args else None),
        "power": lambda args, exc: JException("D3061", -1, *(args + [None, None])[:2]),
        "decodeUrl": url("decodeUrl"),
        "decodeUrlComponent": url("decodeUrlComponent"),
        "encodeUrl": url("encodeUrl"),
        "encodeUrlComponent": url("encodeUrlComponent"),
    }


def _discard(*args, **kwargs) -> None:
    pass


_MAX_RANGE_ITEMS = 1000  # as States.ArrayRange [observed]; AWS documents none for $range



def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _java_next_double(seed: int) -> float:
    """``new java.util.Random(seed).nextDouble()``: AWS's service is Java, and a seeded
    draw must repeat exactly [AWS: "the same seed returns an identical number"]."""
    multiplier, mask = 0x5DEECE66D, (1 << 48) - 1
    state = (seed ^ multiplier) & mask

    def next_bits(bits: int) -> int:
        nonlocal state
        state = (state * multiplier + 0xB) & mask
        return state >> (48 - bits)

    high = next_bits(26)
    low = next_bits(27)
    return ((high << 27) + low) * (1.0 / (1 << 53))


# -- Static analysis of an expression -------------------------------------------------------

# A step that only looks a field up: no predicate, stage, grouping, binding or array flag.
_PLAIN_STEP_FLAGS = ("predicate", "stages", "group", "focus", "index", "tuple", "keep_array",
                     "ancestor", "seeking_parent", "keep_singleton_array", "consarray")


def _plain_step(step, kind: str) -> bool:
    return getattr(step, "type", None) == kind and not any(
        getattr(step, flag, None) for flag in _PLAIN_STEP_FLAGS)


class _Analysis:
    """What an expression reads, found by walking its AST once, at compile time.

    ``reach`` maps each root it reads (``states`` or a variable name) to a trie of the
    field names through which it is reached: ``None`` means the whole value, a dict
    ``{name: trie}`` only those fields. ``$states.input.order.id + $states.input.a``
    gives ``{"states": {"input": {"order": {"id": None}, "a": None}}}``. Only the
    reachable parts need converting to the library's representation at run time.
    """

    def __init__(self) -> None:
        self.reach: dict[str, dict | None] = {}
        self.called: set[str] = set()       # $name in call position: $sum(...)
        self.locals: set[str] = set()       # bound by := or as a lambda parameter
        self.uses_parent = False            # the % operator looks back up a path

    def read(self, root: str, names: tuple) -> None:
        """Record that ``root`` is read through the fields ``names`` (then wholly)."""
        if root in self.reach and self.reach[root] is None:
            return
        if not names:
            self.reach[root] = None
            return
        node = self.reach.setdefault(root, {})
        for name in names[:-1]:
            if name in node and node[name] is None:
                return
            node = node.setdefault(name, {})
        node[names[-1]] = None


def _analyse(ast, lib: _Library) -> _Analysis:
    analysis = _Analysis()
    seen: set[int] = set()
    Symbol = lib.Symbol

    def children(node) -> list:
        # Every attribute holding symbols, ``_else`` (a condition's else branch) included.
        return [child for key, child in vars(node).items()
                if key != "_outer_instance" and isinstance(child, (Symbol, list, tuple))]

    # Depth first, in the order of a recursive walk, on a stack of its own: a tree the
    # parser accepted can still be deeper than Python's recursion allows twice over.
    pending = [ast]
    while pending:
        node = pending.pop()
        if isinstance(node, (list, tuple)):
            pending.extend(reversed(node))
            continue
        if not isinstance(node, Symbol) or id(node) in seen:
            continue
        seen.add(id(node))
        kind = node.type
        first = None
        if kind == "path" and node.steps and getattr(node.steps[0], "type", None) == "variable":
            if node.steps[0].value not in ("", "$"):
                first = node.steps[0]
                seen.add(id(first))
                names = []
                if _plain_step(first, "variable"):
                    for step in node.steps[1:]:
                        if getattr(step, "type", None) != "name":
                            break
                        names.append(step.value)
                        if not _plain_step(step, "name"):
                            break  # its predicate or stages apply to the whole field
                analysis.read(first.value, tuple(names))
        elif kind == "variable":
            if node.value not in ("", "$"):
                analysis.read(node.value, ())
        elif kind == "parent":
            analysis.uses_parent = True
        elif kind == "bind" and getattr(node.lhs, "type", None) == "variable":
            analysis.locals.add(node.lhs.value)
        elif kind == "lambda":
            for argument in node.arguments or ():
                if getattr(argument, "type", None) == "variable":
                    analysis.locals.add(argument.value)
        elif kind in ("function", "partial") and \
                getattr(node.procedure, "type", None) == "variable":
            analysis.called.add(node.procedure.value)
        pending.extend(reversed(children(node)))
        if first is not None:
            pending.extend(reversed(children(first)))  # its predicates, e.g. $v[$i]
    return analysis


def references(text: str) -> set[str]:
    """What an expression (the text inside ``{% %}``) reads, as written in JSONata.

    ``$states`` members appear as ``"$states.input"``, ``"$states.result"``... (a bare
    ``$states``, ``$states[...]`` or ``$states.*`` as ``"$states"``); workflow variables
    as ``"$name"``. Not listed: names the expression binds itself (``$x := ...``, lambda
    parameters, wherever they occur in it), ``$``/``$$``, and calls of built-in
    functions (``$sum(...)``). Found by walking the parsed expression; a syntax error
    raises :class:`JSONataSyntaxError`.
    """
    lib = _lib()
    try:
        ast = lib.parse(text)
    except Exception as exc:  # noqa: BLE001 - the parser raises JException and Python errors
        raise JSONataSyntaxError(text.strip(), "", _syntax_detail(exc)) from None
    analysis = _analyse(ast, lib)
    found = set()
    for root, trie in analysis.reach.items():
        if root == "states":
            found.update(["$states"] if trie is None else (f"$states.{m}" for m in trie))
        elif root not in analysis.locals and not (root in analysis.called
                                                   and root in lib.builtins):
            found.add(f"${root}")
    return found


def _syntax_detail(exc: Exception) -> str:
    detail = _describe(exc)
    location = getattr(exc, "location", None)
    if isinstance(location, int) and location >= 0:
        detail += f" (at position {location})"
    return detail


def check_expression(text: str) -> str | None:
    """For the validator: None if the expression (inside ``{% %}``) parses, else why not,
    e.g. ``S0203: Expected ")" before end of expression (at position 4)``."""
    return parse_expression(text)[1]


def parse_expression(text: str) -> tuple[Any, str | None]:
    """``(tree, None)`` for an expression (inside ``{% %}``) that parses, else ``(None,
    why not)``, as :func:`check_expression` words it. The tree is the library's, to be
    read, not changed."""
    lib = _lib()
    try:
        return lib.parse(text), None
    except Exception as exc:  # noqa: BLE001 - the parser raises JException and Python errors
        return None, _syntax_detail(exc)


# -- Compiled expressions -------------------------------------------------------------------

_MISSING = object()
_FALLBACK = object()
_UNDEFINED = "returned nothing (undefined)."


def _view(value: Any, trie: dict | None, null: Any) -> Any:
    """The part of ``value`` an expression can reach, in the library's representation.

    Where the trie names fields of an object, only those are kept (a fresh, small
    dict); everything reached wholly, or any array on the way (JSONata maps the rest
    of the path over it), is converted whole. A Map iteration reading
    ``$states.context.Map.Item.Value`` thus never walks the execution's input.
    """
    if trie is None or type(value) is not dict:
        return _to_jsonata(value, null)
    view = {}
    for name, sub in trie.items():
        item = value.get(name, _MISSING)
        if item is not _MISSING:
            view[name] = _view(item, sub, null)
    return view


class Expression:
    """One ``{% %}`` expression, parsed once, with what it needs bound at run time."""

    __slots__ = ("expression", "field", "ast", "states", "variables", "path", "literal",
                 "native", "reads_context")

    def __init__(self, text: str, field: str) -> None:
        lib = _lib()
        self.expression = text
        self.field = field
        try:
            self.ast = lib.parse(text)
        except Exception as exc:  # noqa: BLE001
            raise JSONataSyntaxError(text, field, _syntax_detail(exc)) from None
        analysis = _analyse(self.ast, lib)
        # ``%`` climbs back up a path: hand the library whole values, not pruned views.
        reach = dict.fromkeys(analysis.reach) if analysis.uses_parent else dict(analysis.reach)
        self.states = reach.pop("states", _MISSING)     # a trie, or _MISSING if unread
        self.reads_context = self.states is None or (
            type(self.states) is dict and "context" in self.states)
        self.variables = tuple(reach.items())
        path = _plain_path(self.ast)
        # ``$sum`` alone is the function (an unsupported result), not a missing variable.
        self.path = None if path is not None and path[0] in lib.builtins else path
        self.literal = _literal(self.ast, lib)
        # Shapes read without the library (plain paths and literals have their own fields).
        self.native = (_native(self.ast, lib)
                       if self.path is None and self.literal is None else None)

    def __call__(self, states: StatesVars, variables: Mapping[str, Any] | None,
                 now: float | None = None) -> Any:
        """The expression's JSON value; States.QueryEvaluationError if there is none."""
        if self.reads_context and states is not None:
            context = states.get("context")
            if callable(context):
                states = {**states, "context": context()}
        if self.path is not None:
            value = _follow(self.path, states, variables)
            if value is not _FALLBACK:
                if value is _MISSING:
                    raise _query_error(self.expression, self.field, _UNDEFINED)
                return value
        if self.literal is not None:
            return self.literal[0]
        if self.native is not None:
            value = self.native(states, variables)
            if value is not _FALLBACK:
                return value
        lib = _lib()
        null = lib.NULL
        bindings = {"$": None, "__evaluate_entry": None, "__evaluate_exit": None}
        if self.states is not _MISSING and states is not None:
            bindings["states"] = _view(states, self.states, null)
        if variables:
            for name, trie in self.variables:
                value = variables.get(name, _MISSING)
                if value is not _MISSING:
                    bindings[name] = _view(value, trie, null)
        deadline = time.monotonic() + MAX_EVALUATION_SECONDS
        bindings["__evaluate_entry"] = _watchdog(deadline, getattr(evaluation, "check", None))
        frame = lib.Frame(lib.frame)
        frame.bindings = bindings
        runner = lib.runner()
        runner.timestamp = int((time.time() if now is None else now) * 1000)
        lib.current.jsonata = runner
        previous, _bound.deadline = getattr(_bound, "deadline", None), deadline
        try:
            result = runner.eval(self.ast, None, frame)
        except _Runaway as exc:
            raise _query_error(self.expression, self.field,
                               f"threw an error during evaluation. {exc}") from None
        except Exception as exc:  # noqa: BLE001 - the library raises JException and Python errors
            raise _query_error(self.expression, self.field,
                               f"threw an error during evaluation. {_describe(exc)}") from None
        finally:
            _bound.deadline = previous
        if result is None:
            raise _query_error(self.expression, self.field, _UNDEFINED)
        try:
            return _to_json(result, null)
        except _Unsupported:
            raise _query_error(self.expression, self.field,
                               "returned an unsupported result type.") from None


# -- bounded evaluation -----------------------------------------------------------------

#: The longest one expression may evaluate, in real seconds, before it fails the state
#: with States.QueryEvaluationError: the bound on a recursive function that never ends or
#: a catastrophic regex, when neither TimeoutSeconds nor stop() ends it first.
MAX_EVALUATION_SECONDS = 10.0

_bound = threading.local()      # .deadline: the monotonic end of this thread's evaluation
_STEPS_PER_CHECK = 256


class _Runaway(Exception):
    """An evaluation past MAX_EVALUATION_SECONDS."""

    def __init__(self) -> None:
        super().__init__(f"D1012: Expression evaluation timeout: the expression ran longer "
                         f"than {MAX_EVALUATION_SECONDS:g} seconds")


def _watchdog(deadline: float, check):
    """The library's per-step callback: every few hundred steps, look at the clock and
    at the execution's stop and timeout."""
    steps = 0

    def entry(expr, input, environment) -> None:
        nonlocal steps
        steps += 1
        if steps % _STEPS_PER_CHECK == 0:
            if check is not None:
                check()
            if time.monotonic() > deadline:
                raise _Runaway()
    return entry


def _regex_seconds() -> float:
    """What is left of the evaluation bound, and of the execution's TimeoutSeconds."""
    deadline = getattr(_bound, "deadline", None)
    left = MAX_EVALUATION_SECONDS if deadline is None else deadline - time.monotonic()
    run_deadline = getattr(evaluation, "deadline", None)      # wall-clock, real time only
    if run_deadline is not None:
        left = min(left, run_deadline - time.time())
    return max(0.001, left)


def _interruptible(match: Callable[[], Any]) -> Any:
    """Run one regex operation; when the execution may be stopped, on a helper thread
    (the ``regex`` module releases the GIL) while this one watches for the stop."""
    check = getattr(evaluation, "check", None)
    if check is None or not getattr(evaluation, "stoppable", False):
        return match()
    outcome: list = []

    def run() -> None:
        try:
            outcome.append((True, match()))
        except BaseException as exc:  # noqa: BLE001 - re-raised on the evaluating thread
            outcome.append((False, exc))

    helper = threading.Thread(target=run, name="asl-regex", daemon=True)
    helper.start()
    while True:
        helper.join(0.05)
        if outcome:
            break
        check()                  # a stop leaves the helper to its own timeout
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


class _BoundedPattern:
    """A compiled pattern of the ``regex`` module whose every match is limited to what is
    left of the evaluation's time (stdlib ``re`` cannot be interrupted, and a pattern
    such as ``(a|aa)+$`` takes exponential time), and releases the GIL while it runs."""

    __slots__ = ("compiled",)

    def __init__(self, compiled) -> None:
        self.compiled = compiled

    def _guarded(self, function: Callable[..., Any]):
        timeout = _regex_seconds()
        try:
            return _interruptible(lambda: function(timeout=timeout, concurrent=True))
        except TimeoutError:
            check = getattr(evaluation, "check", None)
            if check is not None:
                check()          # past the execution's TimeoutSeconds: the run times out
            raise _Runaway() from None

    def search(self, string: str):
        return self._guarded(lambda **bound: self.compiled.search(string, **bound))

    def finditer(self, string: str):
        # The iterator matches lazily: match everything here, under the bound.
        return iter(self._guarded(lambda **bound: list(self.compiled.finditer(string, **bound))))

    def sub(self, repl, string: str, count: int = 0):
        return self._guarded(lambda **bound: self.compiled.sub(repl, string, count=count, **bound))

    def split(self, string: str, maxsplit: int = 0):
        return self._guarded(lambda **bound: self.compiled.split(string, maxsplit=maxsplit, **bound))

    def __getattr__(self, name: str):
        return getattr(self.compiled, name)


def _bounded_regex(pattern: str, flags) -> _BoundedPattern:
    """jsonata-python's regex engine hook: JSONata regexes compiled with ``regex``."""
    import regex
    options = regex.V0
    if flags.case_insensitive:
        options |= regex.IGNORECASE
    if flags.multiline:
        options |= regex.MULTILINE
    return _BoundedPattern(regex.compile(pattern, options))


def _literal(ast, lib: _Library) -> tuple | None:
    """``(value,)`` for an expression that is a lone number, string, boolean or null."""
    if getattr(ast, "type", None) in ("number", "string", "value") and not any(
            getattr(ast, flag, None) for flag in _PLAIN_STEP_FLAGS):
        return (_to_json(ast.value, lib.NULL),)
    return None


def _plain_path(ast) -> tuple | None:
    """``("states", "input", "a", ...)`` or ``("v", "a", ...)`` when the expression is
    nothing but a variable followed by field names, else None."""
    if _plain_step(ast, "variable") and ast.value not in ("", "$"):
        return (ast.value,)
    if getattr(ast, "type", None) != "path" or not _plain_step(ast, "path"):
        return None
    steps = ast.steps
    if not steps or not _plain_step(steps[0], "variable") or steps[0].value in ("", "$"):
        return None
    if not all(_plain_step(step, "name") for step in steps[1:]):
        return None
    return (steps[0].value,) + tuple(step.value for step in steps[1:])


def _native(ast, lib: _Library) -> Callable | None:
    """``evaluate(states, variables)`` for the shapes a JSONata Output or Arguments is
    mostly made of, read directly from the dictionaries: plain paths, literals, object
    constructors with literal keys, array constructors, and ``$merge`` of them (the
    ResultPath idiom ``$merge([$states.input, {'k': $states.result}])``). It answers
    ``_FALLBACK`` wherever JSONata's sequence rules could differ from a plain reading (a
    path reaching an array or a missing key, ``$merge`` of anything but objects, a
    variable named ``merge``), and the library evaluates the whole expression then. None
    for any other shape. Equal to the library's result (a property test compares them)."""
    if any(getattr(ast, flag, None) for flag in _PLAIN_STEP_FLAGS):
        return None
    kind = getattr(ast, "type", None)
    literal = _literal(ast, lib)
    if literal is not None:
        value = literal[0]
        return lambda states, variables: value
    path = _plain_path(ast)
    if path is not None:
        if path[0] in lib.builtins:
            return None

        def read(states, variables):
            value = _follow(path, states, variables)
            return _FALLBACK if value is _MISSING or type(value) is list else value
        return read
    if kind == "unary" and ast.value == "{" and getattr(ast, "lhs_object", None):
        keys, parts = [], []
        for key, item in ast.lhs_object:
            if getattr(key, "type", None) != "string" or any(
                    getattr(key, flag, None) for flag in _PLAIN_STEP_FLAGS):
                return None
            part = _native(item, lib)
            if part is None:
                return None
            keys.append(key.value)
            parts.append(part)
        if len(set(keys)) != len(keys):        # JSONata's error D1009: the library says it
            return None
        pairs = tuple(zip(keys, parts))

        def construct(states, variables):
            built = {}
            for key, part in pairs:
                value = part(states, variables)
                if value is _FALLBACK:
                    return _FALLBACK
                built[key] = value
            return built
        return construct
    if kind == "unary" and ast.value == "[" and getattr(ast, "expressions", None):
        parts = []
        for item in ast.expressions:
            part = _native(item, lib)
            if part is None:
                return None
            parts.append(part)

        def array(states, variables):
            built = []
            for part in parts:
                value = part(states, variables)
                if value is _FALLBACK or type(value) is list:    # arrays flatten in JSONata
                    return _FALLBACK
                built.append(value)
            return built
        return array
    if kind == "function" and len(getattr(ast, "arguments", None) or ()) == 1:
        procedure = ast.procedure
        if not (_plain_step(procedure, "variable") and procedure.value == "merge"):
            return None
        argument = _native(ast.arguments[0], lib)
        if argument is None:
            return None

        def merge(states, variables):
            if variables and "merge" in variables:
                return _FALLBACK
            objects = argument(states, variables)
            if type(objects) is not list or not all(type(o) is dict for o in objects):
                return _FALLBACK
            merged = {}
            for item in objects:
                merged.update(item)
            return merged
        return merge
    return None


def _follow(path: tuple, states: StatesVars, variables) -> Any:
    """A plain path's value when every step lands on an object; ``_MISSING`` when a key
    is absent (JSONata's undefined); ``_FALLBACK`` when JSONata's array mapping (or its
    treatment of scalars) is involved, so that the library decides."""
    root = path[0]
    if root == "states":
        node = states
    elif variables is None:
        return _MISSING
    else:
        node = variables.get(root, _MISSING)
        if node is _MISSING:
            return _MISSING
    for name in path[1:]:
        if type(node) is not dict:
            return _FALLBACK
        node = node.get(name, _MISSING)
        if node is _MISSING:
            return _MISSING
    return node


# -- Templates --------------------------------------------------------------------------------

def compile_template(value: Any, field: str) -> Evaluator:
    """Compile a JSONata-mode field value into ``evaluate(states, variables, now=None)``.

    A ``{% %}`` string is an expression; in objects and arrays every nested expression
    string is evaluated (keys never are) and reported under ``field/key`` (``field/0``
    for array items) in causes, as AWS names ``Arguments/FunctionName``; any other value
    is a constant. Each expression is parsed here, once. ``now`` (epoch seconds) is
    what ``$now()``/``$millis()`` return, for virtual clocks; the real time by default.
    When nothing in ``value`` is an expression the result is a :class:`Constant`.
    """
    if is_expression(value):
        return Expression(value[2:-2].strip(), field)
    if isinstance(value, dict):
        entries = tuple((key, compile_template(item, f"{field}/{key}"))
                        for key, item in value.items())
        if all(isinstance(entry, Constant) for _, entry in entries):
            return Constant(value)

        def build_object(states, variables, now=None):
            return {key: entry(states, variables, now) for key, entry in entries}
        return build_object
    if isinstance(value, list):
        items = tuple(compile_template(item, f"{field}/{i}") for i, item in enumerate(value))
        if all(isinstance(item, Constant) for item in items):
            return Constant(value)

        def build_array(states, variables, now=None):
            return [item(states, variables, now) for item in items]
        return build_array
    return Constant(value)
