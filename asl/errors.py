"""ASL errors and the one function that decides whether a Retrier or Catcher matches one.

An ASL error is a name (``States.Timeout``, ``PaymentDeclined``) and a cause string.
Everything that fails inside an execution is turned into a :class:`StatesError` so that
Retry, Catch and the final result all see the same two strings AWS would report.
"""

from __future__ import annotations

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
RUNTIME = "States.Runtime"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"
BRANCH_FAILED = "States.BranchFailed"
PERMISSIONS = "States.Permissions"

#: AWS prefixes the cause of every States.Runtime and States.QueryEvaluationError raised
#: inside a state with this (``event_id`` is the id of the state's ...StateEntered event).
RUNTIME_CAUSE_PREFIX = "An error occurred while executing the state '{state}' (entered at the event id #{event_id}). "

#: Every ``States.*`` name a definition may list in ErrorEquals.
KNOWN_STATES_ERRORS = frozenset({
    ALL, TASK_FAILED, RUNTIME, TIMEOUT, HEARTBEAT_TIMEOUT, DATA_LIMIT_EXCEEDED,
    QUERY_EVALUATION_ERROR, RESULT_PATH_MATCH_FAILURE, EXCEED_TOLERATED_FAILURE_THRESHOLD,
    ITEM_READER_FAILED, RESULT_WRITER_FAILED, BRANCH_FAILED, PERMISSIONS,
    "States.ParameterPathFailure", "States.IntrinsicFailure", "States.NoChoiceMatched",
    "States.Http.Socket",
})


class StatesError(Exception):
    """An ASL error: ``error`` is the Error name, ``cause`` the Cause string.

    ``located``: the cause already carries :data:`RUNTIME_CAUSE_PREFIX` (or must never
    get it, as a Fail state's own cause). ``location``: for States.QueryEvaluationError,
    the field whose expression failed (the EvaluationFailed event's ``location``).
    ``recorded``: that EvaluationFailed event has been written. ``missing``: what a
    missing Error or Cause is in the Error Output (a Fail state binds empty strings;
    SendTaskFailure without them gives null).
    """

    error: str
    cause: str
    located: bool
    location: str | None
    recorded: bool
    missing: str | None

    def __init__(self, error: str, cause: str = "", *, located: bool = False,
                 location: str | None = None, missing: str | None = "") -> None:
        super().__init__(error, cause)
        self.error = error
        self.cause = cause
        self.located = located
        self.location = location
        self.recorded = False
        self.missing = missing

    def __str__(self) -> str:
        return f"{self.error}: {self.cause}" if self.cause else self.error

    def error_output(self) -> dict:
        """The Error Output a Catcher passes on: ``{"Error": ..., "Cause": ...}``, a
        missing one as :attr:`missing` says."""
        return {"Error": self.missing if self.error is None else self.error,
                "Cause": self.missing if self.cause is None else self.cause}


class TaskFailed(StatesError):
    """Raise from a resource callable to fail the task with exactly this Error and Cause.

    >>> raise TaskFailed("PaymentDeclined", "card declined")  # doctest: +SKIP
    """


class Aborted(BaseException):
    """Control flow, never an ASL error: this thread of execution must stop (the
    execution was stopped, or a sibling branch or iteration failed). A BaseException,
    so that a callable's ``except Exception`` around ``TaskContext.sleep`` cannot
    swallow it."""


class ExecutionTimedOut(BaseException):
    """Control flow, never an ASL error: the machine's top-level TimeoutSeconds elapsed
    (a BaseException for the same reason as :class:`Aborted`)."""


def is_recoverable(error: str) -> bool:
    """States.Runtime is neither retried nor caught, even when a rule names it (AWS)."""
    return error != RUNTIME


def matches(error_equals, error: str) -> bool:
    """Whether a Retrier's or Catcher's ``ErrorEquals`` list matches ``error``.

    AWS rules: names match exactly and case-sensitively; ``States.ALL`` matches every
    error but ``States.Runtime`` (``States.DataLimitExceeded`` included: recorded on AWS,
    although older docs said otherwise); ``States.TaskFailed`` matches every error but
    ``States.Timeout`` and ``States.DataLimitExceeded``; nothing ever matches
    ``States.Runtime``.
    """
    if error == RUNTIME:
        return False
    if error in error_equals or ALL in error_equals:
        return True
    return TASK_FAILED in error_equals and error not in (TIMEOUT, DATA_LIMIT_EXCEEDED)
