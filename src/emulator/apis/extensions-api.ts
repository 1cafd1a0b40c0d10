import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  EXTENSION_ACCEPT_FEATURE_HEADER,
  EXTENSION_EVENT_IDENTIFIER_HEADER,
  EXTENSION_EVENTS,
  EXTENSION_EXIT_ERROR_PATH,
  EXTENSION_FUNCTION_ERROR_TYPE_HEADER,
  EXTENSION_IDENTIFIER_HEADER,
  EXTENSION_INIT_ERROR_PATH,
  EXTENSION_NAME_HEADER,
  EXTENSION_NEXT_EVENT_PATH,
  EXTENSION_REGISTER_PATH,
  MAX_EXTENSIONS,
  type ExtensionEventType,
} from '../../../runtime/protocol/index.ts';
import { header, readBody, replyJson, serve } from './http.ts';

/**
 * The Extensions API of one execution environment, as AWS serves it next to
 * the Runtime API. Error types and messages are the ones AWS's Runtime
 * Interface Emulator (rapi/handler) sends: 403 with
 * {"errorMessage","errorType"} for anything an extension got wrong.
 */

export type ShutdownReason = 'spindown' | 'timeout' | 'failure';

export interface TraceContext {
  type: 'X-Amzn-Trace-Id';
  value: string;
}

export type ExtensionEvent =
  | {
      eventType: 'INVOKE';
      deadlineMs: number;
      requestId: string;
      invokedFunctionArn: string;
      tracing: TraceContext;
    }
  | { eventType: 'SHUTDOWN'; shutdownReason: ShutdownReason; deadlineMs: number };

/** What register answers with: the function as the extension sees it. */
export interface FunctionMetadata {
  functionName: string;
  functionVersion: string;
  handler: string;
  accountId: string;
}

export interface RegisteredExtension {
  readonly id: string;
  readonly name: string;
  /** External: a process of its own from /opt/extensions. Internal: runs inside the runtime process. */
  readonly kind: 'external' | 'internal';
  readonly events: ReadonlySet<ExtensionEventType>;
}

/** An extension reported a failure on /init/error or /exit/error. */
export interface ExtensionFailure {
  extension: RegisteredExtension;
  phase: 'init' | 'exit';
  errorType: string;
}

interface Extension extends RegisteredExtension {
  /** Events not yet handed over: the extension is busy with an earlier one. */
  readonly queue: ExtensionEvent[];
  /** An event was handed over and the extension has not called next since: it is still working on it. */
  busy: boolean;
  /** Its pending /event/next, if it is waiting. */
  waiting: ServerResponse | undefined;
  /** Set by its first /event/next: its init is done. */
  ready: boolean;
}

export interface IdentifyError {
  status: number;
  errorType: string;
  errorMessage: string;
}

export type Identified = { extension: RegisteredExtension } | IdentifyError;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Emits 'register' (RegisteredExtension), 'failure' (ExtensionFailure) and
 * 'change' whenever an extension's readiness may have changed.
 */
export class ExtensionsApi extends EventEmitter {
  readonly #metadata: FunctionMetadata;
  readonly #byId = new Map<string, Extension>();
  /** Names of the external extension executables launched for this environment. */
  readonly #external = new Set<string>();
  #registrationOpen = true;

  constructor(metadata: FunctionMetadata) {
    super();
    this.#metadata = metadata;
  }

  /**
   * Names (executable basenames) of the external extensions started for this
   * environment: a registration under one of these names is that process's;
   * any other name is an internal extension, as in AWS's RIE.
   */
  expectExternal(names: Iterable<string>): void {
    for (const name of names) this.#external.add(name);
  }

  /** Lambda takes registrations during init only. */
  closeRegistration(): void {
    this.#registrationOpen = false;
  }

