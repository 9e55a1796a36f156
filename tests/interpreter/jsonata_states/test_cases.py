"""Data-driven behaviour cases: every case under ``cases/`` must run as AWS runs it.

Each case runs twice, with Parallel branches and Map iterations on threads and run in
order ("sequential"): the outcome must not depend on the scheduling.
"""

import pytest

from .support import CASES_DIR, load_cases, run_case

CASE_FILES = sorted(path.name for path in CASES_DIR.glob("*.json"))


def test_every_case_file_is_run():
    assert {"aws_docs.json", "defaults.json", "fields.json", "mixing.json", "variables.json",
            "scoping.json", "errors.json", "functions.json"} <= set(CASE_FILES)


@pytest.mark.parametrize("concurrency", ["threads", "sequential"])
@pytest.mark.parametrize("case", load_cases(*CASE_FILES))
def test_case(case, concurrency):
    run_case(case, concurrency)
