import { randomUUID } from 'node:crypto';
import {
  EXIT_ERROR_TYPE,
  EXTENSION_CRASH_ERROR_TYPE,
  MAX_RESPONSE_BYTES,
  RESPONSE_TOO_LARGE_ERROR_TYPE,
} from '../../../runtime/protocol/index.ts';
import { functionArn } from '../../platform/function-arn.ts';
import {
  errorDocument,
  invocationErrorMessage,
  responseTooLargeMessage,
  runtimeExitedMessage,
  timedOutDocument,
} from '../../platform/platform-errors.ts';
import { newTraceId } from '../../platform/trace-id.ts';
import type { RegisteredExtension } from '../apis/extensions-api.ts';
import type { InvocationOutcome } from '../apis/runtime-api-server.ts';
import type { InvokeReport, InvokeRequest, InvokeResult } from '../invocation.ts';
import { describeExit } from '../launchers/launcher.ts';
import { peakMemoryMb } from './memory.ts';
import type { RunStatus } from './platform-log.ts';
import type { ExtensionExit, RuntimeExit, Sandbox } from './sandbox.ts';
import { terminate } from './shutdown.ts';

type Answer = Exclude<InvocationOutcome, { kind: 'truncated' }> | RuntimeExit | ExtensionExit | { kind: 'timeout' };
type Settled = Omit<InvokeResult, 'logs' | 'report' | 'requestId'>;

/**
 * One invocation in a sandbox, as Lambda's invoke phase runs it: the event
 * goes to the runtime and to the extensions registered for INVOKE at once;
 * the caller gets the runtime's answer (or the timeout, or the crash), and
 * END and REPORT follow once those extensions have called next again.
 * `initDurationMs` is set for the environment's first invoke; `done` is
 * called when the invoke phase is over.
 */
export async function invoke(
  sandbox: Sandbox,
  request: InvokeRequest,
  initDurationMs: number | undefined,
  done: () => void,
): Promise<InvokeResult> {
  const { settings, log } = sandbox;
  const requestId = request.requestId ?? randomUUID();
  const logs = log.capture();
  const traceId = request.traceId ?? newTraceId();
  const tracing = { type: 'X-Amzn-Trace-Id' as const, value: traceId };
  log.start(requestId, settings.version, tracing);
  const started = performance.now();
  const timeoutMs = settings.timeoutSeconds * 1000;
  const invokeExtensions = sandbox.extensionsApi.dispatch({
    eventType: 'INVOKE',
    deadlineMs: Date.now() + timeoutMs,
    requestId,
    invokedFunctionArn: functionArn(settings),
    tracing,
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<{ kind: 'timeout' }>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
  });
  const runtimeExit = sandbox.runtimeExit();
  const extensionExit = sandbox.extensionExit();
  // Max Memory Used, measured once: before a failed environment is torn down, or when the invoke phase ends.
  let memory: { mb: number | undefined } | undefined;
  const measure = async () => {
    memory ??= { mb: await peakMemoryMb(sandbox.processes) };
  };
  let result: Settled;
  let runtimeDurationMs: number;
  let status: RunStatus;
  try {
    const first = await Promise.race([
      sandbox.server.invoke(request.payload, {
        requestId,
        timeoutMs,
        traceId,
        ...(request.clientContext !== undefined && { clientContext: request.clientContext }),
        ...(request.cognitoIdentity !== undefined && { cognitoIdentity: request.cognitoIdentity }),
        ...(request.tenantId !== undefined && { tenantId: request.tenantId }),
        ...(request.onChunk !== undefined && { onChunk: request.onChunk }),
      }),
      runtimeExit.promise,
      extensionExit.promise,
      timedOut,
    ]);
    // A connection that dropped mid-answer is the runtime going: its exit is the answer (the timeout, should it linger).
    const answer: Answer =
      first.kind === 'truncated' || (first.kind === 'stream' && first.truncated)
        ? await Promise.race([runtimeExit.promise, extensionExit.promise, timedOut])
        : first;
    runtimeDurationMs = performance.now() - started;
    await outputCaughtUp();
    status = runStatus(answer);
    const producedBytes = answer.kind === 'response' || answer.kind === 'stream' ? answer.body.byteLength : 0;
    log.runtimeDone(requestId, status, runtimeDurationMs, producedBytes, tracing);
    if (endsEnvironment(answer)) await measure();
    result = await settle(sandbox, requestId, answer);
  } finally {
    clearTimeout(timer);
    runtimeExit.cancel();
    extensionExit.cancel();
  }
  const finish = async (finalStatus: RunStatus): Promise<InvokeReport> => {
    // Lambda bills no invoke past its timeout (RIE's REPORT caps Duration at it too: rie/handlers.go).
    const durationMs = Math.min(performance.now() - started, timeoutMs);
    await measure();
    // Custom runtimes are billed for init too.
    const billedDurationMs = Math.ceil(durationMs) + (initDurationMs === undefined ? 0 : Math.ceil(initDurationMs));
    const report: InvokeReport = {
      durationMs,
      billedDurationMs,
      memorySizeMb: settings.memoryMb,
      maxMemoryUsedMb: memory!.mb,
      initDurationMs,
    };
    log.end(requestId);
    log.report(requestId, report, finalStatus, tracing);
    log.release(logs);
    done();
    return report;
  };
  const remainingMs = timeoutMs - (performance.now() - started);
  if (invokeExtensions.length === 0 || sandbox.dead) {
    const failure = sandbox.dead ? undefined : await invokePhaseEnd(sandbox, requestId, [], remainingMs, measure);
    const report = await finish(failure ?? status);
    return { requestId, ...result, logs, report };
  }
  // The caller has its answer; the invoke phase (and so REPORT) ends when each extension has called next again.
  const report: InvokeReport = {
    durationMs: runtimeDurationMs,
    billedDurationMs: Math.ceil(runtimeDurationMs),
    memorySizeMb: settings.memoryMb,
    maxMemoryUsedMb: undefined,
    initDurationMs,
  };
  const settled = invokePhaseEnd(sandbox, requestId, invokeExtensions, remainingMs, measure).then((failure) => finish(failure ?? status));
  return { requestId, ...result, logs: [...logs], report, settled };
}

