import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { basename } from 'node:path';
import { EXTENSIONS_API_PREFIX, LOGS_API_PATH, TELEMETRY_API_PATH } from '../../runtime/protocol/index.ts';
import { ExtensionsApi, type ExtensionFailure, type RegisteredExtension, type ShutdownReason } from './apis/extensions-api.ts';
import { describeExit, type ExitStatus, type LaunchedRuntime, type Launcher } from './launchers/launcher.ts';
import { RuntimeApiServer, type InvocationOutcome } from './apis/runtime-api-server.ts';
import { TelemetryApi } from './apis/telemetry-api.ts';

/** What Lambda knows about a function, as far as running it goes. */
export interface FunctionSettings {
  name: string;
  version: string;
  region: string;
  accountId: string;
  memoryMb: number;
  timeoutSeconds: number;
  handler: string | undefined;
  environment: Record<string, string>;
  /** AWS_LAMBDA_MAX_CONCURRENCY: invocations one environment's runtime takes at once. */
  runtimeConcurrency: number;
  /** Lambda gives init 10 s before it gives up on an environment. */
  initTimeoutMs: number;
}

export interface InvokeRequest {
  payload: Buffer;
  requestId?: string;
  /** Decoded client context JSON (the Invoke API takes it base64). */
  clientContext?: string;
  cognitoIdentity?: string;
  tenantId?: string;
  traceId?: string;
  onChunk?: (chunk: Buffer) => void;
}

export interface InvokeReport {
  durationMs: number;
  billedDurationMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number | undefined;
  initDurationMs: number | undefined;
}

export interface InvokeResult {
  requestId: string;
  /** True when the caller must see X-Amz-Function-Error: Unhandled. */
  functionError: boolean;
  /** The response, or the error document for a function error. */
  body: Buffer;
  contentType: string;
  /** Whether the runtime streamed its answer. */
  streamed: boolean;
  /** For a stream that ended with error trailers: the error the runtime reported. */
  streamError?: { errorType: string; body: string };
  /**
   * The invocation's log: START, the function's lines, END and REPORT, as
   * CloudWatch shows them. When extensions registered for INVOKE, the answer
   * comes before they are done: then it ends where the runtime answered, and
   * END and REPORT follow in the function's log once `settled` resolves.
   */
  logs: string[];
  /** The runtime's part; the final report when `settled` is absent. */
  report: InvokeReport;
  /**
   * Present when extensions registered for INVOKE: resolves with the final
   * report (the Duration includes their work) once each of them has called
   * next again, as Lambda's invoke phase ends only then.
   */
  settled?: Promise<InvokeReport>;
}

/**
 * AWS's Shutdown phase limits: 2,000 ms when an external extension is
 * registered, 500 ms with internal extensions only, 0 ms (no SIGTERM, just
 * SIGKILL) without extensions. (Lambda developer guide, "Shutdown phase".)
 */
export const SHUTDOWN_WINDOW_MS = { external: 2000, internal: 500, none: 0 } as const;

type InitFailureResult =
  | 'timeout'
  | Extract<InvocationOutcome, { kind: 'init-error' }>
  | { kind: 'runtime-exit'; status: ExitStatus }
  | { kind: 'extension-exit'; name: string; status: ExitStatus }
  | { kind: 'extension-failure'; failure: ExtensionFailure };

function newTraceId(): string {
  return `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)};Sampled=0`;
}

export function functionArn(settings: FunctionSettings): string {
  return `arn:aws:lambda:${settings.region}:${settings.accountId}:function:${settings.name}`;
}

function errorDocument(errorType: string, errorMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ errorType, errorMessage }));
}

const mb = (bytes: number | undefined) => (bytes === undefined ? undefined : Math.ceil(bytes / (1024 * 1024)));

/**
 * One execution environment: a Runtime API of its own (with the Extensions,
 * Telemetry and Logs APIs on the same host:port), one runtime process or
 * container and its external extension processes. Dies on a timeout or a
 * crash of any of them; the pool then starts a fresh one.
 */
