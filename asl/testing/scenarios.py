"""The scenario runner behind ``asl faults``: every Task fails once, then for good.

:func:`scenarios` runs a machine without faults, then once per Task state with one
failed attempt there (which a Retry may absorb), and, where a Retry matches, with every
attempt failing (retries exhausted). Tasks the fault-free run never reaches (the
compensations of a saga) are faulted on top of the first scenario that reaches them.
Each run is a :class:`ScenarioRow`; :func:`scenario_problems` says which rows leave
effects behind (with a :class:`~asl.testing.ledger.Ledger`) or let a fault escape a state
that has Catch rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from asl import errors as asl_errors
from asl.analysis import declared_compensations, walk_states
from asl.states.retry import find_retrier
from asl.testing.faults import Fault, FaultPlan, FaultRun, run_with_faults, task_states
from asl.testing.ledger import Ledger, compensation_violations

__all__ = ["ScenarioRow", "scenarios", "format_scenarios", "scenario_problems"]

BASELINE = "baseline"            # no fault
FAULT = "fault"                  # one failed attempt of a Task
EXHAUSTED = "exhausted"          # every attempt fails: its Retry gives up
RECOVERY_FAULT = "recovery-fault"            # a failed attempt of a compensation
RECOVERY_EXHAUSTED = "recovery-exhausted"    # a compensation that never succeeds
UNREACHED = "unreached"          # no scenario reaches this Task


@dataclass(frozen=True)
class ScenarioRow:
    """One scenario: the plan, what happened, and what was left behind.

    ``compensations``: the compensation states that ran, in order. ``effects_left`` and
    ``violations`` come from the ledger (None / empty without one). ``escaped``: the
    injected error failed the execution as is; ``catch_expected``: the faulted state (or
    a Parallel/Map around it) has Catch rules, so the author meant to catch something.
    """

    fault: str
    kind: str
    error: str | None
    status: str
    terminal: str
    compensations: tuple[str, ...]
    effects_left: tuple[str, ...] | None
    violations: tuple[str, ...]
    escaped: bool
    catch_expected: bool
    plan: FaultPlan
    reached: bool = True


def _fault(state: str, error: str, attempt: int | None) -> Fault:
    return Fault(state, error, attempt=attempt, timeout=error == asl_errors.TIMEOUT)


def scenarios(state_machine, resources: dict, input: Any = None, *, ledger: Ledger | None = None,
              errors: Iterable[str] = (asl_errors.TASK_FAILED,),
              compensations: dict | None = None, **execute_kwargs) -> list[ScenarioRow]:
    """Run the fault-free scenario, then one per Task (and error): a single failed
    attempt, and every attempt failing where a Retry matches. ``ledger`` (reset before
    each run) must be the one the ``resources`` record into. ``compensations`` maps
    forward states to compensating ones (default: the definition's ``[compensation: X]``
    comments, else the Tasks the fault-free run does not reach). Runs use a fresh
    VirtualClock each; ``execute_kwargs`` go to ``execute`` (``concurrency=``...)."""
    definition = state_machine.definition
    refs = {r.name: r for r in walk_states(definition)}
    tasks = task_states(state_machine)
    errors = list(errors)

    def run(plan: FaultPlan) -> FaultRun:
        if ledger is not None:
            ledger.reset()
        return run_with_faults(state_machine, resources, plan, input, **execute_kwargs)

    baseline = run(FaultPlan())
    baseline_called = {c.state for c in baseline.calls}
    declared = compensations if compensations is not None else declared_compensations(definition)
    if declared:
        recovery = {c for v in declared.values() for c in ((v,) if isinstance(v, str) else v)}
    else:
        recovery = {t.name for t in tasks} - baseline_called

    def row(fault_run: FaultRun, kind: str, fault: Fault | None) -> ScenarioRow:
        result = fault_run.result
        terminal = result.states[-1] if result.states else "-"
        violations = tuple(compensation_violations(result, ledger)) if ledger is not None else ()
        escaped = catch_expected = False
        if fault is not None:
            raised = (fault.error, "" if fault.timeout else fault.cause)
            terminal_type = refs[terminal].type if terminal in refs else ""
            escaped = (result.status == "FAILED" and (result.error, result.cause) == raised
                       and terminal_type != "Fail")
            ref = refs[fault.state]
            catch_expected = any(refs[n].definition.get("Catch")
                                 for n in (fault.state,) + ref.enclosing)
        return ScenarioRow(
            fault=str(fault_run.plan) if fault is not None else "(none)", kind=kind,
            error=None if fault is None else ("States.Timeout" if fault.timeout else fault.error),
            status=result.status, terminal=terminal,
            compensations=tuple(s for s in result.states if s in recovery),
            effects_left=tuple(ledger.effects_left()) if ledger is not None else None,
            violations=violations, escaped=escaped, catch_expected=catch_expected,
            plan=fault_run.plan,
            reached=fault is None or any(c.faulted and c.state == fault.state
                                         for c in fault_run.calls))

    rows = [row(baseline, BASELINE, None)]
    runs: list[FaultRun] = []
    for task in tasks:
        if task.name not in baseline_called:
            continue
        for error in errors:
            plans = [(FAULT, _fault(task.name, error, 1))]
            if _retried(task, error):
                plans.append((EXHAUSTED, _fault(task.name, error, None)))
            for kind, fault in plans:
                fault_run = run(FaultPlan((fault,)))
                runs.append(fault_run)
                rows.append(row(fault_run, kind, fault))
    for task in tasks:
        if task.name in baseline_called:
            continue
        first = next((r for r in runs if any(c.state == task.name for c in r.calls)), None)
        if first is None:
            rows.append(ScenarioRow(f"{task.name}: not reached by any scenario", UNREACHED,
                                    None, "-", "-", (), None, (), False, False, FaultPlan(),
                                    reached=False))
            continue
        for error in errors:
            plans = [(RECOVERY_FAULT, _fault(task.name, error, 1))]
            if _retried(task, error):
                plans.append((RECOVERY_EXHAUSTED, _fault(task.name, error, None)))
            for kind, fault in plans:
                plan = FaultPlan(first.plan.faults + (fault,))
                rows.append(row(run(plan), kind, fault))
    return rows


def _retried(task, error: str) -> bool:
    index = find_retrier(task.retriers, error)
    return index is not None and task.retriers[index].max_attempts > 0


def scenario_problems(rows: Iterable[ScenarioRow]) -> list[str]:
    """What the scenarios reveal: a fault-free run that does not succeed; a scenario that
    breaks the saga property (effects left behind, undone twice or out of order: needs a
    ledger); a compensation whose single failure ends the execution; a fault that escapes
    every Catch of a state that has Catch rules. A
    compensation failing on every attempt is not a problem of the definition: nothing
    can compensate then, so those rows are only reported in the table."""
    problems = []
    for row in rows:
        if row.kind == BASELINE:
            if row.status != "SUCCEEDED":
                problems.append(f"without faults the execution ends {row.status} at "
                                f"'{row.terminal}'")
            if row.violations:
                problems.append("without faults: " + "; ".join(row.violations))
            continue
        if row.kind in (RECOVERY_EXHAUSTED, UNREACHED) or not row.reached:
            continue
        if row.violations:
            problems.append(f"{row.fault}: " + "; ".join(row.violations))
        elif row.kind == RECOVERY_FAULT and row.escaped:
            # Without a ledger: a compensation that fails once stops the saga half undone.
            problems.append(f"{row.fault}: one failure of '{row.plan.faults[-1].state}' ends the "
                            "execution before the compensation completes (no Retry absorbs it)")
        if row.escaped and row.catch_expected:
            problems.append(f"{row.fault}: the fault escapes every Catch ({row.status} with "
                            f"{row.error} at '{row.terminal}'), although Catch rules are there")
    return problems


def format_scenarios(rows: Iterable[ScenarioRow]) -> str:
    """The scenarios as a Markdown table (``asl faults``)."""
    header = ("Fault", "Status", "Terminal state", "Compensations fired", "Effects left")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        effects = "-" if row.effects_left is None else (", ".join(row.effects_left) or "none")
        fault = row.fault if row.reached or row.kind == UNREACHED else f"{row.fault} (not reached)"
        cells = (fault, row.status + (" (escaped)" if row.escaped else ""), row.terminal,
                 " -> ".join(row.compensations) or "-", effects)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
