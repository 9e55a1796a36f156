"""The two intrinsics whose values are random, end to end in a Pass state's Parameters
(AWS docs, intrinsic-functions: States.UUID, States.MathRandom)."""

import re

from .support import run

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def pass_with(parameters: dict) -> dict:
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": parameters, "End": True}}}


def test_uuid_is_a_fresh_v4_uuid():
    definition = pass_with({"a.$": "States.UUID()", "b.$": "States.UUID()"})
    first = run(definition)[0].output
    second = run(definition)[0].output
    values = [first["a"], first["b"], second["a"], second["b"]]
    assert all(UUID4.fullmatch(v) for v in values), values
    assert len(set(values)) == 4


def test_math_random_is_in_start_inclusive_end_exclusive():
    """Reference 5 [AWS]: a random integer in [start, end)."""
    definition = pass_with({"values.$": "States.Array(States.MathRandom($.lo, $.hi), States.MathRandom($.lo, $.hi), "
                                        "States.MathRandom($.lo, $.hi), States.MathRandom($.lo, $.hi))"})
    seen = set()
    for _ in range(25):
        values = run(definition, {"lo": 1, "hi": 4})[0].output["values"]
        assert all(type(v) is int and 1 <= v < 4 for v in values), values
        seen.update(values)
    assert seen == {1, 2, 3}


def test_math_random_with_a_seed_repeats():
    definition = pass_with({"v.$": "States.MathRandom(1, 1000000, 42)"})
    assert run(definition)[0].output == run(definition)[0].output
