/**
 * The emulator soak, shared by its small version in `npm test`
 * (soak.test.ts, soak.docker.test.ts) and the full one in `npm run soak`
 * (bench/soak.ts): `invokes` invokes from `callers` concurrent callers over
 * the Invoke API, spread over the functions in turn, with crashes, timeouts,
 * exits in the middle of a streamed answer and oversize answers at fixed
 * rates. The functions run test/fixtures/functions/behaviours.ts, which does
 * what each event's `action` says.
 *
 * What it checks, as `problems`: every invoke gets exactly one answer, the
 * one its fault calls for; every answered request id has one START and one
 * REPORT line, and no other id has any; the emulator's RSS (it runs in this
 * process) at the end is within `maxRssGrowth` of its RSS after the first
 * `checkpoint` answers; once it is closed, this process has no more file
 * descriptors or child processes than before it started, and no temporary
 * directory of the emulator's is left; nothing in the process went unhandled.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Agent, request } from 'undici';
import {
  EXIT_ERROR_TYPE,
  FUNCTION_ERROR_HEADER,
  INVOKE_REQUEST_ID_HEADER,
  invokePath,
  MAX_RESPONSE_BYTES,
  RESPONSE_TOO_LARGE_ERROR_TYPE,
  streamInvokePath,
  TIMED_OUT_ERROR_TYPE,
} from '../../runtime/protocol/index.ts';
import { decodeEventMessages } from '../../src/emulator/apis/event-stream.ts';
import { Emulator, type FunctionDefinition } from '../../src/emulator/emulator.ts';
import { fixture } from '../support/function-process.ts';
import { zipTestFunction } from '../support/zip-function.ts';

export const FAULTS = ['crash', 'timeout', 'stream-exit', 'oversize'] as const;
export type Fault = (typeof FAULTS)[number];
export type Kind = Fault | 'echo';

export interface SoakPlan {
  invokes: number;
  callers: number;
  /** One invoke in `every[fault]` has that fault (0: none); where two fall on one invoke, the first in FAULTS wins. */
  every: Record<Fault, number>;
  /** RSS is taken after this many answers (the warm baseline) and again at the end. */
  checkpoint: number;
  /** The end's RSS may exceed the checkpoint's by this fraction (0.2: 20%). */
  maxRssGrowth: number;
}

/** `npm test`'s: small enough for a few tens of seconds, and every fault comes up several times on each function. */
export const SMALL_PLAN: SoakPlan = {
  invokes: 1500,
  callers: 8,
  every: { crash: 29, timeout: 47, 'stream-exit': 37, oversize: 41 },
  checkpoint: 500,
  maxRssGrowth: 0.2,
};

/** `npm run soak`'s: 10,000 invokes from 8 callers, RSS after the first 1,000 against the end's. */
export const FULL_PLAN: SoakPlan = {
  invokes: 10_000,
  callers: 8,
  every: { crash: 50, timeout: 97, 'stream-exit': 61, oversize: 83 },
  checkpoint: 1000,
  maxRssGrowth: 0.2,
};

/** behaviours.ts as a zip: an executable bootstrap, the bundle beside it. */
export async function behavioursZip(dir: string): Promise<string> {
  const path = join(dir, 'behaviours.zip');
  await zipTestFunction(fixture('behaviours.ts'), path);
  return path;
}

export interface KindCount {
  sent: number;
  /** Answered as this kind must be. */
  right: number;
}

export interface SoakReport {
  plan: SoakPlan;
  functions: Array<{ name: string; invokes: number; coldStarts: number; environmentsAtEnd: number; maxEnvironments: number }>;
  answers: number;
  byKind: Record<Kind, KindCount>;
  /** Mid-stream exits whose caller got the partial chunk before InvokeComplete (the rest got none). */
  partialChunks: number;
  /** MB; `samples` every `checkpoint` answers. */
  rss: { checkpointMb: number; endMb: number; ratio: number; samples: Array<{ answers: number; mb: number; heapMb: number }> };
  fds: { before: number; after: number };
  children: { before: number; after: number };
  tmpDirs: { during: number; after: number };
  durationMs: number;
  problems: string[];
}

