/**
 * Errors of the HTTP adapter. Bad events never crash the runtime: the adapter
 * answers them with a 400-class response and logs one of these; only a
 * handler that breaks its own contract (returns no Response) fails the invocation.
 */
import { LambdaRuntimeError } from '../errors.ts';

/** The event is not one of the HTTP sources the adapter knows. */
export class UnknownHttpEventError extends LambdaRuntimeError {
  constructor() {
    super(
      'LK_HTTP_UNKNOWN_EVENT',
      'Http.UnknownEvent',
      'the event is not an HTTP event lambda-kit/http knows (API Gateway REST or HTTP API, ALB, Function URL, ' +
        'API Gateway WebSocket): invoke this function from one of those, or handle other events without handle()',
    );
  }
}

/** The event is of a known source but cannot be turned into a Request (bad header, bad base64 body, ...). */
export class BadHttpEventError extends LambdaRuntimeError {
  readonly source: string;

  constructor(source: string, detail: string, options?: ErrorOptions) {
    super('LK_HTTP_BAD_EVENT', 'Http.BadEvent', `bad ${source} event: ${detail}`, options);
    this.source = source;
  }
}

/** The fetch handler returned something other than a Response. */
export class InvalidHttpResponseError extends LambdaRuntimeError {
  constructor(got: unknown) {
    super(
      'LK_HTTP_NOT_A_RESPONSE',
      'Http.InvalidResponse',
      `the fetch handler returned ${got === null ? 'null' : typeof got} instead of a Response: ` +
        'return a web Response (new Response(body, init)), as fetch handlers do',
    );
  }
}
