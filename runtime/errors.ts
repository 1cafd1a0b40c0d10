/**
 * Errors of the runtime area, and the base every runtime-side error extends
 * (lambda-kit/http, /events and /extension have tables of their own). Each
 * error has a stable `code` from its area's table (for programs), that
 * code's `kind`, the `errorType` Lambda is told (as AWS's own Node runtime
 * would name it), and a message that says what was wrong and what to do.
 */
import {
  HANDLER_NOT_FOUND_ERROR_TYPE,
  IMPORT_MODULE_ERROR_TYPE,
  MALFORMED_HANDLER_NAME_ERROR_TYPE,
  RESPONSE_TOO_LARGE_ERROR_TYPE,
  UNHANDLED_REJECTION_ERROR_TYPE,
  USER_CODE_SYNTAX_ERROR_TYPE,
} from './protocol/index.ts';

/** `input`: what the user gave is wrong (a handler, an event, an option). `failure`: the work itself failed. */
export type ErrorKind = 'input' | 'failure';

export interface RuntimeErrorSpec {
  readonly kind: ErrorKind;
  /** What Lambda is told: the error's name and the Runtime API's errorType. */
  readonly errorType: string;
}

/**
 * The shape of each runtime-side area's table: every code once, with its
 * spec. What a code means is the doc comment on its key, not a string: this
 * table ships inside every function, and scripts/error-docs.ts reads the
 * comments into docs/errors.md.
 */
export type RuntimeErrorTable = Readonly<Record<`LK_${string}`, RuntimeErrorSpec>>;

/** The codes of the runtime, each once: its kind, the errorType Lambda is told, and what it means (docs/errors.md). */
export const RUNTIME_ERRORS = {
  /** A variable Lambda sets for every function (AWS_LAMBDA_RUNTIME_API, _HANDLER, ...) is not set: the runtime runs outside Lambda and its emulator. */
  LK_RUNTIME_MISSING_ENV: { kind: 'input', errorType: 'Runtime.MissingEnvironmentVariable' },
  /** The Runtime API could not be reached, or closed the connection before answering. */
  LK_RUNTIME_API_UNREACHABLE: { kind: 'failure', errorType: 'Runtime.ApiConnectionError' },
  /** The Runtime API answered something that is not HTTP/1.1 as the client reads it. */
  LK_RUNTIME_API_PROTOCOL: { kind: 'failure', errorType: 'Runtime.ApiProtocolError' },
  /** The Runtime API answered a request with an unexpected status. */
  LK_RUNTIME_API_STATUS: { kind: 'failure', errorType: 'Runtime.ApiStatusError' },
  /** The handler name (_HANDLER) is not of the form "<module path>.<exported function>". */
  LK_HANDLER_MALFORMED: { kind: 'input', errorType: MALFORMED_HANDLER_NAME_ERROR_TYPE },
  /** The handler's module could not be found or imported. */
  LK_HANDLER_IMPORT: { kind: 'input', errorType: IMPORT_MODULE_ERROR_TYPE },
  /** The handler's module has a syntax error. */
  LK_HANDLER_SYNTAX: { kind: 'input', errorType: USER_CODE_SYNTAX_ERROR_TYPE },
  /** The handler's module loaded, but the named export is missing or not a function. */
  LK_HANDLER_NOT_FOUND: { kind: 'input', errorType: HANDLER_NOT_FOUND_ERROR_TYPE },
  /** The handler's result cannot be turned into JSON (a cycle, a BigInt, a throwing toJSON). */
  LK_RESULT_UNSERIALIZABLE: { kind: 'input', errorType: 'Runtime.SerializationError' },
  /** The serialised result is larger than Lambda takes for a buffered response. */
  LK_RESPONSE_TOO_LARGE: { kind: 'input', errorType: RESPONSE_TOO_LARGE_ERROR_TYPE },
  /** A promise rejected with no handler attached, during an invocation or init. */
  LK_UNHANDLED_REJECTION: { kind: 'failure', errorType: UNHANDLED_REJECTION_ERROR_TYPE },
  // The Extensions API client is the runtime's own (graceful shutdown uses it); the errorType stays in the
  // Extension.* form Lambda asks of what an extension reports.

  /** The Extensions, Telemetry or Logs API refused a request, or answered what the client cannot read. */
  LK_EXTENSION_API_STATUS: { kind: 'failure', errorType: 'Extension.ApiStatusError' },
} as const satisfies RuntimeErrorTable;

