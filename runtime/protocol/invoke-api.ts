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

export const InvokeHeader = {
  invocationType: 'X-Amz-Invocation-Type',
  logType: 'X-Amz-Log-Type',
  clientContext: 'X-Amz-Client-Context',
  tenantId: 'X-Amz-Tenant-Id',
  functionError: 'X-Amz-Function-Error',
  logResult: 'X-Amz-Log-Result',
  executedVersion: 'X-Amz-Executed-Version',
  requestId: 'x-amzn-RequestId',
  errorType: 'x-amzn-ErrorType',
} as const;
