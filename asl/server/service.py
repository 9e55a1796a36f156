"""The Step Functions actions: what each one does, on the store and on live executions.

:class:`Service` holds the store (:mod:`asl.server.store`), the server's resources
mapping and the executions now running in this process. Each public method named like
an action (``StartExecution``...) takes the request's parameters, already checked
against the service model by :mod:`asl.server.protocol`, and returns the response
object; AWS's own errors are :class:`~asl.server.protocol.ApiError`.

Executions run on asl's own engine (:meth:`asl.StateMachine.start`), each step written
to the store's journal as it happens (:mod:`asl.server.journal`); a watcher thread
writes each one's outcome and full history to the store when it ends. A server started
on the store of one that was killed rebuilds every execution left RUNNING from its
journal, and it goes on where it was. STANDARD executions are stored; EXPRESS ones are
not (AWS keeps no history for them either: DescribeExecution and ListExecutions do not
serve them).
"""

from __future__ import annotations

import base64
import queue
import json
import random
import re
import threading
import time
import uuid
from datetime import datetime
from typing import Any

from asl.payload import NotJSON, loads
from asl.server import map_runs
from asl.server.journal import StoreJournal
from asl.server.protocol import ApiError
from asl.server.store import Store

__all__ = ["Service"]

#: 256 KiB: the largest execution input, task output or definition AWS accepts... (inputs)
PAYLOAD_LIMIT = 256 * 1024
#: 1 MiB: the largest definition.
DEFINITION_LIMIT = 1024 * 1024
MAX_TAGS = 50
#: AWS's redrive rules: at most 1000 redrives, within 14 days of the end.
MAX_REDRIVES = 1000
REDRIVE_DAYS = 14

_NAME_INVALID = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
_PARTITION = r"arn:aws[\w-]*"
_MACHINE_ARN = re.compile(
    rf"^{_PARTITION}:states:([a-z0-9-]+):(\d{{12}}):stateMachine:([^:]+)(?::([^:]+))?$")
_EXECUTION_ARN = re.compile(
    rf"^{_PARTITION}:states:([a-z0-9-]+):(\d{{12}}):(execution|express):([^:]+):([^:]+)(?::([^:]+))?$")
_ROLE_ARN = re.compile(rf"^{_PARTITION}:iam::\d{{12}}:role/.+$")
_TOKEN = re.compile(r"^[0-9a-f]{64}$")
_ACTIVITY_ARN = re.compile(rf"^{_PARTITION}:states:([a-z0-9-]+):(\d{{12}}):activity:([^:]+)$")
#: An alias name (the service model's CharacterRestrictedName pattern).
_ALIAS_NAME = re.compile(r"^(?=.*[a-zA-Z_\-.])[a-zA-Z0-9_\-.]+$")
#: AWS's quotas: versions and aliases per state machine.
MAX_VERSIONS = 1000
MAX_ALIASES = 100
#: How long GetActivityTask waits for a task (AWS: 60 s; botocore's read timeout is 60 s).
ACTIVITY_POLL_SECONDS = 55.0

_DEFAULT_LOGGING = {"level": "OFF", "includeExecutionData": False}
_DEFAULT_TRACING = {"enabled": False}
_DEFAULT_ENCRYPTION = {"type": "AWS_OWNED_KEY"}


def _check_name(name: str, what: str) -> None:
    if _NAME_INVALID.search(name):
        raise ApiError("InvalidName", f"Invalid Name: '{name}' ({what} names may not contain "
                                      "whitespace, brackets, wildcards or special characters)")


