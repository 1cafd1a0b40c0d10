import type { HttpAdapterOptions, HttpEvent, HttpEventSource, WebSocketInfo } from './types.ts';

/** What the handler's context says about the request, beyond the Request itself. */
interface RequestFacts {
  requestId: string | undefined;
  sourceIp: string | undefined;
  authorizer: Record<string, unknown> | undefined;
  claims: Record<string, unknown> | undefined;
  websocket?: WebSocketInfo;
}

/**
 * One per event source, as hono's adapter does it: recognise the event, turn
 * it into a Request, and the Response into what that source expects back.
 */
export interface HttpEventProcessor<E extends HttpEvent = any> {
  readonly source: HttpEventSource;
  matches(event: Record<string, any>): boolean;
  toRequest(event: E, options: HttpAdapterOptions): Request;
  facts(event: E, request: Request): RequestFacts;
  toResult(response: Response, event: E, request: Request, options: HttpAdapterOptions): Promise<Record<string, unknown>>;
  /**
   * The HTTP prelude for response streaming (Function URLs, REST APIs in STREAM
   * mode); undefined where the source cannot stream, so the buffered result
   * is sent instead.
   */
  toPrelude?(response: Response, event: E): Record<string, unknown>;
  /** A refusal in the source's own shape: a 400 for a bad event. */
  errorResult(status: number, body: string, event: E): Record<string, unknown>;
}

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;
