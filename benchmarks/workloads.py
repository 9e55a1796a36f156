"""The benchmark workloads of the performance issue, written once for asl and its peers.

Each :class:`Workload` holds an ASL definition (a plain dict), the execution input, what
the execution must end with (status, error, number of states entered), and for Task
states a language-neutral description of what each task does (``tasks``), from which the
asl callables (``resources``) and the peers' stand-ins are derived. Every task "returns at
once": the figures measure the interpreter, not the work.

W1  100 Pass states in a row, each a small Parameters/ResultPath transformation   (100)
W2  a counter loop: Pass + States.MathAdd, Choice loops back until 1000          (2002)
W3  the 4-step order saga, happy path                                               (5)
W4  the same saga failing at notify: 3 compensations, then Fail                     (8)
W5  Map over 1000 items, inline Pass processor, MaxConcurrency 0 / 10            (1001)
W6  Parallel of 10 branches x 5 Pass states                                        (51)

The plain order saga (Tasks with ``ResultPath`` only, no ``Parameters``, as most sagas
are written, the example order saga included), and how a test suite typically calls it:

W3-plain                 happy path                                                 (5)
W4-plain                 failing at notify: 3 compensations, then Fail              (8)
W3-plain-fresh-dict      W3-plain, a new resources dict (same callables) per call   (5)
W3-plain-fresh-closures  W3-plain, a new dict of new closures per call              (5)
W3-plain-new-machine     W3-plain, a new StateMachine from an equal dict per call   (5)

The numbers in brackets are state transitions (states entered), what ``transitions``
holds and what the runner checks once per workload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

REGION = "us-east-1"
ACCOUNT = "123456789012"


def lambda_arn(function: str) -> str:
    """A Lambda function ARN: Task Resources are written as on AWS."""
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"


@dataclass(frozen=True)
class TaskBehaviour:
    """What one Task does when called: return ``value``, or fail with ``error``/``cause``."""

    function: str                 # the Lambda function name in the Task's Resource
    value: Any = None
    error: str | None = None
    cause: str | None = None

    @property
    def fails(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class Workload:
    """One benchmark: a definition, its input, and the outcome every run must have."""

    key: str
    title: str
    definition: dict
    input: Any
    transitions: int
    status: str = "SUCCEEDED"
    error: str | None = None
    #: Task state name -> what it does (W3/W4 only).
    tasks: dict[str, TaskBehaviour] = field(default_factory=dict)
    #: The Task states an execution calls, in order (peers that answer calls from a
    #: queue, like moto's Lambda stand-in, need it; the runner checks asl against it).
    task_calls: tuple[str, ...] = ()

    #: Further resources (ItemReader/ResultWriter stand-ins), by Resource string.
    extra_resources: dict[str, Callable] = field(default_factory=dict)
    #: How each execution is called (see VARIANTS): one machine and one resources
    #: mapping reused ("reuse"), or something new per execution.
    variant: str = "reuse"
    #: The workload this one is a calling variant of (its baseline), if any.
    baseline: str | None = None

    @property
    def resources(self) -> dict[str, Callable]:
        """The asl resources mapping: Lambda function name -> callable returning at once."""
        return {**{b.function: _callable(b) for b in self.tasks.values()}, **self.extra_resources}


#: What a workload's ``variant`` makes new for each execution. Runners build these before
#: their clock starts, so the figures are the interpreter's cost of meeting them.
VARIANTS = {
    "reuse": "one StateMachine, one resources mapping, for every execution",
    "fresh-dict": "a new resources dict of the same callables per execution "
                  "(a test writing resources={...} at its call)",
    "fresh-closures": "a new resources dict of new callables (closures) per execution "
                      "(a test or fixture defining its handlers inside)",
    "new-machine": "a new StateMachine from an equal (deep-copied) definition dict per "
                   "execution (a per-test fixture)",
}


def _callable(behaviour: TaskBehaviour) -> Callable:
    if behaviour.fails:
        from asl import TaskFailed

        error, cause = behaviour.error, behaviour.cause

        # One parameter only: a second one would ask asl for the TaskContext.
        def fail(payload):
            raise TaskFailed(error, cause)
        fail.__name__ = behaviour.function.replace("-", "_")
        return fail
    value = behaviour.value

    def succeed(payload):
        return value
    succeed.__name__ = behaviour.function.replace("-", "_")
    return succeed


# --- W1: 100 Pass states in a row -------------------------------------------------------

def pass_chain(count: int = 100) -> dict:
    """Pass states Step1..StepN, each reshaping a little of its input into ``$.last``."""
    states = {}
    for i in range(1, count + 1):
        state = {
            "Type": "Pass",
            "Parameters": {"step": i, "order.$": "$.order.id", "total.$": "$.order.total"},
            "ResultPath": "$.last",
        }
        if i < count:
            state["Next"] = f"Step{i + 1}"
        else:
            state["End"] = True
        states[f"Step{i}"] = state
    return {"Comment": f"{count} Pass states in a row", "StartAt": "Step1", "States": states}


# --- W2: the counter loop -----------------------------------------------------------------

def counter_loop(limit: int = 1000) -> dict:
    """Init, then Increment (States.MathAdd) and Check (Choice) ``limit`` times, then Done."""
    return {
        "Comment": f"count to {limit} with a Pass and a Choice",
        "StartAt": "Init",
        "States": {
            # Parameters, not "Result": 0 -- aws-local-stepfunctions 3.0.0 takes a falsy
            # Result for none and would pass {} on.
            "Init": {"Type": "Pass", "Parameters": {"count": 0}, "Next": "Increment"},
            "Increment": {
                "Type": "Pass",
                "Parameters": {"count.$": "States.MathAdd($.count, 1)"},
                "Next": "Check",
            },
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.count", "NumericLessThan": limit,
                             "Next": "Increment"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }


# --- W3/W4: the order saga ----------------------------------------------------------------

#: Forward steps and the compensation that undoes each one.
SAGA_STEPS = (("Reserve", "saga-reserve", "reservation", "ReleaseReservation", "saga-release"),
              ("Charge", "saga-charge", "payment", "RefundPayment", "saga-refund"),
              ("Ship", "saga-ship", "shipment", "CancelShipment", "saga-cancel-shipment"),
              ("Notify", "saga-notify", "notification", None, None))


def order_saga() -> dict:
    """reserve -> charge -> ship -> notify; a failing step compensates the steps before it.

    Every forward Task catches States.ALL into ``$.error`` and goes to the compensation of
    the previous step (Reserve, having nothing before it, goes straight to Fail); each
    compensation keeps its input (ResultPath null) and chains to the one before, the last
    to the Fail state.
    """
    states: dict[str, dict] = {}
    for index, (name, function, result_key, _, _) in enumerate(SAGA_STEPS):
        following = SAGA_STEPS[index + 1][0] if index + 1 < len(SAGA_STEPS) else "OrderPlaced"
        undo = SAGA_STEPS[index - 1][3] if index > 0 else "OrderFailed"
        states[name] = {
            "Type": "Task",
            "Resource": lambda_arn(function),
            "Parameters": {"orderId.$": "$.orderId", "step": name},
            "ResultPath": f"$.{result_key}",
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": undo}],
            "Next": following,
        }
    for index, (_, _, _, undo, function) in enumerate(SAGA_STEPS[:-1]):
        previous = SAGA_STEPS[index - 1][3] if index > 0 else "OrderFailed"
        states[undo] = {
            "Type": "Task",
            "Resource": lambda_arn(function),
            "Parameters": {"orderId.$": "$.orderId", "undo": undo},
            "ResultPath": None,
            "Next": previous,
        }
    states["OrderPlaced"] = {"Type": "Succeed"}
    states["OrderFailed"] = {"Type": "Fail", "Error": "OrderFailed",
                             "Cause": "the order could not be completed; every step was undone"}
    return {"Comment": "order saga with compensations", "StartAt": "Reserve", "States": states}


def plain_order_saga() -> dict:
    """The same saga with ``ResultPath`` only: each Task gets the whole state as input."""
    definition = order_saga()
    definition["Comment"] = "order saga with compensations, Tasks with ResultPath only"
    for state in definition["States"].values():
        state.pop("Parameters", None)
    return definition


def order_saga_jsonata() -> dict:
    """The same saga in JSONata: Arguments for Parameters, Output merging each result into
    the input for ResultPath, Catch Output for ``ResultPath: $.error``."""
    definition = order_saga()
    definition["QueryLanguage"] = "JSONata"
    for state in definition["States"].values():
        if state["Type"] != "Task":
            continue
        parameters = state.pop("Parameters")
        state["Arguments"] = {key[:-2] if key.endswith(".$") else key:
                              ("{% $states.input.orderId %}" if key.endswith(".$") else value)
                              for key, value in parameters.items()}
        result_path = state.pop("ResultPath")
        state["Output"] = ("{% $states.input %}" if result_path is None else
                           "{% $merge([$states.input, {'" + result_path[2:] + "': $states.result}]) %}")
        for catcher in state.get("Catch", ()):
            catcher.pop("ResultPath")
            catcher["Output"] = "{% $merge([$states.input, {'error': $states.errorOutput}]) %}"
    return definition


def saga_tasks(failing: str | None = None) -> dict[str, TaskBehaviour]:
    """Every saga Task's behaviour; ``failing`` names the forward step that fails."""
    tasks = {}
    for name, function, result_key, undo, undo_function in SAGA_STEPS:
        if name == failing:
            tasks[name] = TaskBehaviour(function, error="Notify.Unavailable",
                                        cause="the notification service did not answer")
        else:
            tasks[name] = TaskBehaviour(function, {f"{result_key}Id": f"{result_key[:3]}-1",
                                                   "status": "OK"})
        if undo is not None:
            tasks[undo] = TaskBehaviour(undo_function, {"undone": True})
    return tasks


