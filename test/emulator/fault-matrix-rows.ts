// The fault matrix: each way a function can fail, what Lambda answers for it,
// and what the next invoke gets. One table for every source (a process, a zip,
// an image: fault-matrix.test.ts and fault-matrix.docker.test.ts); each source
// gives the same roles, a function each:
//   buffered, stream  test/fixtures/functions/faults.ts (`handler`, `stream`), timeout 1 s
//   large-stream      faults.ts' `stream` with time enough for 200 MB
//   raw               test/fixtures/functions/raw-runtime.mjs
//   never-next        the raw runtime with RAW_FAULT=never-next, init timeout 1 s
//   init-throw        faults.ts with FAULT_INIT=throw
//   init-hang         faults.ts with FAULT_INIT=hang, init timeout 1 s
//   extended          faults.ts' handler beside test/fixtures/extensions/fault-extension.ts, timeout 1 s
// Where Lambda's answers come from: the Invoke API reference (X-Amz-Function-Error, 200 for function
// errors); RIE's sources for the platform's own error types and messages (rapid/handlers.go "Runtime
// exited with error: ...", supervisor "exit status N" / "signal: killed", invoke/utils.go "Task timed
// out after %.2f seconds", the 6291556-byte limit of interop/model.go); the developer guide's
// "AWS Lambda function errors in Node.js" for the {errorType, errorMessage, trace} document.
import { expect } from 'vitest';
import { invokeHttp, invokeStreamHttp, type HttpAnswer, type StreamAnswer } from '../support/aws-clients.ts';

export type FaultRole = 'buffered' | 'stream' | 'large-stream' | 'raw' | 'never-next' | 'init-throw' | 'init-hang' | 'extended';

/** What a fault-matrix file gives the rows: where its emulator is, and its own checks. */
export interface FaultTarget {
  endpoint: string;
  /** The function that plays `role` here. */
  functionName(role: FaultRole): string;
  /** Environments of `role`'s function alive now. */
  environmentCount(role: FaultRole): number;
  /** Fails when a temporary directory or a container is left that no live environment explains. */
  checkNothingLeft(): Promise<void>;
}

/** What the invoke after the fault gets, as Lambda would give it. */
type Next =
  /** The same environment, warm: no Init Duration. */
  | 'warm'
  /** A fresh environment: the faulty one is gone. */
  | 'fresh'
  /** Init runs again, and fails again: every invoke of a function whose init fails starts one. */
  | 'init-again';

export interface FaultRow {
  name: string;
  role: FaultRole;
  event: Record<string, unknown>;
  /** Invoke, or InvokeWithResponseStream. */
  api: 'invoke' | 'stream';
  /** Asserts the answer; `requestId` is the invocation's. */
  check(answer: HttpAnswer & StreamAnswer, requestId: string): void;
  next: Next;
  /** The environment ends after the answer, on its own: waited for before the next invoke. */
  dies?: true;
  /** A further check on the same environment, after the next invoke. */
  after?: (target: FaultTarget) => Promise<void>;
}

