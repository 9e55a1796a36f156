"""Wait: spend time on the frame's clock, for Seconds or until a Timestamp."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, ClassVar

from asl import errors
from asl.errors import RUNTIME, StatesError
from asl.language import is_jsonata_expression
from asl.language.jsonpath import PathNotFound, compile_path
from asl.language.timestamps import parse_timestamp
from asl.states.base import CompileOptions, Frame, State, Step
from asl.states.io import common_fields, exit_without_result, jsonata_field, states_variable

#: AWS refuses waits of 2^31 seconds or more ("Wait state delay is too long.").
MAX_WAIT_SECONDS = 2 ** 31 - 1


@dataclass(slots=True, kw_only=True, eq=False)
class WaitState(State):
    """Wait: sleep (on the frame's clock) for Seconds or until Timestamp, each static,
    from a path (SecondsPath, TimestampPath) or a JSONata expression; a timestamp in the
    past continues at once."""

    type: ClassVar[str] = "Wait"
    may_block: ClassVar[bool] = True

    seconds: int | float | None = None
    timestamp: datetime | None = None
    seconds_expression: Callable | None = None
    timestamp_expression: Callable | None = None
    seconds_path: Callable | None = None
    seconds_path_text: str | None = None
    timestamp_path: Callable | None = None
    timestamp_path_text: str | None = None

    @classmethod
    def compile(cls, name: str, definition: dict, options: CompileOptions) -> "WaitState":
        fields = common_fields(name, definition, options)
        jsonata = fields["jsonata"]
        seconds, timestamp = definition.get("Seconds"), definition.get("Timestamp")
        if jsonata and isinstance(seconds, str):
            fields["seconds_expression"] = jsonata_field(definition, "Seconds", "integer")
            seconds = None
        if jsonata and is_jsonata_expression(timestamp):
            fields["timestamp_expression"] = jsonata_field(definition, "Timestamp", "string")
            timestamp = None
        if "SecondsPath" in definition:
            fields["seconds_path"] = compile_path(definition["SecondsPath"]).get
            fields["seconds_path_text"] = definition["SecondsPath"]
        if "TimestampPath" in definition:
            fields["timestamp_path"] = compile_path(definition["TimestampPath"]).get
            fields["timestamp_path_text"] = definition["TimestampPath"]
        return cls(**fields, seconds=seconds,
                   timestamp=parse_timestamp(timestamp) if timestamp is not None else None)

    def run(self, frame: Frame, raw: Any, size: int | None) -> Step:
        frame.enter(self, raw)
        effective = raw if self.input_path is None else self.input_path(raw, frame)
        seconds = self.delay(frame, effective)
        if seconds >= MAX_WAIT_SECONDS:
            raise StatesError(RUNTIME, "Wait state delay is too long.")
        if self.timestamp is None and self.timestamp_expression is None \
                and self.timestamp_path is None:
            # Seconds count from the state's entry: a restart waits only what is left.
            seconds -= frame.clock.time() - frame.entered_time
        frame.sleep(max(0.0, seconds), self.name, "Wait")
        return exit_without_result(self, frame, raw, effective, size, self.next,
                                   self.assign, self.output)

    def delay(self, frame: Frame, data: Any) -> float:
        """The seconds to wait from now, as the definition gives them."""
        if self.seconds is not None:
            return self.seconds
        if self.seconds_expression is not None:
            seconds = self.seconds_expression(states_variable(frame, data), frame)
            if seconds < 0:
                raise StatesError(errors.QUERY_EVALUATION_ERROR,
                                  f"The Seconds field must be a non-negative integer, but was {seconds}")
            return seconds
        if self.timestamp_expression is not None:
            text = self.timestamp_expression(states_variable(frame, data), frame)
            moment = parse_timestamp(text)
            if moment is None:
                raise StatesError(errors.QUERY_EVALUATION_ERROR,
                                  "The Timestamp field cannot be parsed as an ISO-8601 extended "
                                  f"offset date-time format string: {text}")
            return moment.timestamp() - frame.clock.time()
        if self.timestamp is not None:
            return self.timestamp.timestamp() - frame.clock.time()
        if self.seconds_path is not None:
            return self._seconds_from_path(frame, data)
        return self._until_timestamp_path(frame, data)

    def _seconds_from_path(self, frame: Frame, data: Any) -> int:
        text = self.seconds_path_text
        try:
            value = self.seconds_path(data, frame)
        except PathNotFound:
            raise StatesError(RUNTIME, f"The SecondsPath parameter does not reference an input "
                                       f"value: {text}") from None
        if type(value) is not int:
            if isinstance(value, (float, str)):
                raise StatesError(RUNTIME, f"The SecondsPath parameter cannot be parsed as a long "
                                           f"value: {text} == {value}")
            raise StatesError(RUNTIME, f"The SecondsPath parameter does not reference an input "
                                       f"value: {text}")
        if value < 0:
            raise StatesError(RUNTIME, f"The SecondsPath parameter references a negative value: "
                                       f"{text} == {value}")
        return value

    def _until_timestamp_path(self, frame: Frame, data: Any) -> float:
        try:
            value = self.timestamp_path(data, frame)
        except PathNotFound as exc:
            raise StatesError(RUNTIME, str(exc)) from None
        moment = parse_timestamp(value) if isinstance(value, str) else None
        if moment is None:
            raise StatesError(RUNTIME, "The TimestampPath parameter does not reference a valid "
                                       "ISO-8601 extended offset date-time format string: "
                                       f"{self.timestamp_path_text} == {value}")
        return moment.timestamp() - frame.clock.time()
