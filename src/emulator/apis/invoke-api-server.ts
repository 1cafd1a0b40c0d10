import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InvokeRequest, InvokeResult } from '../invocation.ts';
import {
  EXECUTED_VERSION_HEADER,
  FUNCTION_ERROR_HEADER,
  INVOCATION_TYPE_HEADER,
  INVOKE_CLIENT_CONTEXT_HEADER,
  INVOKE_ERROR_TYPE_HEADER,
  INVOKE_PATH,
  INVOKE_REQUEST_ID_HEADER,
  LOG_RESULT_HEADER,
  LOG_TAIL_BYTES,
  LOG_TYPE_HEADER,
  MAX_ASYNC_PAYLOAD_BYTES,
  MAX_CLIENT_CONTEXT_BYTES,
  MAX_SYNC_PAYLOAD_BYTES,
  STREAM_INVOKE_PATH,
} from '../../../runtime/protocol/index.ts';
import { FUNCTION_IDENTIFIER_PATTERN } from '../../platform/function-name.ts';
import { invokeCompleteEvent, payloadChunkEvent } from './event-stream.ts';
import { decodePathSegment, header, readBodyWithin } from './http.ts';

/**
 * The caller's side of Lambda: Invoke and InvokeWithResponseStream, with
 * AWS's headers, status codes and error shapes, so the AWS SDK and CLI work
 * against it unchanged.
 */

class ApiError extends Error {
  readonly status: number;
  readonly type: string;

  constructor(status: number, type: string, message: string) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

/** The functions the Invoke API serves (the Emulator's). */
export interface InvokeTarget {
  has(name: string): boolean;
  invoke(name: string, request: InvokeRequest): Promise<InvokeResult>;
  /** The ARN a function of this name (and qualifier) has here, for the errors that name it. */
  functionArn(name: string, qualifier?: string): string;
}

export interface InvokeApiServerOptions {
  host: string;
  port: number;
}

export class InvokeApiServer {
  readonly #server: Server;
  readonly #target: InvokeTarget;
  /** Event invocations still running in the background. */
  readonly #background = new Set<Promise<unknown>>();

  private constructor(server: Server, target: InvokeTarget) {
    this.#server = server;
    this.#target = target;
  }

