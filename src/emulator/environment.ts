import { randomUUID } from 'node:crypto';
import { describeExit, type ExitStatus, type LaunchedRuntime, type Launcher } from './launchers/launcher.ts';
import { RuntimeApiServer, type InvocationOutcome } from './runtime-api-server.ts';

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
  /** The invocation's log: START, the function's lines, END and REPORT, as CloudWatch shows them. */
  logs: string[];
  report: InvokeReport;
}

export function functionArn(settings: FunctionSettings): string {
  return `arn:aws:lambda:${settings.region}:${settings.accountId}:function:${settings.name}`;
}

function errorDocument(errorType: string, errorMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ errorType, errorMessage }));
}

const mb = (bytes: number | undefined) => (bytes === undefined ? undefined : Math.ceil(bytes / (1024 * 1024)));

/**
 * One execution environment: a Runtime API of its own and one runtime process
 * or container. Dies on a timeout or a crash; the pool then starts a fresh one.
 */
export class ExecutionEnvironment {
  readonly id = randomUUID().slice(0, 8);
  readonly #settings: FunctionSettings;
  readonly #server: RuntimeApiServer;
  readonly #log: (line: string) => void;
  readonly #captures = new Set<string[]>();
  #runtime: LaunchedRuntime | undefined;
  #dead = false;
  #inFlight = 0;
  /** Init Duration, reported (and billed, for custom runtimes) on the environment's first invoke only. */
  #pendingInitDurationMs: number | undefined;

  private constructor(settings: FunctionSettings, server: RuntimeApiServer, log: (line: string) => void) {
    this.#settings = settings;
    this.#server = server;
    this.#log = log;
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

  /**
   * Starts an environment and waits until its runtime asks for work (init done),
   * reports an init error, exits, or overruns the init timeout.
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
    const initLog: string[] = [];
    environment.#captures.add(initLog);
    const started = performance.now();
    const variables = {
      ...launcher.environment(),
      ...settings.environment,
      ...environment.#lambdaVariables(),
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      environment.#runtime = await launcher.launch(variables, (line) => environment.#onLine(line));
      const runtime = environment.#runtime;
      const result = await Promise.race([
        new Promise<'ready'>((resolve) => server.once('next', () => resolve('ready'))),
        new Promise<Extract<InvocationOutcome, { kind: 'init-error' }>>((resolve) => server.once('init-error', resolve)),
        runtime.exited,
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), settings.initTimeoutMs);
        }),
      ]);
      const initDurationMs = performance.now() - started;
      if (result === 'ready') {
        environment.#pendingInitDurationMs = initDurationMs;
        environment.#captures.delete(initLog);
        return { environment };
      }
      let errorType: string;
      let errorMessage: string;
      let status: string;
      if (result === 'timeout') {
        errorType = 'Sandbox.Timedout';
        errorMessage = `Init timed out after ${(settings.initTimeoutMs / 1000).toFixed(2)} seconds`;
        status = 'timeout';
      } else if ('kind' in result) {
        errorType = result.errorType;
        errorMessage = String(result.error.errorMessage ?? '');
        status = 'error';
      } else {
        errorType = 'Runtime.ExitError';
        errorMessage = `Runtime exited with error: ${describeExit(result as ExitStatus)}`;
        status = 'error';
      }
      environment.#emit(
        `INIT_REPORT Init Duration: ${initDurationMs.toFixed(2)} ms\tPhase: init\tStatus: ${status}` +
          (status === 'error' ? `\tError Type: ${errorType}` : ''),
      );
      await environment.destroy();
      return { failure: { errorType, errorMessage, logs: initLog } };
    } catch (error) {
      await environment.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
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
    this.#emit(`START RequestId: ${requestId} Version: ${settings.version}`);
    const started = performance.now();
    const timeoutMs = settings.timeoutSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    let result: Omit<InvokeResult, 'logs' | 'report' | 'requestId'>;
    let durationMs: number;
    let peakBytes: number | undefined;
    try {
      const answer = await Promise.race([
        this.#server.invoke(request.payload, {
          requestId,
          timeoutMs,
          ...(request.traceId !== undefined && { traceId: request.traceId }),
          ...(request.clientContext !== undefined && { clientContext: request.clientContext }),
          ...(request.cognitoIdentity !== undefined && { cognitoIdentity: request.cognitoIdentity }),
          ...(request.tenantId !== undefined && { tenantId: request.tenantId }),
          ...(request.onChunk !== undefined && { onChunk: request.onChunk }),
        }),
        runtime.exited.then((status) => ({ kind: 'exit' as const, status })),
        new Promise<{ kind: 'timeout' }>((resolve) => {
          timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
        }),
      ]);
      durationMs = performance.now() - started;
      // Measured before a timed-out or crashed environment is torn down.
      peakBytes = await runtime.peakMemoryBytes().catch(() => undefined);
      result = await this.#settle(requestId, answer);
    } finally {
      clearTimeout(timer);
    }
    const maxMemoryUsedMb = mb(peakBytes);
    // Custom runtimes are billed for init too.
    const billedDurationMs = Math.ceil(durationMs) + (initDurationMs === undefined ? 0 : Math.ceil(initDurationMs));
    this.#emit(`END RequestId: ${requestId}`);
    this.#emit(
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${billedDurationMs} ms\t` +
        `Memory Size: ${settings.memoryMb} MB\tMax Memory Used: ${maxMemoryUsedMb ?? 0} MB\t` +
        (initDurationMs === undefined ? '' : `Init Duration: ${initDurationMs.toFixed(2)} ms\t`),
    );
    this.#captures.delete(logs);
    this.#inFlight--;
    return {
      requestId,
      ...result,
      logs,
      report: { durationMs, billedDurationMs, memorySizeMb: settings.memoryMb, maxMemoryUsedMb, initDurationMs },
    };
  }

  async #settle(
    requestId: string,
    answer: InvocationOutcome | { kind: 'exit'; status: ExitStatus } | { kind: 'timeout' },
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
        await this.destroy();
        return { functionError: true, body: errorDocument(answer.errorType, String(answer.error.errorMessage ?? '')), contentType: json, streamed: false };
      case 'timeout': {
        const seconds = this.#settings.timeoutSeconds.toFixed(2);
        this.#emit(`${new Date().toISOString()} ${requestId} Task timed out after ${seconds} seconds`);
        this.#server.abandon(requestId);
        await this.destroy();
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
        await this.destroy();
        return {
          functionError: true,
          body: errorDocument('Runtime.ExitError', `RequestId: ${requestId} Error: ${message}`),
          contentType: json,
          streamed: false,
        };
      }
    }
  }

  /** SIGTERM, a grace period, then SIGKILL; frees the Runtime API. */
  async shutdown(graceMs = 500): Promise<void> {
    if (this.#dead) return;
    const runtime = this.#runtime;
    if (runtime) {
      await runtime.signal('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([runtime.exited, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    await this.destroy();
  }

  /** Kills the runtime at once and frees everything. */
  async destroy(): Promise<void> {
    if (this.#dead) return;
    this.#dead = true;
    await this.#runtime?.dispose();
    await this.#server.close();
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

  #onLine(line: string): void {
    this.#emit(line);
  }

  #emit(line: string): void {
    this.#log(line);
    for (const capture of this.#captures) capture.push(line);
  }
}