SAGA_INPUT = {"orderId": "o-1001", "customer": "c-42",
              "items": [{"sku": "sku-1", "quantity": 2}, {"sku": "sku-2", "quantity": 1}],
              "total": 59.5}


# --- W5: Map over many items ---------------------------------------------------------------

def item_map(max_concurrency: int, mode: str = "INLINE") -> dict:
    """A Map whose processor is one Pass state reshaping each item."""
    config = {"Mode": mode}
    if mode == "DISTRIBUTED":
        config["ExecutionType"] = "STANDARD"
    return {
        "Comment": f"{mode.lower()} Map, MaxConcurrency {max_concurrency}",
        "StartAt": "ProcessItems",
        "States": {
            "ProcessItems": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": max_concurrency,
                "ItemProcessor": {
                    "ProcessorConfig": config,
                    "StartAt": "Process",
                    "States": {
                        "Process": {"Type": "Pass",
                                    "Parameters": {"id.$": "$.id", "price.$": "$.price",
                                                   "processed": True},
                                    "End": True},
                    },
                },
                "ResultPath": "$.processed",
                "OutputPath": "$.processed",
                "End": True,
            },
        },
    }


def map_input(count: int) -> dict:
    return {"items": [{"id": i, "price": i % 100, "name": f"item-{i}"} for i in range(count)]}


