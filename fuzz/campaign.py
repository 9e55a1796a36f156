"""The long fuzz campaign: ``python fuzz/campaign.py [--cases 100000] [--seed 0]``.

Runs generated cases (see ``fuzz/cases.py``) through validate, StateMachine and execute,
and prints how many ended which way; exits 1 if any case broke the oracle, printing the
first few definitions that did.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cases import behaviours, check_case, json_values, mutated_definitions, resources_for  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    counts: collections.Counter = collections.Counter()
    broken: list = []
    began = time.monotonic()

    @settings(max_examples=options.cases, database=None, deadline=None, derandomize=False,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(definition=mutated_definitions(), execution_input=json_values, data=st.data())
    def case(definition, execution_input, data):
        resources = resources_for(definition, lambda: data.draw(behaviours))
        try:
            counts[check_case(definition, execution_input, resources)] += 1
        except Exception as exc:  # noqa: BLE001 - every escape is a finding
            counts["BROKEN"] += 1
            if len(broken) < 5:
                broken.append((json.dumps(definition), repr(execution_input),
                               "".join(traceback.format_exception_only(exc)).strip()))

    import random
    random.seed(options.seed)
    case()
    elapsed = time.monotonic() - began
    total = sum(counts.values())
    print(f"{total} cases in {elapsed:.0f} s")
    for outcome, count in counts.most_common():
        print(f"  {outcome:20} {count}")
    for definition, execution_input, problem in broken:
        print(f"\nBROKEN: {problem}\n  definition: {definition}\n  input: {execution_input}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