def _page_token(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def _read_page_token(token: str | None, key: str) -> Any:
    if token is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
        return value[key]
    except Exception:  # noqa: BLE001 - any malformed token is the client's
        raise ApiError("InvalidToken", f"Invalid Token: '{token}'") from None


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _wire_events(events: list[dict]) -> list[dict]:
    """asl's history events with epoch-seconds timestamps, as the JSON protocol sends."""
    out = []
    for event in events:
        event = dict(event)
        if isinstance(event.get("timestamp"), str):
            event["timestamp"] = _epoch(event["timestamp"])
        out.append(event)
    return out


def _without_data(event: dict) -> dict:
    """``includeExecutionData: false``: payloads left out of the event details."""
    event = dict(event)
    for key, value in list(event.items()):
        if key.endswith("EventDetails") and isinstance(value, dict):
            event[key] = {k: v for k, v in value.items()
                          if k not in ("input", "output", "inputDetails", "outputDetails",
                                       "parameters", "assignedVariables",
                                       "assignedVariablesDetails")}
    return event


def _payload_details(text: str | None) -> dict:
    return {"included": True} if text is not None else {"included": False}


class _ActivityTask:
    """A Task on an activity, scheduled, waiting for a worker's answer."""

    __slots__ = ("input", "execution_arn", "done", "outcome")

    def __init__(self, input_text: str, execution_arn: str) -> None:
        self.input = input_text
        self.execution_arn = execution_arn
        self.done = threading.Event()
        self.outcome: tuple | None = None


class _Live:
    """An execution running in this process."""

    __slots__ = ("execution", "arn", "machine_arn", "name", "input", "start_date", "express",
                 "compiled", "resources")

    def __init__(self, execution, arn, machine_arn, name, input_text, start_date, express,
                 compiled=None, resources=None):
        self.execution = execution
        self.compiled = compiled        # what a redrive runs again with
        self.resources = resources
        self.arn = arn
        self.machine_arn = machine_arn
        self.name = name
        self.input = input_text
        self.start_date = start_date
        self.express = express


class Service:
    """Every action the server implements, over one store."""

    def __init__(self, store: Store, *, resources: dict | None = None,
                 mock_config: dict | None = None, region: str = "us-east-1",
                 account: str = "123456789012", virtual_time: bool = False) -> None:
        self.store = store
        self.resources = dict(resources or {})
        self.mock_config = mock_config
        self.region = region
        self.account = account
        self.virtual_time = virtual_time
        self._compiled: dict[tuple[str, str], Any] = {}   # (arn, revision) -> StateMachine
        self._live: dict[str, _Live] = {}                   # execution ARN -> running
        self._journals: dict[str, StoreJournal] = {}        # execution ARN -> its journal
        self._redrivable: dict[str, tuple] = {}             # ARN -> (result, its _Live)
        self._tokens: dict[str, str] = {}                   # task token -> execution ARN
        self._activity_queues: dict[str, queue.Queue] = {}  # activity ARN -> waiting tasks
        self._activity_tasks: dict[str, _ActivityTask] = {}  # task token -> its task
        self._lock = threading.RLock()
        self._routing = random.Random()                     # alias weights; seedable
        self._closed = False
        self._stopped = threading.Event()                   # set: journals write no more
        self._map_runs = map_runs.MapRuns(self)    # before any execution runs (or resumes)
        self._recover()

    # -- plumbing --------------------------------------------------------------------------

    ACTIONS = frozenset({
        "CreateStateMachine", "DescribeStateMachine", "ListStateMachines",
        "DeleteStateMachine", "UpdateStateMachine", "ValidateStateMachineDefinition",
        "DescribeStateMachineForExecution", "StartExecution", "StartSyncExecution",
        "DescribeExecution", "ListExecutions", "GetExecutionHistory", "StopExecution",
        "SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat", "TagResource",
        "UntagResource", "ListTagsForResource", "CreateActivity", "DescribeActivity",
        "DeleteActivity", "ListActivities", "GetActivityTask",
        "PublishStateMachineVersion", "ListStateMachineVersions", "DeleteStateMachineVersion",
        "CreateStateMachineAlias", "DescribeStateMachineAlias", "UpdateStateMachineAlias",
        "DeleteStateMachineAlias", "ListStateMachineAliases", "RedriveExecution",
        "TestState", "DescribeMapRun", "ListMapRuns", "UpdateMapRun"})

    def supported(self, action: str) -> bool:
        return action in self.ACTIONS

    def dispatch(self, action: str, params: dict) -> dict:
        return getattr(self, action)(params)

    def close(self) -> None:
        """Stop recording: executions still running are left RUNNING in the store (a server
        started on it later goes on with them)."""
        with self._lock:
            self._closed = True
            self._stopped.set()

    def _recover(self) -> None:
        """Executions a previous server left RUNNING go on where they were, rebuilt from
        their journals. One that cannot be (no journal: an older store; its resources or
        mock test case are gone) ends FAILED, with an ExecutionFailed event saying why."""
        for row in self.store.running_executions():
            try:
                reason = self._resume(row)
            except Exception as exc:  # noqa: BLE001 - one broken execution must not stop the server
                with self._lock:
                    self._live.pop(row["arn"], None)
                reason = f"{type(exc).__name__}: {exc}"
            if reason is None:
                continue
            now = time.time()
            error = "asl.ServerRestarted"
            cause = f"The asl server stopped while this execution was running: {reason}"
            last = self.store.last_event_id(row["arn"])
            self.store.add_event(row["arn"], {
                "id": last + 1, "previousEventId": last, "timestamp": now,
                "type": "ExecutionFailed",
                "executionFailedEventDetails": {"error": error, "cause": cause}})
            self.store.finish_execution(row["arn"], status="FAILED", output=None,
                                        error=error, cause=cause, stop_date=now)

    def _stored_machine(self, row: dict):
        """The compiled machine an execution ran, from the execution's own row."""
        return self._compiled_machine({
            "arn": row["state_machine_arn"], "revision_id": row["revision_id"],
            "definition": row["definition"], "type": "STANDARD",
            "name": row["machine_name"], "role_arn": row["role_arn"]})

    def _rebuilt(self, row: dict, ended: str | None):
        """An execution rebuilt from its journal: (the Execution or, ended, the result;
        its compiled machine; its resources), or None without a journal."""
        run = self.store.run_of(row["arn"])
        records = self.store.journal(row["arn"]) if run is not None else []
        if not records:
            return None
        compiled = self._stored_machine(row)
        resources = self._resources_for(compiled, json.loads(row["definition"]),
                                        run["test_case"], row["arn"])
        count, date = self.store.redrives(row["arn"])
        restored = compiled._restore(
            records, resources, self._journal(row["arn"]), name=row["name"],
            input_value=json.loads(row["input"]), start_time=row["start_date"],
            token_seed=run["token_seed"], redrive_count=count, redrive_time=date or 0.0,
            ended=ended, clock=self._clock(), start=False)
        return restored, compiled, resources

    def _resume(self, row: dict) -> str | None:
        """Go on with an execution left RUNNING; returns why it cannot, or None."""
        rebuilt = self._rebuilt(row, None)
        if rebuilt is None:
            return "it has no journal to go on from (a store written by an older asl)"
        execution, compiled, resources = rebuilt
        waiting = self.store.waiting_tokens(row["arn"])
        with self._lock:
            self._live[row["arn"]] = _Live(execution, row["arn"], row["state_machine_arn"],
                                           row["name"], row["input"], row["start_date"],
                                           False, compiled, resources)
            for token in waiting:
                self._tokens[token] = row["arn"]
        execution._start_thread()
        self._watch(row["arn"])
        return None

    def _journal(self, arn: str) -> StoreJournal:
        journal = self._journals[arn] = StoreJournal(self.store, arn, self._stopped)
        return journal

    # -- ARNs --------------------------------------------------------------------------------

    def _machine_arn(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"

    def _require_machine(self, arn: str) -> dict:
        match = _MACHINE_ARN.match(arn)
        if match is None:
            raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this "
                                         f"context: {arn}'")
        machine = self.store.machine(arn)
        if machine is None:
            raise ApiError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")
        return machine

    def _resolve(self, arn: str) -> tuple[dict, dict | None, dict | None]:
        """A state machine ARN, unqualified (``...:stateMachine:name``), of a version
        (``...:name:3``) or of an alias (``...:name:PROD``): the machine, the version and
        the alias it names (None when it names none)."""
        match = _MACHINE_ARN.match(arn)
        if match is None:
            raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this "
                                         f"context: {arn}'")
        qualifier = match.group(4)
        if qualifier is None:
            return self._require_machine(arn), None, None
        base = arn[:-(len(qualifier) + 1)]
        machine = self.store.machine(base)
        if qualifier.isdigit():
            version = self.store.version(arn) if machine is not None else None
            if version is None:
                raise ApiError("StateMachineDoesNotExist",
                               f"State Machine Does Not Exist: '{arn}'")
            return machine, version, None
        alias = self.store.alias(arn) if machine is not None else None
        if alias is None:
            raise ApiError("ResourceNotFound", "Request references a resource that does not "
                                               f"exist: '{arn}'", resourceName=arn)
        return machine, None, alias

    def _unqualified(self, arn: str) -> dict:
        """The machine of an unqualified ARN; a version or alias ARN is refused."""
        match = _MACHINE_ARN.match(arn)
        if match is not None and match.group(4) is not None:
            raise ApiError("ValidationException", "Expected an unqualified state machine ARN "
                                                  f"(no version or alias): '{arn}'")
        return self._require_machine(arn)

    @staticmethod
    def _check_execution_arn(arn: str) -> re.Match:
        match = _EXECUTION_ARN.match(arn)
        if match is None:
            raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this "
                                         f"context: {arn}'")
        return match

    def _require_execution(self, arn: str) -> dict:
        match = self._check_execution_arn(arn)
        row = self.store.execution(arn) if match.group(3) == "execution" else None
        if row is None:
            raise ApiError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
        return row

    # -- definitions -------------------------------------------------------------------------

    @staticmethod
    def _diagnostics(text: str, kind: str = "STANDARD") -> list[dict]:
        """asl's validator on a definition given as JSON text, read by asl's own reader
        (a state name given twice is seen; NaN is not JSON); EXPRESS rules for EXPRESS."""
        from asl.definition import DefinitionError, read_definition
        from asl.validation import validate
        from asl.validation.express import express_diagnostics

        if len(text.encode("utf-8")) > DEFINITION_LIMIT:
            return [{"severity": "ERROR", "code": "DEFINITION_TOO_LARGE", "location": "",
                     "message": "The definition exceeds the 1 MiB limit."}]
        try:
            loaded = read_definition(text)
        except DefinitionError as exc:
            return [{"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION", "location": "",
                     "message": f"The definition is not a valid JSON object: {exc}"}]
        found = validate(loaded)
        if kind == "EXPRESS" and not any(d.severity == "ERROR" for d in found):
            found = express_diagnostics(loaded.definition)
        return [d.to_dict() for d in found]

    def _check_definition(self, text: str, kind: str = "STANDARD") -> None:
        errors = [d for d in self._diagnostics(text, kind) if d["severity"] == "ERROR"]
        if errors:
            shown = ", ".join(f"{d['code']}: {d['message']}"
                              + (f" at {d['location']}" if d["location"] else "")
                              for d in errors)
            raise ApiError("InvalidDefinition", f"Invalid State Machine Definition: '{shown}'")

    def _check_role(self, role_arn: str) -> None:
        if not _ROLE_ARN.match(role_arn):
            raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this "
                                         f"context: {role_arn}'")

    def _compiled_machine(self, machine: dict):
        """The StateMachine of this revision of ``machine``, compiled once."""
        import asl

        key = (machine.get("version_arn") or machine["arn"], machine["revision_id"])
        with self._lock:
            compiled = self._compiled.get(key)
            if compiled is None:
                compiled = asl.StateMachine(machine["definition"], type=machine["type"],
                                            name=machine["name"], region=self.region,
                                            account=self.account, role_arn=machine["role_arn"])
                self._compiled = {k: v for k, v in self._compiled.items() if k[0] != key[0]}
                self._compiled[key] = compiled
        return compiled

    # -- resources ---------------------------------------------------------------------------

    def _resources_for(self, compiled, definition: dict, test_case: str | None,
                       execution_arn: str) -> dict:
        """The server's resources (or the mock test case), with a failing stand-in for
        every Task that has no callable, each wrapped to note the task tokens it gets."""
        resources = self.resources
        if test_case is not None:
            from asl.mock import MockConfigError, find_test_case, mock_resources

            if self.mock_config is None:
                raise ApiError("ValidationException",
                               f"Test case '{test_case}' given, but the server has no --mock file")
            try:
                case = find_test_case(self.mock_config, test_case, compiled.name)
                resources = mock_resources(definition, self.mock_config, case, resources)
            except MockConfigError as exc:
                raise ApiError("ValidationException", str(exc)) from None
        resources = dict(resources)
        missing = {resource for _state, resource in compiled.missing_resources(resources)}
        for resource in missing:
            if _ACTIVITY_ARN.match(resource) and self.store.activity(resource) is not None:
                resources[resource] = self._activity_worker_task(resource, execution_arn)
            elif resource.split(".")[0].endswith(":states:::lambda:invoke"):
                for target in _static_function_names(definition, resource):
                    if target not in resources:
                        resources[target] = _missing(target)
            else:
                resources[resource] = _missing(resource)
        return {name: self._noting_tokens(handler, execution_arn)
                for name, handler in resources.items()}

    def _noting_tokens(self, handler, execution_arn: str):
        from asl.resources import Invoker

        invoker = Invoker.of(handler)
        service = self

        def task(payload, context):
            if context.token is not None:
                service._note_token(context.token, execution_arn,
                                    context.context["State"]["Name"])
            return invoker(payload, lambda: context)

        return task

    def _note_token(self, token: str, execution_arn: str, state: str) -> None:
        with self.store.lock, self._lock:
            self._tokens[token] = execution_arn
            if self._closed or execution_arn not in self._live or self._live[execution_arn].express:
                return
            self.store.add_token(token, execution_arn, state, time.time())

    # -- state machines ----------------------------------------------------------------------

    def CreateStateMachine(self, p: dict) -> dict:  # noqa: N802 - AWS's action names
        name, definition, role_arn = p["name"], p["definition"], p["roleArn"]
        kind = p.get("type", "STANDARD")
        _check_name(name, "State machine")
        publish = self._check_publish(p)
        self._check_role(role_arn)
        self._check_definition(definition, kind)
        tags = {t["key"]: t.get("value", "") for t in p.get("tags", [])}
        if len(tags) > MAX_TAGS:
            raise ApiError("TooManyTags", f"Too many tags: at most {MAX_TAGS}",
                           resourceName=name)
        arn = self._machine_arn(name)
        logging = p.get("loggingConfiguration") or _DEFAULT_LOGGING
        tracing = p.get("tracingConfiguration") or _DEFAULT_TRACING
        encryption = p.get("encryptionConfiguration") or _DEFAULT_ENCRYPTION
        with self.store.lock:
            existing = self.store.machine(arn)
            if existing is not None:
                if (existing["definition"] == definition and existing["role_arn"] == role_arn
                        and existing["type"] == kind and existing["logging"] == logging
                        and existing["tracing"] == tracing):
                    response = {"stateMachineArn": arn,
                                "creationDate": existing["creation_date"]}
                    if publish:
                        response["stateMachineVersionArn"] = self._publish(
                            existing, p.get("versionDescription"))["arn"]
                    return response
                raise ApiError("StateMachineAlreadyExists",
                               f"State Machine Already Exists: '{arn}'")
            machine = self.store.add_machine(
                arn=arn, name=name, definition=definition, role_arn=role_arn, type=kind,
                creation_date=time.time(), revision_id=str(uuid.uuid4()), logging=logging,
                tracing=tracing, encryption=encryption, tags=tags)
            response = {"stateMachineArn": arn, "creationDate": machine["creation_date"]}
            if publish:
                response["stateMachineVersionArn"] = self._publish(
                    machine, p.get("versionDescription"))["arn"]
        return response

    def DescribeStateMachine(self, p: dict) -> dict:  # noqa: N802
        m, version, alias = self._resolve(p["stateMachineArn"])
        if alias is not None:
            raise ApiError("ValidationException", "DescribeStateMachine takes a state machine "
                           "or version ARN; describe an alias with DescribeStateMachineAlias: "
                           f"'{alias['arn']}'")
        if version is not None:
            response = {"stateMachineArn": version["arn"], "name": m["name"],
                        "status": "ACTIVE", "definition": version["definition"],
                        "roleArn": version["role_arn"], "type": version["type"],
                        "creationDate": version["creation_date"],
                        "loggingConfiguration": version["logging"],
                        "tracingConfiguration": version["tracing"],
                        "revisionId": version["revision_id"],
                        "encryptionConfiguration": version["encryption"]}
            if version["description"] is not None:
                response["description"] = version["description"]
            return response
        return {"stateMachineArn": m["arn"], "name": m["name"], "status": "ACTIVE",
                "definition": m["definition"], "roleArn": m["role_arn"], "type": m["type"],
                "creationDate": m["creation_date"], "loggingConfiguration": m["logging"],
                "tracingConfiguration": m["tracing"], "revisionId": m["revision_id"],
                "encryptionConfiguration": m["encryption"]}

    def ListStateMachines(self, p: dict) -> dict:  # noqa: N802
        limit = p.get("maxResults") or 100
        after = _read_page_token(p.get("nextToken"), "after") or 0
        rows = self.store.list_machines(after, limit + 1)
        response: dict = {"stateMachines": [
            {"stateMachineArn": m["arn"], "name": m["name"], "type": m["type"],
             "creationDate": m["creation_date"]} for m in rows[:limit]]}
        if len(rows) > limit:
            response["nextToken"] = _page_token({"after": rows[limit - 1]["id"]})
        return response

    def DeleteStateMachine(self, p: dict) -> dict:  # noqa: N802
        arn = p["stateMachineArn"]
        match = _MACHINE_ARN.match(arn)
        if match is None:
            raise ApiError("InvalidArn", f"Invalid Arn: '{arn}'")
        if match.group(4) is not None:
            raise ApiError("ValidationException", "DeleteStateMachine takes an unqualified "
                           "state machine ARN (delete a version with DeleteStateMachineVersion, "
                           f"an alias with DeleteStateMachineAlias): '{arn}'")
        self.store.delete_machine(arn)
        with self._lock:
            stopping = [live for live in self._live.values() if live.machine_arn == arn]
        for live in stopping:
            live.execution.stop("States.Runtime", "The state machine was deleted.")
        return {}

    def UpdateStateMachine(self, p: dict) -> dict:  # noqa: N802
        machine = self._unqualified(p["stateMachineArn"])
        publish = self._check_publish(p)
        keys = ("definition", "roleArn", "loggingConfiguration", "tracingConfiguration",
                "encryptionConfiguration")
        if not publish and not any(k in p for k in keys):
            raise ApiError("MissingRequiredParameter",
                           "Either the definition, the roleArn, the loggingConfiguration, the "
                           "tracingConfiguration or the encryptionConfiguration must be given")
        fields: dict = {}
        if "definition" in p:
            self._check_definition(p["definition"], machine["type"])
            fields["definition"] = p["definition"]
        if "roleArn" in p:
            self._check_role(p["roleArn"])
            fields["role_arn"] = p["roleArn"]
        for key, column in (("loggingConfiguration", "logging"),
                            ("tracingConfiguration", "tracing"),
                            ("encryptionConfiguration", "encryption")):
            if key in p:
                fields[column] = p[key]
        now = time.time()
        with self.store.lock:
            machine = self._require_machine(machine["arn"])
            if any(machine[column] != value for column, value in fields.items()):
                revision = str(uuid.uuid4())
                self.store.update_machine(machine["arn"], update_date=now, revision_id=revision,
                                          **fields)
            else:       # nothing changes: the same revision (publish: the same version)
                revision = machine["revision_id"]
            response = {"updateDate": now, "revisionId": revision}
            if publish:
                response["stateMachineVersionArn"] = self._publish(
                    machine, p.get("versionDescription"))["arn"]
        return response

    def ValidateStateMachineDefinition(self, p: dict) -> dict:  # noqa: N802
        diagnostics = self._diagnostics(p["definition"])
        result = "FAIL" if any(d["severity"] == "ERROR" for d in diagnostics) else "OK"
        if p.get("severity", "ERROR") == "ERROR":
            diagnostics = [d for d in diagnostics if d["severity"] == "ERROR"]
        limit = p.get("maxResults") or 100
        return {"result": result, "diagnostics": diagnostics[:limit],
                "truncated": len(diagnostics) > limit}

    def DescribeStateMachineForExecution(self, p: dict) -> dict:  # noqa: N802
        row = self._require_execution(p["executionArn"])
        return {"stateMachineArn": row["state_machine_arn"], "name": row["machine_name"],
                "definition": row["definition"], "roleArn": row["role_arn"],
                "updateDate": row["machine_update_date"], "revisionId": row["revision_id"],
                "loggingConfiguration": row["logging"], "tracingConfiguration": row["tracing"]}

    # -- versions ----------------------------------------------------------------------------

    @staticmethod
    def _check_publish(p: dict) -> bool:
        publish = bool(p.get("publish", False))
        if p.get("versionDescription") is not None and not publish:
            raise ApiError("ValidationException",
                           "Version description can only be set when publish is true")
        return publish

    def _publish(self, machine: dict, description: str | None,
                 revision_id: str | None = None) -> dict:
        """The version of the machine's current revision: the one already published, or a
        new one with the next number. ``revision_id`` (``INITIAL``: a machine never
        updated) must be the current revision, else ConflictException."""
        with self.store.lock:
            machine = self._require_machine(machine["arn"])
            current = machine["revision_id"]
            if revision_id is not None and revision_id != current and not (
                    revision_id == "INITIAL"
                    and machine["update_date"] == machine["creation_date"]):
                raise ApiError("ConflictException",
                               "Failed to publish the State Machine version for revision "
                               f"{revision_id}. The current State Machine revision is "
                               f"{current}.", status=409)
            existing = self.store.version_of_revision(machine["arn"], current)
            if existing is not None:
                return existing
            if self.store.count_versions(machine["arn"]) >= MAX_VERSIONS:
                raise ApiError("ServiceQuotaExceededException",
                               f"A state machine has at most {MAX_VERSIONS} versions: delete "
                               "unused ones with DeleteStateMachineVersion")
            return self.store.add_version(machine, description, time.time())

    def PublishStateMachineVersion(self, p: dict) -> dict:  # noqa: N802
        machine = self._unqualified(p["stateMachineArn"])
        version = self._publish(machine, p.get("description"), p.get("revisionId"))
        return {"creationDate": version["creation_date"],
                "stateMachineVersionArn": version["arn"]}

    def ListStateMachineVersions(self, p: dict) -> dict:  # noqa: N802
        machine = self._unqualified(p["stateMachineArn"])
        limit = p.get("maxResults") or 100
        below = _read_page_token(p.get("nextToken"), "below")
        if below is not None and not isinstance(below, int):
            raise ApiError("InvalidToken", f"Invalid Token: '{p.get('nextToken')}'")
        rows = self.store.list_versions(machine["arn"], below, limit + 1)
        response: dict = {"stateMachineVersions": [
            {"stateMachineVersionArn": v["arn"], "creationDate": v["creation_date"]}
            for v in rows[:limit]]}
        if len(rows) > limit:
            response["nextToken"] = _page_token({"below": rows[limit - 1]["number"]})
        return response

    def DeleteStateMachineVersion(self, p: dict) -> dict:  # noqa: N802
        arn = p["stateMachineVersionArn"]
        match = _MACHINE_ARN.match(arn)
        if match is None:
            raise ApiError("InvalidArn", f"Invalid Arn: '{arn}'")
        if match.group(4) is None or not match.group(4).isdigit():
            raise ApiError("ValidationException",
                           f"Expected a state machine version ARN: '{arn}'")
        base = arn[:-(len(match.group(4)) + 1)]
        with self.store.lock:
            if self.store.version(arn) is None:     # already gone: nothing to do, as AWS
                return {}
            referencing = [a["name"] for a in self.store.list_aliases(base, None, MAX_ALIASES)
                           if any(r["stateMachineVersionArn"] == arn for r in a["routing"])]
            if referencing:
                raise ApiError("ConflictException",
                               "Version to be deleted must not be referenced by an alias. "
                               "Current list of aliases referencing this version: "
                               f"[{', '.join(referencing)}]", status=409)
            self.store.delete_version(arn)
        with self._lock:            # its running executions keep their compiled machine
            self._compiled = {k: v for k, v in self._compiled.items() if k[0] != arn}
        return {}

    # -- aliases -----------------------------------------------------------------------------

    @staticmethod
    def _check_alias_arn(arn: str) -> str:
        """The unqualified machine ARN of an alias ARN."""
        match = _MACHINE_ARN.match(arn)
        if match is None or match.group(4) is None or match.group(4).isdigit():
            raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this "
                                         f"context: {arn}'")
        return arn[:-(len(match.group(4)) + 1)]

    def _check_routing(self, routing: list[dict], machine_arn: str | None = None) -> dict:
        """A routing configuration's rules (version ARNs of one machine, distinct, weights
        summing to 100, every version existing): the machine it routes to."""
        arns = [r["stateMachineVersionArn"] for r in routing]
        shown = f"[{', '.join(arns)}]"
        bases = set()
        for arn in arns:
            match = _MACHINE_ARN.match(arn)
            if match is None or match.group(4) is None or not match.group(4).isdigit():
                raise ApiError("ValidationException", "Routing configuration must contain "
                                                      f"state machine version ARNs. Received: "
                                                      f"{shown}")
            bases.add(arn[:-(len(match.group(4)) + 1)])
        if len(set(arns)) != len(arns):
            raise ApiError("ValidationException", "Routing configuration must contain "
                                                  "distinct state machine version ARNs. "
                                                  f"Received: {shown}")
        if len(bases) != 1 or (machine_arn is not None and bases != {machine_arn}):
            raise ApiError("ValidationException", "Routing configuration must contain "
                                                  "versions of the same state machine"
                                                  + (" as the alias" if machine_arn else "")
                                                  + f". Received: {shown}")
        weights = [r["weight"] for r in routing]
        if sum(weights) != 100:
            raise ApiError("ValidationException", "Sum of routing configuration weights must "
                                                  f"equal 100. Received: "
                                                  f"[{', '.join(map(str, weights))}]")
        machine = self.store.machine(bases.pop())
        for arn in arns:
            if machine is None or self.store.version(arn) is None:
                raise ApiError("ResourceNotFound", "Request references a resource that does "
                                                   f"not exist: '{arn}'", resourceName=arn)
        return machine

    @staticmethod
    def _routing_of(routing: list[dict]) -> list[dict]:
        return [{"stateMachineVersionArn": r["stateMachineVersionArn"],
                 "weight": int(r["weight"])} for r in routing]

    def CreateStateMachineAlias(self, p: dict) -> dict:  # noqa: N802
        name = p["name"]
        if not _ALIAS_NAME.match(name):
            raise ApiError("ValidationException",
                           f"1 validation error detected: Value '{name}' at 'name' failed to "
                           "satisfy constraint: Member must satisfy regular expression "
                           f"pattern: {_ALIAS_NAME.pattern}")
        routing = self._routing_of(p["routingConfiguration"])
        description = p.get("description")
        with self.store.lock:
            machine = self._check_routing(routing)
            arn = f"{machine['arn']}:{name}"
            existing = self.store.alias(arn)
            if existing is not None:
                if existing["routing"] == routing and existing["description"] == description:
                    return {"stateMachineAliasArn": arn,
                            "creationDate": existing["creation_date"]}
                raise ApiError("ConflictException",
                               "Failed to create alias because an alias with the same name "
                               "and a different routing configuration already exists.",
                               status=409)
            if self.store.count_aliases(machine["arn"]) >= MAX_ALIASES:
                raise ApiError("ServiceQuotaExceededException",
                               f"A state machine has at most {MAX_ALIASES} aliases")
            alias = self.store.add_alias(arn=arn, machine_arn=machine["arn"], name=name,
                                         description=description, routing=routing,
                                         creation_date=time.time())
        return {"stateMachineAliasArn": arn, "creationDate": alias["creation_date"]}

    def _require_alias(self, arn: str) -> dict:
        self._check_alias_arn(arn)
        alias = self.store.alias(arn)
        if alias is None:
            raise ApiError("ResourceNotFound", "Request references a resource that does not "
                                               f"exist: '{arn}'", resourceName=arn)
        return alias

    def DescribeStateMachineAlias(self, p: dict) -> dict:  # noqa: N802
        alias = self._require_alias(p["stateMachineAliasArn"])
        response = {"stateMachineAliasArn": alias["arn"], "name": alias["name"],
                    "routingConfiguration": alias["routing"],
                    "creationDate": alias["creation_date"], "updateDate": alias["update_date"]}
        if alias["description"] is not None:
            response["description"] = alias["description"]
        return response

    def UpdateStateMachineAlias(self, p: dict) -> dict:  # noqa: N802
        arn = p["stateMachineAliasArn"]
        with self.store.lock:
            alias = self._require_alias(arn)
            if "description" not in p and "routingConfiguration" not in p:
                raise ApiError("ValidationException", "Either the description or the "
                                                      "routingConfiguration must be given")
            changes: dict = {}
            if "routingConfiguration" in p:
                changes["routing"] = self._routing_of(p["routingConfiguration"])
                self._check_routing(changes["routing"], alias["machine_arn"])
            if "description" in p:
                changes["description"] = p["description"]
            now = time.time()
            self.store.update_alias(arn, update_date=now, **changes)
        return {"updateDate": now}

    def DeleteStateMachineAlias(self, p: dict) -> dict:  # noqa: N802
        arn = p["stateMachineAliasArn"]
        self._check_alias_arn(arn)
        self.store.delete_alias(arn)        # an alias already gone: nothing to do, as AWS
        return {}

    def ListStateMachineAliases(self, p: dict) -> dict:  # noqa: N802
        machine, version, alias = self._resolve(p["stateMachineArn"])
        if alias is not None:
            raise ApiError("ValidationException", "Expected a state machine or version ARN: "
                                                  f"'{alias['arn']}'")
        aliases = self.store.list_aliases(machine["arn"], None, MAX_ALIASES)
        if version is not None:
            aliases = [a for a in aliases
                       if any(r["stateMachineVersionArn"] == version["arn"]
                              for r in a["routing"])]
        limit = p.get("maxResults") or 100
        offset = _read_page_token(p.get("nextToken"), "offset") or 0
        if not isinstance(offset, int) or offset < 0:
            raise ApiError("InvalidToken", f"Invalid Token: '{p.get('nextToken')}'")
        response: dict = {"stateMachineAliases": [
            {"stateMachineAliasArn": a["arn"], "creationDate": a["creation_date"]}
            for a in aliases[offset:offset + limit]]}
        if offset + limit < len(aliases):
            response["nextToken"] = _page_token({"offset": offset + limit})
        return response

    # -- tags --------------------------------------------------------------------------------

    def _tagged_machine(self, arn: str) -> dict:
        if _MACHINE_ARN.match(arn) is None:
            if arn.startswith("arn:") and ":states:" in arn:
                raise ApiError("ResourceNotFound", f"Resource not found: '{arn}'",
                               resourceName=arn)
            raise ApiError("InvalidArn", f"Invalid Arn: '{arn}'")
        machine = self.store.machine(arn)
        if machine is None:
            raise ApiError("ResourceNotFound", f"Resource not found: '{arn}'", resourceName=arn)
        return machine

    def TagResource(self, p: dict) -> dict:  # noqa: N802
        with self.store.lock:
            machine = self._tagged_machine(p["resourceArn"])
            tags = dict(machine["tags"])
            tags.update({t["key"]: t.get("value", "") for t in p["tags"]})
            if len(tags) > MAX_TAGS:
                raise ApiError("TooManyTags", f"Too many tags: at most {MAX_TAGS}",
                               resourceName=p["resourceArn"])
            self.store.update_machine(machine["arn"], tags=tags)
        return {}

    def UntagResource(self, p: dict) -> dict:  # noqa: N802
        with self.store.lock:
            machine = self._tagged_machine(p["resourceArn"])
            tags = {k: v for k, v in machine["tags"].items() if k not in set(p["tagKeys"])}
            self.store.update_machine(machine["arn"], tags=tags)
        return {}

    def ListTagsForResource(self, p: dict) -> dict:  # noqa: N802
        machine = self._tagged_machine(p["resourceArn"])
        return {"tags": [{"key": k, "value": v} for k, v in machine["tags"].items()]}

    # -- executions --------------------------------------------------------------------------

    @staticmethod
    def _input(p: dict) -> tuple[str, Any]:
        text = p.get("input")
        if text is None:
            text = "{}"
        if len(text.encode("utf-8")) > PAYLOAD_LIMIT:
            raise ApiError("InvalidExecutionInput",
                           "Invalid Execution Input: the input exceeds the 262144 bytes limit")
        try:
            return text, loads(text)       # strict: no NaN, Infinity or lone surrogates
        except NotJSON:
            raise ApiError("InvalidExecutionInput",
                           f"Invalid Execution Input: '{text[:200]}' is not valid JSON") from None

    def _machine_and_case(self, arn: str) -> tuple[dict, str | None]:
        """What an execution of ``arn`` runs: the machine, or (a version ARN, an alias ARN)
        the machine with that version's definition, role and configuration, with
        ``version_arn`` and ``alias_arn`` noted; and the mock test case named after ``#``."""
        base, _, case = arn.partition("#")      # Step Functions Local's arn#TestCase
        machine, version, alias = self._resolve(base)
        if alias is not None:
            version = self._route(alias)
        if version is not None:
            machine = dict(machine, definition=version["definition"],
                           role_arn=version["role_arn"], revision_id=version["revision_id"],
                           logging=version["logging"], tracing=version["tracing"],
                           update_date=version["creation_date"], version_arn=version["arn"],
                           alias_arn=alias["arn"] if alias is not None else None)
        return machine, (case or None) if "#" in arn else None

    def _route(self, alias: dict) -> dict:
        """The version an alias sends this execution to, drawn by the routing weights."""
        draw = self._routing.randrange(100)
        routes = alias["routing"]
        chosen = routes[-1]
        total = 0
        for route in routes:
            total += route["weight"]
            if draw < total:
                chosen = route
                break
        version = self.store.version(chosen["stateMachineVersionArn"])
        if version is None:
            raise ApiError("ResourceNotFound", "Request references a resource that does not "
                           f"exist: '{chosen['stateMachineVersionArn']}'")
        return version

    def _begin(self, p: dict, express_only: bool):
        """What StartExecution and StartSyncExecution share: the checks, the run."""
        machine, test_case = self._machine_and_case(p["stateMachineArn"])
        express = machine["type"] == "EXPRESS"
        if express_only and not express:
            raise ApiError("StateMachineTypeNotSupported",
                           "This operation is not supported by this type of state machine")
        name = p.get("name") or str(uuid.uuid4())
        _check_name(name, "Execution")
        text, value = self._input(p)
        compiled = self._compiled_machine(machine)
        definition = json.loads(machine["definition"])
        if express:
            arn = (f"arn:aws:states:{self.region}:{self.account}:express:{machine['name']}:"
                   f"{name}:{uuid.uuid4()}")
        else:
            arn = compiled.identity.execution_arn(name)
        resources = self._resources_for(compiled, definition, test_case, arn)
        return machine, express, name, text, value, compiled, resources, arn, test_case

    def _clock(self):
        if self.virtual_time:
            from asl.clock import VirtualClock
            return VirtualClock()
        return None

    def StartExecution(self, p: dict) -> dict:  # noqa: N802
        machine, express, name, text, value, compiled, resources, arn, case = self._begin(
            p, False)
        start = time.time()
        if express:
            execution = compiled.start(value, resources, name=name, clock=self._clock())
            with self._lock:
                self._live[arn] = _Live(execution, arn, machine["arn"], name, text, start, True)
            self._watch(arn)
            return {"executionArn": arn, "startDate": start}
        with self.store.lock:
            existing = self.store.execution(arn)
            if existing is not None:
                if existing["status"] == "RUNNING" and existing["input"] == text:
                    return {"executionArn": arn, "startDate": existing["start_date"]}
                raise ApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")
            self.store.add_execution(arn=arn, machine=machine, name=name, input=text,
                                     start_date=start, trace_header=p.get("traceHeader"),
                                     version_arn=machine.get("version_arn"),
                                     alias_arn=machine.get("alias_arn"))
            self.store.add_event(arn, {
                "id": 1, "previousEventId": 0, "timestamp": start, "type": "ExecutionStarted",
                "executionStartedEventDetails": {
                    "input": text, "inputDetails": {"truncated": False},
                    "roleArn": machine["role_arn"]}})
            seed = uuid.uuid4().hex
            self.store.add_run(arn, seed, case)
            with self._lock:
                try:
                    execution = compiled._start_journaled(value, resources, self._journal(arn),
                                                          token_seed=seed, name=name,
                                                          clock=self._clock())
                except Exception as exc:        # asl refused to run it: never left RUNNING
                    self.store.finish_execution(arn, status="FAILED", output=None,
                                                error="States.Runtime", cause=str(exc),
                                                stop_date=time.time())
                    raise
                self._live[arn] = _Live(execution, arn, machine["arn"], name, text, start, False,
                                        compiled, resources)
        self._watch(arn)
        return {"executionArn": arn, "startDate": start}

    def _watch(self, arn: str) -> None:
        threading.Thread(target=self._finish, args=(arn,), name="asl-serve-watch",
                         daemon=True).start()

    def _finish(self, arn: str) -> None:
        """Record how an execution ended (once: the watcher and StopExecution both may)."""
        with self._lock:
            live = self._live.get(arn)
        if live is None:
            return
        result = live.execution.result()
        with self.store.lock, self._lock:
            if self._live.get(arn) is not live:
                return
            if not live.express and not self._closed:
                self.store.finish_execution(
                    arn, status=result.status,
                    output=None if result.status != "SUCCEEDED" else json.dumps(
                        result.output, ensure_ascii=False, separators=(",", ":")),
                    error=result.error, cause=result.cause, stop_date=result.stop_time,
                    events=_wire_events(result.history))
                if result.status == "SUCCEEDED":    # never redriven: its journal is done
                    self.store.drop_journal(arn)
            self._live.pop(arn, None)
            self._journals.pop(arn, None)
            if not live.express and result.status != "SUCCEEDED" and live.compiled is not None:
                # A redrive by this server starts from the engine's record in memory; a
                # later server rebuilds it from the journal.
                self._redrivable[arn] = (result, live)
            for token in [t for t, a in self._tokens.items() if a == arn]:
                del self._tokens[token]

    def StartSyncExecution(self, p: dict) -> dict:  # noqa: N802
        machine, _express, name, text, value, compiled, resources, arn, _ = self._begin(
            p, True)
        start = time.time()
        result = compiled.execute(value, resources, name=name, clock=self._clock())
        status = result.status if result.status != "ABORTED" else "FAILED"
        response = {"executionArn": arn, "stateMachineArn": machine["arn"], "name": name,
                    "startDate": start, "stopDate": time.time(), "status": status,
                    "input": text, "inputDetails": {"included": True},
                    "billingDetails": {"billedMemoryUsedInMB": 64,
                                       "billedDurationInMilliseconds": 100}}
        if result.status == "SUCCEEDED":
            response["output"] = json.dumps(result.output, ensure_ascii=False)
            response["outputDetails"] = {"included": True}
        else:
            for key in ("error", "cause"):
                if getattr(result, key) is not None:
                    response[key] = getattr(result, key)
        if p.get("traceHeader"):
            response["traceHeader"] = p["traceHeader"]
        return response

    def _redrive(self, row: dict) -> dict:
        """redriveCount, redriveDate, redriveStatus (and its reason) as DescribeExecution
        gives them."""
        count, date = self.store.redrives(row["arn"])
        shaped: dict = {"redriveCount": count}
        if date is not None:
            shaped["redriveDate"] = date
        reason = self._not_redrivable(row)
        shaped["redriveStatus"] = "REDRIVABLE" if reason is None else "NOT_REDRIVABLE"
        if reason is not None:
            shaped["redriveStatusReason"] = reason
        return shaped

    def _not_redrivable(self, row: dict) -> str | None:
        status = row["status"]
        if status in ("RUNNING", "SUCCEEDED", "PENDING_REDRIVE"):
            return f"Execution is {status} and cannot be redriven"
        if self.store.redrives(row["arn"])[0] >= MAX_REDRIVES:
            return f"Execution was redriven {MAX_REDRIVES} times, the most it can be"
        if time.time() - (row["stop_date"] or 0) > REDRIVE_DAYS * 86400:
            return f"Execution ended more than {REDRIVE_DAYS} days ago"
        if row["arn"] not in self._redrivable and not self.store.last_seq(row["arn"]):
            return ("Execution has no journal to redrive from (a store written by an older "
                    "asl)")
        return None

    def TestState(self, p: dict) -> dict:  # noqa: N802
        """One state run once (asl.test_state, the same engine as executions), answered by
        the mock or by the server's resources."""
        import asl

        try:
            result = asl.test_state(
                p["definition"], p.get("input"), mock=p.get("mock"),
                inspection_level=p.get("inspectionLevel", "INFO"), context=p.get("context"),
                variables=p.get("variables"), state_name=p.get("stateName"),
                resources=self.resources, reveal_secrets=p.get("revealSecrets", False),
                state_configuration=p.get("stateConfiguration"))
        except asl.ValidationError as exc:
            shown = "; ".join(str(d) for d in exc.diagnostics) or str(exc)
            raise ApiError("InvalidDefinition", f"Invalid State Machine Definition: '{shown}'") \
                from None
        except asl.MissingResourceError as exc:
            raise ApiError("ValidationException", str(exc).splitlines()[0]) from None
        except (asl.InvalidExecutionInput, ValueError) as exc:
            raise ApiError("ValidationException", str(exc)) from None
        return result.to_dict()

    def RedriveExecution(self, p: dict) -> dict:  # noqa: N802
        arn = p["executionArn"]
        if ":express:" in arn:
            raise ApiError("ExecutionNotRedrivable",
                           "Express executions cannot be redriven")
        row = self._require_execution(arn)
        with self.store.lock, self._lock:
            reason = self._not_redrivable(row)
            if reason is not None:
                raise ApiError("ExecutionNotRedrivable", f"Execution Not Redrivable: {reason}")
            kept = self._redrivable.pop(arn, None)
            if kept is not None:
                result, compiled, resources = kept[0], kept[1].compiled, kept[1].resources
            else:                           # ended before this server started
                result, compiled, resources = self._rebuilt(row, row["status"])
            count = self.store.redrives(arn)[0] + 1
            now = time.time()
            execution = compiled._redrive_journaled(result, resources, self._journal(arn),
                                                    clock=self._clock())
            self.store.redrive_execution(arn, count, now)
            self._live[arn] = _Live(execution, arn, row["state_machine_arn"], row["name"],
                                    row["input"], row["start_date"], False, compiled,
                                    resources)
        self._watch(arn)
        return {"redriveDate": now}

    def DescribeExecution(self, p: dict) -> dict:  # noqa: N802
        row = self._require_execution(p["executionArn"])
        response = {"executionArn": row["arn"], "stateMachineArn": row["state_machine_arn"],
                    "name": row["name"], "status": row["status"],
                    "startDate": row["start_date"], "input": row["input"],
                    "inputDetails": _payload_details(row["input"])}
        if row["status"] != "RUNNING":
            response["stopDate"] = row["stop_date"]
            if row["output"] is not None:
                response["output"] = row["output"]
                response["outputDetails"] = _payload_details(row["output"])
        for key in ("error", "cause"):
            if row[key] is not None:
                response[key] = row[key]
        if row["trace_header"]:
            response["traceHeader"] = row["trace_header"]
        response.update(_qualifiers(row))
        response.update(self._redrive(row))
        return response

    def ListExecutions(self, p: dict) -> dict:  # noqa: N802
        if "mapRunArn" in p:
            raise ApiError("ValidationException", "asl serve does not list Map Run executions")
        if "stateMachineArn" not in p:
            raise ApiError("ValidationException", "stateMachineArn is required")
        machine, version, alias = self._resolve(p["stateMachineArn"])
        if machine["type"] == "EXPRESS":
            raise ApiError("StateMachineTypeNotSupported",
                           "This operation is not supported by this type of state machine")
        limit = p.get("maxResults") or 100
        before = _read_page_token(p.get("nextToken"), "before")
        rows = self.store.list_executions(
            machine["id"], p.get("statusFilter"), before, limit + 1,
            version_arn=version["arn"] if version is not None else None,
            alias_arn=alias["arn"] if alias is not None else None)
        executions = []
        for row in rows[:limit]:
            item = {"executionArn": row["arn"], "stateMachineArn": row["state_machine_arn"],
                    "name": row["name"], "status": row["status"], "startDate": row["start_date"],
                    "redriveCount": self.store.redrives(row["arn"])[0]}
            if row["stop_date"] is not None:
                item["stopDate"] = row["stop_date"]
            item.update(_qualifiers(row))
            executions.append(item)
        response: dict = {"executions": executions}
        if len(rows) > limit:
            response["nextToken"] = _page_token({"before": rows[limit - 1]["seq"]})
        return response

    def _live_events(self, arn: str) -> list[dict] | None:
        """The history so far of an execution running here (asl's Execution has no public
        reader of a running history: this reads the engine's recorder)."""
        with self._lock:
            live = self._live.get(arn)
        if live is None:
            return None
        if live.execution.done:
            return _wire_events(live.execution.result().history)
        journal = self._journals.get(arn)
        if journal is not None:     # what a client has seen of the run is on record
            journal.flush()
        return _wire_events(live.execution.events())

    def GetExecutionHistory(self, p: dict) -> dict:  # noqa: N802
        arn = p["executionArn"]
        row = self._require_execution(arn)
        limit = p.get("maxResults") or 100
        reverse = bool(p.get("reverseOrder", False))
        offset = _read_page_token(p.get("nextToken"), "offset") or 0
        if not isinstance(offset, int) or offset < 0:
            raise ApiError("InvalidToken", f"Invalid Token: '{p.get('nextToken')}'")
        events = self._live_events(arn) if row["status"] == "RUNNING" else None
        if events is None:
            events = self.store.events(arn, after=None, reverse=False, limit=1_000_000)
        if reverse:
            events = events[::-1]
        page = events[offset:offset + limit]
        if not p.get("includeExecutionData", True):
            page = [_without_data(e) for e in page]
        response: dict = {"events": page}
        if offset + limit < len(events):
            response["nextToken"] = _page_token({"offset": offset + limit})
        return response

    def StopExecution(self, p: dict) -> dict:  # noqa: N802
        arn = p["executionArn"]
        row = self._require_execution(arn)
        with self._lock:
            live = self._live.get(arn)
        if row["status"] != "RUNNING" or live is None:
            return {"stopDate": row["stop_date"] or time.time()}
        live.execution.stop(p.get("error"), p.get("cause"))
        result = live.execution.result(timeout=10)
        self._finish(arn)
        return {"stopDate": result.stop_time}

    # -- task tokens -------------------------------------------------------------------------

    def _token_target(self, token: str):
        if not _TOKEN.match(token):
            raise ApiError("InvalidToken", f"Invalid Token: '{token[:80]}'")
        with self._lock:
            arn = self._tokens.get(token)
            live = self._live.get(arn) if arn else None
        if live is None:
            known = self.store.token(token)
            if known is not None or arn is not None:
                raise ApiError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist "
                                               "anymore'")
            raise ApiError("TaskDoesNotExist", "Task Does Not Exist: the token was not issued "
                                               "by this server")
        return live

    def _answer(self, token: str, send, activity_outcome=None) -> dict:
        if _TOKEN.match(token):
            with self._lock:
                activity_task = self._activity_tasks.get(token)
            if activity_task is not None:
                if activity_outcome is not None:
                    with self._lock:
                        self._activity_tasks.pop(token, None)
                    activity_task.outcome = activity_outcome
                    activity_task.done.set()
                return {}
        live = self._token_target(token)
        try:
            send(live.execution)
        except KeyError:
            raise ApiError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist "
                                           "anymore'") from None
        return {}

    def SendTaskSuccess(self, p: dict) -> dict:  # noqa: N802
        text = p["output"]
        if len(text.encode("utf-8")) > PAYLOAD_LIMIT:
            raise ApiError("InvalidOutput", "Invalid Output: the output exceeds 262144 bytes")
        try:
            output = loads(text)
        except NotJSON:
            raise ApiError("InvalidOutput", f"Invalid Output: '{text[:200]}' is not valid "
                                            "JSON") from None
        result = self._answer(p["taskToken"],
                              lambda e: e.send_task_success(p["taskToken"], output),
                              ("success", output))
        self.store.close_token(p["taskToken"])
        return result

    def SendTaskFailure(self, p: dict) -> dict:  # noqa: N802
        result = self._answer(p["taskToken"], lambda e: e.send_task_failure(
            p["taskToken"], p.get("error", ""), p.get("cause", "")),
            ("failure", p.get("error", ""), p.get("cause", "")))
        self.store.close_token(p["taskToken"])
        return result

    def SendTaskHeartbeat(self, p: dict) -> dict:  # noqa: N802
        return self._answer(p["taskToken"], lambda e: e.send_task_heartbeat(p["taskToken"]))


    # -- activities ---------------------------------------------------------------------------

    def _activity_worker_task(self, activity_arn: str, execution_arn: str):
        """The callable of a Task on an activity: it schedules the task for a worker
        (GetActivityTask) and waits for SendTaskSuccess / SendTaskFailure."""
        from asl.errors import TaskFailed

        service = self

        def task(payload, context):
            # The attempt's own id: the same when a restart schedules it again, so a worker
            # that took the task before the restart still answers it.
            token = context.attempt_id
            waiting = _ActivityTask(json.dumps(payload, ensure_ascii=False), execution_arn)
            with service._lock:
                service._activity_tasks[token] = waiting
                service._tokens[token] = execution_arn
                tasks = service._activity_queues.setdefault(activity_arn, queue.Queue())
            tasks.put(token)
            while not waiting.done.wait(0.2):
                with service._lock:
                    gone = service._closed or execution_arn not in service._live
                if gone:        # stopped, timed out or the server closed: nobody waits
                    with service._lock:
                        service._activity_tasks.pop(token, None)
                    raise TaskFailed("States.Runtime", "the execution ended")
            if waiting.outcome[0] == "success":
                return waiting.outcome[1]
            raise TaskFailed(waiting.outcome[1], waiting.outcome[2])

        return task

    def _activity_arn(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:activity:{name}"

    def _require_activity(self, arn: str) -> dict:
        if not _ACTIVITY_ARN.match(arn):
            raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this "
                                         f"context: {arn}'")
        activity = self.store.activity(arn)
        if activity is None:
            raise ApiError("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")
        return activity

    def CreateActivity(self, p: dict) -> dict:  # noqa: N802
        name = p["name"]
        _check_name(name, "Activity")
        tags = {t["key"]: t.get("value", "") for t in p.get("tags", [])}
        if len(tags) > MAX_TAGS:
            raise ApiError("TooManyTags", f"Too many tags: at most {MAX_TAGS}", resourceName=name)
        arn = self._activity_arn(name)
        with self.store.lock:           # idempotent, as AWS's CreateActivity is
            activity = self.store.activity(arn) or self.store.add_activity(
                arn, name, time.time(), tags)
        return {"activityArn": arn, "creationDate": activity["creation_date"]}

    def DescribeActivity(self, p: dict) -> dict:  # noqa: N802
        activity = self._require_activity(p["activityArn"])
        return {"activityArn": activity["arn"], "name": activity["name"],
                "creationDate": activity["creation_date"]}

    def DeleteActivity(self, p: dict) -> dict:  # noqa: N802
        if not _ACTIVITY_ARN.match(p["activityArn"]):
            raise ApiError("InvalidArn", f"Invalid Arn: '{p['activityArn']}'")
        self.store.delete_activity(p["activityArn"])
        return {}

    def ListActivities(self, p: dict) -> dict:  # noqa: N802
        limit = p.get("maxResults") or 100
        after = _read_page_token(p.get("nextToken"), "after") or 0
        rows = self.store.list_activities(after, limit + 1)
        response: dict = {"activities": [
            {"activityArn": a["arn"], "name": a["name"], "creationDate": a["creation_date"]}
            for a in rows[:limit]]}
        if len(rows) > limit:
            response["nextToken"] = _page_token({"after": rows[limit - 1]["id"]})
        return response

    def GetActivityTask(self, p: dict) -> dict:  # noqa: N802
        arn = p["activityArn"]
        self._require_activity(arn)
        with self._lock:
            tasks = self._activity_queues.setdefault(arn, queue.Queue())
        give_up = time.monotonic() + ACTIVITY_POLL_SECONDS
        while not self._closed:
            left = give_up - time.monotonic()
            if left <= 0:
                break
            try:
                token = tasks.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            with self._lock:
                waiting = self._activity_tasks.get(token)
            if waiting is not None:          # not abandoned meanwhile
                return {"taskToken": token, "input": waiting.input}
        return {}

    # -- Map Runs (asl.server.map_runs: the engine's records of its Distributed Maps) ------

    def DescribeMapRun(self, p: dict) -> dict:  # noqa: N802
        return map_runs.manager(self).describe(p)

    def ListMapRuns(self, p: dict) -> dict:  # noqa: N802
        return map_runs.manager(self).list(p)

    def UpdateMapRun(self, p: dict) -> dict:  # noqa: N802
        return map_runs.manager(self).update(p)


