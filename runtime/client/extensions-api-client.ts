/**
 * The Extensions API client: one per extension, on the runtime's own
 * connection. Used by lambda-kit/extension and by the runtime itself
 * (graceful shutdown registers an internal extension).
 */
import {
  EXTENSION_IDENTIFIER_HEADER,
  EXTENSION_NEXT_EVENT_PATH,
  EXTENSION_REGISTER_PATH,
  type ExtensionEventType,
  type RuntimeErrorDocument,
} from '../protocol/index.ts';
import { ExtensionsApiError } from '../errors.ts';
import { ApiConnection, type ApiResponse } from './connection.ts';
import {
  extensionErrorPath,
  extensionErrorRequest,
  nextEventRequest,
  registerRequest,
  subscribeRequest,
  subscriptionPath,
  type RequestTarget,
} from './requests.ts';

export type { ExtensionEventType } from '../protocol/index.ts';

export interface InvokeEvent {
  eventType: 'INVOKE';
  /** When the invocation times out, in ms since the epoch. */
  deadlineMs: number;
  requestId: string;
  invokedFunctionArn: string;
  tracing?: { type: string; value: string };
}

export interface ShutdownEvent {
  eventType: 'SHUTDOWN';
  /** spindown (Lambda is recycling the environment), timeout or failure. */
  shutdownReason: 'spindown' | 'timeout' | 'failure' | (string & {});
  /** When the shutdown window closes and Lambda sends SIGKILL, in ms since the epoch. */
  deadlineMs: number;
}

export type ExtensionEvent = InvokeEvent | ShutdownEvent;

/** What /register answers: the identifier for later calls, and facts about the function. */
export interface ExtensionRegistration {
  extensionId: string;
  functionName: string;
  functionVersion: string;
  handler: string;
  /** Only when the extension asked for the accountId feature. */
  accountId?: string;
}

/** The error document of init/error and exit/error: the one the Runtime API takes. */
export type ExtensionErrorPayload = RuntimeErrorDocument;

/**
 * One extension's client. Requests go one at a time over one connection, as
 * an extension's life is sequential (register, subscribe, next, next, ...);
 * error reports get a connection of their own, since next may be pending.
 *
 * @example
 * ```ts
 * import { ExtensionsApiClient } from 'lambda-kit/extension';
 *
 * // An event loop of one's own (runExtension is this, and more).
 * const client = new ExtensionsApiClient(process.env.AWS_LAMBDA_RUNTIME_API!);
 * await client.register('my-extension', ['INVOKE', 'SHUTDOWN']);
 * for (let event = await client.nextEvent(); event.eventType === 'INVOKE'; event = await client.nextEvent()) {
 *   console.log('invoked', event.requestId);
 * }
 * ```
 */
export class ExtensionsApiClient {
  readonly target: RequestTarget;
  readonly #connection: ApiConnection;
  readonly #nextKeepsProcessAlive: boolean;
  #extensionId: string | undefined;

  /**
   * `nextKeepsProcessAlive: false` for an extension inside the function's
   * process: its wait for the next event must not keep the process running
   * (the runtime decides that), though its registration must.
   */
  constructor(authority: string, options: { nextKeepsProcessAlive?: boolean } = {}) {
    this.target = { authority };
    this.#connection = ApiConnection.fromAuthority(authority);
    this.#nextKeepsProcessAlive = options.nextKeepsProcessAlive ?? true;
  }

  get extensionId(): string | undefined {
    return this.#extensionId;
  }

  async register(
    name: string,
    events: readonly ExtensionEventType[],
    acceptFeatures: readonly string[] = [],
  ): Promise<ExtensionRegistration> {
    const response = await this.#connection.request(
      registerRequest(this.target, name, acceptFeatures),
      JSON.stringify({ events }),
      REGISTRATION_FIELDS,
    );
    const what = `POST ${EXTENSION_REGISTER_PATH} (${name})`;
    if (response.status !== 200) {
      throw apiError(what, response, ': an extension registers once, during init, for INVOKE and (external ones only) SHUTDOWN');
    }
    const extensionId = response.picked![0];
    if (!extensionId) throw new ExtensionsApiError(what, response.status, `no ${EXTENSION_IDENTIFIER_HEADER} header in the answer`);
    this.#extensionId = extensionId;
    const body = parseJson(response) as Partial<ExtensionRegistration>;
    return {
      extensionId,
      functionName: body.functionName ?? '',
      functionVersion: body.functionVersion ?? '',
      handler: body.handler ?? '',
      ...(body.accountId !== undefined && { accountId: body.accountId }),
    };
  }

  /** Waits, with no client-side timeout, for the next event; calling it also says the last one is handled. */
  async nextEvent(): Promise<ExtensionEvent> {
    const request = nextEventRequest(this.target, this.#id());
    const pending = this.#connection.request(request);
    this.#connection.keepProcessAlive(this.#nextKeepsProcessAlive);
    let response: ApiResponse;
    try {
      response = await pending;
    } finally {
      this.#connection.keepProcessAlive(true);
    }
    if (response.status !== 200) throw apiError(`GET ${EXTENSION_NEXT_EVENT_PATH}`, response);
    return parseJson(response) as ExtensionEvent;
  }

  /** Subscribes to the Telemetry API (or the older Logs API) with a subscription body as AWS documents it. */
  async subscribe(api: 'telemetry' | 'logs', subscription: Record<string, unknown>): Promise<void> {
    const response = await this.#connection.request(subscribeRequest(this.target, api, this.#id()), JSON.stringify(subscription));
    if (response.status !== 200) {
      throw apiError(`PUT ${subscriptionPath(api)}`, response);
    }
  }

  /** Reports a failure in init (phase 'init') or later (phase 'exit'); Lambda then resets the environment. */
  async reportError(phase: 'init' | 'exit', payload: ExtensionErrorPayload): Promise<void> {
    const connection = ApiConnection.fromAuthority(this.target.authority);
    try {
      const response = await connection.request(
        extensionErrorRequest(this.target, phase, this.#id(), payload.errorType),
        JSON.stringify(payload),
      );
      if (response.status !== 202) throw apiError(`POST ${extensionErrorPath(phase)}`, response);
    } finally {
      connection.close();
    }
  }

  close(): void {
    this.#connection.close();
  }

  #id(): string {
    if (this.#extensionId === undefined) throw new ExtensionsApiError('the Extensions API', 0, 'not registered yet: call register() first');
    return this.#extensionId;
  }
}

/** What register() reads of the head of /register's answer. */
const REGISTRATION_FIELDS = [EXTENSION_IDENTIFIER_HEADER] as const;

function parseJson(response: ApiResponse): unknown {
  try {
    return JSON.parse(response.body);
  } catch {
    throw new ExtensionsApiError('the Extensions API', response.status, `answer is not JSON: ${response.body.slice(0, 200)}`);
  }
}

function apiError(request: string, response: ApiResponse, advice = ''): ExtensionsApiError {
  return new ExtensionsApiError(request, response.status, response.body, advice);
}
