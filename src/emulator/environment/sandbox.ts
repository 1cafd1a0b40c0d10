import { EventEmitter } from 'node:events';
import { EXTENSIONS_API_PREFIX, LOGS_API_PATH, TELEMETRY_API_PATH } from '../../../runtime/protocol/index.ts';
import { functionArn } from '../../platform/function-arn.ts';
import { ExtensionsApi, type ExtensionFailure, type RegisteredExtension } from '../apis/extensions-api.ts';
import { RuntimeApiServer } from '../apis/runtime-api-server.ts';
import { TelemetryApi } from '../apis/telemetry-api.ts';
import type { FunctionSettings } from '../invocation.ts';
import type { ExitStatus, LaunchedRuntime } from '../launchers/launcher.ts';
import { PlatformLog } from './platform-log.ts';

export interface RuntimeExit {
  kind: 'runtime-exit';
  status: ExitStatus;
}

export interface ExtensionExit {
  kind: 'extension-exit';
  name: string;
  status: ExitStatus;
}

/** A wait that can be given up: what it waited for no longer holds on to the caller. */
export interface Waiting<T> {
  readonly promise: Promise<T>;
  cancel(): void;
}

/**
 * What one execution environment is made of, shared by its phases (init,
 * invoke, shutdown): its Runtime API server with the Extensions, Telemetry
 * and Logs APIs on the same host:port, the runtime and external extension
 * processes, and the platform log. Every change of the runtime's or the
 * extensions' state (ready, idle, exited, failed) wakes whoever waits on it.
 */
export class Sandbox {
  readonly settings: FunctionSettings;
  readonly server: RuntimeApiServer;
  readonly extensionsApi: ExtensionsApi;
  readonly telemetry: TelemetryApi;
  readonly log: PlatformLog;
  /** External extension processes by name (their executable's basename). */
  readonly extensionProcesses = new Map<string, LaunchedRuntime>();
  /** Set once killed or shut down: nothing runs in it any more. */
  dead = false;
  /** Set by the runtime's first call to next. */
  runtimeReady = false;
  /** The first failure an extension reported on /init/error or /exit/error. */
  extensionFailure: ExtensionFailure | undefined;
  #runtime: LaunchedRuntime | undefined;
  #runtimeExit: ExitStatus | undefined;
  readonly #exitedExtensions = new Set<string>();
  #firstExtensionExit: ExtensionExit | undefined;
  readonly #changes = new EventEmitter().setMaxListeners(0);

  private constructor(settings: FunctionSettings, server: RuntimeApiServer, write: (line: string) => void) {
    this.settings = settings;
    this.server = server;
    this.extensionsApi = new ExtensionsApi({
      functionName: settings.name,
      functionVersion: settings.version,
      handler: settings.handler ?? '',
      accountId: settings.accountId,
    });
    this.telemetry = new TelemetryApi(this.extensionsApi);
    this.log = new PlatformLog(write, this.telemetry);
    server.mount(`${EXTENSIONS_API_PREFIX}/`, (request, response) => this.extensionsApi.handle(request, response));
    server.mount(TELEMETRY_API_PATH, (request, response) => this.telemetry.handle('telemetry', request, response));
    server.mount(LOGS_API_PATH, (request, response) => this.telemetry.handle('logs', request, response));
    server.on('next', () => {
      this.runtimeReady = true;
      this.changed();
    });
    server.on('init-error', () => this.changed());
    this.extensionsApi.on('change', () => this.changed());
    this.extensionsApi.on('register', (extension: RegisteredExtension) => this.log.extensionRegistered(extension));
    this.extensionsApi.on('failure', (failure: ExtensionFailure) => {
      this.extensionFailure ??= failure;
      this.changed();
    });
  }

  static async create(settings: FunctionSettings, write: (line: string) => void): Promise<Sandbox> {
    const server = await RuntimeApiServer.start({
      host: '127.0.0.1',
      functionArn: functionArn(settings),
      defaultTimeoutMs: settings.timeoutSeconds * 1000,
    });
    return new Sandbox(settings, server, write);
  }

  get runtime(): LaunchedRuntime | undefined {
    return this.#runtime;
  }

  set runtime(runtime: LaunchedRuntime) {
    this.#runtime = runtime;
    void runtime.exited.then((status) => {
      this.#runtimeExit = status;
      this.changed();
    });
  }

  /** Whether the runtime has exited; true when there never was one. */
  get runtimeExited(): boolean {
    return this.#runtime === undefined || this.#runtimeExit !== undefined;
  }

  addExtensionProcess(name: string, process: LaunchedRuntime): void {
    this.extensionProcesses.set(name, process);
    void process.exited.then((status) => {
      // Retrying deliveries to a listener whose process is gone would only hold things up.
      this.telemetry.unsubscribe(name);
      this.#exitedExtensions.add(name);
      this.#firstExtensionExit ??= { kind: 'extension-exit', name, status };
      this.changed();
    });
  }

  hasExited(extensionName: string): boolean {
    return this.#exitedExtensions.has(extensionName);
  }

  /** The runtime and the extension processes. */
  get processes(): LaunchedRuntime[] {
    return [this.#runtime, ...this.extensionProcesses.values()].filter((process) => process !== undefined);
  }

  changed(): void {
    this.#changes.emit('change');
  }

  /** Resolves once `condition` holds; checked now and on every change. */
  until(condition: () => boolean): Waiting<void> {
    let check = () => {};
    const promise = new Promise<void>((resolve) => {
      check = () => {
        if (!condition()) return;
        this.#changes.off('change', check);
        resolve();
      };
    });
    this.#changes.on('change', check);
    check();
    return { promise, cancel: () => this.#changes.off('change', check) };
  }

  /**
   * Resolves once the runtime has exited. An environment waits for its
   * processes' exits once per invoke: as reactions to the processes' `exited`
   * promises, those waits (and what each invoke resolved to) would be kept
   * until the process exits; these are dropped when cancelled.
   */
  runtimeExit(): Waiting<RuntimeExit> {
    const waiting = this.until(() => this.#runtimeExit !== undefined);
    return { promise: waiting.promise.then(() => ({ kind: 'runtime-exit', status: this.#runtimeExit! })), cancel: waiting.cancel };
  }

  /** Resolves once an external extension has exited, with the first one's exit. */
  extensionExit(): Waiting<ExtensionExit> {
    const waiting = this.until(() => this.#firstExtensionExit !== undefined);
    return { promise: waiting.promise.then(() => this.#firstExtensionExit!), cancel: waiting.cancel };
  }

  /** Kills the runtime and extensions at once and frees everything. */
  async kill(): Promise<void> {
    this.changed();
    this.#changes.removeAllListeners();
    this.telemetry.drop();
    this.extensionsApi.close();
    await Promise.all(this.processes.map((process) => process.dispose()));
    await this.server.close();
  }
}
