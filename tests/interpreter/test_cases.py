"""Data-driven behaviour cases: every case under ``cases/`` must run as AWS runs it.

Each case runs twice, with Parallel branches and Map iterations on threads and run in
order ("sequential"): the outcome must not depend on the scheduling.
"""

import pytest

from .support import load_cases, run_case

CASE_FILES = (
    "aws_doc_examples.json",
    "pipeline.json",
    "intrinsics.json",
    "task.json",
    "wait.json",
    "fail_succeed.json",
    "parallel.json",
    "map.json",
    "retry_catch.json",
    "runtime_errors.json",
    "variables.json",
)


@pytest.mark.parametrize("concurrency", ["threads", "sequential"])
@pytest.mark.parametrize("case", load_cases(*CASE_FILES))
def test_case(case, concurrency):
    run_case(case, concurrency)
