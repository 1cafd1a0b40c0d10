import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  LOGS_API_PATH,
  LOGS_API_VERSION,
  TELEMETRY_API_PATH,
  TELEMETRY_API_VERSION,
  TELEMETRY_TYPES,
  type TelemetryType,
} from '../../../runtime/protocol/index.ts';
import { replyIdentifyError, type ExtensionsApi } from './extensions-api.ts';
import { readBody, replyJson, serve } from './http.ts';

/**
 * The Telemetry API and the older Logs API of one execution environment: extensions subscribe during init, and Lambda POSTs
 * batches (JSON arrays) of records to their HTTP listener, buffered per
 * subscription by maxItems, maxBytes and timeoutMs.
 *
 * Record shapes follow AWS's "Telemetry API Event schema reference" and the
 * Logs API page of the Lambda developer guide; limits and defaults follow
 * "Configuring memory usage and buffering".
 */

interface TelemetryEvent {
  time: string;
  type: string;
  record: unknown;
}

interface Buffering {
  maxItems: number;
  maxBytes: number;
  timeoutMs: number;
}

type Api = 'telemetry' | 'logs';

const LIMITS = {
  maxItems: { default: 10_000, min: 1_000, max: 10_000 },
  maxBytes: { default: 262_144, min: 262_144, max: 1_048_576 },
  timeoutMs: { default: 1_000, min: 25, max: 30_000 },
} as const;

/** The record schemas a subscription may ask for: the API's own version and the later ones. */
const SCHEMA_VERSIONS: Record<Api, string[]> = {
  telemetry: [TELEMETRY_API_VERSION, '2022-12-13', '2025-01-29'],
  logs: [LOGS_API_VERSION, '2021-03-18'],
};

/**
 * Inside the execution environment a listener is addressed as
 * sandbox.localdomain; here that is 127.0.0.1, and nothing else is reachable:
 * Lambda only delivers to destinations inside the environment.
 */
const LOCAL_HOSTS = new Set(['sandbox.localdomain', 'sandbox', 'localhost', '127.0.0.1']);

/** How often and how long a failed delivery is retried before the batch is dropped. */
const RETRY_DELAYS_MS = [50, 200, 500];
/** Records kept from the start of init for extensions that subscribe later in init. */
const BACKLOG_LIMIT = 10_000;

