/**
 * Errors of the runtime area. Each has a stable `code` (for programs) and a
 * message that says what was wrong and what to do (for people). Errors that
 * reach Lambda also carry the `errorType` AWS's own Node runtime would report.
 */

export class LambdaRuntimeError extends Error {
  readonly code: string;
  /** The errorType reported to the Runtime API, as AWS's Node runtime names it. */
  readonly errorType: string;

  constructor(code: string, errorType: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.errorType = errorType;
    this.name = errorType;
  }
}

/** A variable Lambda always sets is missing: the runtime is not running where it thinks it is. */
export class MissingEnvironmentError extends LambdaRuntimeError {
  readonly variable: string;

  constructor(variable: string) {
    super(
      'LK_RUNTIME_MISSING_ENV',
      'Runtime.MissingEnvironmentVariable',
      `environment variable ${variable} is not set: Lambda sets it for every function; ` +
        'when running outside Lambda, set it yourself or use the lambda-kit emulator, which sets it',
    );
    this.variable = variable;
  }
}

/** The Runtime API could not be reached or dropped the connection. */
export class RuntimeApiConnectionError extends LambdaRuntimeError {
  constructor(message: string, options?: ErrorOptions) {
    super('LK_RUNTIME_API_UNREACHABLE', 'Runtime.ApiConnectionError', message, options);
  }
}

/** The Runtime API answered something that is not HTTP as this client knows it. */
export class RuntimeApiProtocolError extends LambdaRuntimeError {
  constructor(message: string) {
    super('LK_RUNTIME_API_PROTOCOL', 'Runtime.ApiProtocolError', message);
  }
}

/** The Runtime API answered with a status the runtime cannot go on after (500: container error). */
export class RuntimeApiStatusError extends LambdaRuntimeError {
  readonly status: number;
  readonly body: string;

  constructor(request: string, status: number, body: string) {
    super(
      'LK_RUNTIME_API_STATUS',
      'Runtime.ApiStatusError',
      `${request} answered HTTP ${status}${body ? `: ${body.slice(0, 500)}` : ''}`,
    );
    this.status = status;
    this.body = body;
  }
}

/** The handler string (_HANDLER) is not of the form `path/module.export`. */
export class MalformedHandlerNameError extends LambdaRuntimeError {
  constructor(handler: string) {
    super(
      'LK_HANDLER_MALFORMED',
      'Runtime.MalformedHandlerName',
      `Bad handler ${handler}: expected "<module path>.<exported function>", for example "index.handler"`,
    );
  }
}

/** The handler's module could not be found or imported. */
export class ImportModuleError extends LambdaRuntimeError {
  constructor(message: string, options?: ErrorOptions) {
    super('LK_HANDLER_IMPORT', 'Runtime.ImportModuleError', message, options);
  }
}

/** The handler's module has a syntax error. */
export class UserCodeSyntaxError extends LambdaRuntimeError {
  constructor(message: string, options?: ErrorOptions) {
    super('LK_HANDLER_SYNTAX', 'Runtime.UserCodeSyntaxError', message, options);
  }
}

/** The module loaded but the named export is missing or not a function. */
export class HandlerNotFoundError extends LambdaRuntimeError {
  constructor(message: string) {
    super('LK_HANDLER_NOT_FOUND', 'Runtime.HandlerNotFound', message);
  }
}

/** The handler's result cannot be turned into JSON (circular structure, BigInt, a throwing toJSON). */
export class SerializationError extends LambdaRuntimeError {
  constructor(cause: unknown) {
    super(
      'LK_RESULT_UNSERIALIZABLE',
      'Runtime.SerializationError',
      `Unable to stringify response body: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'Return a JSON-serialisable value (no cycles, no BigInt).',
      { cause },
    );
  }
}

/** The result is larger than Lambda accepts for a buffered response. */
export class ResponseSizeTooLargeError extends LambdaRuntimeError {
  constructor(size: number, limit: number) {
    super(
      'LK_RESPONSE_TOO_LARGE',
      'Function.ResponseSizeTooLarge',
      `Response payload size (${size} bytes) exceeded maximum allowed payload size (${limit} bytes). ` +
        'Return less data, or stream the response with awslambda.streamifyResponse.',
    );
  }
}

/** A promise rejected with nobody to handle it; Node's managed runtime reports this type. */
export class UnhandledPromiseRejectionError extends LambdaRuntimeError {
  constructor(reason: unknown) {
    super(
      'LK_UNHANDLED_REJECTION',
      'Runtime.UnhandledPromiseRejection',
      reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason),
      { cause: reason },
    );
    if (reason instanceof Error && reason.stack) this.stack = reason.stack;
  }
}

/** The body the Runtime API expects on /error and /init/error. */
export interface ErrorPayload {
  errorType: string;
  errorMessage: string;
  stackTrace: string[];
}

/**
 * Turns anything thrown into the Runtime API's error body, the way AWS's Node
 * runtime does: an Error gives its name, message and stack lines; any other
 * value gives its `typeof` and its string form. Never throws.
 */
export function toErrorPayload(thrown: unknown): ErrorPayload {
  try {
    if (thrown instanceof Error) {
      const errorType =
        thrown instanceof LambdaRuntimeError ? thrown.errorType : String(thrown.name || 'Error');
      return {
        errorType: errorType.replaceAll('\x7f', '%7F'),
        errorMessage: String(thrown.message ?? '').replaceAll('\x7f', '%7F'),
        stackTrace: typeof thrown.stack === 'string' ? thrown.stack.replaceAll('\x7f', '%7F').split('\n') : [],
      };
    }
    return { errorType: typeof thrown, errorMessage: String(thrown), stackTrace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage: 'the handler threw a value whose name, message or stack could not be read',
      stackTrace: [],
    };
  }
}

/**
 * The Extensions, Telemetry or Logs API refused a request. `apiErrorType` is
 * the errorType Lambda answered with (Extension.InvalidEventType, ...).
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
    super('LK_EXTENSION_API_STATUS', 'Extension.ApiStatusError', `${request} answered HTTP ${status}${detail ? `: ${detail}` : ''}${advice}`);
    this.status = status;
    this.apiErrorType = apiErrorType;
  }
}