/**
 * The rest of the invoke phase once the runtime has answered: it ends when the
 * runtime asks for the next invocation and each extension that got the INVOKE
 * has called next again, within what is left of the function's timeout
 * (Lambda awaits the runtime's next, then the extensions': RIE's
 * rapid/handlers.go). A runtime that exits instead (after an uncaught
 * exception, say) takes its environment with it: the next invoke gets a
 * fresh one. Returns the failure, if any, after tearing the environment down
 * for it; `beforeTeardown` runs first.
 */
async function invokePhaseEnd(
  sandbox: Sandbox,
  requestId: string,
  extensions: RegisteredExtension[],
  remainingMs: number,
  beforeTeardown: () => Promise<void>,
): Promise<RunStatus | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const over = sandbox.until(
    () =>
      sandbox.dead ||
      ((sandbox.server.waitingRuntimes > 0 || sandbox.runtimeExited) &&
        extensions.every((extension) => sandbox.extensionsApi.isIdle(extension))),
  );
  const extensionExit = sandbox.extensionExit();
  const outcome = await Promise.race([
    over.promise.then(() => 'done' as const),
    extensionExit.promise,
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, remainingMs));
    }),
  ]);
  clearTimeout(timer);
  over.cancel();
  extensionExit.cancel();
  if (sandbox.dead) return undefined;
  if (outcome === 'done') {
    if (sandbox.runtimeExited) {
      await beforeTeardown();
      await terminate(sandbox, 'failure');
    }
    return undefined;
  }
  await beforeTeardown();
  if (outcome === 'timeout') {
    sandbox.log.timedOut(requestId, sandbox.settings.timeoutSeconds);
    await terminate(sandbox, 'timeout');
    return { status: 'timeout' };
  }
  sandbox.log.crashed(requestId, EXTENSION_CRASH_ERROR_TYPE, extensionExitedMessage(outcome));
  await terminate(sandbox, 'failure');
  return { status: 'failure', errorType: EXTENSION_CRASH_ERROR_TYPE };
}