class Subscription {
  readonly name: string;
  readonly api: Api;
  readonly schemaVersion: string;
  readonly types: ReadonlySet<TelemetryType>;
  readonly buffering: Buffering;
  readonly port: number;
  readonly path: string;
  #batch: string[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Deliveries go out one at a time, in order. */
  #delivering: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(init: {
    name: string;
    api: Api;
    schemaVersion: string;
    types: TelemetryType[];
    buffering: Buffering;
    port: number;
    path: string;
  }) {
    this.name = init.name;
    this.api = init.api;
    this.schemaVersion = init.schemaVersion;
    this.types = new Set(init.types);
    this.buffering = init.buffering;
    this.port = init.port;
    this.path = init.path;
  }

  push(event: TelemetryEvent): void {
    if (this.#closed) return;
    const shaped = this.api === 'logs' ? toLogsApi(event, this.schemaVersion) : toTelemetryApi(event);
    if (!shaped || !this.types.has(category(shaped.type))) return;
    const text = JSON.stringify(shaped);
    const bytes = Buffer.byteLength(text);
    // A batch stays within maxBytes unless a single record is larger.
    if (this.#batch.length > 0 && this.#bytes + bytes > this.buffering.maxBytes) this.flush();
    this.#batch.push(text);
    this.#bytes += bytes;
    if (this.#batch.length >= this.buffering.maxItems || this.#bytes >= this.buffering.maxBytes) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.buffering.timeoutMs);
  }

  /** Sends what is buffered now; resolves when every batch so far has been delivered (or dropped). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#batch.length > 0) {
      const body = `[${this.#batch.join(',')}]`;
      this.#batch = [];
      this.#bytes = 0;
      this.#delivering = this.#delivering.then(() => this.#deliver(body));
    }
    return this.#delivering;
  }

  close(): Promise<void> {
    const done = this.flush();
    this.#closed = true;
    return done;
  }

  /** Forgets what is buffered (the environment was killed); deliveries under way give up on failure. */
  drop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#batch = [];
    this.#bytes = 0;
    this.#closed = true;
  }

  async #deliver(body: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await post(this.port, this.path, body);
        return;
      } catch {
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined || this.#closed) return;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

export class TelemetryApi {
  readonly #extensions: ExtensionsApi;
  readonly #subscriptions = new Map<string, Subscription>();
  /** Everything published while subscriptions are open, replayed to each new subscriber. */
  #backlog: TelemetryEvent[] | undefined = [];

  constructor(extensions: ExtensionsApi) {
    this.#extensions = extensions;
  }

  /** Records an event now; every subscriber that asked for its category gets it. */
  publish(type: string, record: unknown): void {
    const event: TelemetryEvent = { time: new Date().toISOString(), type, record };
    if (this.#backlog && this.#backlog.length < BACKLOG_LIMIT) this.#backlog.push(event);
    for (const subscription of this.#subscriptions.values()) subscription.push(event);
  }

  /** Subscriptions are taken during init only; after it Lambda answers 403. */
  closeSubscriptions(): void {
    this.#backlog = undefined;
  }

  /** Delivers everything buffered; resolves when the listeners have it (or it was dropped). */
  async flush(): Promise<void> {
    await Promise.all([...this.#subscriptions.values()].map((subscription) => subscription.flush()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions.values()].map((subscription) => subscription.close()));
    this.#subscriptions.clear();
  }

  /** The subscriber's process is gone: retrying deliveries to its listener would only hold things up. */
  unsubscribe(name: string): void {
    this.#subscriptions.get(name)?.drop();
    this.#subscriptions.delete(name);
  }

  /** For an environment killed outright: nothing more is delivered. */
  drop(): void {
    for (const subscription of this.#subscriptions.values()) subscription.drop();
    this.#subscriptions.clear();
    this.#backlog = undefined;
  }

  /** Serves PUT TELEMETRY_API_PATH or PUT LOGS_API_PATH. */
  handle(api: Api, request: IncomingMessage, response: ServerResponse): void {
    serve(this.#subscribe(api, request, response), response);
  }

  async #subscribe(api: Api, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const path = (request.url ?? '').split('?')[0]!.replace(/\/$/, '');
    if (path !== (api === 'telemetry' ? TELEMETRY_API_PATH : LOGS_API_PATH)) {
      return replyJson(response, 404, { errorMessage: `no such path: ${request.url}`, errorType: 'UnknownPath' });
    }
    if (request.method !== 'PUT') return replyJson(response, 405, { errorMessage: `${path} takes PUT`, errorType: 'MethodNotAllowed' });
    const identified = this.#extensions.identify(request);
    if (!('extension' in identified)) return replyIdentifyError(response, identified);
    const prefix = api === 'telemetry' ? 'Telemetry' : 'Logs';
    if (!this.#backlog) {
      return replyJson(response, 403, {
        errorMessage: `${prefix} API subscription is closed already`,
        errorType: `${prefix}.SubscriptionClosed`,
      });
    }
    const validationType = api === 'telemetry' ? 'ValidationError' : 'Logs.ValidationError';
    const parsed = parseSubscription(api, body);
    if (typeof parsed === 'string') return replyJson(response, 400, { errorMessage: parsed, errorType: validationType });
    const name = identified.extension.name;
    const previous = this.#subscriptions.get(name);
    // AWS: after subscribing with one of the two APIs, the other one refuses.
    if (previous && previous.api !== api) {
      return replyJson(response, 400, {
        errorMessage: `${name} is subscribed to the ${previous.api === 'telemetry' ? 'Telemetry' : 'Logs'} API already`,
        errorType: validationType,
      });
    }
    // Subscribing again replaces the subscription (AWS: subscribing is idempotent).
    await previous?.close();
    const subscription = new Subscription({ name, api, ...parsed });
    this.#subscriptions.set(name, subscription);
    replyJson(response, 200, 'OK');
    for (const event of this.#backlog) subscription.push(event);
    this.publish(api === 'telemetry' ? 'platform.telemetrySubscription' : 'platform.logsSubscription', {
      name,
      state: 'Subscribed',
      types: [...subscription.types],
    });
  }
}

function parseSubscription(
  api: Api,
  body: Buffer,
): { schemaVersion: string; types: TelemetryType[]; buffering: Buffering; port: number; path: string } | string {
  let input: {
    schemaVersion?: unknown;
    types?: unknown;
    buffering?: Record<string, unknown>;
    destination?: { protocol?: unknown; URI?: unknown };
  };
  try {
    input = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return `request body is not JSON: ${(error as Error).message}`;
  }
  if (!input || typeof input !== 'object') return 'request body must be a JSON object';
  const problems: string[] = [];
  const schemaVersion = input.schemaVersion ?? (api === 'logs' ? LOGS_API_VERSION : undefined);
  if (typeof schemaVersion !== 'string' || !SCHEMA_VERSIONS[api].includes(schemaVersion)) {
    problems.push(`schemaVersion must be one of ${SCHEMA_VERSIONS[api].join(', ')}`);
  }
  const types = input.types;
  if (!Array.isArray(types) || types.length === 0) problems.push('types should not be empty');
  else if (types.some((type) => !TELEMETRY_TYPES.includes(type))) {
    problems.push('types must be platform, function or extension');
  }
  const buffering = {} as Buffering;
  for (const key of ['maxItems', 'maxBytes', 'timeoutMs'] as const) {
    const value = input.buffering?.[key] ?? LIMITS[key].default;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < LIMITS[key].min || value > LIMITS[key].max) {
      problems.push(`buffering.${key} must be an integer from ${LIMITS[key].min} to ${LIMITS[key].max}`);
    }
    buffering[key] = Number(value);
  }
  let port = 0;
  let path = '/';
  const destination = input.destination;
  if (!destination || typeof destination !== 'object') problems.push('destination is required');
  else if (destination.protocol === 'TCP') problems.push('destination.protocol TCP is not supported by this emulator; use HTTP');
  else if (destination.protocol !== 'HTTP') problems.push('destination.protocol must be HTTP or TCP');
  else {
    let uri: URL | undefined;
    try {
      uri = new URL(String(destination.URI));
    } catch {
      problems.push('destination.URI is not a URI');
    }
    if (uri) {
      if (uri.protocol !== 'http:') problems.push('destination.URI must be http://');
      else if (!LOCAL_HOSTS.has(uri.hostname))
        problems.push('destination.URI must be inside the execution environment (http://sandbox.localdomain:PORT/...)');
      else if (uri.port === '') problems.push('URI port is not provided');
      else {
        port = Number(uri.port);
        path = uri.pathname + uri.search;
      }
    }
  }
  if (problems.length > 0) return problems.join('; ');
  return { schemaVersion: schemaVersion as string, types: types as TelemetryType[], buffering, port, path };
}

function category(type: string): TelemetryType {
  if (type === 'function' || type === 'extension') return type;
  return 'platform';
}

/** Telemetry API shapes are what publish() gets; only the Logs API's own records are left out. */
function toTelemetryApi(event: TelemetryEvent): TelemetryEvent | undefined {
  if (event.type === 'platform.end' || event.type === 'platform.logsSubscription' || event.type === 'platform.fault') return undefined;
  return event;
}

/** The Logs API's older shapes: no init events, no status or tracing in records. */
function toLogsApi(event: TelemetryEvent, schemaVersion: string): TelemetryEvent | undefined {
  const record = event.record as Record<string, unknown>;
  switch (event.type) {
    case 'function':
    case 'extension':
    case 'platform.end':
    case 'platform.extension':
    case 'platform.logsSubscription':
    case 'platform.fault':
      return event;
    case 'platform.start':
      return { ...event, record: { requestId: record.requestId, version: record.version } };
    case 'platform.report':
      return { ...event, record: { requestId: record.requestId, metrics: record.metrics } };
    case 'platform.runtimeDone':
      // Only subscribers to schema 2021-03-18 get runtimeDone.
      return schemaVersion === '2021-03-18' ? { ...event, record: { requestId: record.requestId, status: record.status } } : undefined;
    default:
      return undefined;
  }
}

/** POSTs a batch to a listener on 127.0.0.1; rejects on a network error or a non-2xx answer. */
function post(port: number, path: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        timeout: 5000,
      },
      (incoming) => {
        incoming.resume();
        incoming.on('end', () => {
          const status = incoming.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`listener answered ${status}`));
        });
        incoming.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error('listener did not answer within 5 s')));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
