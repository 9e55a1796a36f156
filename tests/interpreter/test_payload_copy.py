"""The copy a callable gets and gives back: the same value a JSON round trip would give,
independent of the original, with a size bound never below the exact size."""

import collections
import decimal
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asl.errors import StatesError
from asl.payload import PAYLOAD_LIMIT, checked_copy, clone, copy, sized_copy

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(),
              st.floats(allow_nan=False, allow_infinity=False)),
    lambda inner: st.one_of(st.lists(inner), st.dictionaries(st.text(), inner)),
    max_leaves=30)


def _utf8_size(value) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


@given(json_values)
def test_a_copy_equals_the_json_round_trip_and_bounds_its_size(value):
    try:
        expected = json.loads(json.dumps(value, ensure_ascii=False))
        exact = _utf8_size(value)
    except UnicodeEncodeError:          # a lone surrogate: asl refuses it too
        with pytest.raises(StatesError):
            copy(value)
        return
    copied, bound = sized_copy(value)
    assert copied == expected
    assert bound >= exact


def _containers(value) -> list:
    if isinstance(value, dict):
        return [value] + [c for item in value.values() for c in _containers(item)]
    if isinstance(value, list):
        return [value] + [c for item in value for c in _containers(item)]
    return []


@given(json_values)
def test_a_clone_is_equal_and_shares_no_container(value):
    cloned = clone(value)
    assert cloned == value
    originals = {id(c) for c in _containers(value)}
    assert not any(id(c) in originals for c in _containers(cloned))


def test_the_copy_is_independent_of_the_original():
    original = {"a": [1, {"b": 2}], "c": {"d": [3]}}
    copied = copy(original)
    copied["a"][1]["b"] = 99
    copied["c"]["d"].append(4)
    assert original == {"a": [1, {"b": 2}], "c": {"d": [3]}}


def test_what_json_would_convert_is_converted():
    assert copy({1: (1, 2), None: True}) == {"1": [1, 2], "null": True}
    assert copy(collections.OrderedDict(a=1)) == {"a": 1}


@pytest.mark.parametrize("value", [float("nan"), {"a": float("inf")}, [decimal.Decimal(1)],
                                   {"s": {1, 2}}, ["\ud800"]])
def test_what_json_cannot_hold_is_a_marshal_error(value):
    with pytest.raises(StatesError) as caught:
        copy(value)
    assert caught.value.error == "Runtime.MarshalError"


def test_a_cycle_is_a_marshal_error():
    value: list = []
    value.append(value)
    with pytest.raises(StatesError, match="circular"):
        copy(value)


def test_a_large_payload_is_measured_exactly_when_the_bound_is_over_the_limit():
    value = ["a" * 1000] * 100          # ~100 KB: its loose bound is over 256 KiB
    copied, size = checked_copy(value, "S")
    assert size == _utf8_size(value) <= PAYLOAD_LIMIT
    with pytest.raises(StatesError) as caught:
        checked_copy(["a" * 1000] * 300, "S")
    assert caught.value.error == "States.DataLimitExceeded"
