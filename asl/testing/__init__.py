"""Testing sagas: inject faults as data, check compensation, measure what tests exercise.

    from asl.testing import Fault, FaultPlan, Ledger, run_with_faults, assert_compensated
    from asl.testing import fault_plans          # Hypothesis strategy (imports hypothesis)

    @given(fault_plans(machine, max_faults=2))
    def test_saga_compensates(plan):
        ledger = Ledger()
        run = run_with_faults(machine, handlers(ledger), plan, {"order_id": "o-1"})
        assert_compensated(run, ledger)

``import asl`` never imports this package, and this package imports Hypothesis only when
``fault_plans`` (or ``machine_errors``) is first used.
"""

from asl.testing.coverage import Coverage, Edge, definition_edges, exercised, format_report
from asl.testing.faults import Call, Fault, FaultPlan, FaultRun, TaskInfo, run_with_faults, task_states
from asl.testing.ledger import Ledger, assert_compensated, compensation_violations
from asl.testing.scenarios import ScenarioRow, format_scenarios, scenario_problems, scenarios

__all__ = [
    "Fault", "FaultPlan", "FaultRun", "Call", "TaskInfo", "task_states", "run_with_faults",
    "Ledger", "assert_compensated", "compensation_violations",
    "ScenarioRow", "scenarios", "format_scenarios", "scenario_problems",
    "Coverage", "Edge", "definition_edges", "exercised", "format_report",
    "fault_plans", "machine_errors",
]

_LAZY = {"fault_plans", "machine_errors", "UNNAMED_ERROR"}


def __getattr__(name: str):
    # The strategies need Hypothesis: import it only when they are asked for.
    if name in _LAZY:
        from asl.testing import strategies
        return getattr(strategies, name)
    raise AttributeError(f"module 'asl.testing' has no attribute {name!r}")