/** Lambda's Sandbox.Timedout, Runtime.ExitError and Function.ResponseSizeTooLarge documents. */
const timedOut = (requestId: string) => ({
  errorType: 'Sandbox.Timedout',
  errorMessage: `RequestId: ${requestId} Error: Task timed out after 1.00 seconds`,
});
const exited = (requestId: string, how = 'exit status 1') => ({
  errorType: 'Runtime.ExitError',
  errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${how}`,
});
const tooLarge = (limit: number) => ({
  errorType: 'Function.ResponseSizeTooLarge',
  errorMessage: `Response payload size exceeded maximum allowed payload size (${limit} bytes).`,
});
const MAX_RESPONSE_BYTES = 6_291_556;
const MAX_STREAMED_RESPONSE_BYTES = 200 * 1024 * 1024;

/** A function error as Invoke answers it: 200, X-Amz-Function-Error: Unhandled, the document as JSON. */
function functionError(answer: HttpAnswer): unknown {
  expect(answer.status).toBe(200);
  expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
  expect(answer.headers.get('x-amz-executed-version')).toBe('$LATEST');
  expect(answer.headers.get('content-type')).toBe('application/json');
  return answer.json();
}

/** A success as Invoke answers it: the answer, parsed when it is JSON (a stream's need not be). */
function success(answer: HttpAnswer): unknown {
  expect(answer.status).toBe(200);
  expect(answer.headers.get('x-amz-function-error'), answer.text.slice(0, 500)).toBeNull();
  expect(answer.headers.get('x-amz-executed-version')).toBe('$LATEST');
  return answer.headers.get('content-type') === 'application/json' ? answer.json() : answer.text;
}

/** AWS's Node runtime's error document: errorType, errorMessage and the stack as trace. */
function nodeError(errorType: string, errorMessage: string, firstLine = `${errorType}: ${errorMessage}`) {
  return (document: unknown) => {
    expect(Object.keys(document as object)).toEqual(['errorType', 'errorMessage', 'trace']);
    expect(document).toMatchObject({ errorType, errorMessage });
    expect((document as { trace: string[] }).trace[0]).toBe(firstLine);
  };
}

/** A stream as InvokeWithResponseStream answers it: 200, event-stream framing, then InvokeComplete. */
function streamed(answer: StreamAnswer, chunks: number): StreamAnswer['complete'] {
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
  expect(answer.headers.get('x-amz-executed-version')).toBe('$LATEST');
  expect(answer.events.filter((event) => event === 'PayloadChunk')).toHaveLength(chunks);
  expect(answer.events.at(-1)).toBe('InvokeComplete');
  return answer.complete;
}

/** InvokeComplete of a stream a platform error ended: its errorType as ErrorCode, its document as ErrorDetails. */
function endedBy(answer: StreamAnswer, chunks: number, document: { errorType: string; errorMessage: string }): void {
  const complete = streamed(answer, chunks);
  expect(complete.ErrorCode).toBe(document.errorType);
  expect(JSON.parse(complete.ErrorDetails!)).toEqual(document);
}

export const FAULT_ROWS: FaultRow[] = [
  {
    name: 'a handler that throws',
    role: 'buffered',
    event: { fault: 'throw' },
    api: 'invoke',
    check: (answer) => nodeError('ValidationError', 'thrown on purpose')(functionError(answer)),
    next: 'warm',
  },
  {
    name: 'a handler that rejects',
    role: 'buffered',
    event: { fault: 'reject' },
    api: 'invoke',
    check: (answer) => nodeError('TypeError', 'rejected on purpose')(functionError(answer)),
    next: 'warm',
  },
  {
    name: 'a handler that throws a string',
    role: 'buffered',
    event: { fault: 'throw-string' },
    api: 'invoke',
    check: (answer) =>
      expect(functionError(answer)).toEqual({ errorType: 'string', errorMessage: 'a string thrown on purpose', trace: [] }),
    next: 'warm',
  },
  {
    name: 'a timeout',
    role: 'buffered',
    event: { fault: 'timeout' },
    api: 'invoke',
    check: (answer, requestId) => expect(functionError(answer)).toEqual(timedOut(requestId)),
    next: 'fresh',
  },
  {
    name: 'a timeout before the first streamed byte',
    role: 'stream',
    event: { fault: 'timeout-before' },
    api: 'stream',
    check: (answer, requestId) => endedBy(answer, 0, timedOut(requestId)),
    next: 'fresh',
  },
  {
    name: 'a timeout after the first streamed byte',
    role: 'stream',
    event: { fault: 'timeout-after' },
    api: 'stream',
    check: (answer, requestId) => {
      endedBy(answer, 1, timedOut(requestId));
      expect(answer.payload).toBe('first,');
    },
    next: 'fresh',
  },
  {
    name: 'an error thrown after the first streamed byte',
    role: 'stream',
    event: { fault: 'throw-midway' },
    api: 'stream',
    check: (answer) => {
      const complete = streamed(answer, 1);
      expect(answer.payload).toBe('first,');
      // The runtime's error trailers: its type, and its document.
      expect(complete.ErrorCode).toBe('Error');
      nodeError('Error', 'broke after the first chunk')(JSON.parse(complete.ErrorDetails!));
    },
    next: 'warm',
  },
  {
    name: 'process.exit before the answer',
    role: 'buffered',
    event: { fault: 'exit-before' },
    api: 'invoke',
    check: (answer, requestId) => expect(functionError(answer)).toEqual(exited(requestId)),
    next: 'fresh',
  },
  {
    name: 'process.exit during the answer (a stream, after its first byte)',
    role: 'stream',
    event: { fault: 'exit-during' },
    api: 'stream',
    check: (answer, requestId) => {
      endedBy(answer, 1, exited(requestId));
      expect(answer.payload).toBe('first,');
    },
    next: 'fresh',
  },
  {
    name: 'process.exit after the answer',
    role: 'buffered',
    event: { fault: 'exit-after' },
    api: 'invoke',
    check: (answer) => expect(success(answer)).toEqual({ answered: true }),
    dies: true,
    next: 'fresh',
  },
  {
    name: 'process.exit during a 20 MB body',
    role: 'buffered',
    event: { fault: 'exit-during-body' },
    api: 'invoke',
    check: (answer, requestId) => expect(functionError(answer)).toEqual(exited(requestId)),
    next: 'fresh',
  },
  {
    name: 'an uncaught exception',
    role: 'buffered',
    event: { fault: 'uncaught' },
    api: 'invoke',
    // The runtime posts /error, then exits 129 instead of asking for more.
    check: (answer) => nodeError('RangeError', 'thrown from a timer')(functionError(answer)),
    next: 'fresh',
  },
  {
    name: 'an unhandled rejection',
    role: 'buffered',
    event: { fault: 'unhandled-rejection' },
    api: 'invoke',
    check: (answer) =>
      nodeError('Runtime.UnhandledPromiseRejection', 'TypeError: nobody awaited me', 'TypeError: nobody awaited me')(functionError(answer)),
    next: 'fresh',
  },
  {
    name: 'a response of exactly 6 MB',
    role: 'buffered',
    event: { fault: 'bytes', bytes: MAX_RESPONSE_BYTES },
    api: 'invoke',
    check: (answer) => {
      success(answer);
      expect(Buffer.byteLength(answer.text)).toBe(MAX_RESPONSE_BYTES);
    },
    next: 'warm',
  },
  {
    name: 'a response of 6 MB + 1',
    role: 'buffered',
    event: { fault: 'bytes', bytes: MAX_RESPONSE_BYTES + 1 },
    api: 'invoke',
    check: (answer) => expect(functionError(answer)).toEqual(tooLarge(MAX_RESPONSE_BYTES)),
    next: 'warm',
  },
  {
    name: 'a stream past the 200 MB limit',
    role: 'large-stream',
    event: { fault: 'past-limit' },
    api: 'stream',
    check: (answer) => {
      const complete = streamed(answer, answer.events.length - 1);
      // Up to the limit, not a byte more, then the platform's own error.
      expect(answer.payloadBytes).toBe(MAX_STREAMED_RESPONSE_BYTES);
      expect(complete.ErrorCode).toBe('Function.ResponseSizeTooLarge');
      expect(JSON.parse(complete.ErrorDetails!)).toEqual(tooLarge(MAX_STREAMED_RESPONSE_BYTES));
    },
    next: 'warm',
  },
  {
    name: 'an init that throws',
    role: 'init-throw',
    event: {},
    api: 'invoke',
    check: (answer) => {
      nodeError('RangeError', 'init failed on purpose')(functionError(answer));
      expect(answer.log()).toMatch(/^INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: error\tError Type: RangeError$/m);
    },
    next: 'init-again',
  },
  {
    name: 'an init that times out',
    role: 'init-hang',
    event: {},
    api: 'invoke',
    check: (answer) => {
      expect(functionError(answer)).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: 'Init timed out after 1.00 seconds' });
      expect(answer.log()).toMatch(/^INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: timeout$/m);
    },
    next: 'init-again',
  },
  {
    name: 'a runtime that never calls /next',
    role: 'never-next',
    event: {},
    api: 'invoke',
    check: (answer) =>
      expect(functionError(answer)).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: 'Init timed out after 1.00 seconds' }),
    next: 'init-again',
  },
  {
    name: 'a runtime that answers twice',
    role: 'raw',
    event: { fault: 'post-twice' },
    api: 'invoke',
    check: (answer) => expect(success(answer)).toEqual({ answer: 'first' }),
    next: 'warm',
    // The second answer got 403: the invocation was closed (Lambda's InvalidStateTransition).
    after: async (target) => {
      const status = await invokeHttp(target.endpoint, target.functionName('raw'), { fault: 'last-status' });
      expect(success(status)).toMatchObject({ lastSecondPost: 403 });
    },
  },
  {
    name: 'a runtime that answers for an unknown request id',
    role: 'raw',
    event: { fault: 'unknown-id' },
    api: 'invoke',
    // 400 InvalidRequestID for the stray answer; its own invocation stays open, and its answer counts.
    check: (answer) => expect(success(answer)).toEqual({ strayStatus: 400, strayError: 'InvalidRequestID' }),
    next: 'warm',
  },
  {
    name: 'an extension that crashes',
    role: 'extended',
    event: { fault: 'extension-crash' },
    api: 'invoke',
    // The runtime's answer went to the caller first; the crash then ends the environment (Extension.Crash).
    check: (answer) => expect(success(answer)).toMatchObject({ ok: true }),
    next: 'fresh',
  },
  {
    name: 'an extension that never calls next again',
    role: 'extended',
    event: { fault: 'extension-silent' },
    api: 'invoke',
    // The invoke phase then ends at the timeout, and the environment with it.
    check: (answer) => expect(success(answer)).toMatchObject({ ok: true }),
    next: 'fresh',
  },
  {
    name: 'an extension that exits between invokes',
    role: 'extended',
    event: { fault: 'extension-exit-idle' },
    api: 'invoke',
    // Its environment goes with it; the next invoke starts a fresh one rather than meeting the dead extension.
    check: (answer) => expect(success(answer)).toMatchObject({ ok: true }),
    dies: true,
    next: 'fresh',
  },
];

/** The id of the process that answered (faults.ts and the raw runtime give theirs): another one is a fresh environment. */
function instanceOf(answer: HttpAnswer): string {
  const body = success(answer);
  const instance = typeof body === 'string' ? /from ([0-9a-f-]{36})$/.exec(body)?.[1] : (body as { instance?: string }).instance;
  expect(instance, answer.text.slice(0, 200)).toMatch(/^[0-9a-f-]{36}$/);
  return instance!;
}

/**
 * One row against a source: a warm environment first (but for init faults),
 * the fault, Lambda's answer, then the next invoke (warm, fresh, or another
 * failing init), the emulator still serving, and nothing left behind.
 */
export async function runFaultRow(target: FaultTarget, row: FaultRow): Promise<void> {
  const name = target.functionName(row.role);
  const initFails = row.next === 'init-again';
  const before = initFails ? undefined : instanceOf(await invokeHttp(target.endpoint, name, { fault: 'none' }));
  const tail = { 'X-Amz-Log-Type': 'Tail' };
  const answer =
    row.api === 'invoke'
      ? ((await invokeHttp(target.endpoint, name, row.event, tail)) as HttpAnswer & StreamAnswer)
      : ((await invokeStreamHttp(target.endpoint, name, row.event, tail)) as HttpAnswer & StreamAnswer);
  row.check(answer, answer.headers.get('x-amzn-requestid')!);
  if (row.dies) await expect.poll(() => target.environmentCount(row.role), { timeout: 10_000 }).toBe(0);
  const next = await invokeHttp(target.endpoint, name, { fault: 'none' }, tail);
  if (initFails) {
    functionError(next);
    expect(next.log()).toMatch(/^INIT_REPORT /m);
  } else if (row.next === 'fresh') {
    expect(instanceOf(next)).not.toBe(before);
  } else {
    expect(instanceOf(next)).toBe(before);
  }
  await row.after?.(target);
  // The emulator is up and serves another function.
  expect(success(await invokeHttp(target.endpoint, target.functionName(row.role === 'buffered' ? 'raw' : 'buffered'), {}))).toBeTruthy();
  await target.checkNothingLeft();
}
