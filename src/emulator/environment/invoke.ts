import { randomUUID } from 'node:crypto';
import { EXIT_ERROR_TYPE, EXTENSION_CRASH_ERROR_TYPE } from '../../../runtime/protocol/index.ts';
import { functionArn } from '../../platform/function-arn.ts';
import { errorDocument, invocationErrorMessage, runtimeExitedMessage, timedOutDocument } from '../../platform/platform-errors.ts';
import { newTraceId } from '../../platform/trace-id.ts';
import type { RegisteredExtension } from '../apis/extensions-api.ts';
import type { InvocationOutcome } from '../apis/runtime-api-server.ts';
import type { InvokeReport, InvokeRequest, InvokeResult } from '../invocation.ts';
import { describeExit } from '../launchers/launcher.ts';
import { peakMemoryMb } from './memory.ts';
import type { RunStatus } from './platform-log.ts';
import type { ExtensionExit, RuntimeExit, Sandbox } from './sandbox.ts';
import { terminate } from './shutdown.ts';

type Answer = InvocationOutcome | RuntimeExit | ExtensionExit | { kind: 'timeout' };
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
  const runtimeExit = sandbox.runtimeExit();
  const extensionExit = sandbox.extensionExit();
  let result: Settled;
  let runtimeDurationMs: number;
  let status: RunStatus;
  try {
    const answer: Answer = await Promise.race([
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
      new Promise<{ kind: 'timeout' }>((resolve) => {
        timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
      }),
    ]);
    runtimeDurationMs = performance.now() - started;
    await outputCaughtUp();
    status = runStatus(answer);
    const producedBytes = answer.kind === 'response' || answer.kind === 'stream' ? answer.body.byteLength : 0;
    log.runtimeDone(requestId, status, runtimeDurationMs, producedBytes, tracing);
    result = await settle(sandbox, requestId, answer);
  } finally {
    clearTimeout(timer);
    runtimeExit.cancel();
    extensionExit.cancel();
  }
  const finish = async (finalStatus: RunStatus): Promise<InvokeReport> => {
    const durationMs = performance.now() - started;
    // Measured before a timed-out or crashed environment is torn down (which settle() awaits only without extensions).
    const maxMemoryUsedMb = await peakMemoryMb(sandbox.processes);
    // Custom runtimes are billed for init too.
    const billedDurationMs = Math.ceil(durationMs) + (initDurationMs === undefined ? 0 : Math.ceil(initDurationMs));
    const report: InvokeReport = { durationMs, billedDurationMs, memorySizeMb: settings.memoryMb, maxMemoryUsedMb, initDurationMs };
    log.end(requestId);
    log.report(requestId, report, finalStatus, tracing);
    log.release(logs);
    done();
    return report;
  };
  if (invokeExtensions.length === 0 || sandbox.dead) {
    const report = await finish(status);
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
  const settled = afterInvoke(sandbox, requestId, invokeExtensions, timeoutMs - runtimeDurationMs).then((failure) =>
    finish(failure ?? status),
  );
  return { requestId, ...result, logs: [...logs], report, settled };
}

/**
 * Waits for the extensions that got the INVOKE to call next again, within
 * what is left of the function's timeout. Returns the failure, if any, after
 * tearing the environment down for it.
 */
async function afterInvoke(
  sandbox: Sandbox,
  requestId: string,
  extensions: RegisteredExtension[],
  remainingMs: number,
): Promise<RunStatus | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const idle = sandbox.until(() => sandbox.dead || extensions.every((extension) => sandbox.extensionsApi.isIdle(extension)));
  const extensionExit = sandbox.extensionExit();
  const outcome = await Promise.race([
    idle.promise.then(() => 'done' as const),
    extensionExit.promise,
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, remainingMs));
    }),
  ]);
  clearTimeout(timer);
  idle.cancel();
  extensionExit.cancel();
  if (outcome === 'done') return undefined;
  if (outcome === 'timeout') {
    sandbox.log.timedOut(requestId, sandbox.settings.timeoutSeconds);
    await terminate(sandbox, 'timeout');
    return { status: 'timeout' };
  }
  sandbox.log.crashed(requestId, EXTENSION_CRASH_ERROR_TYPE, extensionExitedMessage(outcome));
  await terminate(sandbox, 'failure');
  return { status: 'failure', errorType: EXTENSION_CRASH_ERROR_TYPE };
}

/** The caller's part of the answer; a timeout or a crash also ends the environment. */
async function settle(sandbox: Sandbox, requestId: string, answer: Answer): Promise<Settled> {
  const json = 'application/json';
  switch (answer.kind) {
    case 'response':
      return { functionError: false, body: answer.body, contentType: json, streamed: false };
    case 'stream':
      if (answer.errorType) sandbox.log.streamError(requestId, answer.error);
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
    case 'init-error':
      // A runtime that reports an init error mid-invoke cannot go on.
      await terminate(sandbox, 'failure');
      return {
        functionError: true,
        body: errorDocument(answer.errorType, String(answer.error.errorMessage ?? '')),
        contentType: json,
        streamed: false,
      };
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