/** Answers after which the environment cannot go on: settle() tears it down. */
function endsEnvironment(answer: Answer): boolean {
  return answer.kind === 'timeout' || answer.kind === 'runtime-exit' || answer.kind === 'extension-exit' || answer.kind === 'init-error';
}

/** The caller's part of the answer; a timeout or a crash also ends the environment. */
async function settle(sandbox: Sandbox, requestId: string, answer: Answer): Promise<Settled> {
  const json = 'application/json';
  switch (answer.kind) {
    case 'response':
      return { functionError: false, body: answer.body, contentType: json, streamed: false };
    case 'stream':
      // The runtime logged the error that ended the stream; the platform adds no line of its own.
      return {
        functionError: answer.errorType !== undefined,
        body: answer.body,
        contentType: answer.contentType,
        streamed: true,
        ...(answer.errorType !== undefined && {
          streamError: { errorType: answer.errorType, body: JSON.stringify(answer.error ?? {}) },
        }),
      };
    case 'error':
      return { functionError: true, body: answer.body, contentType: json, streamed: false };
    case 'too-large':
      return {
        functionError: true,
        body: errorDocument(RESPONSE_TOO_LARGE_ERROR_TYPE, responseTooLargeMessage(MAX_RESPONSE_BYTES)),
        contentType: json,
        streamed: false,
      };
    case 'init-error':
      // A runtime that reports an init error mid-invoke cannot go on. The caller gets its document as posted.
      await terminate(sandbox, 'failure');
      return { functionError: true, body: answer.body, contentType: json, streamed: false };

    case 'timeout':
      sandbox.log.timedOut(requestId, sandbox.settings.timeoutSeconds);
      sandbox.server.abandon(requestId);
      await terminate(sandbox, 'timeout');
      return {
        functionError: true,
        body: timedOutDocument(requestId, sandbox.settings.timeoutSeconds),
        contentType: json,
        streamed: false,
      };
    case 'runtime-exit':
    case 'extension-exit': {
      // An extension that dies takes the environment with it, as a runtime crash does.
      const errorType = answer.kind === 'runtime-exit' ? EXIT_ERROR_TYPE : EXTENSION_CRASH_ERROR_TYPE;
      const message = answer.kind === 'runtime-exit' ? runtimeExitedMessage(describeExit(answer.status)) : extensionExitedMessage(answer);
      sandbox.log.crashed(requestId, errorType, message);
      sandbox.server.abandon(requestId);
      await terminate(sandbox, 'failure');
      return {
        functionError: true,
        body: errorDocument(errorType, invocationErrorMessage(requestId, message)),
        contentType: json,
        streamed: false,
      };
    }
  }
}

function extensionExitedMessage(exit: ExtensionExit): string {
  return `Extension ${exit.name} exited: ${describeExit(exit.status)}`;
}

/** The Telemetry API's status for a runtime's answer. */
function runStatus(answer: Answer): RunStatus {
  switch (answer.kind) {
    case 'response':
      return { status: 'success' };
    case 'stream':
      return answer.errorType === undefined ? { status: 'success' } : { status: 'error', errorType: answer.errorType };
    case 'error':
    case 'init-error':
      return { status: 'error', errorType: answer.errorType };
    case 'too-large':
      return { status: 'error', errorType: RESPONSE_TOO_LARGE_ERROR_TYPE };
    case 'timeout':
      return { status: 'timeout' };
    case 'runtime-exit':
      return { status: 'failure', errorType: EXIT_ERROR_TYPE };
    case 'extension-exit':
      return { status: 'failure', errorType: EXTENSION_CRASH_ERROR_TYPE };
  }
}

/**
 * What the runtime wrote to stdout and stderr before it answered is in the
 * pipes by then, but one poll of the event loop may hand us the answer's
 * socket before the pipes: two turns of the loop (the second after a fresh
 * poll) read those lines first, so that they belong to the invocation, ahead
 * of its runtimeDone, END and REPORT, as under Lambda.
 */
async function outputCaughtUp(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
}
