/**
 * Errors of the HTTP adapter. Bad events never crash the runtime: the adapter
 * answers them with a 400-class response and logs one of these; only a
 * handler that breaks its own contract (returns no Response) fails the invocation.
 */
import { LambdaRuntimeError, tableCode, type RuntimeErrorTable } from '../errors.ts';

/** The codes of lambda-kit/http, each once: its kind, the errorType Lambda is told, and what it means (docs/errors.md). */
export const HTTP_ERRORS = {
  /** The event is none of the HTTP sources lambda-kit/http knows; it is answered 400 and logged. */
  LK_HTTP_UNKNOWN_EVENT: { kind: 'input', errorType: 'Http.UnknownEvent' },
  /** The event is of a known HTTP source but cannot become a Request (a bad header, a bad base64 body); it is answered 400 and logged. */
  LK_HTTP_BAD_EVENT: { kind: 'input', errorType: 'Http.BadEvent' },
  /** The fetch handler returned something other than a Response; the invocation fails. */
  LK_HTTP_NOT_A_RESPONSE: { kind: 'input', errorType: 'Http.InvalidResponse' },
} as const satisfies RuntimeErrorTable;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/**
 * The event is not one of the HTTP sources the adapter knows.
 *
 * @example
 * ```ts
 * import { handle, UnknownHttpEventError } from 'lambda-kit/http';
 *
 * // handle() answers an S3 event (no HTTP source) with a 400 whose body names the code, and logs it:
 * const result = await handle(app)(s3Event, context);
 * JSON.parse(result.body as string).code === new UnknownHttpEventError().code; // 'LK_HTTP_UNKNOWN_EVENT'
 * ```
 */
export class UnknownHttpEventError extends LambdaRuntimeError {
  constructor() {
    super(
      tableCode(HTTP_ERRORS, 'LK_HTTP_UNKNOWN_EVENT'),
      'the event is not an HTTP event lambda-kit/http knows (API Gateway REST or HTTP API, ALB, Function URL, ' +
        'API Gateway WebSocket): invoke this function from one of those, or handle other events without handle()',
    );
  }
}

/**
 * The event is of a known source but cannot be turned into a Request (bad header, bad base64 body, ...).
 *
 * @example
 * ```ts
 * import { BadHttpEventError } from 'lambda-kit/http';
 *
 * // What handle() logs (and answers 400 with) for an ALB event whose body is not the base64 it claims:
 * const error = new BadHttpEventError('alb', 'isBase64Encoded is true but the body is not base64');
 * error.code; // 'LK_HTTP_BAD_EVENT'
 * error.errorType; // 'Http.BadEvent'
 * ```
 */
export class BadHttpEventError extends LambdaRuntimeError {
  readonly source: string;

  constructor(source: string, detail: string, options?: ErrorOptions) {
    super(tableCode(HTTP_ERRORS, 'LK_HTTP_BAD_EVENT'), `bad ${source} event: ${detail}`, options);
    this.source = source;
  }
}

/**
 * The fetch handler returned something other than a Response.
 *
 * @example
 * ```ts
 * import { handle, InvalidHttpResponseError } from 'lambda-kit/http';
 *
 * const handler = handle(() => ({ ok: true }) as unknown as Response);
 * await expect(handler(apiGatewayEvent, context)).rejects.toBeInstanceOf(InvalidHttpResponseError);
 * ```
 */
export class InvalidHttpResponseError extends LambdaRuntimeError {
  constructor(got: unknown) {
    super(
      tableCode(HTTP_ERRORS, 'LK_HTTP_NOT_A_RESPONSE'),
      `the fetch handler returned ${got === null ? 'null' : typeof got} instead of a Response: ` +
        'return a web Response (new Response(body, init)), as fetch handlers do',
    );
  }
}
