/**
 * The Runtime API (2018-06-01) as Lambda serves it to a runtime: paths,
 * headers and limits. Both sides of the wire use these names: the runtime's
 * client and the emulator's server.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 */

export const RUNTIME_API_VERSION = '2018-06-01';
/** Every Runtime API path starts here. */
export const RUNTIME_API_PREFIX = `/${RUNTIME_API_VERSION}/runtime`;

/** Paths below RUNTIME_API_PREFIX. */
export const RuntimeApiPath = {
  next: '/invocation/next',
  response: (requestId: string) => `/invocation/${requestId}/response`,
  error: (requestId: string) => `/invocation/${requestId}/error`,
  initError: '/init/error',
} as const;

/** Headers of the answer to GET /invocation/next. */
export const InvocationHeader = {
  requestId: 'Lambda-Runtime-Aws-Request-Id',
  deadlineMs: 'Lambda-Runtime-Deadline-Ms',
  functionArn: 'Lambda-Runtime-Invoked-Function-Arn',
  traceId: 'Lambda-Runtime-Trace-Id',
  clientContext: 'Lambda-Runtime-Client-Context',
  cognitoIdentity: 'Lambda-Runtime-Cognito-Identity',
  tenantId: 'Lambda-Runtime-Aws-Tenant-Id',
  invocationId: 'Lambda-Runtime-Invocation-Id',
} as const;

/** Headers (and trailers) the runtime sends with an answer. */
export const AnswerHeader = {
  errorType: 'Lambda-Runtime-Function-Error-Type',
  /** A trailer of a streamed answer that failed after its first byte: base64 of the error document. */
  errorBody: 'Lambda-Runtime-Function-Error-Body',
  responseMode: 'Lambda-Runtime-Function-Response-Mode',
} as const;

/** The value of Lambda-Runtime-Function-Response-Mode for a streamed answer. */
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

/** The body of POST /invocation/{id}/error and /init/error. */
export interface RuntimeErrorDocument {
  errorType: string;
  errorMessage: string;
  stackTrace?: string[];
}
