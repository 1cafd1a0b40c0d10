/**
 * The errorType strings the platform itself reports (as opposed to a
 * function's own errors): what callers see in the Invoke answer and in the
 * Telemetry API. Those a runtime reports on the Runtime API, as AWS's Node
 * runtime names them, are in runtime-api.ts.
 */

/** The invocation (or init) ran past its timeout. */
export const TIMED_OUT_ERROR_TYPE = 'Sandbox.Timedout';
/** The runtime process exited. */
export const EXIT_ERROR_TYPE = 'Runtime.ExitError';
/** An extension exited or failed. */
export const EXTENSION_CRASH_ERROR_TYPE = 'Extension.Crash';
