import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CLIENT_CONTEXT_HEADER,
  COGNITO_IDENTITY_HEADER,
  DEADLINE_MS_HEADER,
  FUNCTION_ERROR_BODY_TRAILER,
  FUNCTION_ERROR_TYPE_HEADER,
  INIT_ERROR_PATH,
  INVOCATION_ID_HEADER,
  INVOKED_FUNCTION_ARN_HEADER,
  MAX_RESPONSE_BYTES,
  MAX_STREAMED_RESPONSE_BYTES,
  NEXT_INVOCATION_PATH,
  REQUEST_ID_HEADER,
  RESPONSE_MODE_HEADER,
  RESPONSE_TOO_LARGE_ERROR_TYPE,
  RUNTIME_API_PREFIX,
  STREAMING_RESPONSE_MODE,
  TENANT_ID_HEADER,
  TRACE_ID_HEADER,
} from '../../../runtime/protocol/index.ts';
import { responseTooLargeMessage } from '../../platform/platform-errors.ts';
import { newTraceId } from '../../platform/trace-id.ts';
import { decodePathSegment, header, readBody, readBodyAtMost, replyJson, serve } from './http.ts';
import { parseErrorBody, type InitErrorOutcome, type InvocationOutcome, type RuntimeErrorBody } from './invocation-outcome.ts';

export type { InitErrorOutcome, InvocationOutcome } from './invocation-outcome.ts';

/**
 * The runtime side of Lambda: the Runtime API as AWS serves it to a
 * function's runtime. Callers queue invocations with invoke() and get back
 * exactly what the runtime answered.
 */

export interface InvokeOptions {
  requestId?: string;
  /** Time the function has for this invocation; sets Lambda-Runtime-Deadline-Ms. */
  timeoutMs?: number;
  traceId?: string;
  clientContext?: string;
  cognitoIdentity?: string;
  tenantId?: string;
  /** Sent as Lambda-Runtime-Invocation-Id; runtimes echo it back. */
  invocationId?: string;
  /** Called with each chunk of a streamed response as it arrives. */
  onChunk?: (chunk: Buffer) => void;
}

export interface RuntimeApiServerOptions {
  host?: string;
  port?: number;
  functionArn?: string;
  defaultTimeoutMs?: number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

interface PendingInvocation {
  requestId: string;
  payload: Buffer;
  options: InvokeOptions;
  state: 'queued' | 'running' | 'done';
  resolve(outcome: InvocationOutcome): void;
}

type Route = 'next' | 'response' | 'error' | 'init-error';

/**
 * How many of its latest requests a server keeps in `requests`: enough for a
 * test to see what a runtime just sent, while an emulator that runs for days
 * keeps no more than this.
 */
export const RECENT_REQUESTS = 32;

/**
 * How many closed invocations a server remembers, so that a late or second
 * answer for one gets 403 (its state forbids it) rather than 400 (unknown id).
 */
const REMEMBERED_CLOSED = 1024;

/** Serves the requests under one path prefix; see RuntimeApiServer.mount(). */
export type MountedHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** Emits 'next' when a runtime asks for work and 'init-error' when it reports a failed init. */
export class RuntimeApiServer extends EventEmitter {
  readonly #server: Server;
  readonly #functionArn: string;
  readonly #defaultTimeoutMs: number;
  readonly #queue: PendingInvocation[] = [];
  readonly #waiting: ServerResponse[] = [];
  readonly #invocations = new Map<string, PendingInvocation>();
  readonly #faults = new Map<Route, number[]>();
  readonly #mounts = new Map<string, MountedHandler>();
  readonly #requests: RecordedRequest[] = [];
  /** Request ids of closed invocations, oldest first. */
  readonly #closed = new Set<string>();
  #initError: InitErrorOutcome | undefined;

  private constructor(server: Server, options: RuntimeApiServerOptions) {
    super();
    this.#server = server;
    this.#functionArn = options.functionArn ?? 'arn:aws:lambda:us-east-1:123456789012:function:local';
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? 3000;
  }