export type RuntimeErrorCode = keyof typeof RUNTIME_ERRORS;

/** A code of another area's table with its spec, as tableCode gives it. */
declare const fromTable: unique symbol;
interface TableCode {
  readonly code: `LK_${string}`;
  readonly spec: RuntimeErrorSpec;
  readonly [fromTable]: true;
}

/**
 * The base of every error the runtime and its libraries throw. Whatever
 * extends it reaches Lambda with its own errorType (see toErrorPayload).
 *
 * @example
 * ```ts
 * import { LambdaRuntimeError } from 'lambda-kit/runtime';
 *
 * try {
 *   await work();
 * } catch (error) {
 *   if (error instanceof LambdaRuntimeError) console.error(error.code, error.kind, error.errorType);
 *   throw error;
 * }
 * ```
 */
export class LambdaRuntimeError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  /** The errorType reported to the Runtime API, as AWS's Node runtime names it. */
  readonly errorType: string;

  constructor(code: RuntimeErrorCode | TableCode, message: string, options?: ErrorOptions) {
    super(message, options);
    const spec = typeof code === 'string' ? RUNTIME_ERRORS[code] : code.spec;
    this.code = typeof code === 'string' ? code : code.code;
    this.kind = spec.kind;
    this.errorType = spec.errorType;
    this.name = spec.errorType;
  }
}

/**
 * For the areas built on the runtime (http, events, extension): `code` of
 * their own table, checked against it, as their errors hand it to
 * LambdaRuntimeError. A function beside the class, not a static of it: a
 * function's bundle without those areas holds none of it.
 */
export function tableCode<Table extends RuntimeErrorTable>(table: Table, code: keyof Table & `LK_${string}`): TableCode {
  return { code, spec: table[code] } as TableCode;
}

/**
 * A variable Lambda always sets is missing: the runtime is not running where it thinks it is.
 *
 * @example
 * ```ts
 * import { MissingEnvironmentError } from 'lambda-kit/runtime';
 *
 * new MissingEnvironmentError('AWS_LAMBDA_RUNTIME_API').variable; // reported as the init error, naming it
 * ```
 */
export class MissingEnvironmentError extends LambdaRuntimeError {
  readonly variable: string;

  constructor(variable: string) {
    super(
      'LK_RUNTIME_MISSING_ENV',
      `environment variable ${variable} is not set: Lambda sets it for every function; ` +
        'when running outside Lambda, set it yourself or use the lambda-kit emulator, which sets it',
    );
    this.variable = variable;
  }
}

/**
 * The Runtime API could not be reached or dropped the connection.
 *
 * @example
 * ```ts
 * import { RuntimeApiClient, RuntimeApiConnectionError } from 'lambda-kit/runtime';
 *
 * await new RuntimeApiClient('127.0.0.1:1').nextInvocation().catch((error) => error instanceof RuntimeApiConnectionError); // true
 * ```
 */
export class RuntimeApiConnectionError extends LambdaRuntimeError {
  constructor(message: string, options?: ErrorOptions) {
    super('LK_RUNTIME_API_UNREACHABLE', message, options);
  }
}

/**
 * The Runtime API answered something that is not HTTP as this client knows it.
 *
 * @example
 * ```ts
 * import { RuntimeApiClient, RuntimeApiProtocolError } from 'lambda-kit/runtime';
 *
 * const client = new RuntimeApiClient(process.env.AWS_LAMBDA_RUNTIME_API!);
 * const invocation = await client.nextInvocation().catch((error) => {
 *   if (error instanceof RuntimeApiProtocolError) console.error('not the Runtime API:', error.message);
 *   throw error;
 * });
 * ```
 */
export class RuntimeApiProtocolError extends LambdaRuntimeError {
  constructor(message: string) {
    super('LK_RUNTIME_API_PROTOCOL', message);
  }
}