# --- W6: Parallel ----------------------------------------------------------------------------

def parallel_branches(branches: int = 10, depth: int = 5) -> dict:
    """A Parallel state of ``branches`` branches, each ``depth`` Pass states in a row."""
    def branch(b: int) -> dict:
        states = {}
        for i in range(1, depth + 1):
            state = {"Type": "Pass", "Parameters": {"branch": b, "step": i, "id.$": "$.id"}}
            if i < depth:
                state["Next"] = f"B{b}S{i + 1}"
            else:
                state["End"] = True
            states[f"B{b}S{i}"] = state
        return {"StartAt": f"B{b}S1", "States": states}

    return {
        "Comment": f"Parallel of {branches} branches x {depth} Pass states",
        "StartAt": "FanOut",
        "States": {"FanOut": {"Type": "Parallel",
                              "Branches": [branch(b) for b in range(branches)],
                              "End": True}},
    }


# --- the catalogue ---------------------------------------------------------------------------

def build() -> dict[str, Workload]:
    """Every workload, by key, in the issue's order (W5-100k is for memory only)."""
    workloads = [
        Workload("W1", "100 Pass states in a row (Parameters/ResultPath)", pass_chain(100),
                 {"order": {"id": "o-1", "total": 12.5, "lines": [1, 2, 3]}}, 100),
        Workload("W2", "counter loop to 1000 (MathAdd + Choice)", counter_loop(1000),
                 {}, 2002),
        Workload("W3", "order saga, happy path", order_saga(), SAGA_INPUT, 5,
                 tasks=saga_tasks(), task_calls=("Reserve", "Charge", "Ship", "Notify")),
        Workload("W4", "order saga failing at notify: 3 compensations, Fail", order_saga(),
                 SAGA_INPUT, 8, status="FAILED", error="OrderFailed",
                 tasks=saga_tasks(failing="Notify"),
                 task_calls=("Reserve", "Charge", "Ship", "Notify", "CancelShipment",
                             "RefundPayment", "ReleaseReservation")),
        Workload("W5", "Map over 1000 items, MaxConcurrency 0", item_map(0), map_input(1000),
                 1001),
        Workload("W5c10", "Map over 1000 items, MaxConcurrency 10", item_map(10),
                 map_input(1000), 1001),
        Workload("W6", "Parallel of 10 branches x 5 Pass states", parallel_branches(10, 5),
                 {"id": "p-1"}, 51),
        *plain_saga_workloads(),
    ]
    return {w.key: w for w in workloads}


