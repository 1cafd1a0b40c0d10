/**
 * The HTTP listener a Telemetry or Logs API subscription delivers to. It
 * answers each batch at once and hands batches to the processor one at a
 * time, in order, from a bounded queue: a slow processor or one that throws
 * costs records at worst, never the extension, and never holds up Lambda.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TelemetryBatchError } from './errors.ts';
import { parseTelemetryBatch, type TelemetryRecord } from './telemetry-records.ts';

export type TelemetryProcessor = (records: TelemetryRecord[]) => void | Promise<void>;

export interface TelemetryListenerOptions {
  processor: TelemetryProcessor;
  /**
   * Address to listen on. Lambda delivers from the sandbox's own address to
   * sandbox.localdomain, so the default is every interface ('0.0.0.0'), as in
   * AWS's samples; $LAMBDA_KIT_TELEMETRY_HOST overrides it (127.0.0.1 locally).
   */
  host?: string;
  /** 0 (the default) takes a free port; the subscription names the one taken. */
  port?: number;
  /** Batches waiting for the processor before the oldest are dropped (default 64). */
  maxQueuedBatches?: number;
  /** Where processor failures and dropped batches are told (default console.error). */
  onError?: (error: unknown) => void;
  /** Whether the listener keeps the process alive (an internal extension's must not). */
  keepsProcessAlive?: boolean;
}

export interface TelemetryListenerStats {
  batches: number;
  records: number;
  /** Batches dropped because the queue was full: the processor is slower than the function logs. */
  droppedBatches: number;
  /** Processor calls that threw or rejected. */
  processorFailures: number;
  /** Bodies that were not a JSON array of records. */
  badBatches: number;
}

/** Lambda's batches are at most 1 MiB (maxBytes); anything far bigger is not Lambda. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * The HTTP listener a Telemetry or Logs API subscription delivers to;
 * runExtension starts one for its `telemetry` option.
 *
 * @example
 * ```ts
 * import { TelemetryListener } from 'lambda-kit/extension';
 *
 * const listener = await TelemetryListener.start({ processor: (records) => ship(records) });
 * await client.subscribe('telemetry', {
 *   schemaVersion: '2022-12-13',
 *   destination: { protocol: 'HTTP', URI: listener.uri },
 *   types: ['platform', 'function'],
 * });
 * ```
 */
export class TelemetryListener {
  readonly stats: TelemetryListenerStats = { batches: 0, records: 0, droppedBatches: 0, processorFailures: 0, badBatches: 0 };
  readonly #server: Server;
  readonly #processor: TelemetryProcessor;
  readonly #maxQueued: number;
  readonly #onError: (error: unknown) => void;
  readonly #queue: TelemetryRecord[][] = [];
  #draining: Promise<void> | undefined;
  #lastBatchAt = 0;

  private constructor(server: Server, options: TelemetryListenerOptions) {
    this.#server = server;
    this.#processor = options.processor;
    this.#maxQueued = options.maxQueuedBatches ?? 64;
    this.#onError = options.onError ?? ((error) => console.error('lambda-kit/extension:', error));
  }

  static async start(options: TelemetryListenerOptions): Promise<TelemetryListener> {
    // node:http only for extensions that subscribe, and through getBuiltinModule (see runtime/loop/handler-loader.ts).
    const server = process.getBuiltinModule('node:http').createServer();
    const listener = new TelemetryListener(server, options);
    server.on('request', (request, response) => listener.#receive(request, response));
    const host = options.host ?? process.env.LAMBDA_KIT_TELEMETRY_HOST ?? '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    if (options.keepsProcessAlive === false) server.unref();
    return listener;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The destination URI for the subscription: Lambda knows the sandbox by this name. */
  get uri(): string {
    return `http://sandbox.localdomain:${this.port}/telemetry`;
  }

  /**
   * Resolves once no batch has arrived for `quietMs` and the processor has
   * caught up, or at `deadlineMs` (epoch ms), whichever is first: on SHUTDOWN,
   * Lambda still delivers what the function logged last.
   */
  async settle(quietMs: number, deadlineMs: number): Promise<void> {
    for (;;) {
      const now = Date.now();
      if (now >= deadlineMs) return;
      if (this.#queue.length === 0 && !this.#draining && now - this.#lastBatchAt >= quietMs) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(10, deadlineMs - now)));
    }
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #receive(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      this.#lastBatchAt = Date.now();
      if (size > MAX_BODY_BYTES) {
        this.stats.badBatches++;
        this.#onError(new TelemetryBatchError(`a telemetry batch of ${size} bytes is larger than Lambda ever sends; dropped`));
        response.writeHead(413).end();
        return;
      }
      let records: TelemetryRecord[];
      try {
        records = parseTelemetryBatch(Buffer.concat(chunks).toString('utf8')).records;
      } catch (error) {
        this.stats.badBatches++;
        this.#onError(new TelemetryBatchError(`a telemetry batch could not be read: ${(error as Error).message}`, { cause: error }));
        response.writeHead(400).end();
        return;
      }
      // Answered before processing: Lambda waits for this answer, and the function's logs with it.
      response.writeHead(200).end();
      this.stats.batches++;
      this.stats.records += records.length;
      this.#enqueue(records);
    });
    request.on('error', () => response.destroy());
  }

  #enqueue(records: TelemetryRecord[]): void {
    this.#queue.push(records);
    if (this.#queue.length > this.#maxQueued) {
      this.#queue.shift();
      this.stats.droppedBatches++;
      this.#onError(
        new TelemetryBatchError(`the telemetry processor is behind: dropped the oldest queued batch (${this.stats.droppedBatches} so far)`),
      );
    }
    this.#draining ??= this.#drain().finally(() => (this.#draining = undefined));
  }

  async #drain(): Promise<void> {
    for (let batch = this.#queue.shift(); batch; batch = this.#queue.shift()) {
      try {
        await this.#processor(batch);
      } catch (error) {
        this.stats.processorFailures++;
        this.#onError(error);
      }
    }
  }
}
