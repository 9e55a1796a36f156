"""asl: run Amazon States Language (AWS Step Functions) state machines offline, in-process.

    import asl
    sm = asl.StateMachine(definition)
    result = sm.execute({"order_id": "o-1"}, resources={"saga-reserve": reserve})
    result.status, result.output, result.error, result.cause, result.history
"""

from asl.clock import RealClock, VirtualClock
from asl.errors import StatesError, TaskFailed
from asl.execution import Execution, ExecutionResult
from asl.machine import InvalidExecutionInput, MissingResourceError, StateMachine
from asl.resources import RawResult, TaskContext
from asl.validation import Diagnostic, ValidationError, validate
from asl.test_state import test_state  # noqa: E402 - after the names it uses

__version__ = "0.1.0"

__all__ = [
    "StateMachine", "Execution", "ExecutionResult", "TaskContext", "RawResult",
    "VirtualClock", "RealClock",
    "TaskFailed", "StatesError", "MissingResourceError", "InvalidExecutionInput",
    "validate", "Diagnostic", "ValidationError", "test_state",
]
