import { createContext, readFunctionConfig, type Context, type FunctionConfig } from './context.ts';
import {
  HandlerNotFoundError,
  MissingEnvironmentError,
  ResponseSizeTooLargeError,
  RuntimeApiStatusError,
  SerializationError,
  UnhandledPromiseRejectionError,
  toErrorPayload,
} from '../errors.ts';
import { FUNCTION_ERROR_BODY_TRAILER, FUNCTION_ERROR_TYPE_HEADER, invocationResponsePath } from '../protocol/index.ts';
import { importHandlerModule, loadHandlerFromTaskRoot, resolveHandlerExport, type ModuleNamespace } from './handler-loader.ts';
import { loggingOptionsFromEnv, patchConsole, runtimeLog, runtimeLogError, type LogScope, type LoggingOptions } from './logging.ts';
import { HANDLER_HIGHWATERMARK, ResponseStream, isStreamingHandler, type StreamingHandler } from './response-stream.ts';
import { RuntimeApiClient, type Invocation } from '../client/runtime-api-client.ts';
import { settleInitTasks } from './init-tasks.ts';
import { runShutdownHooks } from './shutdown.ts';

// See handler-loader.ts: built-ins come from process.getBuiltinModule.
type AsyncLocalStorage<T> = import('node:async_hooks').AsyncLocalStorage<T>;
const { finished } = process.getBuiltinModule('node:stream/promises');

/** The managed Node runtime's handler signature: existing handlers run unchanged. */
export type Handler<TEvent = any, TResult = any> = (event: TEvent, context: Context) => TResult | Promise<TResult>;

/** Handlers typed by other libraries (hono's, @types/aws-lambda's) are accepted as they are. */
type AnyFunction = (event: any, ...rest: any[]) => unknown;

/** Exit codes of AWS's Node runtime for a crash during an invocation. */
const EXIT_UNHANDLED_REJECTION = 128;
const EXIT_UNCAUGHT_EXCEPTION = 129;

interface ActiveInvocation {
  invocation: Invocation;
  answered: boolean;
}

/**
 * The runtime loop: one process, `maxConcurrency` polling loops (one per
 * connection), each taking an invocation, running the handler and answering.
 */
class LambdaRuntime {
  readonly #config: FunctionConfig;
  readonly #logging: LoggingOptions;
  /** Per-invocation scope for logs; an AsyncLocalStorage only when invocations overlap. */
  readonly #scopes: AsyncLocalStorage<ActiveInvocation> | undefined;
  #current: ActiveInvocation | undefined;
  #handler: Function | undefined;
  /** Whether #handler was wrapped by streamifyResponse: asked once, not on every invocation. */
  #streaming = false;
  #initialising = true;