/**
 * The Runtime API answered with a status the runtime cannot go on after (500: container error).
 *
 * @example
 * ```ts
 * import { RuntimeApiStatusError } from 'lambda-kit/runtime';
 *
 * await client.postResponse(invocation, body).catch((error) => {
 *   // 400 and 403: the invocation is no longer open (timed out, answered); run() logs those and goes on.
 *   if (error instanceof RuntimeApiStatusError && error.status < 500) return console.warn(error.message);
 *   throw error;
 * });
 * ```
 */
export class RuntimeApiStatusError extends LambdaRuntimeError {
  readonly status: number;
  readonly body: string;

  constructor(request: string, status: number, body: string) {
    super('LK_RUNTIME_API_STATUS', `${request} answered HTTP ${status}${body ? `: ${body.slice(0, 500)}` : ''}`);
    this.status = status;
    this.body = body;
  }
}

/**
 * The handler string (_HANDLER) is not of the form `path/module.export`.
 *
 * @example
 * ```ts
 * import { parseHandlerName } from 'lambda-kit/runtime';
 *
 * parseHandlerName('index'); // throws MalformedHandlerNameError (Runtime.MalformedHandlerName)
 * ```
 */
export class MalformedHandlerNameError extends LambdaRuntimeError {
  constructor(handler: string) {
    super('LK_HANDLER_MALFORMED', `Bad handler ${handler}: expected "<module path>.<exported function>", for example "index.handler"`);
  }
}

/**
 * The handler's module could not be found or imported.
 *
 * @example
 * ```ts
 * import { loadHandlerFromTaskRoot } from 'lambda-kit/runtime';
 *
 * await loadHandlerFromTaskRoot('/var/task', 'missing.handler'); // rejects with ImportModuleError (Runtime.ImportModuleError)
 * ```
 */
export class ImportModuleError extends LambdaRuntimeError {
  constructor(message: string, options?: ErrorOptions) {
    super('LK_HANDLER_IMPORT', message, options);
  }
}

/**
 * The handler's module has a syntax error.
 *
 * @example
 * ```ts
 * import { runModule } from 'lambda-kit/runtime';
 *
 * // broken.js does not parse: Lambda gets the init error Runtime.UserCodeSyntaxError.
 * await runModule(() => import('./broken.js'));
 * ```
 */
export class UserCodeSyntaxError extends LambdaRuntimeError {
  constructor(message: string, options?: ErrorOptions) {
    super('LK_HANDLER_SYNTAX', message, options);
  }
}

/**
 * The module loaded but the named export is missing or not a function.
 *
 * @example
 * ```ts
 * import { runModule } from 'lambda-kit/runtime';
 *
 * // app.js exports no `main`: Lambda gets the init error Runtime.HandlerNotFound.
 * await runModule(() => import('./app.js'), 'main');
 * ```
 */
export class HandlerNotFoundError extends LambdaRuntimeError {
  constructor(message: string) {
    super('LK_HANDLER_NOT_FOUND', message);
  }
}

/**
 * The handler's result cannot be turned into JSON (circular structure, BigInt, a throwing toJSON).
 *
 * @example
 * ```ts
 * import { run } from 'lambda-kit/runtime';
 *
 * // Each invocation fails with Runtime.SerializationError: a BigInt has no JSON form.
 * await run(async () => ({ total: 10n }));
 * ```
 */