  static async start(options: RuntimeApiServerOptions = {}): Promise<RuntimeApiServer> {
    const server = createServer({ requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0 });
    server.timeout = 0;
    const api = new RuntimeApiServer(server, options);
    server.on('request', (request, response) => api.#route(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    return api;
  }

  /** host:port, the value for AWS_LAMBDA_RUNTIME_API. */
  get address(): string {
    const { address, port } = this.#server.address() as AddressInfo;
    return `${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The latest requests (RECENT_REQUESTS of them at most), oldest first. */
  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }

  /** The runtime's init error, once it has reported one. */
  get initError(): InitErrorOutcome | undefined {
    return this.#initError;
  }

  /** Queues an invocation; resolves with the runtime's answer (or its init error). */
  invoke(payload: unknown, options: InvokeOptions = {}): Promise<InvocationOutcome> {
    const body = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
    return new Promise<InvocationOutcome>((resolve) => {
      const pending: PendingInvocation = {
        requestId: options.requestId ?? randomUUID(),
        payload: body,
        options,
        state: 'queued',
        resolve,
      };
      if (this.#initError) return resolve({ ...this.#initError, requestId: pending.requestId });
      this.#invocations.set(pending.requestId, pending);
      this.#queue.push(pending);
      this.#dispatch();
    });
  }

  /** Makes the next `count` requests to `route` fail with `status` (to test how runtimes handle it). */
  injectFault(route: Route, status: number, count = 1): void {
    this.#faults.set(route, [...(this.#faults.get(route) ?? []), ...Array<number>(count).fill(status)]);
  }

  /**
   * Gives up on an invocation the runtime will never answer (its environment
   * timed out or died): a late answer gets 403, as from a fresh environment.
   */
  abandon(requestId: string): void {
    const pending = this.#invocations.get(requestId);
    if (!pending) return;
    this.#close(pending);
    const queued = this.#queue.indexOf(pending);
    if (queued !== -1) this.#queue.splice(queued, 1);
  }

  /**
   * Serves every request whose path starts with `prefix` by `handler`: AWS
   * serves the Extensions, Telemetry and Logs APIs on the same host:port as
   * the Runtime API (AWS_LAMBDA_RUNTIME_API), so they share this server.
   */
  mount(prefix: string, handler: MountedHandler): void {
    this.#mounts.set(prefix, handler);
  }

  /** Number of /next requests currently waiting for work. */
  get waitingRuntimes(): number {
    return this.#waiting.length;
  }

  async close(): Promise<void> {
    for (const response of this.#waiting.splice(0)) response.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && this.#waiting.length > 0) {
      const response = this.#waiting.shift()!;
      if (response.destroyed) continue;
      const pending = this.#queue.shift()!;
      pending.state = 'running';
      const options = pending.options;
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        [REQUEST_ID_HEADER]: pending.requestId,
        [DEADLINE_MS_HEADER]: String(Date.now() + (options.timeoutMs ?? this.#defaultTimeoutMs)),
        [INVOKED_FUNCTION_ARN_HEADER]: this.#functionArn,
        [TRACE_ID_HEADER]: options.traceId ?? newTraceId(),
      };
      if (options.clientContext !== undefined) headers[CLIENT_CONTEXT_HEADER] = options.clientContext;
      if (options.cognitoIdentity !== undefined) headers[COGNITO_IDENTITY_HEADER] = options.cognitoIdentity;
      if (options.tenantId !== undefined) headers[TENANT_ID_HEADER] = options.tenantId;
      if (options.invocationId !== undefined) headers[INVOCATION_ID_HEADER] = options.invocationId;
      response.writeHead(200, { ...headers, 'Content-Length': pending.payload.byteLength });
      response.end(pending.payload);
    }
  }

  #route(request: IncomingMessage, response: ServerResponse): void {
    this.#requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    if (this.#requests.length > RECENT_REQUESTS) this.#requests.shift();
    const url = request.url ?? '';
    for (const [prefix, handler] of this.#mounts) if (url.startsWith(prefix)) return handler(request, response);
    if (!url.startsWith(`${RUNTIME_API_PREFIX}/`)) return this.#reject(request, response, 404, 'UnknownPath', 'no such path');
    const path = url.slice(RUNTIME_API_PREFIX.length);
    let route: Route | undefined;
    let requestId: string | undefined;
    // invocationResponsePath(id) or invocationErrorPath(id).
    const invocation = /^\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (url === NEXT_INVOCATION_PATH) route = 'next';
    else if (url === INIT_ERROR_PATH) route = 'init-error';
    else if (invocation) {
      route = invocation[2] as Route;
      requestId = decodePathSegment(invocation[1]!);
      // An id that is not even a well-formed path segment names no invocation (RIE: 400 InvalidRequestID).
      if (requestId === undefined) return this.#reject(request, response, 400, 'InvalidRequestID', `Invalid request ID: ${invocation[1]}`);
    }
    if (!route) return this.#reject(request, response, 404, 'UnknownPath', `no such path: ${url}`);
    const expectedMethod = route === 'next' ? 'GET' : 'POST';
    if (request.method !== expectedMethod) {
      return this.#reject(request, response, 405, 'MethodNotAllowed', `${route} takes ${expectedMethod}`);
    }
    const fault = this.#faults.get(route)?.shift();
    if (fault !== undefined) return this.#reject(request, response, fault, 'InjectedFault', `injected HTTP ${fault}`);
    if (route === 'next') {
      request.resume();
      this.#waiting.push(response);
      this.emit('next');
      response.on('close', () => {
        const index = this.#waiting.indexOf(response);
        if (index !== -1) this.#waiting.splice(index, 1);
      });
      this.#dispatch();
      return;
    }
    if (route === 'init-error') return serve(this.#onInitError(request, response), response);
    const pending = this.#invocations.get(requestId!);
    if (!pending) {
      if (this.#closed.has(requestId!)) return this.#rejectClosed(request, response, requestId!);
      return this.#reject(request, response, 400, 'InvalidRequestID', `Invalid request ID: ${requestId}`);
    }
    if (pending.state !== 'running') {
      return this.#reject(request, response, 403, 'InvalidStateTransition', `invocation ${requestId} is ${pending.state}`);
    }
    if (route === 'response' && header(request, RESPONSE_MODE_HEADER) === STREAMING_RESPONSE_MODE) {
      return this.#onStreamingResponse(pending, request, response);
    }
    serve(this.#onAnswer(route, pending, request, response), response);
  }

  async #onAnswer(route: Route, pending: PendingInvocation, request: IncomingMessage, response: ServerResponse) {
    let body: Buffer | 'too-large';
    try {
      body = route === 'response' ? await readBodyAtMost(request, MAX_RESPONSE_BYTES) : await readBody(request);
    } catch {
      // The connection dropped mid-body: the runtime is most likely gone, and there is no one to answer.
      if (pending.state === 'running') this.#finish(pending, { kind: 'truncated', requestId: pending.requestId, headers: request.headers });
      return;
    }
    if (pending.state !== 'running') return this.#rejectClosed(undefined, response, pending.requestId);
    if (body === 'too-large') {
      // Lambda closes the invocation itself, with Function.ResponseSizeTooLarge: the runtime hears 413, and an
      // /error after it gets 403 (aws-lambda-runtime-interface-emulator, rapi/handler/invocationresponse.go).
      this.#reply(response, 413, 'RequestEntityTooLarge', `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`);
      return this.#finish(pending, { kind: 'too-large', requestId: pending.requestId, headers: request.headers });
    }
    this.#reply(response, 202);
    if (route === 'response') {
      this.#finish(pending, { kind: 'response', requestId: pending.requestId, headers: request.headers, body });
    } else {
      const error = parseErrorBody(body);
      const errorType = String(header(request, FUNCTION_ERROR_TYPE_HEADER) ?? error.errorType ?? 'Unhandled');
      this.#finish(pending, { kind: 'error', requestId: pending.requestId, headers: request.headers, errorType, error, body });
    }
  }

  /**
   * A streamed answer, passed on chunk by chunk while the invocation is open.
   * It ends with the runtime's trailers, past MAX_STREAMED_RESPONSE_BYTES (the
   * runtime gets 413, the rest is drained), or cut short when the runtime's
   * connection drops; once the invocation is closed (timed out), what still
   * comes is drained.
   */
  #onStreamingResponse(pending: PendingInvocation, request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const stream = (extra: Partial<InvocationOutcome & { kind: 'stream' }> = {}): InvocationOutcome => ({
      kind: 'stream',
      requestId: pending.requestId,
      headers: request.headers,
      contentType: String(request.headers['content-type'] ?? 'application/octet-stream'),
      body: Buffer.concat(chunks, size),
      chunks,
      trailers: {},
      ...extra,
    });
    const settle = (outcome: InvocationOutcome) => {
      settled = true;
      if (pending.state === 'running') this.#finish(pending, outcome);
    };
    const pass = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.byteLength;
      pending.options.onChunk?.(chunk);
    };
    request.on('data', (chunk: Buffer) => {
      if (settled || pending.state !== 'running') return;
      const room = MAX_STREAMED_RESPONSE_BYTES - size;
      if (chunk.byteLength <= room) return pass(chunk);
      if (room > 0) pass(chunk.subarray(0, room));
      this.#reply(response, 413, 'RequestEntityTooLarge', `Exceeded maximum allowed payload size (${MAX_STREAMED_RESPONSE_BYTES} bytes).`);
      const errorType = RESPONSE_TOO_LARGE_ERROR_TYPE;
      settle(stream({ errorType, error: { errorType, errorMessage: responseTooLargeMessage(MAX_STREAMED_RESPONSE_BYTES) } }));
    });
    request.on('end', () => {
      if (settled) return;
      if (pending.state !== 'running') return this.#rejectClosed(undefined, response, pending.requestId);
      const trailers = Object.fromEntries(Object.entries(request.trailers).map(([name, value]) => [name.toLowerCase(), String(value)]));
      this.#reply(response, 202);
      const errorType = trailers[FUNCTION_ERROR_TYPE_HEADER.toLowerCase()];
      const encoded = trailers[FUNCTION_ERROR_BODY_TRAILER.toLowerCase()];
      const error = errorType && (encoded ? parseErrorBody(Buffer.from(encoded, 'base64')) : { errorType });
      settle(stream({ trailers, ...(errorType && { errorType, error: error as RuntimeErrorBody }) }));
    });
    // 'error' reaches only a listener (IncomingMessage); 'close' before the end is the dropped connection.
    request.on('error', () => {});
    request.on('close', () => {
      if (!settled && !request.complete) settle(stream({ truncated: true }));
    });
  }

  async #onInitError(request: IncomingMessage, response: ServerResponse) {
    const body = await readBody(request);
    const error = parseErrorBody(body);
    const errorType = String(header(request, FUNCTION_ERROR_TYPE_HEADER) ?? error.errorType ?? 'Unknown');
    this.#reply(response, 202);
    this.#initError = { kind: 'init-error', requestId: '', headers: request.headers, errorType, error, body };
    this.emit('init-error', this.#initError);
    // Everyone waiting gets the init error, as callers of a function that failed to start do.
    for (const pending of [...this.#invocations.values()]) {
      this.#finish(pending, { ...this.#initError, requestId: pending.requestId });
    }
    this.#queue.length = 0;
  }

  #finish(pending: PendingInvocation, outcome: InvocationOutcome): void {
    this.#close(pending);
    pending.resolve(outcome);
  }

  #close(pending: PendingInvocation): void {
    pending.state = 'done';
    this.#invocations.delete(pending.requestId);
    this.#closed.add(pending.requestId);
    if (this.#closed.size > REMEMBERED_CLOSED) this.#closed.delete(this.#closed.values().next().value!);
  }

  /** An answer for an invocation that is over: 403, as Lambda's state machine refuses it. */
  #rejectClosed(request: IncomingMessage | undefined, response: ServerResponse, requestId: string): void {
    request?.resume();
    this.#reply(response, 403, 'InvalidStateTransition', `invocation ${requestId} is done`);
  }

  #reject(request: IncomingMessage, response: ServerResponse, status: number, errorType: string, message: string) {
    request.resume();
    this.#reply(response, status, errorType, message);
  }

  #reply(response: ServerResponse, status: number, errorType?: string, errorMessage?: string): void {
    replyJson(response, status, errorType ? { errorMessage, errorType } : { status: 'OK' });
  }
}
