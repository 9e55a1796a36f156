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

async function handle(request) {
  const machine = machineFor(request);
  const options = { overrides: { taskResourceLocalHandlers: taskHandlers(request.tasks) } };
  const answer = { id: request.id };
  if (request.check) Object.assign(answer, await checkedRun(machine, request.input, options));
  for (let i = 0; i < (request.warmup ?? 0); i += 1) await runOnce(machine, request.input, options);
  const executions = Math.max(1, request.executions ?? 1);
  answer.cpu_ms = [];
  answer.wall_ms = [];
  for (let round = 0; round < (request.rounds ?? 1); round += 1) {
    const cpuStart = process.cpuUsage();
    const wallStart = process.hrtime.bigint();
    for (let i = 0; i < executions; i += 1) await runOnce(machine, request.input, options);
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
