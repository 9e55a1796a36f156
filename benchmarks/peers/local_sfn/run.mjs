// Times the asl benchmark workloads in aws-local-stepfunctions, inside Node.
//
// Reads requests as JSON, one per line, on stdin, and answers each with one JSON line:
//
//   {"id": "W3", "definition": {...}, "input": {...},
//    "tasks": {"Reserve": {"value": {...}}, "Notify": {"error": "E", "cause": "C"}},
//    "warmup": 20, "executions": 200, "rounds": 1, "check": true}
//
//   -> {"id": "W3", "cpu_ms": [...], "wall_ms": [...],            (per execution, each round)
//       "cpu_ms_median": 0.03, "wall_ms_median": 0.03,
//       "status": "SUCCEEDED", "error": null, "states": 5}          (from the checked run)
//
// Task states are overridden by local functions (taskResourceLocalHandlers) that return
// at once, as the Python callables do. State machines are built once per id, as asl
// compiles once. A request that fails answers {"id": ..., "failure": "..."}.
//
// "variant" (optional) says what is new for every execution, as in workloads.VARIANTS:
//   "fresh-dict"      a new overrides object holding the same handler functions
//   "fresh-closures"  a new overrides object of new handler closures
//   "new-machine"     new StateMachine(definition) from an equal (structuredClone'd) object
// Those objects are made before the clock starts; the clock covers running with them
// (for "new-machine": the constructor, which validates, plus the run).
import { createInterface } from 'node:readline';

import './polyfill.mjs';

const { StateMachine } = await import('aws-local-stepfunctions');

const machines = new Map();

function taskHandlers(tasks = {}) {
  const handlers = {};
  for (const [state, behaviour] of Object.entries(tasks)) {
    if (behaviour.error !== undefined && behaviour.error !== null) {
      handlers[state] = async () => {
        const failure = new Error(behaviour.cause ?? '');
        failure.name = behaviour.error;
        throw failure;
      };
    } else {
      const value = behaviour.value ?? null;
      handlers[state] = async () => structuredClone(value);
    }
  }
  return handlers;
}

function machineFor(request) {
  let machine = machines.get(request.id);
  if (machine === undefined) {
    machine = new StateMachine(request.definition);
    machines.set(request.id, machine);
  }
  return machine;
}

async function runOnce(machine, input, options) {
  try {
    await machine.run(input, options).result;
    return { status: 'SUCCEEDED', error: null };
  } catch (failure) {
    const error = failure?.cause?.name ?? failure?.name ?? String(failure);
    return { status: 'FAILED', error };
  }
}

// One execution with its event log read: the status and the number of states entered.
async function checkedRun(machine, input, options) {
  const execution = machine.run(input, options);
  let states = 0;
  let error = null;
  let status = 'SUCCEEDED';
  for await (const event of execution.eventLogs) {
    if (event.type === 'StateEntered') states += 1;
    if (event.type === 'ExecutionFailed') {
      status = 'FAILED';
      error = event.Error;
    }
  }
  try {
    await execution.result;
  } catch (failure) {
    status = 'FAILED';
    error = error ?? failure?.cause?.name ?? failure?.name;
  }
  return { status, error, states };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// What each of `count` executions gets: [machine, options] pairs, per the variant.
function perExecution(request, machine, options, count) {
  const variant = request.variant ?? 'reuse';
  const handlers = options.overrides.taskResourceLocalHandlers;
  const pairs = [];
  for (let i = 0; i < count; i += 1) {
    if (variant === 'reuse') pairs.push([machine, options]);
    else if (variant === 'fresh-dict') {
      pairs.push([machine, { overrides: { taskResourceLocalHandlers: { ...handlers } } }]);
    } else if (variant === 'fresh-closures') {
      pairs.push([machine, { overrides: { taskResourceLocalHandlers: taskHandlers(request.tasks) } }]);
    } else if (variant === 'new-machine') pairs.push([structuredClone(request.definition), options]);
    else throw new Error(`unknown variant ${variant}`);
  }
  return pairs;
}

async function runPairs(request, pairs) {
  const build = request.variant === 'new-machine';
  for (const [machine, options] of pairs) {
    await runOnce(build ? new StateMachine(machine) : machine, request.input, options);
  }
}

async function handle(request) {
  const machine = machineFor(request);
  const options = { overrides: { taskResourceLocalHandlers: taskHandlers(request.tasks) } };
  const answer = { id: request.id };
  if (request.check) {
    const [[first, firstOptions]] = perExecution(request, machine, options, 1);
    const checked = request.variant === 'new-machine' ? new StateMachine(first) : first;
    Object.assign(answer, await checkedRun(checked, request.input, firstOptions));
  }
  await runPairs(request, perExecution(request, machine, options, request.warmup ?? 0));
  const executions = Math.max(1, request.executions ?? 1);
  answer.cpu_ms = [];
  answer.wall_ms = [];
  for (let round = 0; round < (request.rounds ?? 1); round += 1) {
    const pairs = perExecution(request, machine, options, executions);
    const cpuStart = process.cpuUsage();
    const wallStart = process.hrtime.bigint();
    await runPairs(request, pairs);
    const wall = Number(process.hrtime.bigint() - wallStart) / 1e6;
    const cpu = process.cpuUsage(cpuStart);
    answer.cpu_ms.push((cpu.user + cpu.system) / 1e3 / executions);
    answer.wall_ms.push(wall / executions);
  }
  answer.cpu_ms_median = median(answer.cpu_ms);
  answer.wall_ms_median = median(answer.wall_ms);
  return answer;
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let request = {};
  try {
    request = JSON.parse(line);
    process.stdout.write(`${JSON.stringify(await handle(request))}\n`);
  } catch (failure) {
    process.stdout.write(`${JSON.stringify({ id: request.id ?? null, failure: String(failure?.stack ?? failure) })}\n`);
  }
}