export class SerializationError extends LambdaRuntimeError {
  constructor(cause: unknown) {
    super(
      'LK_RESULT_UNSERIALIZABLE',
      `Unable to stringify response body: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'Return a JSON-serialisable value (no cycles, no BigInt).',
      { cause },
    );
  }
}

/**
 * The result is larger than Lambda accepts for a buffered response.
 *
 * @example
 * ```ts
 * import { MAX_RESPONSE_BYTES, run } from 'lambda-kit/runtime';
 *
 * // Each invocation fails with Function.ResponseSizeTooLarge: stream answers this large instead.
 * await run(async () => 'x'.repeat(MAX_RESPONSE_BYTES));
 * ```
 */
export class ResponseSizeTooLargeError extends LambdaRuntimeError {
  constructor(size: number, limit: number) {
    super(
      'LK_RESPONSE_TOO_LARGE',
      `Response payload size (${size} bytes) exceeded maximum allowed payload size (${limit} bytes). ` +
        'Return less data, or stream the response with awslambda.streamifyResponse.',
    );
  }
}

/**
 * A promise rejected with nobody to handle it; Node's managed runtime reports this type.
 *
 * @example
 * ```ts
 * import { run } from 'lambda-kit/runtime';
 *
 * // The invocation fails with Runtime.UnhandledPromiseRejection and the process exits 128.
 * await run(async () => {
 *   void Promise.reject(new Error('nobody waits for me'));
 *   await new Promise((resolve) => setTimeout(resolve, 10));
 * });
 * ```
 */
export class UnhandledPromiseRejectionError extends LambdaRuntimeError {
  constructor(reason: unknown) {
    super('LK_UNHANDLED_REJECTION', reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason), { cause: reason });
    if (reason instanceof Error && reason.stack) this.stack = reason.stack;
  }
}

/**
 * The body the runtime posts on /error and /init/error, as AWS's Node runtime
 * sends it (aws-lambda-ric's formatError; the "trace" of the Lambda developer
 * guide's "AWS Lambda function errors in Node.js"): the stack as `trace`,
 * always there (maybe empty).
 */
export interface ErrorPayload {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/**
 * Turns anything thrown into the Runtime API's error body, the way AWS's Node
 * runtime does: an Error gives its name, message and stack lines; any other
 * value gives its `typeof` and its string form. Never throws.
 *
 * @example
 * ```ts
 * import { toErrorPayload } from 'lambda-kit/runtime';
 *
 * toErrorPayload(new TypeError('bad')); // { errorType: 'TypeError', errorMessage: 'bad', trace: ['TypeError: bad', ...] }
 * toErrorPayload('oops'); // { errorType: 'string', errorMessage: 'oops', trace: [] }
 * ```
 */
export function toErrorPayload(thrown: unknown): ErrorPayload {
  try {
    if (thrown instanceof Error) {
      const errorType = thrown instanceof LambdaRuntimeError ? thrown.errorType : String(thrown.name || 'Error');
      return {
        errorType: errorType.replaceAll('\x7f', '%7F'),
        errorMessage: String(thrown.message ?? '').replaceAll('\x7f', '%7F'),
        trace: typeof thrown.stack === 'string' ? thrown.stack.replaceAll('\x7f', '%7F').split('\n') : [],
      };
    }
    return { errorType: typeof thrown, errorMessage: String(thrown), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage: 'the handler threw a value whose name, message or stack could not be read',
      trace: [],
    };
  }
}

/**
 * The Extensions, Telemetry or Logs API refused a request. `apiErrorType` is
 * the errorType Lambda answered with (Extension.InvalidEventType, ...).
 *
 * @example
 * ```ts
 * import { ExtensionsApiClient, ExtensionsApiError } from 'lambda-kit/extension';
 *
 * const client = new ExtensionsApiClient(process.env.AWS_LAMBDA_RUNTIME_API!);
 * await client.register('late', ['INVOKE']).catch((error) => {
 *   if (error instanceof ExtensionsApiError) console.error(error.status, error.apiErrorType);
 * });
 * ```
 */
export class ExtensionsApiError extends LambdaRuntimeError {
  readonly status: number;
  readonly apiErrorType: string | undefined;

  constructor(request: string, status: number, body: string, advice = '') {
    let detail = body.slice(0, 500);
    let apiErrorType: string | undefined;
    try {
      const parsed = JSON.parse(body) as { errorType?: string; errorMessage?: string };
      apiErrorType = parsed.errorType;
      if (parsed.errorMessage) detail = `${parsed.errorType ?? 'error'}: ${parsed.errorMessage}`;
    } catch {
      // Not JSON: keep the text.
    }
    super('LK_EXTENSION_API_STATUS', `${request} answered HTTP ${status}${detail ? `: ${detail}` : ''}${advice}`);
    this.status = status;
    this.apiErrorType = apiErrorType;
  }
}
