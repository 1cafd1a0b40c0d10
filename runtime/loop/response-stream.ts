/**
 * Response streaming as AWS's managed Node runtime offers it: a handler
 * wrapped by `awslambda.streamifyResponse` gets a writable stream as its
 * second argument; what it writes goes to the Runtime API as a chunked body.
 */
import type { ChunkedRequestBody } from '../client/chunked-body.ts';

// See handler-loader.ts: built-ins come from process.getBuiltinModule.
const { Writable } = process.getBuiltinModule('node:stream');

/** The marker AWS's runtime looks for on streaming handlers (same symbol, so wrapped handlers interoperate). */
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
export const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';

const DEFAULT_STREAM_CONTENT_TYPE = 'application/octet-stream';
const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

export interface StreamifyOptions {
  highWaterMark?: number;
}

export type StreamingHandler<TEvent = unknown, TContext = unknown> = (
  event: TEvent,
  responseStream: ResponseStream,
  context: TContext,
) => unknown;

/**
 * Marks `handler` as a streaming handler, as AWS's `awslambda.streamifyResponse`
 * does (the same global is installed too): it gets a ResponseStream as its
 * second argument and its answer goes out as the handler writes it.
 *
 * @example
 * ```ts
 * import { run, streamifyResponse } from 'lambda-kit/runtime';
 *
 * await run(
 *   streamifyResponse(async (event, responseStream) => {
 *     responseStream.setContentType('text/plain');
 *     responseStream.write('Hello, ');
 *     responseStream.end('world');
 *   }),
 * );
 * ```
 */
export function streamifyResponse<H extends StreamingHandler<any, any>>(handler: H, options?: StreamifyOptions): H {
  Object.defineProperty(handler, HANDLER_STREAMING, { value: STREAM_RESPONSE, configurable: true });
  if (options?.highWaterMark !== undefined) {
    Object.defineProperty(handler, HANDLER_HIGHWATERMARK, { value: options.highWaterMark, configurable: true });
  }
  return handler;
}

export function isStreamingHandler(handler: unknown): handler is StreamingHandler {
  return typeof handler === 'function' && (handler as any)[HANDLER_STREAMING] === STREAM_RESPONSE;
}

/**
 * The writable handed to streaming handlers. The request head goes out with
 * the first byte (or at end), so setContentType works until then.
 *
 * @example
 * ```ts
 * import { pipeline } from 'node:stream/promises';
 * import { streamifyResponse, type ResponseStream } from 'lambda-kit/runtime';
 *
 * export const handler = streamifyResponse(async (event: unknown, responseStream: ResponseStream) => {
 *   responseStream.setContentType('application/x-ndjson');
 *   await pipeline(rowsAsNdjson(), responseStream);
 * });
 * ```
 */
export class ResponseStream extends Writable {
  #open: (contentType: string) => ChunkedRequestBody;
  #body: ChunkedRequestBody | undefined;
  #contentType = DEFAULT_STREAM_CONTENT_TYPE;
  /** Set by HttpResponseStream.from: writes the prelude before the first body byte. */
  _onBeforeFirstWrite: ((write: (chunk: Buffer | string) => void) => void) | undefined;

  constructor(open: (contentType: string) => ChunkedRequestBody, highWaterMark?: number) {
    super({ highWaterMark, decodeStrings: false });
    this.#open = open;
  }

  /** True once the head has been sent (content type fixed). */
  get started(): boolean {
    return this.#body !== undefined;
  }

  setContentType(contentType: string): void {
    if (this.#body) throw new Error('Cannot set content-type, too late: the response stream has started.');
    this.#contentType = contentType;
  }

  /** The chunked body, opened on first use. */
  body(): ChunkedRequestBody {
    if (!this.#body) {
      this.#body = this.#open(this.#contentType);
      const hook = this._onBeforeFirstWrite;
      this._onBeforeFirstWrite = undefined;
      hook?.((chunk) => void this.#body!.write(chunk));
    }
    return this.#body;
  }

  override _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let data: Buffer | string;
    if (typeof chunk === 'string') data = Buffer.from(chunk, encoding);
    else if (chunk instanceof Uint8Array) data = chunk as Buffer;
    else data = JSON.stringify(chunk);
    const drained = this.body().write(data);
    if (drained) drained.then(() => callback(), callback);
    else callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.body().end();
    callback();
  }
}

/**
 * HTTP responses over a response stream, as AWS's `awslambda.HttpResponseStream`.
 *
 * @example
 * ```ts
 * import { HttpResponseStream, streamifyResponse } from 'lambda-kit/runtime';
 *
 * export const handler = streamifyResponse(async (event, responseStream) => {
 *   const stream = HttpResponseStream.from(responseStream, { statusCode: 200, headers: { 'content-type': 'text/html' } });
 *   stream.write('<p>first</p>');
 *   stream.end('<p>last</p>');
 * });
 * ```
 */
export const HttpResponseStream = {
  /**
   * Wraps a response stream for Function URLs and API Gateway streaming: a JSON
   * prelude (statusCode, headers, cookies), 8 NUL bytes, then the body.
   */
  from(stream: ResponseStream, prelude: Record<string, unknown>): ResponseStream {
    stream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const json = JSON.stringify(prelude);
    stream._onBeforeFirstWrite = (write) => {
      write(json);
      write(Buffer.alloc(8));
    };
    return stream;
  },
};

// No `declare global` here: @types/aws-lambda declares the `awslambda` global
// itself, and a second declaration would clash (TS2300) in every project that
// has both. Handlers get its types from there: `import type {} from 'aws-lambda'`.

/**
 * Handlers written for AWS (hono's streamHandle, for one) call
 * awslambda.streamifyResponse at import time, so the global must exist
 * before user code is evaluated.
 */
export function installAwsLambdaGlobal(): void {
  if (!(globalThis as Record<string, unknown>).awslambda) {
    Object.defineProperty(globalThis, 'awslambda', {
      value: { streamifyResponse, HttpResponseStream },
      enumerable: false,
      configurable: true,
      writable: true,
    });
  }
}