/** What each kind sends, as behaviours.ts reads it. */
function eventFor(kind: Kind, index: number): Record<string, unknown> {
  switch (kind) {
    case 'echo':
      return { action: 'echo', index };
    case 'crash':
      return { action: 'exit', index };
    case 'timeout':
      return { action: 'hang', index };
    case 'stream-exit':
      return { action: 'stream-exit', index };
    case 'oversize':
      // Serialised, one byte over what the Runtime API takes: {"data":"xxx..."}.
      return { action: 'big', bytes: MAX_RESPONSE_BYTES - 10, index };
  }
}

export function kindOf(index: number, every: Record<Fault, number>): Kind {
  for (const fault of FAULTS) if (every[fault] > 0 && index % every[fault] === every[fault] - 1) return fault;
  return 'echo';
}

const ERROR_TYPE: Record<Exclude<Kind, 'echo'>, string> = {
  crash: EXIT_ERROR_TYPE,
  timeout: TIMED_OUT_ERROR_TYPE,
  'stream-exit': EXIT_ERROR_TYPE,
  oversize: RESPONSE_TOO_LARGE_ERROR_TYPE,
};

/** This process's open file descriptors. */
const openFds = () => readdirSync('/proc/self/fd').length;

/** This process's child processes (any thread's). */
function childCount(): number {
  let count = 0;
  for (const thread of readdirSync('/proc/self/task')) {
    count += readFileSync(`/proc/self/task/${thread}/children`, 'utf8').split(' ').filter(Boolean).length;
  }
  return count;
}

