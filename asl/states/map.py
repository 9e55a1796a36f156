"""Map: run the item processor once per item; the result is the iterations' outputs.

Inline and Distributed Map, everything only Map has: ItemsPath / Items, ItemSelector
(where ``$$.Map.Item`` exists), ItemBatcher, ItemReader and ResultWriter (answered by
callables), MaxConcurrency, the tolerated failures, and the Map's own history events
(MapStateStarted, one MapIteration* set per iteration, the Map Run events of a
Distributed Map).

A Distributed Map also keeps a :class:`MapRunRecord` of its Map Run (the facts AWS's
DescribeMapRun gives: the child executions per status, the configuration, start and
stop) on the run (``run.map_runs``, by Map Run ARN), and tells
:data:`MAP_RUN_OBSERVERS` when a Map Run starts and ends; ``asl serve`` keeps its Map
Runs that way. An inline Map has no record and pays nothing for it.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from asl import errors
from asl.errors import RUNTIME, Aborted, StatesError
from asl.language.paths import ABSENT, compile_selector, compile_template
from asl.payload import copy, dumps
from asl.resources import Invoker, ResourceSpec, lookup, parse_resource
from asl.states.base import CompileOptions, Frame, Scope, Step
from asl.states.io import (ResultState, as_data_evaluator, common_fields, jsonata_field,
                           number_setting, resolve_number, result_fields, states_variable,
                           template_setting)
from asl.states.retry import Catcher, Retrier, compile_catchers, compile_retriers, run_with_retry

#: Inline Map runs about 40 iterations at once on AWS, whatever MaxConcurrency says.
INLINE_MAP_CONCURRENCY = 40

#: Called as ``observer(event, record)`` when a Distributed Map's Map Run starts
#: (``"started"``, after its MapRunStarted event) and when it ends (``"ended"``); an
#: observer's exception is logged, never the run's.
MAP_RUN_OBSERVERS: list[Callable[[str, "MapRunRecord"], None]] = []

log = logging.getLogger("asl.map")

_NO_ARGUMENTS = compile_template({})


@dataclass(frozen=True, slots=True)
class Batcher:
    """ItemBatcher: each a static number, a ``...Path`` or a JSONata expression."""

    max_items: Any = None
    max_bytes: Any = None
    batch_input: Callable | None = None


@dataclass(frozen=True, slots=True)
class Reader:
    """ItemReader: the reader's resource, its arguments, its ReaderConfig."""

    spec: ResourceSpec
    arguments: Callable
    config: dict
    max_items: Any = None     # a number (0: no limit), a MaxItemsPath, a JSONata evaluator


@dataclass(frozen=True, slots=True)
class Writer:
    """ResultWriter: the writer's resource (None: results only described), its arguments."""

    spec: ResourceSpec | None
    arguments: Callable