  static async start(target: InvokeTarget, options: InvokeApiServerOptions): Promise<InvokeApiServer> {
    // Synchronous invokes may run up to 15 minutes.
    const server = createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 });
    server.timeout = 0;
    const api = new InvokeApiServer(server, target);
    server.on('request', (request, response) => {
      api.#handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) {
          sendError(response, new ApiError(500, 'ServiceException', `emulator error: ${(error as Error).message}`));
        } else {
          response.destroy(error as Error);
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => resolve());
    });
    return api;
  }

  get endpoint(): string {
    const { address, port } = this.#server.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#background]);
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = URL.parse(request.url ?? '/', 'http://emulator');
    const invoke = url && INVOKE_PATH.exec(url.pathname);
    const stream = url && STREAM_INVOKE_PATH.exec(url.pathname);
    const body = await readBodyWithin(request, MAX_SYNC_PAYLOAD_BYTES);
    try {
      if (!url || (!invoke && !stream)) {
        throw new ApiError(404, 'UnknownOperationException', `no Lambda operation at ${request.method} ${url?.pathname ?? request.url}`);
      }
      if (request.method !== 'POST') throw new ApiError(405, 'MethodNotAllowedException', 'Invoke takes POST');
      const identifier = decodePathSegment((invoke ?? stream)![1]!);
      if (identifier === undefined) {
        throw new ApiError(400, 'InvalidParameterValueException', `the function name in ${url.pathname} is not a well-formed path segment`);
      }
      const name = this.#functionName(identifier, url.searchParams.get('Qualifier'));
      if (body === undefined) {
        throw new ApiError(
          413,
          'RequestEntityTooLargeException',
          `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
        );
      }
      const payload = parsePayload(body);
      const clientContext = decodeClientContext(header(request, INVOKE_CLIENT_CONTEXT_HEADER));
      const logType = header(request, LOG_TYPE_HEADER) ?? 'None';
      if (logType !== 'None' && logType !== 'Tail') {
        throw new ApiError(400, 'InvalidParameterValueException', `X-Amz-Log-Type must be None or Tail, not ${logType}`);
      }
      const requestId = randomUUID();
      const invocation = { payload, requestId, ...(clientContext !== undefined && { clientContext }) };
      if (stream) return await this.#invokeStreaming(response, name, invocation, logType === 'Tail');

      const invocationType = header(request, INVOCATION_TYPE_HEADER) ?? 'RequestResponse';
      switch (invocationType) {
        case 'RequestResponse': {
          const result = await this.#target.invoke(name, invocation);
          return sendResult(response, result, logType === 'Tail');
        }
        case 'Event': {
          if (payload.byteLength > MAX_ASYNC_PAYLOAD_BYTES) {
            throw new ApiError(
              413,
              'RequestEntityTooLargeException',
              `Request must be smaller than ${MAX_ASYNC_PAYLOAD_BYTES} bytes for the InvokeAsync operation`,
            );
          }
          const running = this.#target.invoke(name, invocation).catch(() => undefined);
          this.#background.add(running);
          void running.finally(() => this.#background.delete(running));
          response.writeHead(202, { [INVOKE_REQUEST_ID_HEADER]: requestId, 'Content-Length': 0 });
          return void response.end();
        }
        case 'DryRun':
          response.writeHead(204, { [INVOKE_REQUEST_ID_HEADER]: requestId });
          return void response.end();
        default:
          throw new ApiError(
            400,
            'InvalidParameterValueException',
            `X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not ${invocationType}`,
          );
      }
    } catch (error) {
      if (error instanceof ApiError) return sendError(response, error);
      throw error;
    }
  }

  async #invokeStreaming(
    response: ServerResponse,
    name: string,
    invocation: { payload: Buffer; requestId: string; clientContext?: string },
    tail: boolean,
  ): Promise<void> {
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      response.writeHead(200, {
        'Content-Type': 'application/vnd.amazon.eventstream',
        [EXECUTED_VERSION_HEADER]: '$LATEST',
        [INVOKE_REQUEST_ID_HEADER]: invocation.requestId,
      });
      response.flushHeaders();
    };
    const result = await this.#target.invoke(name, {
      ...invocation,
      onChunk: (chunk) => {
        start();
        response.write(payloadChunkEvent(chunk));
      },
    });
    start();
    // A buffered answer (or a function error) still reaches the caller as a chunk of the stream.
    if (!result.streamed && result.body.byteLength > 0 && !result.functionError) response.write(payloadChunkEvent(result.body));
    const complete: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string } = {};
    if (result.streamError) {
      complete.ErrorCode = result.streamError.errorType;
      complete.ErrorDetails = result.streamError.body;
    } else if (result.functionError) {
      const error = parseJson(result.body) as { errorType?: string } | undefined;
      complete.ErrorCode = error?.errorType ?? 'Unhandled';
      complete.ErrorDetails = result.body.toString('utf8');
    }
    if (tail) complete.LogResult = logTail(result);
    response.end(invokeCompleteEvent(complete));
  }

  /** Accepts a name, name:qualifier, or a full or partial ARN, as Lambda does. */
  #functionName(identifier: string, qualifier: string | null): string {
    let name = identifier;
    let embeddedQualifier: string | undefined;
    const arn = FUNCTION_IDENTIFIER_PATTERN.exec(identifier);
    if (arn) {
      name = arn[1]!;
      embeddedQualifier = arn[2];
    }
    const version = qualifier ?? embeddedQualifier;
    if (!this.#target.has(name) || (version !== undefined && version !== '$LATEST')) {
      throw new ApiError(404, 'ResourceNotFoundException', `Function not found: ${this.#target.functionArn(name, version)}`);
    }
    return name;
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** An empty payload is sent as {} (as the CLI and SDK callers expect); anything else must be JSON. */
function parsePayload(body: Buffer): Buffer {
  if (body.byteLength === 0) return Buffer.from('{}');
  try {
    // fatal: a payload that is not UTF-8 is refused, as Lambda's parser reads raw bytes strictly, never passed on with U+FFFD in it.
    JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (error) {
    throw new ApiError(
      400,
      'InvalidRequestContentException',
      `Could not parse request body into json: Could not parse payload into json: ${(error as Error).message}`,
    );
  }
  return body;
}

/** X-Amz-Client-Context is base64 of a JSON object; the runtime gets the JSON. */
function decodeClientContext(encoded: string | undefined): string | undefined {
  if (encoded === undefined) return undefined;
  if (encoded.length > MAX_CLIENT_CONTEXT_BYTES) {
    throw new ApiError(
      400,
      'InvalidParameterValueException',
      `Client context must be ${MAX_CLIENT_CONTEXT_BYTES} bytes or less, base64-encoded`,
    );
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const parsed = parseJson(Buffer.from(decoded));
  if (!parsed || typeof parsed !== 'object') {
    throw new ApiError(400, 'InvalidRequestContentException', 'Client context must be a valid Base64-encoded JSON object.');
  }
  return decoded;
}

function logTail(result: InvokeResult): string {
  const text = Buffer.from(`${result.logs.join('\n')}\n`);
  return text.subarray(Math.max(0, text.byteLength - LOG_TAIL_BYTES)).toString('base64');
}

function sendResult(response: ServerResponse, result: InvokeResult, tail: boolean): void {
  const headers: Record<string, string | number> = {
    'Content-Type': result.streamed && !result.functionError ? result.contentType : 'application/json',
    'Content-Length': result.body.byteLength,
    [EXECUTED_VERSION_HEADER]: '$LATEST',
    [INVOKE_REQUEST_ID_HEADER]: result.requestId,
  };
  if (result.functionError) headers[FUNCTION_ERROR_HEADER] = 'Unhandled';
  if (tail) headers[LOG_RESULT_HEADER] = logTail(result);
  response.writeHead(200, headers);
  response.end(result.body);
}

/**
 * Lambda's error documents spell the message member as its API model does:
 * `Message` for these, `message` for the rest (InvalidRequestContentException,
 * InvalidParameterValueException, RequestTooLargeException, ...). The AWS SDK
 * fills the exception's `Message` field only from the right spelling.
 */
const CAPITALISED_MESSAGE = new Set(['ResourceNotFoundException', 'ServiceException']);

function sendError(response: ServerResponse, error: ApiError): void {
  const body = JSON.stringify({
    Type: error.status >= 500 ? 'Service' : 'User',
    [CAPITALISED_MESSAGE.has(error.type) ? 'Message' : 'message']: error.message,
  });
  response.writeHead(error.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    [INVOKE_ERROR_TYPE_HEADER]: error.type,
    [INVOKE_REQUEST_ID_HEADER]: randomUUID(),
  });
  response.end(body);
}
