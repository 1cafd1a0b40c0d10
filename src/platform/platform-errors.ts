import { TIMED_OUT_ERROR_TYPE } from '../../runtime/protocol/index.ts';

/** The JSON body Lambda answers with when the platform, not the function, ended an invocation. */
export function errorDocument(errorType: string, errorMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ errorType, errorMessage }));
}

/** The invocation ran out of its timeout (Sandbox.Timedout), as Lambda words it. */
export function timedOutDocument(requestId: string, timeoutSeconds: number): Buffer {
  return errorDocument(TIMED_OUT_ERROR_TYPE, timedOutMessage(requestId, timeoutSeconds));
}

export function timedOutMessage(requestId: string, timeoutSeconds: number): string {
  return `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
}

/** Init ran out of its 10 seconds (or the function's timeout), as the Telemetry API and INIT_REPORT word it. */
export function initTimedOutMessage(initTimeoutMs: number): string {
  return `Init timed out after ${(initTimeoutMs / 1000).toFixed(2)} seconds`;
}

/** How Lambda words a platform error of one invocation, in its answer and its log: `RequestId: <id> Error: <message>`. */
export function invocationErrorMessage(requestId: string, message: string): string {
  return `RequestId: ${requestId} Error: ${message}`;
}

/**
 * An answer over the limit (Function.ResponseSizeTooLarge), as Lambda words
 * it to the caller: the limit, not the size.
 */
export function responseTooLargeMessage(limitBytes: number): string {
  return `Response payload size exceeded maximum allowed payload size (${limitBytes} bytes).`;
}

/** The runtime process exited (Runtime.ExitError); `exit` says how, as Lambda words it: "exit status 1", "signal: killed". */
export function runtimeExitedMessage(exit: string): string {
  return `Runtime exited with error: ${exit}`;
}