@dataclass(slots=True, kw_only=True, eq=False)
class MapState(ResultState):
    """A compiled Map state (inline, or Distributed when ``distributed``)."""

    type: ClassVar[str] = "Map"
    retries: ClassVar[bool] = True

    processor: Scope
    distributed: bool = False
    label: str | None = None
    items_path: Callable | None = None
    items: Callable | None = None
    item_selector: Callable | None = None
    max_concurrency: Any = None
    tolerated_count: Any = None
    tolerated_percentage: Any = None
    batcher: Batcher | None = None
    reader: Reader | None = None
    writer: Writer | None = None
    retriers: tuple[Retrier, ...] = ()
    catchers: tuple[Catcher, ...] = ()

    @classmethod
    def compile(cls, name: str, definition: dict, options: CompileOptions) -> "MapState":
        from asl.states import compile_scope   # here: the processor holds states of every type

        fields = common_fields(name, definition, options)
        jsonata = fields["jsonata"]
        processor = definition.get("ItemProcessor") or definition.get("Iterator")
        fields.update(result_fields(definition, jsonata, parameters_field=None))
        if jsonata:
            fields["items"] = as_data_evaluator(jsonata_field(definition, "Items", "array"))
            selector = jsonata_field(definition, "ItemSelector")
            fields["item_selector"] = (None if selector is None else
                                       lambda data, env: selector(states_variable(env, data), env))
        else:
            fields["items_path"] = compile_selector(definition.get("ItemsPath", ABSENT))
            selector = definition.get("ItemSelector", definition.get("Parameters", ABSENT))
            fields["item_selector"] = None if selector is ABSENT else compile_template(selector)
        batcher = definition.get("ItemBatcher")
        if batcher is not None:
            fields["batcher"] = Batcher(
                number_setting(batcher, "MaxItemsPerBatch", jsonata),
                number_setting(batcher, "MaxInputBytesPerBatch", jsonata),
                template_setting(batcher, jsonata, "BatchInput", "BatchInput"))
        reader = definition.get("ItemReader")
        if reader is not None:
            fields["reader"] = Reader(
                parse_resource(reader["Resource"]),
                template_setting(reader, jsonata, "Parameters", "Arguments") or _NO_ARGUMENTS,
                reader.get("ReaderConfig", {}),
                number_setting(reader.get("ReaderConfig", {}), "MaxItems", jsonata))
        writer = definition.get("ResultWriter")
        if writer is not None:
            fields["writer"] = Writer(
                parse_resource(writer["Resource"]) if "Resource" in writer else None,
                template_setting(writer, jsonata, "Parameters", "Arguments") or _NO_ARGUMENTS)
        return cls(
            **fields, processor=compile_scope(processor, options),
            distributed=(processor.get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED",
            label=definition.get("Label"),
            max_concurrency=number_setting(definition, "MaxConcurrency", jsonata),
            tolerated_count=number_setting(definition, "ToleratedFailureCount", jsonata),
            tolerated_percentage=number_setting(definition, "ToleratedFailurePercentage",
                                                jsonata, "number"),
            retriers=compile_retriers(definition.get("Retry")),
            catchers=compile_catchers(definition.get("Catch"), jsonata))

    @property
    def blocks(self) -> bool:
        return self.processor.may_block

    def run(self, frame: Frame, raw: Any, size: int | None) -> Step:
        frame.enter(self, raw)

        def attempt() -> Step:
            effective = raw if self.input_path is None else self.input_path(raw, frame)
            items = self._items(frame, effective)
            max_concurrency = resolve_number(self.max_concurrency, frame, effective,
                                             "MaxConcurrency")
            tolerated = self._tolerance(frame, effective)
            inputs = self._iteration_inputs(frame, effective, items)
            frame.event("MapStateStarted", {"length": len(inputs)})
            record = None
            if self.distributed:
                record = self._open_map_run(frame, inputs, max_concurrency or 0, tolerated)
            try:
                if record is not None:
                    frame.event("MapRunStarted", {"mapRunArn": record.arn})
                    _notify("started", record)
                results = self._iterate(frame, inputs, max_concurrency or 0, tolerated, record)
            except StatesError as exc:
                if record is not None:
                    try:
                        frame.event("MapRunFailed", {"error": exc.error, "cause": exc.cause})
                    finally:
                        record.end(frame.clock.time(), "FAILED")
                frame.event("MapStateFailed")
                raise
            except BaseException as exc:        # stopped, timed out, or asl's own fault
                if record is not None:
                    if isinstance(exc, Aborted):
                        try:
                            frame.event("MapRunAborted")
                        except Exception:  # noqa: BLE001 - the stop goes on regardless
                            pass
                    record.end(frame.clock.time(), "ABORTED")
                raise
            if record is not None:
                try:
                    frame.event("MapRunSucceeded")
                finally:
                    record.end(frame.clock.time(), "SUCCEEDED")
            frame.event("MapStateSucceeded")
            if self.writer is not None:
                results = self._write_results(frame, effective, results)
            return self.finish(frame, raw, size, results, None, results)

        return run_with_retry(self, frame, raw, self.retriers, self.catchers, attempt)

    # -- the iterations ---------------------------------------------------------------------

    def _iterate(self, frame: Frame, inputs: list, max_concurrency: int, tolerated,
                 record: "MapRunRecord | None" = None) -> list:
        """Run one iteration per input, each recording its MapIteration* events; a
        failure beyond the tolerated ones stops the others and fails the Map. With a Map
        Run ``record``, each child is counted there, and its MaxConcurrency and tolerated
        failures are read there as they go (UpdateMapRun changes them)."""
        name, processor = self.name, self.processor

        def iteration(child: Frame, index: int, data: Any) -> Any:
            details = {"name": name, "index": index}
            child.event("MapIterationStarted", details)
            try:
                output = child.run_scope(processor, data)
            except StatesError:
                child.event("MapIterationFailed", details)
                raise
            except Aborted:
                child.event("MapIterationAborted", details)
                raise
            child.event("MapIterationSucceeded", details)
            return output

        total = len(inputs)
        if record is None:
            jobs = [lambda child, i=i, data=data: iteration(child, i, data)
                    for i, data in enumerate(inputs)]
            keep_going = None if tolerated is None else (
                lambda failed: not _over_tolerance(failed, total, tolerated))
        else:
            def counted(child: Frame, index: int, data: Any) -> Any:
                record.child_started(index, child.check)
                try:
                    output = iteration(child, index, data)
                except StatesError:
                    record.child_ended(index, "failed")
                    raise
                except BaseException:
                    record.child_ended(index, "aborted")
                    raise
                record.child_ended(index, "succeeded")
                return output

            jobs = [lambda child, i=i, data=data: counted(child, i, data)
                    for i, data in enumerate(inputs)]

            def keep_going(failed: int) -> bool:
                now = record.tolerated
                return now is not None and not _over_tolerance(failed, total, now)
        limit = max_concurrency if max_concurrency > 0 else INLINE_MAP_CONCURRENCY
        results, failures = frame.run_concurrently(
            jobs, limit=limit, may_block=processor.may_block, isolated=self.distributed,
            keep_going=keep_going)
        if record is not None:
            tolerated = record.tolerated
        if failures:
            if tolerated is None:
                raise failures[0][1]
            if _over_tolerance(len(failures), total, tolerated):
                raise StatesError(errors.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                                  "The specified tolerated failure threshold was exceeded")
            for index, exc in failures:
                results[index] = exc.error_output()
        return results

    def _open_map_run(self, frame: Frame, inputs: list, max_concurrency: int,
                      tolerated) -> "MapRunRecord":
        """The record of the Map Run starting now, kept on the run by its ARN. After a
        redrive (or a restart) resumed this very Map, the children that succeeded before
        are not run again: they count as succeeded from the start."""
        run = frame.run
        arn = run.map_run_arn(self.name, self.label)
        sizes = ([len(batch["Items"]) for batch in inputs] if self.batcher is not None
                 else None)
        reused: list[int] = []
        resumed = getattr(frame, "resumed", None) == self.name
        if resumed:
            done = getattr(getattr(frame, "log", None), "done", None) or {}
            reused = [index for owner, index in list(done) if owner == self.name
                      and index < len(inputs)]
        record = MapRunRecord(
            arn=arn, execution_arn=getattr(run, "arn", ""), state_name=self.name,
            label=self.label, start=frame.clock.time(), total=len(inputs), sizes=sizes,
            max_concurrency=max_concurrency, tolerated=tolerated, reused=reused,
            resumed=resumed, restarted=bool(getattr(run, "restarted", False)), run=run)
        records = getattr(run, "map_runs", None)
        if records is None:
            with _RECORDS_LOCK:
                records = getattr(run, "map_runs", None)
                if records is None:
                    records = {}
                    try:
                        run.map_runs = records
                    except AttributeError:      # a run that cannot hold them
                        pass
        records[arn] = record
        return record

    def _items(self, frame: Frame, effective: Any) -> list:
        if self.reader is not None:
            items = self._read_items(frame, effective)
        elif self.items is not None:
            items = self.items(effective, frame)
        elif self.jsonata and not isinstance(effective, list):
            raise StatesError(errors.QUERY_EVALUATION_ERROR,
                              f"Map state input must be an array but was: {dumps(effective)}")
        else:
            items = effective if self.items_path is None else self.items_path(effective, frame)
        if not isinstance(items, list):
            raise StatesError(RUNTIME, f"Map state input must be an array but was: {dumps(items)}"
                              if self.items_path is None else
                              "Invalid path: the ItemsPath must reference an array, but was "
                              f"{dumps(items)}")
        return items

    def _tolerance(self, frame: Frame, effective: Any) -> tuple | None:
        count = resolve_number(self.tolerated_count, frame, effective, "ToleratedFailureCount")
        percentage = resolve_number(self.tolerated_percentage, frame, effective,
                                    "ToleratedFailurePercentage", float)
        if count is not None and count < 0:
            raise StatesError(RUNTIME, "ToleratedFailureCount cannot be negative.")
        if percentage is not None and not 0 <= percentage <= 100:
            raise StatesError(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
        if count is None and percentage is None:
            return None
        return (count or 0, percentage or 0)

    def _iteration_inputs(self, frame: Frame, effective: Any, items: list) -> list:
        if self.item_selector is not None:
            inputs = [self.item_selector(effective, _ItemEnv(frame, i, item))
                      for i, item in enumerate(items)]
        else:
            inputs = items
        if self.batcher is None:
            return inputs
        return self._batches(frame, effective, inputs)

    def _batches(self, frame: Frame, effective: Any, inputs: list) -> list:
        batcher = self.batcher
        max_items = resolve_number(batcher.max_items, frame, effective, "MaxItemsPerBatch")
        max_bytes = resolve_number(batcher.max_bytes, frame, effective, "MaxInputBytesPerBatch")
        shared = batcher.batch_input(effective, frame) if batcher.batch_input is not None else None
        batches: list[list] = []
        current: list = []
        size = 0
        for item in inputs:
            item_size = len(dumps(item).encode("utf-8"))
            if current and ((max_items and len(current) >= max_items)
                            or (max_bytes and size + item_size > max_bytes)):
                batches.append(current)
                current, size = [], 0
            current.append(item)
            size += item_size
        if current:
            batches.append(current)
        return [({"BatchInput": shared, "Items": b} if shared is not None else {"Items": b})
                for b in batches]

    # -- ItemReader and ResultWriter --------------------------------------------------------------

    def _invoke(self, frame: Frame, handler, payload: Any) -> Any:
        """Call a reader's or writer's callable with its own copy of its arguments."""
        invoker = Invoker.of(handler)
        request = copy(payload)

        def make_context():
            return frame.task_context(None, lambda seconds: frame.sleep(seconds, self.name, "Task"))
        return frame.call(lambda: invoker(request, make_context))

    def _read_items(self, frame: Frame, effective: Any) -> list:
        """ItemReader: the reader resource's callable returns the items (a JSON array), or
        text that ReaderConfig.InputType says how to parse (JSON, JSONL, CSV)."""
        reader = self.reader
        arguments = reader.arguments(effective, frame)
        handler = lookup(reader.spec, frame.run.resources, arguments)
        if handler is None:
            raise StatesError(errors.ITEM_READER_FAILED, "No callable is registered for the "
                                                         f"ItemReader resource '{reader.spec.resource}'")
        try:
            content = self._invoke(frame, handler, arguments)
        except StatesError:
            raise
        except Exception as exc:  # noqa: BLE001 - a reader's failure is the Map's failure
            raise StatesError(errors.ITEM_READER_FAILED, str(exc)) from None
        items = _parse_reader_content(content, reader.config)
        if not isinstance(items, list):
            raise StatesError(errors.ITEM_READER_FAILED, "Attempting to map over non-iterable node.")
        max_items = reader.max_items
        if callable(max_items):           # MaxItemsPath, or a JSONata expression [AWS, recorded]
            max_items = resolve_number(max_items, frame, effective, "MaxItems")
            if max_items <= 0:
                raise StatesError(errors.ITEM_READER_FAILED, "field MaxItems must be positive")
        # A static MaxItems of 0 means no limit [AWS, recorded].
        return items[:max_items] if isinstance(max_items, int) and max_items > 0 else items

    def _write_results(self, frame: Frame, effective: Any, results: list) -> dict:
        """ResultWriter: hand the results to the writer's callable; the Map's result is then
        the MapRunArn and where the results went, as on AWS."""
        writer = self.writer
        arguments = writer.arguments(effective, frame)
        if writer.spec is not None:
            handler = lookup(writer.spec, frame.run.resources, arguments)
            if handler is None:
                raise StatesError(errors.RESULT_WRITER_FAILED, "No callable is registered for the "
                                  f"ResultWriter resource '{writer.spec.resource}'")
            try:
                self._invoke(frame, handler, dict(arguments, Results=results))
            except Exception as exc:  # noqa: BLE001
                raise StatesError(errors.RESULT_WRITER_FAILED, str(exc)) from None
        is_object = isinstance(arguments, dict)
        prefix = arguments.get("Prefix", "") if is_object else ""
        map_run_arn = frame.run.map_run_arn(self.name, self.label)
        key = f"{map_run_arn.rpartition(':')[2]}/manifest.json"    # the map run's own id
        return {"MapRunArn": map_run_arn,
                "ResultWriterDetails": {
                    "Bucket": arguments.get("Bucket") if is_object else None,
                    "Key": f"{prefix}/{key}" if prefix else key}}


_RECORDS_LOCK = threading.Lock()

#: A child workflow execution's status, as DescribeMapRun counts it.
_STATUSES = ("pending", "running", "succeeded", "failed", "timedOut", "aborted")


class MapRunRecord:
    """One Map Run, as its Distributed Map runs it: what AWS's DescribeMapRun tells.

    Counts are per child workflow execution (one per item, or per batch with an
    ItemBatcher) and per item; a child is ``pending`` until it starts, then
    ``running``, then ``succeeded``, ``failed`` (an ASL error) or ``aborted`` (stopped:
    the execution was stopped or timed out, or the Map Run failed). ``timedOut`` stays 0:
    a child has no timeout of its own here. ``resultsWritten``: the children whose result
    is in the Map's result, once the Map Run succeeded.

    ``max_concurrency`` (0: no limit) and ``tolerated`` (None, or (count, percentage))
    may change while it runs (:meth:`update`, UpdateMapRun): a child starts only while
    fewer than ``max_concurrency`` run (no more run at once than the Map started with,
    though), and the next failure is judged against the tolerance then. Thread-safe.
    A host may set ``redrive_count``, ``redrive_time`` and ``start`` (a redriven Map Run
    keeps its first start).
    """

    __slots__ = ("arn", "execution_arn", "state_name", "label", "start", "stop", "status",
                 "max_concurrency", "tolerated", "total", "sizes", "executions", "items",
                 "results_written", "resumed", "restarted", "redrive_count", "redrive_time",
                 "run", "_condition", "__weakref__")

    def __init__(self, *, arn: str, execution_arn: str, state_name: str, label: str | None,
                 start: float, total: int, sizes: list[int] | None, max_concurrency: int,
                 tolerated: tuple | None, reused: list[int] = (), resumed: bool = False,
                 restarted: bool = False, run: Any = None) -> None:
        self.arn = arn
        self.execution_arn = execution_arn
        self.state_name = state_name
        self.label = label
        self.start = start
        self.stop: float | None = None
        self.status = "RUNNING"
        self.max_concurrency = max_concurrency
        self.tolerated = tolerated
        self.total = total
        self.sizes = sizes
        self.executions = dict.fromkeys(_STATUSES, 0)
        self.items = dict.fromkeys(_STATUSES, 0)
        self.executions["pending"] = total
        self.items["pending"] = total if sizes is None else sum(sizes)
        self.results_written = (0, 0)
        self.resumed = resumed
        self.restarted = restarted
        self.redrive_count = 0
        self.redrive_time: float | None = None
        self.run = run
        self._condition = threading.Condition(threading.Lock())
        for index in reused:
            self._move(index, "pending", "succeeded")

    def _size(self, index: int) -> int:
        return 1 if self.sizes is None else self.sizes[index]

    def _move(self, index: int, old: str, new: str) -> None:
        size = self._size(index)
        self.executions[old] -= 1
        self.executions[new] += 1
        self.items[old] -= size
        self.items[new] += size

    def child_started(self, index: int, check: Callable[[], None]) -> None:
        """Child ``index`` starts, once fewer than ``max_concurrency`` run; ``check``
        raises while it waits if the Map must stop (the child stays pending)."""
        with self._condition:
            while 0 < self.max_concurrency <= self.executions["running"]:
                self._condition.wait(0.05)
                check()
            self._move(index, "pending", "running")

    def child_ended(self, index: int, status: str) -> None:
        with self._condition:
            self._move(index, "running", status)
            self._condition.notify()

    def end(self, time: float, status: str) -> None:
        with self._condition:
            self.stop, self.status = time, status
            if status == "SUCCEEDED":
                done = ("succeeded", "failed")
                self.results_written = (sum(self.executions[s] for s in done),
                                        sum(self.items[s] for s in done))
            self._condition.notify_all()
        _notify("ended", self)

    def update(self, max_concurrency: int | None = None, tolerated_count: int | None = None,
               tolerated_percentage: float | None = None) -> None:
        """UpdateMapRun: the values given replace the Map Run's own."""
        with self._condition:
            if max_concurrency is not None:
                self.max_concurrency = max_concurrency
            if tolerated_count is not None or tolerated_percentage is not None:
                count, percentage = self.tolerated or (0, 0)
                self.tolerated = (count if tolerated_count is None else tolerated_count,
                                  percentage if tolerated_percentage is None
                                  else tolerated_percentage)
            self._condition.notify_all()

    def snapshot(self) -> dict:
        """The record as plain JSON values (epoch seconds), consistent at one instant."""
        with self._condition:
            count, percentage = self.tolerated or (0, 0)
            executions = dict(self.executions, total=self.total,
                              resultsWritten=self.results_written[0])
            items = dict(self.items, total=sum(self.items.values()),
                         resultsWritten=self.results_written[1])
            return {"mapRunArn": self.arn, "executionArn": self.execution_arn,
                    "stateName": self.state_name, "label": self.label,
                    "status": self.status, "startDate": self.start, "stopDate": self.stop,
                    "maxConcurrency": self.max_concurrency,
                    "toleratedFailureCount": int(count),
                    "toleratedFailurePercentage": float(percentage),
                    "executionCounts": executions, "itemCounts": items,
                    "resumed": self.resumed, "restarted": self.restarted,
                    "redriveCount": self.redrive_count, "redriveDate": self.redrive_time}


def _notify(event: str, record: MapRunRecord) -> None:
    for observer in tuple(MAP_RUN_OBSERVERS):
        try:
            observer(event, record)
        except Exception:  # noqa: BLE001 - an observer's fault is not the run's
            log.exception("a Map Run observer failed on %s of %s", event, record.arn)


class _ItemEnv:
    """The env of ItemSelector: ``$$.Map.Item`` exists there and nowhere else."""

    __slots__ = ("context", "variables", "clock")

    def __init__(self, frame: Frame, index: int, value: Any) -> None:
        self.context = dict(frame.context, Map={"Item": {"Index": index, "Value": value}})
        self.variables = frame.variables
        self.clock = frame.clock


def _over_tolerance(failures: int, total: int, tolerated: tuple) -> bool:
    count, percentage = tolerated
    return failures > count and (total == 0 or failures * 100.0 / total > percentage)


def _parse_reader_content(content: Any, config: dict) -> Any:
    if not isinstance(content, str):
        return content
    kind = config.get("InputType", "JSON")
    try:
        if kind == "JSON":
            return json.loads(content)
        if kind == "JSONL":
            return [json.loads(line) for line in content.splitlines() if line.strip()]
        if kind == "CSV":
            return _parse_csv(content, config)
    except (ValueError, KeyError) as exc:
        raise StatesError(errors.ITEM_READER_FAILED, str(exc)) from None
    raise StatesError(errors.ITEM_READER_FAILED, f"InputType {kind} is not supported offline")


def _parse_csv(content: str, config: dict) -> list[dict]:
    delimiter = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ",
                 "TAB": "\t"}[config.get("CSVDelimiter", "COMMA")]
    rows = list(csv.reader(io.StringIO(content), delimiter=delimiter))
    if config.get("CSVHeaderLocation", "FIRST_ROW") == "GIVEN":
        headers = config.get("CSVHeaders", [])
    else:
        headers, rows = (rows[0] if rows else []), rows[1:]
    if len(set(headers)) != len(headers):
        raise StatesError(errors.ITEM_READER_FAILED, "CSV headers cannot contain duplicates.")
    return [dict(zip(headers, (row + [""] * len(headers))[: len(headers)])) for row in rows]