/** RSS after a full collection, so that garbage not yet collected is not taken for growth (the JS heap's share is in the samples). */
function settledRssMb(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage.rss() / 1024 / 1024;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Keeps the first problems of a kind in full and counts the rest. */
class Problems {
  readonly #seen = new Map<string, number>();
  readonly list: string[] = [];

  add(kind: string, detail: string): void {
    const count = (this.#seen.get(kind) ?? 0) + 1;
    this.#seen.set(kind, count);
    if (count <= 5) this.list.push(`${kind}: ${detail}`);
  }

  summary(): string[] {
    const more = [...this.#seen].filter(([, count]) => count > 5).map(([kind, count]) => `${kind}: ${count - 5} more`);
    return [...this.list, ...more];
  }
}

/** Checks one answer against what its kind calls for; a description of what is wrong, or undefined. */
function checkAnswer(
  kind: Kind,
  event: Record<string, unknown>,
  streamed: boolean,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
): { wrong?: string; partial?: boolean } {
  const requestId = String(headers[INVOKE_REQUEST_ID_HEADER.toLowerCase()]);
  if (status !== 200) return { wrong: `HTTP ${status}: ${body.toString('utf8').slice(0, 300)}` };
  if (streamed) {
    const { messages, rest } = decodeEventMessages(body);
    const last = messages.at(-1);
    const chunks = messages.slice(0, -1);
    if (rest.byteLength > 0 || last?.headers[':event-type'] !== 'InvokeComplete')
      return { wrong: 'the stream does not end with InvokeComplete' };
    if (chunks.some((message) => message.headers[':event-type'] !== 'PayloadChunk'))
      return { wrong: 'an event before InvokeComplete is not a PayloadChunk' };
    const payload = Buffer.concat(chunks.map((message) => message.payload)).toString('utf8');
    if (payload !== '' && payload !== 'partial')
      return { wrong: `the chunks before the exit are ${JSON.stringify(payload.slice(0, 100))}` };
    const complete = JSON.parse(last.payload.toString('utf8')) as { ErrorCode?: string; ErrorDetails?: string };
    if (complete.ErrorCode !== ERROR_TYPE['stream-exit'] || !complete.ErrorDetails?.includes(requestId)) {
      return { wrong: `InvokeComplete is ${last.payload.toString('utf8').slice(0, 300)}` };
    }
    return { partial: payload === 'partial' };
  }
  const functionError = headers[FUNCTION_ERROR_HEADER.toLowerCase()] === 'Unhandled';
  const text = body.toString('utf8');
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { wrong: `the body is not JSON: ${text.slice(0, 300)}` };
  }
  if (kind === 'echo') {
    if (functionError || JSON.stringify(parsed) !== JSON.stringify(event)) return { wrong: `answered ${text.slice(0, 300)}` };
    return {};
  }
  const errorType = ERROR_TYPE[kind];
  const mentionsId = kind === 'oversize' || String(parsed?.errorMessage).includes(requestId);
  if (!functionError || parsed?.errorType !== errorType || !mentionsId) {
    return {
      wrong: `wanted a ${errorType} function error, got ${functionError ? 'a function error' : 'a success'}: ${text.slice(0, 300)}`,
    };
  }
  return {};
}

/** Runs the soak against an emulator of `functions` (started and closed here) and reports what it saw. */
export async function runSoak(plan: SoakPlan, functions: FunctionDefinition[]): Promise<SoakReport> {
  const problems = new Problems();
  const starts = new Map<string, number>();
  const reports = new Map<string, number>();
  const coldStarts = new Map<string, number>(functions.map((definition) => [definition.name, 0]));
  const byKind = Object.fromEntries(['echo', ...FAULTS].map((kind) => [kind, { sent: 0, right: 0 }])) as Record<Kind, KindCount>;
  const answered = new Map<number, string>();
  let partialChunks = 0;
  let checkpointMb = Number.NaN;
  const samples: Array<{ answers: number; mb: number; heapMb: number }> = [];

  // The emulator's temporary directories (zip task roots, containers' /tmp) go to a directory of the soak's own,
  // where nothing else puts any.
  // The emulator runs in this process: an error it leaves unhandled is one of the soak's findings (where
  // nothing else listens, Node would end the process on it).
  const unhandled = (error: unknown) =>
    problems.add('unhandled in the emulator', ((error as Error)?.stack ?? String(error)).split('\n').slice(0, 4).join(' | '));
  process.on('unhandledRejection', unhandled);
  process.on('uncaughtException', unhandled);
  const previousTmp = process.env.TMPDIR;
  const tmp = await mkdtemp(join(tmpdir(), 'lambda-kit-soak-'));
  process.env.TMPDIR = tmp;
  const fdsBefore = openFds();
  const childrenBefore = childCount();
  const started = performance.now();
  let emulator: Emulator | undefined;
  const dispatcher = new Agent({ connections: plan.callers, headersTimeout: 300_000, bodyTimeout: 300_000 });
  let tmpDuring = 0;
  let endMb = Number.NaN;
  const environments = new Map<string, number>();
  try {
    emulator = await Emulator.start({
      functions,
      log: (name, line) => {
        const start = /^START RequestId: (\S+)/.exec(line);
        if (start) starts.set(start[1]!, (starts.get(start[1]!) ?? 0) + 1);
        const report = /^REPORT RequestId: (\S+)/.exec(line);
        if (report) {
          reports.set(report[1]!, (reports.get(report[1]!) ?? 0) + 1);
          if (line.includes('Init Duration:')) coldStarts.set(name, (coldStarts.get(name) ?? 0) + 1);
        }
      },
    });
    const endpoint = emulator.endpoint;
    let next = 0;
    const caller = async () => {
      for (let index = next++; index < plan.invokes; index = next++) {
        const kind = kindOf(index, plan.every);
        const name = functions[index % functions.length]!.name;
        const event = eventFor(kind, index);
        const streamed = kind === 'stream-exit';
        byKind[kind].sent++;
        try {
          const response = await request(`${endpoint}${streamed ? streamInvokePath(name) : invokePath(name)}`, {
            method: 'POST',
            body: JSON.stringify(event),
            dispatcher,
          });
          const body = Buffer.from(await response.body.arrayBuffer());
          const requestId = String(response.headers[INVOKE_REQUEST_ID_HEADER.toLowerCase()]);
          if (answered.has(index)) problems.add('answered twice', `invoke ${index}`);
          answered.set(index, requestId);
          const verdict = checkAnswer(kind, event, streamed, response.statusCode, response.headers, body);
          if (verdict.wrong) problems.add(`wrong answer to ${kind}`, `invoke ${index} of ${name} (${requestId}): ${verdict.wrong}`);
          else byKind[kind].right++;
          if (verdict.partial) partialChunks++;
        } catch (error) {
          problems.add('no answer', `invoke ${index} (${kind}) of ${name}: ${(error as Error).message}`);
        }
        if (answered.size % plan.checkpoint === 0) {
          const mb = settledRssMb();
          samples.push({ answers: answered.size, mb, heapMb: process.memoryUsage().heapUsed / 1024 / 1024 });
          if (answered.size === plan.checkpoint) checkpointMb = mb;
        }
      }
    };
    await Promise.all(Array.from({ length: plan.callers }, caller));
    endMb = settledRssMb();
    tmpDuring = (await readdir(tmp)).length;

    const ids = [...answered.values()];
    if (answered.size !== plan.invokes) problems.add('lost', `${plan.invokes - answered.size} of ${plan.invokes} invokes got no answer`);
    if (new Set(ids).size !== ids.length)
      problems.add('duplicated', `${ids.length - new Set(ids).size} request ids answered more than once`);
    for (const id of ids) {
      if (starts.get(id) !== 1 || reports.get(id) !== 1) {
        problems.add('log', `${id}: ${starts.get(id) ?? 0} START and ${reports.get(id) ?? 0} REPORT lines`);
      }
    }
    const known = new Set(ids);
    for (const id of new Set([...starts.keys(), ...reports.keys()])) {
      if (!known.has(id)) problems.add('log', `START or REPORT for ${id}, which no caller got`);
    }
    // Still up and warm: each function answers once more.
    for (const { name, maxEnvironments } of functions) {
      const after = await emulator.invoke(name, { payload: Buffer.from('{"action":"echo","after":true}') });
      if (after.functionError || after.body.toString('utf8') !== '{"action":"echo","after":true}') {
        problems.add('after the soak', `${name} answered ${after.body.toString('utf8').slice(0, 300)}`);
      }
      const count = emulator.pool(name)!.environmentCount;
      environments.set(name, count);
      if (count > (maxEnvironments ?? 10)) problems.add('environments', `${name} has ${count}, over its ${maxEnvironments}`);
    }
  } finally {
    await dispatcher.close();
    await emulator?.close();
    process.env.TMPDIR = previousTmp;
    if (previousTmp === undefined) delete process.env.TMPDIR;
    process.off('unhandledRejection', unhandled);
    process.off('uncaughtException', unhandled);
  }
  const durationMs = performance.now() - started;
  const rssRatio = endMb / checkpointMb;
  if (!(rssRatio <= 1 + plan.maxRssGrowth)) {
    problems.add('memory', `RSS ${endMb.toFixed(1)} MB at the end, ${checkpointMb.toFixed(1)} MB after ${plan.checkpoint} answers`);
  }
  // Sockets a client keeps alive (the Docker engine's) close on their own a few seconds later; a leak stays.
  for (let waited = 0; waited < 15_000 && (openFds() > fdsBefore || childCount() > childrenBefore); waited += 100) await sleep(100);
  const fdsAfter = openFds();
  const childrenAfter = childCount();
  if (fdsAfter > fdsBefore) problems.add('file descriptors', `${fdsBefore} open before the emulator started, ${fdsAfter} after it closed`);
  if (childrenAfter > childrenBefore) problems.add('processes', `${childrenBefore} child processes before, ${childrenAfter} after`);
  const left = await readdir(tmp);
  if (left.length > 0) problems.add('temporary directories', `left behind: ${left.join(', ')}`);
  await rm(tmp, { recursive: true, force: true });
  return {
    plan,
    functions: functions.map((definition) => ({
      name: definition.name,
      invokes: Math.floor(plan.invokes / functions.length) + (functions.indexOf(definition) < plan.invokes % functions.length ? 1 : 0),
      coldStarts: coldStarts.get(definition.name) ?? 0,
      environmentsAtEnd: environments.get(definition.name) ?? 0,
      maxEnvironments: definition.maxEnvironments ?? 10,
    })),
    answers: answered.size,
    byKind,
    partialChunks,
    rss: { checkpointMb, endMb, ratio: rssRatio, samples },
    fds: { before: fdsBefore, after: fdsAfter },
    children: { before: childrenBefore, after: childrenAfter },
    tmpDirs: { during: tmpDuring, after: left.length },
    durationMs,
    problems: problems.summary(),
  };
}
