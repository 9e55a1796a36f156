"""Sagas: a list of steps with compensations, generated into an ASL state machine.

    fn = "arn:aws:lambda:us-east-1:123456789012:function:"
    saga = Saga("OrderSaga", [
        Step("ReserveInventory", fn + "reserve-inventory", compensation=fn + "release-inventory"),
        Step("ChargePayment", fn + "charge-payment", compensation=fn + "refund-payment",
             retry=[{"ErrorEquals": ["Gateway.Busy"], "MaxAttempts": 2}]),
        Group("Fulfil", [[Step("CreateShipment", fn + "create-shipment",
                               compensation=fn + "cancel-shipment")],
                         [Step("IssueInvoice", fn + "issue-invoice",
                               compensation=fn + "void-invoice")]]),
        Step("SendNotification", fn + "send-notification"),
    ])
    definition = saga.to_asl()

A step's resource and compensation are Task Resources, written into the machine as they
are: ARNs, as AWS requires (a resources mapping still answers a Lambda function ARN by
the function name, ``"reserve-inventory"``).

The generated machine (:meth:`Saga.to_asl`):

* each forward step is a Task that catches ``States.ALL`` (the Error Output goes to
  ``$.error``) into the compensation chain of the steps completed before it;
* the chain runs the compensations in reverse order, each with a Retry (compensations
  must eventually succeed), and ends in a Fail state (Error ``SagaFailed``, Cause
  ``saga compensated`` by default);
* a :class:`Group` is a Parallel state, one branch per list of steps; it catches
  ``States.ALL`` into a chain that starts with the group's own compensations, because
  the catch cannot know which branch got how far: those compensations must be
  idempotent (undo only what is in place);
* the happy path ends in a Succeed state;
* every forward step's Comment declares ``[compensation: <state>]``, the convention
  :func:`asl.analysis.findings` reads.

A saga can also be read from YAML or JSON (:meth:`Saga.from_file`)::

    name: OrderSaga
    steps:
      - {name: ReserveInventory, resource: "arn:aws:lambda:us-east-1:123456789012:function:reserve-inventory",
         compensation: "arn:aws:lambda:us-east-1:123456789012:function:release-inventory"}
      - parallel: Fulfil
        branches:
          - [{name: CreateShipment, resource: "arn:aws:lambda:us-east-1:123456789012:function:create-shipment",
              compensation: "arn:aws:lambda:us-east-1:123456789012:function:cancel-shipment"}]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Union

__all__ = ["Saga", "Step", "Group", "SagaError", "DEFAULT_COMPENSATION_RETRY"]

#: Compensations retry every error (States.Timeout included): 1 s, 2 s, 4 s.
DEFAULT_COMPENSATION_RETRY = ({"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1,
                               "MaxAttempts": 3, "BackoffRate": 2.0},)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DEFAULT = object()


class SagaError(ValueError):
    """The saga description is not usable (duplicate names, missing fields...)."""


def _default_result_path(name: str) -> str | None:
    """``$.<name>`` when the name is a plain identifier; otherwise the result is dropped
    (``null``: the state passes its input on)."""
    return f"$.{name}" if _IDENTIFIER.match(name) else None


@dataclass(frozen=True)
class Step:
    """One forward step: a Task on ``resource``, undone by ``compensation`` (a resource;
    None when nothing needs undoing). ``retry`` is the step's ASL Retry list."""

    name: str
    resource: str
    compensation: str | None = None
    retry: tuple | None = None
    compensation_name: str | None = None
    result_path: Any = _DEFAULT
    parameters: dict | None = None
    timeout_seconds: int | None = None
    comment: str | None = None

    def __post_init__(self) -> None:
        if self.retry is not None:
            object.__setattr__(self, "retry", tuple(self.retry))

    @property
    def compensation_state(self) -> str | None:
        """The compensating state's name: ``Compensate<Name>`` unless given."""
        if self.compensation is None:
            return None
        return self.compensation_name or f"Compensate{self.name[:1].upper()}{self.name[1:]}"

    def task(self) -> dict:
        state: dict = {"Type": "Task", "Resource": self.resource}
        comment = self.comment or ""
        if self.compensation_state:
            comment = (comment + " " if comment else "") + f"[compensation: {self.compensation_state}]"
        if comment:
            state["Comment"] = comment
        if self.parameters is not None:
            state["Parameters"] = self.parameters
        if self.timeout_seconds is not None:
            state["TimeoutSeconds"] = self.timeout_seconds
        result_path = _default_result_path(self.name) if self.result_path is _DEFAULT else self.result_path
        state["ResultPath"] = result_path
        if self.retry:
            state["Retry"] = [dict(r) for r in self.retry]
        return state


