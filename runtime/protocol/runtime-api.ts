/**
 * The Runtime API (2018-06-01) as Lambda serves it to a runtime: paths,
 * headers and limits. Both sides of the wire use these names: the runtime's
 * client and the emulator's server.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 */

/** Every Runtime API path starts here. */
export const RUNTIME_API_PREFIX = '/2018-06-01/runtime';

/** GET: the next invocation (a long poll). */
export const NEXT_INVOCATION_PATH = '/2018-06-01/runtime/invocation/next';
/** POST: the init error, before the first invocation. */
export const INIT_ERROR_PATH = '/2018-06-01/runtime/init/error';
/** POST: an invocation's answer. */
export const invocationResponsePath = (requestId: string) => `/2018-06-01/runtime/invocation/${requestId}/response`;
/** POST: an invocation's error. */
export const invocationErrorPath = (requestId: string) => `/2018-06-01/runtime/invocation/${requestId}/error`;

// Headers of the answer to GET /invocation/next.

export const REQUEST_ID_HEADER = 'Lambda-Runtime-Aws-Request-Id';
/** When the invocation times out, in ms since the epoch. */
export const DEADLINE_MS_HEADER = 'Lambda-Runtime-Deadline-Ms';
export const INVOKED_FUNCTION_ARN_HEADER = 'Lambda-Runtime-Invoked-Function-Arn';
export const TRACE_ID_HEADER = 'Lambda-Runtime-Trace-Id';
export const CLIENT_CONTEXT_HEADER = 'Lambda-Runtime-Client-Context';
export const COGNITO_IDENTITY_HEADER = 'Lambda-Runtime-Cognito-Identity';
export const TENANT_ID_HEADER = 'Lambda-Runtime-Aws-Tenant-Id';
/** Echoed back on the invocation's response and error when the server sends it. */
export const INVOCATION_ID_HEADER = 'Lambda-Runtime-Invocation-Id';

// Headers (and trailers) the runtime sends with an answer.

export const FUNCTION_ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
/** A trailer of a streamed answer that failed after its first byte: base64 of the error document. */
export const FUNCTION_ERROR_BODY_TRAILER = 'Lambda-Runtime-Function-Error-Body';
export const RESPONSE_MODE_HEADER = 'Lambda-Runtime-Function-Response-Mode';
/** The value of RESPONSE_MODE_HEADER for a streamed answer. */
export const STREAMING_RESPONSE_MODE = 'streaming';

/**
 * The largest buffered answer the Runtime API takes (bytes): 6 MB of payload
 * plus the 100 bytes Lambda allows for framing. Larger answers get 413.
 */
export const MAX_RESPONSE_BYTES = 6_291_556;

/**
 * The largest streamed answer (bytes): the 200 MB of "Response streaming for
 * Lambda functions" (Lambda developer guide), in MiB as Lambda counts its
 * 6 MB. Past it the stream ends with Function.ResponseSizeTooLarge.
 */
export const MAX_STREAMED_RESPONSE_BYTES = 200 * 1024 * 1024;

// The errorTypes a runtime reports on /invocation/{id}/error and /init/error, as AWS's Node runtime names them
// (the platform's own are in error-types.ts).

/** The answer is larger than Lambda takes. */
export const RESPONSE_TOO_LARGE_ERROR_TYPE = 'Function.ResponseSizeTooLarge';
/** A promise rejected with no handler attached. */
export const UNHANDLED_REJECTION_ERROR_TYPE = 'Runtime.UnhandledPromiseRejection';
/** The handler's module could not be found or imported. */
export const IMPORT_MODULE_ERROR_TYPE = 'Runtime.ImportModuleError';
/** The handler's module does not parse. */
export const USER_CODE_SYNTAX_ERROR_TYPE = 'Runtime.UserCodeSyntaxError';
/** The handler's module has no such export, or it is not a function. */
export const HANDLER_NOT_FOUND_ERROR_TYPE = 'Runtime.HandlerNotFound';
/** The handler name is not "<module path>.<exported function>". */
export const MALFORMED_HANDLER_NAME_ERROR_TYPE = 'Runtime.MalformedHandlerName';

/** The body of POST /invocation/{id}/error and /init/error. */
export interface RuntimeErrorDocument {
  errorType: string;
  errorMessage: string;
  stackTrace?: string[];
}