  constructor(config: FunctionConfig) {
    this.#config = config;
    // Fetched only when needed: even reading AsyncLocalStorage off node:async_hooks loads its machinery.
    this.#scopes = config.maxConcurrency > 1 ? new (process.getBuiltinModule('node:async_hooks').AsyncLocalStorage)() : undefined;
    this.#logging = loggingOptionsFromEnv(() => this.#scope());
    patchConsole(this.#logging);
    process.on('uncaughtException', (error) => void this.#crash(error, EXIT_UNCAUGHT_EXCEPTION));
    process.on('unhandledRejection', (reason) => void this.#crash(new UnhandledPromiseRejectionError(reason), EXIT_UNHANDLED_REJECTION));
    process.on('SIGTERM', () => void this.#shutdown('SIGTERM'));
  }

  async start(resolveHandler: () => Promise<Function>): Promise<never> {
    try {
      this.#handler = await resolveHandler();
      this.#streaming = isStreamingHandler(this.#handler);
      // Extension registrations started during init (internal extensions, graceful shutdown) end before init does.
      await settleInitTasks();
    } catch (error) {
      await this.#reportInitError(error);
    }
    this.#initialising = false;
    for (let i = 0; i < this.#config.maxConcurrency; i++) this.#poll(new RuntimeApiClient(this.#config.runtimeApi));
    // The loops only end by exiting the process.
    return new Promise<never>(() => {});
  }

  /**
   * One polling loop per connection: next, handler, answer, next. Callbacks
   * rather than async/await: between the Runtime API's answer and the next
   * request only the handler's own promise (if it returns one) is awaited,
   * which is most of what separates a warm invoke from the raw socket ceiling.
   */
  #poll(client: RuntimeApiClient): void {
    client.receiveInvocation((error, invocation) => {
      if (error) this.#fatal('cannot get the next invocation', error);
      const active: ActiveInvocation = { invocation: invocation!, answered: false };
      if (this.#scopes) {
        this.#scopes.run(active, () => this.#invoke(client, active));
      } else {
        this.#current = active;
        this.#invoke(client, active);
      }
    });
  }

  /** `active` is over (answered, or its answer failed with `error`): poll for the next one. */
  #finish(client: RuntimeApiClient, active: ActiveInvocation, error?: unknown): void {
    if (this.#current === active) this.#current = undefined;
    if (error !== undefined) {
      if (error instanceof RuntimeApiStatusError && error.status < 500) {
        // 400/403: the invocation is no longer open (timed out, already answered). Keep serving.
        runtimeLog(this.#logging, 'ERROR', `Runtime API refused the answer for ${active.invocation.requestId}:`, error.message);
      } else {
        this.#fatal(`cannot answer invocation ${active.invocation.requestId}`, error);
      }
    }
    // Polled from outside the finished invocation's log scope, which a new connection would otherwise inherit.
    if (this.#scopes) this.#scopes.exit(() => this.#poll(client));
    else this.#poll(client);
  }

  #invoke(client: RuntimeApiClient, active: ActiveInvocation): void {
    const { invocation } = active;
    const context = createContext(this.#config, invocation);
    if (!this.#scopes) {
      if (invocation.traceId) process.env._X_AMZN_TRACE_ID = invocation.traceId;
      else delete process.env._X_AMZN_TRACE_ID;
    }
    const handler = this.#handler!;
    let event: unknown;
    try {
      event = invocation.body.length === 0 ? {} : JSON.parse(invocation.body);
    } catch (error) {
      return this.#fail(client, active, error);
    }
    if (this.#streaming) {
      this.#invokeStreaming(client, active, handler as StreamingHandler, event, context).then(
        () => this.#finish(client, active),
        (error) => this.#finish(client, active, error),
      );
      return;
    }
    let result: unknown;
    try {
      result = handler(event, context);
    } catch (error) {
      return this.#fail(client, active, error);
    }
    if (isThenable(result)) {
      // An async handler's own promise needs no wrapping; other thenables are adopted, as `await` would.
      // Its prototype tells a native promise apart, without instanceof's Symbol.hasInstance lookup.
      (Object.getPrototypeOf(result) === Promise.prototype ? (result as Promise<unknown>) : Promise.resolve(result)).then(
        (value) => this.#respond(client, active, value),
        (error) => this.#fail(client, active, error),
      );
    } else {
      this.#respond(client, active, result);
    }
  }

  /** Posts the handler's result; a result Lambda refuses (unserialisable, too large) becomes the invocation's error. */
  #respond(client: RuntimeApiClient, active: ActiveInvocation, result: unknown): void {
    let body: string;
    try {
      body = JSON.stringify(result === undefined ? null : result) ?? 'null';
    } catch (error) {
      return this.#fail(client, active, new SerializationError(error));
    }
    if (active.answered) return this.#finish(client, active);
    active.answered = true;
    try {
      client.sendResponse(active.invocation, body, (error) => {
        // Not `instanceof` on undefined: it still looks up the class's Symbol.hasInstance, on every invoke.
        if (error !== undefined && error instanceof ResponseSizeTooLargeError) {
          // Lambda has closed the invocation with Function.ResponseSizeTooLarge itself: an /error now would get
          // 403. AWS's runtime logs the status and goes on (aws-lambda-cpp's runtime::do_post), and so does this.
          runtimeLog(this.#logging, 'ERROR', `Failed to post handler success response. Http response code: 413. ${error.message}`);
          return this.#finish(client, active);
        }
        this.#finish(client, active, error);
      });
    } catch (error) {
      this.#finish(client, active, error);
    }
  }

  /** Reports `error` as the invocation's function error, then moves on. */
  #fail(client: RuntimeApiClient, active: ActiveInvocation, error: unknown): void {
    this.#answerError(client, active, error).then(
      () => this.#finish(client, active),
      (postError) => this.#finish(client, active, postError),
    );
  }

  async #invokeStreaming(
    client: RuntimeApiClient,
    active: ActiveInvocation,
    handler: StreamingHandler,
    event: unknown,
    context: Context,
  ): Promise<void> {
    const { invocation } = active;
    const highWaterMark = (handler as any)[HANDLER_HIGHWATERMARK] as number | undefined;
    const stream = new ResponseStream((contentType) => client.openStreamingResponse(invocation, contentType), highWaterMark);
    let failure: unknown;
    let failed = false;
    try {
      await handler(event, stream, context);
      // The handler may resolve before its pipe into the stream is done; the answer is complete when the stream is.
      await finished(stream);
    } catch (error) {
      failed = true;
      failure = error;
    }
    if (failed && !stream.started) {
      // Nothing reached the caller yet: report an ordinary function error.
      stream.destroy();
      return this.#answerError(client, active, failure);
    }
    active.answered = true;
    const body = stream.body();
    if (failed) {
      const payload = toErrorPayload(failure);
      runtimeLogError(this.#logging, 'Invoke Error', failure);
      body.end({
        [FUNCTION_ERROR_TYPE_HEADER]: payload.errorType,
        [FUNCTION_ERROR_BODY_TRAILER]: Buffer.from(JSON.stringify(payload)).toString('base64'),
      });
    } else {
      body.end();
    }
    const response = await body.response;
    if (response.status !== 202) {
      throw new RuntimeApiStatusError(`POST ${invocationResponsePath(invocation.requestId)} (streaming)`, response.status, response.body);
    }
  }

  async #answerError(client: RuntimeApiClient, active: ActiveInvocation, error: unknown): Promise<void> {
    if (active.answered) return;
    active.answered = true;
    // The managed runtime logs invoke errors too, so they show up in CloudWatch next to the request id.
    runtimeLogError(this.#logging, 'Invoke Error', error);
    await client.postError(active.invocation, toErrorPayload(error));
  }

  async #reportInitError(error: unknown): Promise<never> {
    runtimeLogError(this.#logging, 'Init Error', error);
    try {
      await new RuntimeApiClient(this.#config.runtimeApi).postInitError(toErrorPayload(error));
    } catch (postError) {
      runtimeLog(this.#logging, 'ERROR', 'could not report the init error:', postError);
    }
    process.exit(1);
  }

  /**
   * Uncaught exceptions and unhandled rejections: logged with the label AWS's
   * runtime gives them, reported against the invocation in flight, then the
   * process exits.
   */
  async #crash(error: unknown, exitCode: number): Promise<void> {
    if (this.#initialising) return void this.#reportInitError(error);
    const label = exitCode === EXIT_UNHANDLED_REJECTION ? 'Unhandled Promise Rejection' : 'Uncaught Exception';
    runtimeLogError(this.#logging, label, error);
    // With overlapping invocations the failing one cannot be told apart; keep the others running.
    if (this.#scopes) return;
    const active = this.#current;
    if (active && !active.answered) {
      active.answered = true;
      try {
        // A fresh connection: the loop's own may be mid-request.
        await new RuntimeApiClient(this.#config.runtimeApi).postError(active.invocation, toErrorPayload(error));
      } catch (postError) {
        runtimeLog(this.#logging, 'ERROR', 'could not report the crash:', postError);
      }
    }
    process.exit(exitCode);
  }

  #fatal(what: string, error: unknown): never {
    runtimeLog(this.#logging, 'FATAL', `${what}:`, error instanceof Error ? error.message : error);
    process.exit(1);
  }

  async #shutdown(signal: string): Promise<void> {
    await runShutdownHooks(signal, (error) => runtimeLog(this.#logging, 'ERROR', 'shutdown hook failed:', error));
    process.exit(0);
  }

  #scope(): LogScope | undefined {
    const active = this.#scopes ? this.#scopes.getStore() : this.#current;
    return active && { requestId: active.invocation.requestId, tenantId: active.invocation.tenantId };
  }
}

/** What `await` would wait for: a promise or any object with a then method. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/** Reads the environment or, when a required variable is missing, reports that as the init error. */
function createRuntime(): LambdaRuntime {
  try {
    return new LambdaRuntime(readFunctionConfig());
  } catch (error) {
    const payload = toErrorPayload(error);
    process.stderr.write(`lambda-kit runtime: ${payload.errorMessage}\n`);
    const api = process.env.AWS_LAMBDA_RUNTIME_API;
    if (api) {
      new RuntimeApiClient(api).postInitError(payload).then(
        () => process.exit(1),
        () => process.exit(1),
      );
    } else {
      process.exit(1);
    }
    throw error;
  }
}

/**
 * Serves invocations with `handler` until the process is stopped. Never resolves.
 * Accepts plain handlers and handlers wrapped by awslambda.streamifyResponse.
 *
 * @example
 * ```ts
 * import { run, type Context } from 'lambda-kit/runtime';
 *
 * export async function handler(event: { firstName?: string }, context: Context) {
 *   return { message: `Hello, ${event.firstName ?? 'world'}!`, requestId: context.awsRequestId };
 * }
 *
 * await run(handler);
 * ```
 */
export function run(handler: Handler | StreamingHandler<any, any> | AnyFunction): Promise<never> {
  return startRuntime(async () => {
    if (typeof handler !== 'function') throw new HandlerNotFoundError('the handler passed to run() is not a function');
    return handler;
  });
}

/**
 * Like run(), but imports the handler's module itself, so a module that fails
 * to load or throws while initialising is reported to Lambda as an init error.
 *
 * @example
 * ```ts
 * import { runModule } from 'lambda-kit/runtime';
 *
 * // What `lambda-kit build` generates as a function's entry.
 * await runModule(() => import('./app.js'), 'handler', 'app');
 * ```
 */
export function runModule(load: () => Promise<ModuleNamespace>, exportPath = 'handler', name = 'module'): Promise<never> {
  return startRuntime(async () => resolveHandlerExport(await importHandlerModule(load, name), exportPath, `${name}.${exportPath}`));
}

/**
 * Serves the handler named by _HANDLER ("dir/module.export") from
 * LAMBDA_TASK_ROOT, as AWS's managed runtime does: for a runtime shipped in a
 * layer with the function code beside it.
 *
 * @example
 * ```ts
 * // /opt/bootstrap.mjs of a runtime layer; the function's zip holds index.mjs with `export const handler`.
 * import { runFromEnvironment } from 'lambda-kit/runtime';
 *
 * await runFromEnvironment(); // _HANDLER=index.handler, LAMBDA_TASK_ROOT=/var/task
 * ```
 */
export function runFromEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<never> {
  return startRuntime(async () => {
    const handler = env._HANDLER;
    if (!handler) throw new MissingEnvironmentError('_HANDLER');
    return loadHandlerFromTaskRoot(env.LAMBDA_TASK_ROOT ?? process.cwd(), handler);
  });
}

function startRuntime(resolveHandler: () => Promise<Function>): Promise<never> {
  let runtime: LambdaRuntime;
  try {
    runtime = createRuntime();
  } catch {
    return new Promise<never>(() => {});
  }
  return runtime.start(resolveHandler);
}
