import {
  CLIENT_CONTEXT_HEADER,
  COGNITO_IDENTITY_HEADER,
  DEADLINE_MS_HEADER,
  INIT_ERROR_PATH,
  INVOCATION_ID_HEADER,
  INVOKED_FUNCTION_ARN_HEADER,
  MAX_RESPONSE_BYTES,
  NEXT_INVOCATION_PATH,
  REQUEST_ID_HEADER,
  TENANT_ID_HEADER,
  TRACE_ID_HEADER,
  invocationErrorPath,
  invocationResponsePath,
} from '../protocol/index.ts';
import { ResponseSizeTooLargeError, RuntimeApiStatusError, type ErrorPayload } from '../errors.ts';
import type { ChunkedRequestBody } from './chunked-body.ts';
import { ApiConnection, type ApiResponse, type Done } from './connection.ts';
import {
  initErrorRequest,
  invocationErrorRequest,
  invocationResponseRequest,
  nextInvocationRequest,
  streamingResponseRequest,
  type RequestTarget,
} from './requests.ts';

/** One invocation as /runtime/invocation/next hands it out. */
export interface Invocation {
  requestId: string;
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string | undefined;
  clientContext: string | undefined;
  cognitoIdentity: string | undefined;
  tenantId: string | undefined;
  /** Echoed back on this invocation's response and error when the server sends it. */
  invocationId: string | undefined;
  /** The event as sent: JSON text. */
  body: string;
}

/**
 * Client of the Runtime API over one connection; a runtime polling N
 * invocations at once (Lambda Managed Instances) holds N of these.
 *
 * @example
 * ```ts
 * import { RuntimeApiClient } from 'lambda-kit/runtime';
 *
 * // A loop of one's own (run() is this, and more).
 * const client = new RuntimeApiClient(process.env.AWS_LAMBDA_RUNTIME_API!);
 * for (;;) {
 *   const invocation = await client.nextInvocation();
 *   await client.postResponse(invocation, JSON.stringify({ echo: JSON.parse(invocation.body) }));
 * }
 * ```
 */
export class RuntimeApiClient {
  readonly target: RequestTarget;
  readonly #connection: ApiConnection;
  readonly #nextRequest: string;

  constructor(authority: string) {
    this.target = { authority };
    this.#connection = ApiConnection.fromAuthority(authority);
    this.#nextRequest = nextInvocationRequest(this.target);
  }

  /** Waits, with no client-side timeout, for the next invocation. */
  nextInvocation(): Promise<Invocation> {
    return new Promise((resolve, reject) => this.receiveInvocation((error, invocation) => (error ? reject(error) : resolve(invocation!))));
  }

  /** nextInvocation() with a callback, called as the response is read: what the runtime loop uses. */
  receiveInvocation(done: Done<Invocation>): void {
    this.#connection.send(
      this.#nextRequest,
      undefined,
      (error, response) => {
        if (error) return done(error);
        let invocation: Invocation;
        try {
          invocation = toInvocation(response!);
        } catch (invalid) {
          return done(invalid as Error);
        }
        done(undefined, invocation);
      },
      INVOCATION_FIELDS,
    );
  }

  /**
   * Posts a serialised result. A 413 becomes ResponseSizeTooLargeError: Lambda has then answered the
   * caller with Function.ResponseSizeTooLarge and closed the invocation itself.
   */
  postResponse(invocation: Invocation, body: string): Promise<void> {
    return new Promise((resolve, reject) => this.sendResponse(invocation, body, (error) => (error ? reject(error) : resolve())));
  }

  /** postResponse() with a callback: what the runtime loop uses. */
  sendResponse(invocation: Invocation, body: string, done: Done<void>): void {
    this.#connection.send(
      invocationResponseRequest(this.target, invocation.requestId, invocation.invocationId),
      body,
      (error, response) => {
        if (error) return done(error);
        if (response!.status === 413) return done(new ResponseSizeTooLargeError(Buffer.byteLength(body), MAX_RESPONSE_BYTES));
        if (response!.status !== 202) return done(statusError(`POST ${invocationResponsePath(invocation.requestId)}`, response!));
        done(undefined);
      },
    );
  }

  async postError(invocation: Invocation, payload: ErrorPayload): Promise<void> {
    const response = await this.#connection.request(
      invocationErrorRequest(this.target, invocation.requestId, payload.errorType, invocation.invocationId),
      JSON.stringify(payload),
    );
    if (response.status !== 202) {
      throw statusError(`POST ${invocationErrorPath(invocation.requestId)}`, response);
    }
  }

  async postInitError(payload: ErrorPayload): Promise<void> {
    const response = await this.#connection.request(initErrorRequest(this.target, payload.errorType), JSON.stringify(payload));
    if (response.status !== 202) {
      throw statusError(`POST ${INIT_ERROR_PATH}`, response);
    }
  }

  /** Starts a streamed response (chunked body, error trailers declared up front). */
  openStreamingResponse(invocation: Invocation, contentType: string): ChunkedRequestBody {
    return this.#connection.openChunkedRequest(
      streamingResponseRequest(this.target, invocation.requestId, contentType, invocation.invocationId),
    );
  }

  close(): void {
    this.#connection.close();
  }
}

/**
 * The fields of /next's answer that make an Invocation, spelled as the
 * Runtime API writes them. Read in the same pass as the head (see
 * ApiConnection.send): eight lookups, one per field, cost more than the
 * rest of the parse.
 */
const INVOCATION_FIELDS = [
  REQUEST_ID_HEADER,
  DEADLINE_MS_HEADER,
  INVOKED_FUNCTION_ARN_HEADER,
  TRACE_ID_HEADER,
  CLIENT_CONTEXT_HEADER,
  COGNITO_IDENTITY_HEADER,
  TENANT_ID_HEADER,
  INVOCATION_ID_HEADER,
] as const;

const NEXT_REQUEST = `GET ${NEXT_INVOCATION_PATH}`;

function toInvocation(response: ApiResponse): Invocation {
  if (response.status !== 200) {
    throw statusError(NEXT_REQUEST, response);
  }
  // By index, not destructured: that would run the array iterator protocol.
  const picked = response.picked!;
  const requestId = picked[0];
  if (!requestId) {
    throw new RuntimeApiStatusError(NEXT_REQUEST, response.status, `response has no ${REQUEST_ID_HEADER} header`);
  }
  return {
    requestId,
    deadlineMs: parseMillis(picked[1]),
    invokedFunctionArn: picked[2] ?? '',
    traceId: picked[3],
    clientContext: picked[4],
    cognitoIdentity: picked[5],
    tenantId: picked[6],
    invocationId: picked[7],
    body: response.body,
  };
}

/** Epoch milliseconds as the Runtime API writes them (decimal digits), or NaN: a digit loop costs a fraction of Number(). */
function parseMillis(value: string | undefined): number {
  if (!value) return Number.NaN;
  let millis = 0;
  for (let i = 0; i < value.length; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number(value);
    millis = millis * 10 + digit;
  }
  return millis;
}

function statusError(request: string, response: ApiResponse): RuntimeApiStatusError {
  return new RuntimeApiStatusError(request, response.status, response.body);
}