  get extensions(): RegisteredExtension[] {
    return [...this.#byId.values()];
  }

  byName(name: string): RegisteredExtension | undefined {
    return [...this.#byId.values()].find((extension) => extension.name === name);
  }

  /** True when every registered extension has called next and holds no event. */
  get idle(): boolean {
    return [...this.#byId.values()].every((extension) => isIdle(extension));
  }

  /** Whether this extension has called next since it was last given an event (or ever, before any). */
  isIdle(extension: RegisteredExtension): boolean {
    const known = this.#byId.get(extension.id);
    return known !== undefined && isIdle(known);
  }

  subscribers(eventType: ExtensionEventType): RegisteredExtension[] {
    return [...this.#byId.values()].filter((extension) => extension.events.has(eventType));
  }

  /** Hands the event to every extension registered for its type; returns those. */
  dispatch(event: ExtensionEvent): RegisteredExtension[] {
    const targets = [...this.#byId.values()].filter((extension) => extension.events.has(event.eventType));
    for (const extension of targets) {
      extension.queue.push(event);
      this.#deliver(extension);
    }
    if (targets.length > 0) this.emit('change');
    return targets;
  }

  /** Identifies the caller by its Lambda-Extension-Identifier header (also for the Telemetry and Logs APIs). */
  identify(request: IncomingMessage): Identified {
    const id = header(request, EXTENSION_IDENTIFIER_HEADER);
    if (!id) {
      return { status: 403, errorType: 'Extension.MissingExtensionIdentifier', errorMessage: 'Missing Lambda-Extension-Identifier header' };
    }
    if (!UUID.test(id)) {
      return { status: 403, errorType: 'Extension.InvalidExtensionIdentifier', errorMessage: 'Invalid Lambda-Extension-Identifier' };
    }
    const extension = this.#byId.get(id.toLowerCase());
    if (!extension) return { status: 403, errorType: 'Extension.UnknownExtensionIdentifier', errorMessage: `Unknown extension ${id}` };
    return { extension };
  }

  /** Ends the long polls still open (the environment is going away). */
  close(): void {
    for (const extension of this.#byId.values()) {
      extension.waiting?.destroy();
      extension.waiting = undefined;
    }
  }

  /** Routes a request under EXTENSIONS_API_PREFIX. */
  handle(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '').split('?')[0];
    const routes: Record<string, [string, () => void]> = {
      [EXTENSION_REGISTER_PATH]: ['POST', () => serve(this.#register(request, response), response)],
      [EXTENSION_NEXT_EVENT_PATH]: ['GET', () => this.#next(request, response)],
      [EXTENSION_INIT_ERROR_PATH]: ['POST', () => serve(this.#error('init', request, response), response)],
      [EXTENSION_EXIT_ERROR_PATH]: ['POST', () => serve(this.#error('exit', request, response), response)],
    };
    const route = routes[path ?? ''];
    if (!route) {
      request.resume();
      return replyJson(response, 404, { errorMessage: `no such path: ${request.url}`, errorType: 'UnknownPath' });
    }
    if (request.method !== route[0]) {
      request.resume();
      return replyJson(response, 405, { errorMessage: `${path} takes ${route[0]}`, errorType: 'MethodNotAllowed' });
    }
    route[1]();
  }

  async #register(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const forbid = (errorType: string, errorMessage: string) => replyJson(response, 403, { errorMessage, errorType });
    const name = header(request, EXTENSION_NAME_HEADER);
    if (!name) return forbid('Extension.InvalidExtensionName', 'Empty extension name');
    let events: unknown;
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { events?: unknown; configurationKeys?: unknown };
      if (Array.isArray(parsed.configurationKeys) && parsed.configurationKeys.length > 0) {
        return forbid('InvalidRequestFormat', 'configurationKeys are deprecated; use environment variables instead');
      }
      events = parsed.events ?? [];
    } catch (error) {
      return forbid('InvalidRequestFormat', (error as Error).message);
    }
    if (!Array.isArray(events)) return forbid('InvalidRequestFormat', 'events must be an array');
    const kind = this.#external.has(name) ? 'external' : 'internal';
    for (const event of events) {
      if (!EXTENSION_EVENTS.includes(event)) return forbid('Extension.InvalidEventType', `${String(event)}: ErrorInvalidEventType`);
      // Only a process of its own can outlive the runtime's SIGTERM to handle SHUTDOWN.
      if (event === 'SHUTDOWN' && kind === 'internal') {
        return forbid('Extension.InvalidEventType', 'SHUTDOWN: ShutdownEventNotSupportedForInternalExtension');
      }
    }
    if (!this.#registrationOpen) return forbid('Extension.RegistrationClosed', 'Extension registration closed already');
    if (this.byName(name)) return forbid('Extension.InvalidExtensionState', 'Extension with this name already registered');
    if (this.#byId.size >= MAX_EXTENSIONS) return forbid('Extension.TooManyExtensions', `Extension limit (${MAX_EXTENSIONS}) reached`);
    const extension: Extension = {
      id: randomUUID(),
      name,
      kind,
      events: new Set(events as ExtensionEventType[]),
      queue: [],
      busy: false,
      waiting: undefined,
      ready: false,
    };
    this.#byId.set(extension.id, extension);
    const metadata: Partial<FunctionMetadata> = {
      functionName: this.#metadata.functionName,
      functionVersion: this.#metadata.functionVersion,
      handler: this.#metadata.handler,
    };
    // AWS adds accountId only for extensions that ask for it.
    const features = (header(request, EXTENSION_ACCEPT_FEATURE_HEADER) ?? '').split(',').map((feature) => feature.trim());
    if (features.includes('accountId')) metadata.accountId = this.#metadata.accountId;
    replyJson(response, 200, metadata, { [EXTENSION_IDENTIFIER_HEADER]: extension.id });
    this.emit('register', extension);
    this.emit('change');
  }

  #next(request: IncomingMessage, response: ServerResponse): void {
    request.resume();
    const identified = this.identify(request);
    if (!('extension' in identified)) return replyIdentifyError(response, identified);
    const extension = this.#byId.get(identified.extension.id)!;
    if (extension.waiting && !extension.waiting.destroyed) {
      return replyJson(response, 403, {
        errorMessage: `Extension ${extension.name} is already waiting for its next event`,
        errorType: 'Extension.InvalidExtensionState',
      });
    }
    // Calling next is how an extension says it is done with its init or with the last event.
    extension.ready = true;
    extension.busy = false;
    extension.waiting = response;
    response.on('close', () => {
      if (extension.waiting === response) extension.waiting = undefined;
    });
    this.#deliver(extension);
    this.emit('change');
  }

  async #error(phase: 'init' | 'exit', request: IncomingMessage, response: ServerResponse): Promise<void> {
    await readBody(request);
    const identified = this.identify(request);
    if (!('extension' in identified)) return replyIdentifyError(response, identified);
    const errorType = header(request, EXTENSION_FUNCTION_ERROR_TYPE_HEADER);
    if (!errorType) {
      return replyJson(response, 403, {
        errorMessage: `${EXTENSION_FUNCTION_ERROR_TYPE_HEADER} not found`,
        errorType: 'Extension.MissingHeader',
      });
    }
    replyJson(response, 202, { status: 'OK' });
    const failure: ExtensionFailure = { extension: identified.extension, phase, errorType };
    this.emit('failure', failure);
  }

  #deliver(extension: Extension): void {
    const response = extension.waiting;
    if (!response || response.destroyed || extension.queue.length === 0) return;
    const event = extension.queue.shift()!;
    extension.waiting = undefined;
    extension.busy = true;
    replyJson(response, 200, event, { [EXTENSION_EVENT_IDENTIFIER_HEADER]: randomUUID() });
  }
}

/** Answers a request whose Lambda-Extension-Identifier did not identify an extension. */
export function replyIdentifyError(response: ServerResponse, failed: IdentifyError): void {
  replyJson(response, failed.status, { errorMessage: failed.errorMessage, errorType: failed.errorType });
}

function isIdle(extension: Extension): boolean {
  return extension.ready && !extension.busy && extension.queue.length === 0;
}
