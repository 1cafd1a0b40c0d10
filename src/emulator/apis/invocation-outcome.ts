import type { IncomingHttpHeaders } from 'node:http';

/**
 * What a runtime's answer to one invocation came to, as the Runtime API
 * server hands it on: a response, an error, a stream, an answer Lambda
 * refused, or a cut-short one.
 */

export interface RuntimeErrorBody {
  errorType?: string;
  errorMessage?: string;
  /** AWS's Node runtime sends its stack as `trace`; other runtimes as `stackTrace`. */
  trace?: string[];
  stackTrace?: string[];
  [key: string]: unknown;
}

interface OutcomeBase {
  requestId: string;
  /** Headers of the runtime's request that answered. */
  headers: IncomingHttpHeaders;
}

export type InvocationOutcome =
  | (OutcomeBase & { kind: 'response'; body: Buffer })
  | (OutcomeBase & { kind: 'error'; errorType: string; error: RuntimeErrorBody; body: Buffer })
  | (OutcomeBase & {
      kind: 'stream';
      contentType: string;
      body: Buffer;
      chunks: Buffer[];
      trailers: Record<string, string>;
      /**
       * Set when the stream ended with Lambda-Runtime-Function-Error-Type/-Body
       * trailers, or went past MAX_STREAMED_RESPONSE_BYTES (Function.ResponseSizeTooLarge:
       * `body` holds what fitted).
       */
      errorType?: string;
      error?: RuntimeErrorBody;
      /** Set when the runtime's connection dropped before the stream ended: `body` holds what came. */
      truncated?: boolean;
    })
  /** A buffered answer over MAX_RESPONSE_BYTES: the runtime got 413, and the invocation is over. */
  | (OutcomeBase & { kind: 'too-large' })
  /** The runtime's connection dropped before its answer (or error) was whole. */
  | (OutcomeBase & { kind: 'truncated' })
  | InitErrorOutcome;

export type InitErrorOutcome = OutcomeBase & {
  kind: 'init-error';
  errorType: string;
  error: RuntimeErrorBody;
  /** The document as the runtime posted it. */
  body: Buffer;
};

/** A runtime's error document; a body that is not a JSON object is kept as the message. */
export function parseErrorBody(body: Buffer): RuntimeErrorBody {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (parsed && typeof parsed === 'object') return parsed as RuntimeErrorBody;
  } catch {
    // A runtime may post a non-JSON error body; keep it as the message.
  }
  return { errorMessage: body.toString('utf8') };
}