export class ExecutionEnvironment {
  readonly id = randomUUID().slice(0, 8);
  readonly #settings: FunctionSettings;
  readonly #server: RuntimeApiServer;
  readonly #extensionsApi: ExtensionsApi;
  readonly #telemetry: TelemetryApi;
  readonly #log: (line: string) => void;
  readonly #captures = new Set<string[]>();
  /** Emits 'change' whenever the runtime or an extension may have become ready or idle. */
  readonly #changes = new EventEmitter().setMaxListeners(0);
  /** External extension processes by name (their executable's basename). */
  readonly #extensionProcesses = new Map<string, LaunchedRuntime>();
  /** Settles when the first external extension process exits: for a running environment, a crash. */
  #extensionExit: Promise<{ kind: 'extension-exit'; name: string; status: ExitStatus }> = new Promise(() => {});
  #runtime: LaunchedRuntime | undefined;
  #runtimeReady = false;
  #dead = false;
  #inFlight = 0;
  /** Init Duration, reported (and billed, for custom runtimes) on the environment's first invoke only. */
  #pendingInitDurationMs: number | undefined;

  private constructor(settings: FunctionSettings, server: RuntimeApiServer, log: (line: string) => void) {
    this.#settings = settings;
    this.#server = server;
    this.#log = log;
    this.#extensionsApi = new ExtensionsApi({
      functionName: settings.name,
      functionVersion: settings.version,
      handler: settings.handler ?? '',
      accountId: settings.accountId,
    });
    this.#telemetry = new TelemetryApi(this.#extensionsApi);
    server.mount(EXTENSIONS_API_PREFIX + '/', (request, response) => this.#extensionsApi.handle(request, response));
    server.mount(TELEMETRY_API_PATH, (request, response) => this.#telemetry.handle('telemetry', request, response));
    server.mount(LOGS_API_PATH, (request, response) => this.#telemetry.handle('logs', request, response));
    server.on('next', () => {
      this.#runtimeReady = true;
      this.#changes.emit('change');
    });
    this.#extensionsApi.on('change', () => this.#changes.emit('change'));
    this.#extensionsApi.on('register', (extension: RegisteredExtension) =>
      this.#telemetry.publish('platform.extension', { name: extension.name, state: 'Ready', events: [...extension.events] }),
    );
  }

  get alive(): boolean {
    return !this.#dead;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get hasCapacity(): boolean {
    return !this.#dead && this.#inFlight < this.#settings.runtimeConcurrency;
  }

  /** The Runtime API this environment's runtime talks to. */
  get runtimeApi(): RuntimeApiServer {
    return this.#server;
  }

  /** The extensions registered in this environment. */
  get extensions(): RegisteredExtension[] {
    return this.#extensionsApi.extensions;
  }

  /**
   * Starts an environment as Lambda's init phase does: the external
   * extensions first (each must register), then the runtime; init is done
   * once the runtime and every registered extension have called next. Fails
   * on an init error, an exit of any of them, or the init timeout.
   */
  static async start(
    settings: FunctionSettings,
    launcher: Launcher,
    log: (line: string) => void,
  ): Promise<{ environment: ExecutionEnvironment } | { failure: { errorType: string; errorMessage: string; logs: string[] } }> {
    const server = await RuntimeApiServer.start({
      host: '127.0.0.1',
      functionArn: functionArn(settings),
      defaultTimeoutMs: settings.timeoutSeconds * 1000,
    });
    const environment = new ExecutionEnvironment(settings, server, log);
    const extensionsApi = environment.#extensionsApi;
    const telemetry = environment.#telemetry;
    const initLog: string[] = [];
    environment.#captures.add(initLog);
    const started = performance.now();
    const initRecord = { initializationType: 'on-demand', phase: 'init' } as const;
    telemetry.publish('platform.initStart', { ...initRecord });
    const variables = {
      ...launcher.environment(),
      ...settings.environment,
      ...environment.#lambdaVariables(),
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), settings.initTimeoutMs);
      });
      const extensionFailed = new Promise<InitFailureResult>((resolve) =>
        extensionsApi.once('failure', (failure: ExtensionFailure) => resolve({ kind: 'extension-failure', failure })),
      );
      // Extension init: each external extension starts and registers before the runtime starts.
      const paths = (await launcher.extensions?.()) ?? [];
      const names = paths.map((path) => basename(path));
      extensionsApi.expectExternal(names);
      await environment.#launchExtensions(launcher, paths, variables);
      let result: 'ready' | 'registered' | InitFailureResult = await Promise.race([
        environment.#until(() => names.every((name) => extensionsApi.byName(name))).then(() => 'registered' as const),
        environment.#extensionExit,
        extensionFailed,
        timedOut,
      ]);
      if (result === 'registered') {
        // Runtime init and function init.
        environment.#runtime = await launcher.launch(variables, (line) => environment.#onLine(line));
        const runtime = environment.#runtime;
        result = await Promise.race([
          environment.#until(() => environment.#runtimeReady && extensionsApi.idle).then(() => 'ready' as const),
          new Promise<Extract<InvocationOutcome, { kind: 'init-error' }>>((resolve) => server.once('init-error', resolve)),
          runtime.exited.then((status) => ({ kind: 'runtime-exit' as const, status })),
          environment.#extensionExit,
          extensionFailed,
          timedOut,
        ]);
      }
      const initDurationMs = performance.now() - started;
      if (result === 'ready') {
        extensionsApi.closeRegistration();
        telemetry.closeSubscriptions();
        for (const extension of extensionsApi.extensions) {
          environment.#emit(`EXTENSION\tName: ${extension.name}\tState: Ready\tEvents: [${[...extension.events].join(', ')}]`);
        }
        telemetry.publish('platform.initRuntimeDone', { ...initRecord, status: 'success' });
        telemetry.publish('platform.initReport', { ...initRecord, status: 'success', metrics: { durationMs: round(initDurationMs) } });
        environment.#pendingInitDurationMs = initDurationMs;
        environment.#captures.delete(initLog);
        return { environment };
      }
      const { errorType, errorMessage, status } = describeInitFailure(result as InitFailureResult, settings.initTimeoutMs);
      environment.#emit(
        `INIT_REPORT Init Duration: ${initDurationMs.toFixed(2)} ms\tPhase: init\tStatus: ${status}` +
          (status === 'error' ? `\tError Type: ${errorType}` : ''),
      );
      telemetry.publish('platform.initRuntimeDone', { ...initRecord, status, errorType });
      telemetry.publish('platform.initReport', { ...initRecord, status, errorType, metrics: { durationMs: round(initDurationMs) } });
      await environment.destroy();
      return { failure: { errorType, errorMessage, logs: initLog } };
    } catch (error) {
      await environment.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #launchExtensions(launcher: Launcher, paths: string[], variables: Record<string, string>): Promise<void> {
    if (paths.length === 0) return;
    if (!launcher.launchExtension) throw new Error(`${launcher.description}: this launcher cannot start extensions`);
    const exits: Array<Promise<{ kind: 'extension-exit'; name: string; status: ExitStatus }>> = [];
    for (const path of paths) {
      const name = basename(path);
      // The same environment as the runtime gets, AWS_LAMBDA_RUNTIME_API included.
      const process = await launcher.launchExtension(path, variables, (line) => this.#onExtensionLine(line));
      this.#extensionProcesses.set(name, process);
      void process.exited.then(() => this.#telemetry.unsubscribe(name));
      exits.push(process.exited.then((status) => ({ kind: 'extension-exit' as const, name, status })));
    }
    this.#extensionExit = Promise.race(exits);
  }

  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    const settings = this.#settings;
    const runtime = this.#runtime!;
    const requestId = request.requestId ?? randomUUID();
    const logs: string[] = [];
    this.#captures.add(logs);
    this.#inFlight++;
    const initDurationMs = this.#pendingInitDurationMs;
    this.#pendingInitDurationMs = undefined;
    const traceId = request.traceId ?? newTraceId();
    const tracing = { type: 'X-Amzn-Trace-Id' as const, value: traceId };
    this.#emit(`START RequestId: ${requestId} Version: ${settings.version}`);
    this.#telemetry.publish('platform.start', { requestId, version: settings.version, tracing });
    const started = performance.now();
    const timeoutMs = settings.timeoutSeconds * 1000;
    // Lambda hands the event to the runtime and to the extensions registered for INVOKE at once.
    const invokeExtensions = this.#extensionsApi.dispatch({
      eventType: 'INVOKE',
      deadlineMs: Date.now() + timeoutMs,
      requestId,
      invokedFunctionArn: functionArn(settings),
      tracing,
    });
    let timer: NodeJS.Timeout | undefined;
    let result: Omit<InvokeResult, 'logs' | 'report' | 'requestId'>;
    let runtimeDurationMs: number;
    let status: RunStatus;
    try {
      const answer = await Promise.race([
        this.#server.invoke(request.payload, {
          requestId,
          timeoutMs,
          traceId,
          ...(request.clientContext !== undefined && { clientContext: request.clientContext }),
          ...(request.cognitoIdentity !== undefined && { cognitoIdentity: request.cognitoIdentity }),
          ...(request.tenantId !== undefined && { tenantId: request.tenantId }),
          ...(request.onChunk !== undefined && { onChunk: request.onChunk }),
        }),
        runtime.exited.then((status) => ({ kind: 'exit' as const, status })),
        this.#extensionExit,
        new Promise<{ kind: 'timeout' }>((resolve) => {
          timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
        }),
      ]);
      runtimeDurationMs = performance.now() - started;
      await outputCaughtUp();
      status = runStatus(answer);
      this.#telemetry.publish('platform.runtimeDone', {
        requestId,
        ...status,
        metrics: {
          durationMs: round(runtimeDurationMs),
          producedBytes: answer.kind === 'response' || answer.kind === 'stream' ? answer.body.byteLength : 0,
        },
        tracing,
      });
      result = await this.#settle(requestId, answer);
    } finally {
      clearTimeout(timer);
    }
    const finish = async (finalStatus: RunStatus): Promise<InvokeReport> => {
      const durationMs = performance.now() - started;
      // Measured before a timed-out or crashed environment is torn down (which #settle awaits only without extensions).
      const peakBytes = await this.#peakMemoryBytes();
      const maxMemoryUsedMb = mb(peakBytes);
      // Custom runtimes are billed for init too.
      const billedDurationMs = Math.ceil(durationMs) + (initDurationMs === undefined ? 0 : Math.ceil(initDurationMs));
      this.#emit(`END RequestId: ${requestId}`);
      this.#telemetry.publish('platform.end', { requestId });
      this.#emit(
        `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${billedDurationMs} ms\t` +
          `Memory Size: ${settings.memoryMb} MB\tMax Memory Used: ${maxMemoryUsedMb ?? 0} MB\t` +
          (initDurationMs === undefined ? '' : `Init Duration: ${initDurationMs.toFixed(2)} ms\t`),
      );
      const metrics = {
        durationMs: round(durationMs),
        billedDurationMs,
        memorySizeMB: settings.memoryMb,
        maxMemoryUsedMB: maxMemoryUsedMb ?? 0,
        ...(initDurationMs !== undefined && { initDurationMs: round(initDurationMs) }),
      };
      this.#telemetry.publish('platform.report', { requestId, ...finalStatus, metrics, tracing });
      this.#captures.delete(logs);
      this.#inFlight--;
      return { durationMs, billedDurationMs, memorySizeMb: settings.memoryMb, maxMemoryUsedMb, initDurationMs };
    };
    if (invokeExtensions.length === 0 || !this.alive) {
      const report = await finish(status);
      return { requestId, ...result, logs, report };
    }
    // The caller has its answer; the invoke phase (and so REPORT) ends when each extension has called next again.
    const report: InvokeReport = {
      durationMs: runtimeDurationMs,
      billedDurationMs: Math.ceil(runtimeDurationMs),
      memorySizeMb: settings.memoryMb,
      maxMemoryUsedMb: undefined,
      initDurationMs,
    };
    const settled = this.#afterInvoke(requestId, invokeExtensions, timeoutMs - runtimeDurationMs).then((failure) =>
      finish(failure ?? status),
    );
    return { requestId, ...result, logs: [...logs], report, settled };
  }

  /**
   * Waits for the extensions that got the INVOKE to call next again, within
   * what is left of the function's timeout. Returns the failure, if any, after
   * tearing the environment down for it.
   */
  async #afterInvoke(requestId: string, extensions: RegisteredExtension[], remainingMs: number): Promise<RunStatus | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.#until(() => !this.alive || extensions.every((extension) => this.#extensionsApi.isIdle(extension))).then(() => 'done' as const),
      this.#extensionExit,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(0, remainingMs));
      }),
    ]);
    clearTimeout(timer);
    if (outcome === 'done') return undefined;
    if (outcome === 'timeout') {
      const seconds = this.#settings.timeoutSeconds.toFixed(2);
      this.#emit(`${new Date().toISOString()} ${requestId} Task timed out after ${seconds} seconds`);
      await this.#terminate('timeout');
      return { status: 'timeout' };
    }
    this.#emit(`RequestId: ${requestId} Error: Extension ${outcome.name} exited: ${describeExit(outcome.status)}\nExtension.Crash`);
    await this.#terminate('failure');
    return { status: 'failure', errorType: 'Extension.Crash' };
  }

  async #settle(
    requestId: string,
    answer:
      | InvocationOutcome
      | { kind: 'exit'; status: ExitStatus }
      | { kind: 'timeout' }
      | { kind: 'extension-exit'; name: string; status: ExitStatus },
  ): Promise<Omit<InvokeResult, 'logs' | 'report' | 'requestId'>> {
    const json = 'application/json';
    switch (answer.kind) {
      case 'response':
        return { functionError: false, body: answer.body, contentType: json, streamed: false };
      case 'stream':
        if (answer.errorType) {
          this.#emit(`${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error\t${JSON.stringify(answer.error)}`);
        }
        return {
          functionError: answer.errorType !== undefined,
          body: answer.body,
          contentType: answer.contentType,
          streamed: true,
          ...(answer.errorType !== undefined && {
            streamError: { errorType: answer.errorType, body: JSON.stringify(answer.error ?? {}) },
          }),
        };
      case 'error':
        return { functionError: true, body: answer.body, contentType: json, streamed: false };
      case 'init-error':
        // A runtime that reports an init error mid-invoke cannot go on.
        await this.#terminate('failure');
        return { functionError: true, body: errorDocument(answer.errorType, String(answer.error.errorMessage ?? '')), contentType: json, streamed: false };
      case 'timeout': {
        const seconds = this.#settings.timeoutSeconds.toFixed(2);
        this.#emit(`${new Date().toISOString()} ${requestId} Task timed out after ${seconds} seconds`);
        this.#server.abandon(requestId);
        await this.#terminate('timeout');
        return {
          functionError: true,
          body: errorDocument('Sandbox.Timedout', `RequestId: ${requestId} Error: Task timed out after ${seconds} seconds`),
          contentType: json,
          streamed: false,
        };
      }
      case 'exit': {
        const message = `Runtime exited with error: ${describeExit(answer.status)}`;
        this.#emit(`RequestId: ${requestId} Error: ${message}\nRuntime.ExitError`);
        this.#server.abandon(requestId);
        await this.#terminate('failure');
        return {
          functionError: true,
          body: errorDocument('Runtime.ExitError', `RequestId: ${requestId} Error: ${message}`),
          contentType: json,
          streamed: false,
        };
      }
      case 'extension-exit': {
        // An extension that dies takes the environment with it, as a runtime crash does.
        const message = `Extension ${answer.name} exited: ${describeExit(answer.status)}`;
        this.#emit(`RequestId: ${requestId} Error: ${message}\nExtension.Crash`);
        this.#server.abandon(requestId);
        await this.#terminate('failure');
        return {
          functionError: true,
          body: errorDocument('Extension.Crash', `RequestId: ${requestId} Error: ${message}`),
          contentType: json,
          streamed: false,
        };
      }
    }
  }

  /**
   * Lambda's Shutdown phase: SIGTERM to the runtime, SHUTDOWN to the external
   * extensions registered for it, then SIGKILL for whatever is left when the
   * window closes (SHUTDOWN_WINDOW_MS unless `graceMs` says otherwise). Frees
   * the Runtime API.
   */
  async shutdown(graceMs?: number, reason: ShutdownReason = 'spindown'): Promise<void> {
    if (this.#dead) return;
    this.#dead = true;
    const registered = this.#extensionsApi.extensions;
    const windowMs =
      graceMs ??
      (registered.some((extension) => extension.kind === 'external')
        ? SHUTDOWN_WINDOW_MS.external
        : registered.length > 0
          ? SHUTDOWN_WINDOW_MS.internal
          : SHUTDOWN_WINDOW_MS.none);
    const runtime = this.#runtime;
    if (windowMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const windowClosed = new Promise<void>((resolve) => (timer = setTimeout(resolve, windowMs)));
      await runtime?.signal('SIGTERM');
      // Subscribers get what happened so far before they are told to shut down.
      await Promise.race([this.#telemetry.flush(), windowClosed]);
      const targets = this.#extensionsApi
        .dispatch({ eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs: Date.now() + windowMs })
        .map((extension) => ({ extension, process: this.#extensionProcesses.get(extension.name) }));
      const exited = new Set<string>();
      for (const { extension, process } of targets) {
        void process?.exited.then(() => {
          exited.add(extension.name);
          this.#changes.emit('change');
        });
      }
      let runtimeExited = runtime === undefined;
      void runtime?.exited.then(() => {
        runtimeExited = true;
        this.#changes.emit('change');
      });
      await Promise.race([
        this.#until(
          () =>
            runtimeExited &&
            targets.every(({ extension }) => exited.has(extension.name) || this.#extensionsApi.isIdle(extension)),
        ),
        windowClosed,
      ]);
      // What the runtime and extensions logged while shutting down still reaches the subscribers that are left.
      await Promise.race([this.#telemetry.close(), windowClosed]);
      clearTimeout(timer);
    }
    await this.#kill();
  }

  /** Kills the runtime and extensions at once and frees everything. */
  async destroy(): Promise<void> {
    if (this.#dead) return;
    this.#dead = true;
    await this.#kill();
  }

  /** A failed environment: extensions registered for SHUTDOWN hear why; otherwise it is killed at once. */
  async #terminate(reason: ShutdownReason): Promise<void> {
    if (this.#extensionsApi.subscribers('SHUTDOWN').length > 0) await this.shutdown(undefined, reason);
    else await this.destroy();
  }

  async #kill(): Promise<void> {
    this.#changes.emit('change');
    this.#changes.removeAllListeners();
    this.#telemetry.drop();
    this.#extensionsApi.close();
    await Promise.all([this.#runtime?.dispose(), ...[...this.#extensionProcesses.values()].map((process) => process.dispose())]);
    await this.#server.close();
  }

  /** Peak memory of the runtime and the extension processes: the whole sandbox's, as Lambda measures it. */
  async #peakMemoryBytes(): Promise<number | undefined> {
    const processes = [this.#runtime, ...this.#extensionProcesses.values()].filter((process) => process !== undefined);
    const peaks = await Promise.all(processes.map((process) => process.peakMemoryBytes().catch(() => undefined)));
    const known = peaks.filter((peak) => peak !== undefined);
    return known.length === 0 ? undefined : known.reduce((sum, peak) => sum + peak, 0);
  }

  /** Resolves once `condition` holds; checked now and on every change of the runtime's or extensions' state. */
  #until(condition: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!condition()) return;
        this.#changes.off('change', check);
        resolve();
      };
      this.#changes.on('change', check);
      check();
    });
  }

  #lambdaVariables(): Record<string, string> {
    const settings = this.#settings;
    const date = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    const variables: Record<string, string> = {
      AWS_LAMBDA_RUNTIME_API: this.#server.address,
      AWS_LAMBDA_FUNCTION_NAME: settings.name,
      AWS_LAMBDA_FUNCTION_VERSION: settings.version,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(settings.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${settings.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `${date}/[${settings.version}]${this.id}${randomUUID().replaceAll('-', '').slice(0, 24)}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: settings.region,
      AWS_DEFAULT_REGION: settings.region,
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
    };
    if (settings.handler) variables._HANDLER = settings.handler;
    if (settings.runtimeConcurrency > 1) variables.AWS_LAMBDA_MAX_CONCURRENCY = String(settings.runtimeConcurrency);
    return variables;
  }

  /** A line of the runtime's output: the function's log (internal extensions' too, as in Lambda). */
  #onLine(line: string): void {
    this.#emit(line);
    this.#telemetry.publish('function', line);
  }

  #onExtensionLine(line: string): void {
    this.#emit(line);
    this.#telemetry.publish('extension', line);
  }

  #emit(line: string): void {
    this.#log(line);
    for (const capture of this.#captures) capture.push(line);
  }
}

type RunStatus = { status: 'success' | 'error' | 'failure' | 'timeout'; errorType?: string };

/** The Telemetry API's status for a runtime's answer. */
function runStatus(answer: InvocationOutcome | { kind: 'exit' | 'timeout' | 'extension-exit' }): RunStatus {
  switch (answer.kind) {
    case 'response':
      return { status: 'success' };
    case 'stream':
      return answer.errorType === undefined ? { status: 'success' } : { status: 'error', errorType: answer.errorType };
    case 'error':
    case 'init-error':
      return { status: 'error', errorType: answer.errorType };
    case 'timeout':
      return { status: 'timeout' };
    case 'exit':
      return { status: 'failure', errorType: 'Runtime.ExitError' };
    case 'extension-exit':
      return { status: 'failure', errorType: 'Extension.Crash' };
  }
}

function describeInitFailure(
  result: InitFailureResult,
  initTimeoutMs: number,
): { errorType: string; errorMessage: string; status: 'error' | 'timeout' } {
  if (result === 'timeout') {
    return { errorType: 'Sandbox.Timedout', errorMessage: `Init timed out after ${(initTimeoutMs / 1000).toFixed(2)} seconds`, status: 'timeout' };
  }
  switch (result.kind) {
    case 'init-error':
      return { errorType: result.errorType, errorMessage: String(result.error.errorMessage ?? ''), status: 'error' };
    case 'runtime-exit':
      return { errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: ${describeExit(result.status)}`, status: 'error' };
    case 'extension-exit':
      return {
        errorType: 'Extension.Crash',
        errorMessage: `Extension ${result.name} exited during init: ${describeExit(result.status)}`,
        status: 'error',
      };
    case 'extension-failure':
      return {
        errorType: result.failure.errorType,
        errorMessage: `Extension ${result.failure.extension.name} reported ${result.failure.phase === 'init' ? 'an init' : 'an exit'} error`,
        status: 'error',
      };
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/**
 * What the runtime wrote to stdout and stderr before it answered is in the
 * pipes by then, but one poll of the event loop may hand us the answer's
 * socket before the pipes: two turns of the loop (the second after a fresh
 * poll) read those lines first, so that they belong to the invocation, ahead
 * of its runtimeDone, END and REPORT, as under Lambda.
 */
async function outputCaughtUp(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
}
