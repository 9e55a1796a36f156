"""The shapes asl reads without the JSONata library (plain paths, literals, object and array
constructors, ``$merge``) give exactly what the library gives, for any input and result:
asl's reading either agrees or hands the expression to the library."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from asl.errors import StatesError
from asl.language.jsonata import Expression

EXPRESSIONS = [
    "$merge([$states.input, {'reservation': $states.result}])",
    "$merge([$states.input, {'a': $states.result.a, 'n': 1, 'f': 2.5, 'z': null}])",
    "$merge([$states.input, $states.result])",
    "{'id': $states.input.id, 'items': [$states.input.a, 'x', true], 'deep': {'r': $states.result}}",
    "[$states.input, $states.result]",
    "$merge($states.input)",
    "$merge([$states.input, {'m': $v}])",
    "{'v': $v, 'w': $v.a}",
]

leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.sampled_from(["", "a", "é"]),
                 st.floats(allow_nan=False, allow_infinity=False, width=32))
values = st.recursive(leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["a", "id", "reservation", "x"]), inner, max_size=3)),
    max_leaves=12)


def outcome(expression: Expression, states: dict, variables: dict):
    try:
        return ("value", expression(states, variables))
    except StatesError as exc:
        return ("error", exc.error, exc.cause)


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_the_native_shapes_compile_natively(text):
    assert Expression(text, "Output").native is not None


@pytest.mark.parametrize("text", EXPRESSIONS)
@given(input_value=values, result=values, variable=values)
def test_native_reading_equals_the_library(text, input_value, result, variable):
    native = Expression(text, "Output")
    library = Expression(text, "Output")
    library.native = None
    states = {"input": input_value, "result": result, "context": {}}
    for variables in ({"v": variable}, {"v": variable, "merge": 1}):
        assert outcome(native, states, variables) == outcome(library, states, variables)
