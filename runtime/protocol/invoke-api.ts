/**
 * The Invoke API of Lambda's control plane as a caller sees it: paths,
 * headers and payload limits.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_InvokeWithResponseStream.html
 */

/** POST: Invoke. The capture is the function name, ARN or partial ARN, with an optional qualifier. */
export const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
/** POST: InvokeWithResponseStream. */
export const STREAM_INVOKE_PATH = /^\/2021-11-15\/functions\/([^/]+)\/response-streaming-invocations$/;

export const invokePath = (name: string) => `/2015-03-31/functions/${encodeURIComponent(name)}/invocations`;
export const streamInvokePath = (name: string) => `/2021-11-15/functions/${encodeURIComponent(name)}/response-streaming-invocations`;

/** The largest request payload of a synchronous invoke (bytes). */
export const MAX_SYNC_PAYLOAD_BYTES = 6_291_456;
/** The largest request payload of an asynchronous (Event) invoke (bytes). */
export const MAX_ASYNC_PAYLOAD_BYTES = 1_048_576;
/** X-Amz-Log-Result carries the last 4 KB of the invocation's log. */
export const LOG_TAIL_BYTES = 4096;
/** X-Amz-Client-Context: base64 of a JSON object, at most this many characters. */
export const MAX_CLIENT_CONTEXT_BYTES = 3583;

// Headers of an Invoke request.

/** RequestResponse (the default), Event or DryRun. */
export const INVOCATION_TYPE_HEADER = 'X-Amz-Invocation-Type';
/** Tail: the answer carries the log's last LOG_TAIL_BYTES in LOG_RESULT_HEADER. */
export const LOG_TYPE_HEADER = 'X-Amz-Log-Type';
export const INVOKE_CLIENT_CONTEXT_HEADER = 'X-Amz-Client-Context';

// Headers of an Invoke answer.

/** Unhandled when the function failed. */
export const FUNCTION_ERROR_HEADER = 'X-Amz-Function-Error';
export const LOG_RESULT_HEADER = 'X-Amz-Log-Result';
export const EXECUTED_VERSION_HEADER = 'X-Amz-Executed-Version';
export const INVOKE_REQUEST_ID_HEADER = 'x-amzn-RequestId';
/** The type of an error of the Invoke API itself (not of the function). */
export const INVOKE_ERROR_TYPE_HEADER = 'x-amzn-ErrorType';
