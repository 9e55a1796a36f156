"""What a compiled state is, and what it may ask of the frame that runs it.

Every state type is a dataclass subclass of :class:`State` with two methods:
``compile(name, definition, options)`` (a classmethod: the definition's fields parsed
once) and ``run(frame, raw, size) -> Step``. ``raw`` is the state's raw input, ``size``
its UTF-8 JSON size in bytes when known (None otherwise); the :data:`Step` says which
state comes next (None: the scope ends), the output, and the output's size when known,
so that the 256 KiB limit is measured only where a bound does not settle it.

:class:`Frame` is the written protocol of a thread of execution, implemented by
:mod:`asl.execution`: states call nothing else of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Protocol, Sequence

from asl.language import JSONPATH

#: (next state name or None, output, output size in bytes or None)
Step = tuple[str | None, Any, int | None]

#: An evaluator: ``(data, env) -> value``, compiled once from a field of the definition.
Evaluator = Callable[[Any, Any], Any]


class Clock(Protocol):
    """See :mod:`asl.clock`."""

    virtual: bool

    def time(self) -> float: ...
    def jitter(self, upper: float) -> float: ...


class Env(Protocol):
    """What evaluators read: ``$$``, the workflow variables and the time."""

    @property
    def context(self) -> dict: ...
    variables: dict
    clock: Clock


class RunView(Protocol):
    """What states read of the execution every thread belongs to: its region, its
    resources mapping, its task-token mailbox (:class:`asl.states.task.TaskTokens`),
    the epoch second of its TimeoutSeconds deadline (None: none), and whether it runs
    in a synchronous ``execute()`` (then nobody outside can answer a token)."""

    region: str
    resources: dict
    tokens: Any
    deadline: float | None
    synchronous: bool

    def map_run_arn(self, state_name: str, label: str | None = None) -> str: ...


class Frame(Env, Protocol):
    """One thread of execution (the top level, a Parallel branch, a Map iteration).

    Events: ``enter`` records the state's Entered event (and raises if the execution
    must stop first), ``exit`` its Exited event with the variables it assigns,
    ``event`` any other event of this thread. ``entered_id`` is the id of the current
    state's Entered event; ``retry_count`` its ``$$.State.RetryCount``.
    """

    run: RunView
    entered_id: int
    retry_count: int
    task_token: str | None

    def enter(self, state: "State", raw: Any) -> None: ...
    def exit(self, state: "State", output: Any, assigned: dict | None) -> None: ...
    def event(self, event_type: str, details: dict | None = None) -> int: ...

    def sleep(self, seconds: float, state_name: str, kind: str,
              intended: float | None = None) -> None:
        """Spend time on this thread's clock, cut short by a stop, a sibling's failure
        or the machine's TimeoutSeconds (each raises its control-flow exception)."""

    def check(self) -> None:
        """Raise now if this thread must stop (stopped, a sibling failed, timed out)."""

    def locate(self, exc: Any) -> None:
        """Prefix a States.Runtime / QueryEvaluationError cause with the current state."""

    def retrying(self, state: "State", exc: Any, delay: float, intended: float,
                 counters: list[int] | None = None) -> None:
        """Wait ``delay`` before the next attempt; counts ``$$.State.RetryCount``
        (``counters``: the retriers' counts, which a durable host keeps)."""

    def resumed_retries(self, state: "State") -> list[int] | None:
        """After a restart in the Retry back-off of ``state``: wait out what is left and
        return the retriers' counts then; otherwise None."""

    def replays(self, event_type: str) -> bool:
        """After a restart: whether this thread had already recorded ``event_type`` as
        the next thing it does (its work up to there is done); otherwise False."""

    def caught(self, state: "State", exc: Any, next_state: str) -> None:
        """Tell live listeners that a Catcher took the error (history shows it only as
        the Exited event)."""

    def issue_task_token(self) -> str: ...

    def commit(self) -> None:
        """Make what the run recorded so far durable before waiting on something outside
        it (a durable host's journal; nothing otherwise)."""

    def call(self, function: Callable[[], Any], *, limit: float | None = None) -> Any:
        """Run user code ``function()`` and return what it returns (or raise what it
        raises): on this thread when nothing could have to interrupt it, else on a worker
        thread that is abandoned (its late result discarded) on a stop, the machine's
        deadline, or after ``limit`` real seconds (:class:`CallTimedOut`)."""

    def task_context(self, token: str | None, sleep: Callable[[float], None],
                     logs: list | None = None) -> Any:
        """The :class:`asl.TaskContext` a callable receives as its second argument
        (``logs``: where its ``log()`` lines go)."""

    def run_scope(self, scope: "Scope", data: Any, size: int | None = None) -> Any: ...

    def run_concurrently(self, jobs: Sequence[Callable[["Frame"], Any]], *, limit: int,
                         may_block: bool, isolated: bool = False,
                         keep_going: Callable[[int], bool] | None = None,
                         ) -> tuple[list, list]:
        """Run each ``job(child_frame)``; returns (results in job order, failures as
        (index, StatesError) in the order they happened). After a failure no new job
        starts and running ones stop, unless ``keep_going(failures so far)`` says so."""


class CallTimedOut(Exception):
    """A call made with :meth:`Frame.call` ran past its ``limit``."""


@dataclass(frozen=True, slots=True)
class CompileOptions:
    """What compiling needs beyond the definition: the machine's default query language."""

    query_language: str = JSONPATH


@dataclass(slots=True, eq=False)
class Scope:
    """One compiled ``States`` object: the machine's top level, a branch or a processor."""

    start_at: str
    states: dict
    may_block: bool      # a Task or Wait at any depth: worth a thread per branch/iteration


@dataclass(slots=True, kw_only=True, eq=False)
class State:
    """The fields every state type has.

    ``jsonata`` tells the state's query language. A JSONPath state may have InputPath,
    OutputPath and a payload-template ``assign`` over its data; a JSONata state has none
    of those paths, and its ``assign`` and ``output`` are JSONata templates over
    ``$states``.
    """

    type: ClassVar[str] = ""
    #: The state type's part in ``$$.State.RetryCount`` (Task, Parallel and Map have one).
    retries: ClassVar[bool] = False
    #: May this state block (wait or call user code)? Decides whether branches get threads.
    may_block: ClassVar[bool] = False

    #: The names of its Entered and Exited history events (``TaskStateEntered``...).
    entered_event: ClassVar[str] = ""
    exited_event: ClassVar[str] = ""

    name: str
    next: str | None = None
    jsonata: bool = False
    input_path: Evaluator | None = None
    output_path: Evaluator | None = None
    assign: Callable | None = None
    output: Callable | None = None

    def __init_subclass__(cls) -> None:
        # No super() call: slots=True dataclasses are rebuilt, so its cell would be stale.
        cls.entered_event = cls.type + "StateEntered"
        cls.exited_event = cls.type + "StateExited"

    @property
    def blocks(self) -> bool:
        """Whether running this state may block (a Task, a Wait, or one inside it)."""
        return self.may_block

    def run(self, frame: Frame, raw: Any, size: int | None) -> Step:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.type} state {self.name!r}>"