def _qualifiers(row: dict) -> dict:
    """An execution's ``stateMachineVersionArn`` / ``stateMachineAliasArn``, when it was
    started through a version or an alias."""
    out = {}
    if row.get("version_arn"):
        out["stateMachineVersionArn"] = row["version_arn"]
    if row.get("alias_arn"):
        out["stateMachineAliasArn"] = row["alias_arn"]
    return out


def _static_function_names(definition: dict, resource: str):
    """The static ``FunctionName`` of every Task of ``resource`` (a lambda:invoke), at
    any depth."""
    for state in (definition.get("States") or {}).values():
        if not isinstance(state, dict):
            continue
        if state.get("Type") == "Task" and state.get("Resource") == resource:
            for key in ("Parameters", "Arguments"):
                params = state.get(key)
                if isinstance(params, dict) and isinstance(params.get("FunctionName"), str):
                    yield params["FunctionName"]
        for branch in state.get("Branches") or ():
            yield from _static_function_names(branch, resource)
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                yield from _static_function_names(state[key], resource)


def _missing(resource: str):
    """The stand-in for a Task with no callable: the error AWS gives for a missing
    function (Lambda), or a task failure naming the resource."""
    from asl.errors import TaskFailed
    from asl.resources import LAMBDA, LAMBDA_INVOKE, OTHER, parse_resource
    from asl.states.task import resource_not_found

    spec = parse_resource(resource)

    def task(payload):
        if spec.kind in (LAMBDA, LAMBDA_INVOKE, OTHER):
            raise resource_not_found(resource)
        raise TaskFailed("States.TaskFailed", f"asl serve has no callable for resource "
                                              f"'{resource}' (give one with --resources)")

    return task