HAPPY_CALLS = ("Reserve", "Charge", "Ship", "Notify")
FAILING_CALLS = HAPPY_CALLS + ("CancelShipment", "RefundPayment", "ReleaseReservation")


def plain_saga_workloads() -> list[Workload]:
    """W3-plain, W4-plain, and W3-plain called as tests call it (the variants)."""
    def happy() -> dict:
        return dict(definition=plain_order_saga(), input=SAGA_INPUT, transitions=5,
                    tasks=saga_tasks(), task_calls=HAPPY_CALLS)

    return [
        Workload("W3-plain", "plain order saga (ResultPath only), happy path", **happy()),
        Workload("W4-plain", "plain order saga failing at notify: 3 compensations, Fail",
                 plain_order_saga(), SAGA_INPUT, 8, status="FAILED", error="OrderFailed",
                 tasks=saga_tasks(failing="Notify"), task_calls=FAILING_CALLS),
        Workload("W3-plain-fresh-dict", "W3-plain, a new resources dict per execute()",
                 **happy(), variant="fresh-dict", baseline="W3-plain"),
        Workload("W3-plain-fresh-closures", "W3-plain, new closures in a new dict per execute()",
                 **happy(), variant="fresh-closures", baseline="W3-plain"),
        Workload("W3-plain-new-machine", "W3-plain, a new StateMachine(equal dict) per execution",
                 **happy(), variant="new-machine", baseline="W3-plain"),
    ]


#: The order saga in JSONata, beside its JSONPath twin (W3, W4): asl only, the peers'
#: support for JSONata varies.
JSONATA_WORKLOADS = {w.key: w for w in (
    Workload("W3-jsonata", "order saga in JSONata, happy path", order_saga_jsonata(), SAGA_INPUT,
             5, tasks=saga_tasks(), task_calls=("Reserve", "Charge", "Ship", "Notify")),
    Workload("W4-jsonata", "order saga in JSONata failing at notify", order_saga_jsonata(),
             SAGA_INPUT, 8, status="FAILED", error="OrderFailed",
             tasks=saga_tasks(failing="Notify"),
             task_calls=("Reserve", "Charge", "Ship", "Notify", "CancelShipment",
                         "RefundPayment", "ReleaseReservation")),
)}


def map_100k() -> Workload:
    """The memory workload: a Map over 100,000 items (MaxConcurrency 0).

    Shaped as it must be on AWS: DISTRIBUTED (an inline Map this large would exceed the
    25,000-event history of a Standard execution, whereas each child of a distributed
    Map is an execution with its own history), the items read by an ItemReader (an
    execution input of 100,000 items is over the 256 KiB payload limit) and the results
    handed to a ResultWriter (the result array would be over it too).
    """
    definition = item_map(0, "DISTRIBUTED")
    state = definition["States"]["ProcessItems"]
    for field_name in ("ItemsPath", "ResultPath", "OutputPath"):
        state.pop(field_name)
    state["ItemReader"] = {"Resource": "arn:aws:states:::s3:getObject",
                           "ReaderConfig": {"InputType": "JSON"},
                           "Parameters": {"Bucket": "bench", "Key": "items.json"}}
    state["ResultWriter"] = {"Resource": "arn:aws:states:::s3:putObject",
                             "Parameters": {"Bucket": "bench", "Prefix": "results"}}
    items = map_input(100_000)["items"]
    written = []
    return Workload("W5-100k", "distributed Map over 100,000 items, MaxConcurrency 0",
                    definition, {}, 1, extra_resources={
                        "arn:aws:states:::s3:getObject": lambda parameters: items,
                        "arn:aws:states:::s3:putObject": lambda request: written.append(
                            len(request["Results"])) or {}})


WORKLOADS = build()
