"""The fuzz campaign's oracle as a property of the suite (a few thousand examples,
derandomized in CI); ``fuzz/campaign.py`` runs the same cases 100,000 times."""

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fuzz"))

from cases import behaviours, check_case, json_values, mutated_definitions, resources_for  # noqa: E402


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(definition=mutated_definitions(), execution_input=json_values, data=st.data())
def test_nothing_but_documented_outcomes(definition, execution_input, data):
    resources = resources_for(definition, lambda: data.draw(behaviours))
    assert check_case(definition, execution_input, resources) in (
        "unreadable", "invalid", "refused-before-run", "SUCCEEDED", "FAILED", "TIMED_OUT",
        "ABORTED")