@dataclass(frozen=True)
class Group:
    """Steps that run in parallel: one Parallel state, one branch per list of steps (a
    lone Step is a one-step branch)."""

    name: str
    branches: tuple = field(default_factory=tuple)
    result_path: Any = _DEFAULT

    def __post_init__(self) -> None:
        branches = tuple((b,) if isinstance(b, Step) else tuple(b) for b in self.branches)
        if not branches or any(not b for b in branches):
            raise SagaError(f"group '{self.name}' needs at least one branch, each with a step")
        object.__setattr__(self, "branches", branches)

    @property
    def steps(self) -> list[Step]:
        return [s for branch in self.branches for s in branch]


Unit = Union[Step, Group]


class Saga:
    """A saga: forward steps (and parallel groups) in order, each with its compensation."""

    def __init__(self, name: str, steps: Iterable[Unit], *, comment: str | None = None,
                 fail_error: str = "SagaFailed", fail_cause: str = "saga compensated",
                 compensation_retry: Iterable[dict] | None = DEFAULT_COMPENSATION_RETRY,
                 fail_state: str = "SagaFailed", succeed_state: str = "SagaSucceeded",
                 error_path: str = "$.error") -> None:
        self.name = name
        self.units: tuple[Unit, ...] = tuple(steps)
        self.comment = comment
        self.fail_error = fail_error
        self.fail_cause = fail_cause
        self.compensation_retry = tuple(compensation_retry or ())
        self.fail_state = fail_state
        self.succeed_state = succeed_state
        self.error_path = error_path
        self._check_names()

    # -- reading ------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict) -> "Saga":
        """A saga from its YAML/JSON shape (see the module docstring)."""
        if not isinstance(data, dict) or "name" not in data or "steps" not in data:
            raise SagaError("a saga needs 'name' and 'steps'")
        units = [_unit(u, i) for i, u in enumerate(data["steps"])]
        options = {k: data[k] for k in ("comment", "fail_error", "fail_cause", "fail_state",
                                        "succeed_state", "error_path") if k in data}
        if "compensation_retry" in data:
            options["compensation_retry"] = data["compensation_retry"]
        return cls(data["name"], units, **options)

    @classmethod
    def from_file(cls, path: str | Path) -> "Saga":
        """A saga from a ``.yaml``/``.yml`` or ``.json`` file."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yaml", ".yml"):
            import yaml
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
        return cls.from_dict(data)

    # -- what it is made of -------------------------------------------------------------

    def steps(self) -> list[Step]:
        """Every forward step, group members included, in order."""
        out: list[Step] = []
        for unit in self.units:
            out.extend(unit.steps if isinstance(unit, Group) else [unit])
        return out

    def compensations(self) -> dict[str, str]:
        """``{forward state: compensating state}``, for :func:`asl.analysis.findings`."""
        return {s.name: s.compensation_state for s in self.steps() if s.compensation_state}

    def forward_states(self) -> list[str]:
        return [s.name for s in self.steps()]

    def compensation_states(self) -> list[str]:
        return list(self.compensations().values())

    def _check_names(self) -> None:
        if not self.units:
            raise SagaError(f"saga '{self.name}' has no steps")
        names = [self.fail_state, self.succeed_state]
        for unit in self.units:
            if isinstance(unit, Group):
                names.append(unit.name)
            for step in (unit.steps if isinstance(unit, Group) else [unit]):
                names.append(step.name)
                if step.compensation_state:
                    names.append(step.compensation_state)
        seen, duplicates = set(), []
        for n in names:
            if n in seen:
                duplicates.append(n)
            seen.add(n)
        if duplicates:
            raise SagaError(f"saga '{self.name}': state names used twice: {sorted(set(duplicates))}")

    # -- generating ASL -----------------------------------------------------------------

    def to_asl(self) -> dict:
        """The state machine definition (a dict) running this saga."""
        # The chain: compensations of every compensable step, in reverse forward order.
        compensable = [s for s in self.steps() if s.compensation_state]
        chain = [s.compensation_state for s in reversed(compensable)]
        states: dict[str, dict] = {}
        done_before: list[Step] = []       # compensable steps completed before a unit

        def entry(steps_done: list[Step]) -> str:
            return steps_done[-1].compensation_state if steps_done else self.fail_state

        def catch_all(target: str) -> list:
            return [{"ErrorEquals": ["States.ALL"], "ResultPath": self.error_path, "Next": target}]

        for i, unit in enumerate(self.units):
            following = (self.units[i + 1].name if i + 1 < len(self.units) else self.succeed_state)
            if isinstance(unit, Group):
                group_done = done_before + [s for s in unit.steps if s.compensation_state]
                result_path = (_default_result_path(unit.name) if unit.result_path is _DEFAULT
                               else unit.result_path)
                states[unit.name] = {
                    "Type": "Parallel",
                    "Branches": [_branch(b) for b in unit.branches],
                    "ResultPath": result_path,
                    "Catch": catch_all(entry(group_done)),
                    "Next": following,
                }
                done_before = group_done
            else:
                state = unit.task()
                state["Catch"] = catch_all(entry(done_before))
                state["Next"] = following
                states[unit.name] = state
                if unit.compensation_state:
                    done_before = done_before + [unit]
        states[self.succeed_state] = {"Type": "Succeed"}
        by_state = {s.compensation_state: s for s in compensable}
        # The last step's compensation is needed only if a later step can fail: the chain
        # starts at the first compensation some Catch targets (the rest are unreachable).
        targets = {c["Next"] for st in states.values() for c in st.get("Catch", ())}
        first = next((k for k, name in enumerate(chain) if name in targets), len(chain))
        chain = chain[first:]
        for k, name in enumerate(chain):
            step = by_state[name]
            state: dict = {"Type": "Task", "Resource": step.compensation,
                           "Comment": f"undoes {step.name}", "ResultPath": None}
            if self.compensation_retry:
                state["Retry"] = [dict(r) for r in self.compensation_retry]
            state["Next"] = chain[k + 1] if k + 1 < len(chain) else self.fail_state
            states[name] = state
        states[self.fail_state] = {"Type": "Fail", "Error": self.fail_error, "Cause": self.fail_cause}
        definition = {"Comment": self.comment or f"Saga {self.name}: every failed step runs the "
                      "compensations of the steps completed before it, in reverse order.",
                      "StartAt": self.units[0].name, "States": states}
        return definition

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_asl(), indent=indent)

    def state_machine(self, **options):
        """An :class:`asl.StateMachine` for this saga (named after it unless given)."""
        from asl.machine import StateMachine
        options.setdefault("name", self.name)
        return StateMachine(self.to_asl(), **options)


def _branch(steps: tuple[Step, ...]) -> dict:
    """One Parallel branch: the steps in a row; errors escape to the Parallel's Catch."""
    states = {}
    for k, step in enumerate(steps):
        state = step.task()
        if k + 1 < len(steps):
            state["Next"] = steps[k + 1].name
        else:
            state["End"] = True
        states[step.name] = state
    return {"StartAt": steps[0].name, "States": states}


_STEP_FIELDS = {"name", "resource", "compensation", "retry", "compensation_name",
                "result_path", "parameters", "timeout_seconds", "comment"}


def _step(data: Any, where: str) -> Step:
    if not isinstance(data, dict) or "name" not in data or "resource" not in data:
        raise SagaError(f"{where}: a step needs 'name' and 'resource'")
    unknown = set(data) - _STEP_FIELDS
    if unknown:
        raise SagaError(f"{where}: unknown step field(s) {sorted(unknown)}")
    return Step(**data)


def _unit(data: Any, index: int) -> Unit:
    where = f"steps[{index}]"
    if isinstance(data, dict) and "parallel" in data:
        branches = []
        for b, branch in enumerate(data.get("branches") or ()):
            items = branch if isinstance(branch, list) else [branch]
            branches.append([_step(s, f"{where}.branches[{b}]") for s in items])
        options = {"result_path": data["result_path"]} if "result_path" in data else {}
        return Group(data["parallel"], branches, **options)
    return _step(data, where)
