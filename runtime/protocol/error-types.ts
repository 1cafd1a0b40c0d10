/**
 * The errorType strings Lambda itself reports (as opposed to a function's own
 * errors): what callers see in the Invoke answer and in the Telemetry API.
 */

/** The invocation (or init) ran past its timeout. */
export const TIMED_OUT_ERROR_TYPE = 'Sandbox.Timedout';
/** The runtime process exited. */
export const EXIT_ERROR_TYPE = 'Runtime.ExitError';
/** An extension exited or failed. */
export const EXTENSION_CRASH_ERROR_TYPE = 'Extension.Crash';
/** The answer is larger than Lambda takes. */
export const RESPONSE_TOO_LARGE_ERROR_TYPE = 'Function.ResponseSizeTooLarge';
export const UNHANDLED_REJECTION_ERROR_TYPE = 'Runtime.UnhandledPromiseRejection';
export const IMPORT_MODULE_ERROR_TYPE = 'Runtime.ImportModuleError';
export const USER_CODE_SYNTAX_ERROR_TYPE = 'Runtime.UserCodeSyntaxError';
export const HANDLER_NOT_FOUND_ERROR_TYPE = 'Runtime.HandlerNotFound';
export const MALFORMED_HANDLER_NAME_ERROR_TYPE = 'Runtime.MalformedHandlerName';
