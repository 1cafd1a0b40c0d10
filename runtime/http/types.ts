import type { Context } from '../loop/context.ts';

/** The HTTP event sources the adapter knows; one processor each. */
export type HttpEventSource = 'api-gateway-v1' | 'api-gateway-v2' | 'function-url' | 'alb' | 'api-gateway-websocket';

type StringMap = Record<string, string | undefined>;
type MultiStringMap = Record<string, string[] | undefined>;

/** What REST, ALB and WebSocket events share: single- and multi-value maps, a body. */
interface ProxyEventFields {
  headers?: StringMap | null;
  multiValueHeaders?: MultiStringMap | null;
  queryStringParameters?: StringMap | null;
  multiValueQueryStringParameters?: MultiStringMap | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  [key: string]: unknown;
}

/** What API Gateway's request contexts share, REST and WebSocket alike. */
interface ApiGatewayRequestContext {
  requestId?: string;
  stage?: string;
  domainName?: string;
  identity?: { sourceIp?: string; [key: string]: unknown };
  authorizer?: Record<string, unknown> | null;
  [key: string]: unknown;
}

/**
 * Just the fields the adapter reads, loosely typed on purpose: the adapter
 * must cope with what really arrives. Full, validated shapes are in
 * lambda-kit/events (zod), opt-in.
 */
export interface ApiGatewayV1Event extends ProxyEventFields {
  httpMethod: string;
  path: string;
  resource?: string;
  pathParameters?: StringMap | null;
  stageVariables?: StringMap | null;
  requestContext: ApiGatewayRequestContext & { path?: string };
}

export interface ApiGatewayV2Event {
  version: '2.0';
  routeKey?: string;
  rawPath: string;
  rawQueryString?: string;
  cookies?: string[];
  headers?: StringMap | null;
  queryStringParameters?: StringMap | null;
  pathParameters?: StringMap | null;
  stageVariables?: StringMap | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext: {
    requestId?: string;
    stage?: string;
    domainName?: string;
    http: { method: string; path?: string; sourceIp?: string; protocol?: string; userAgent?: string };
    authorizer?: {
      jwt?: { claims?: Record<string, unknown>; scopes?: string[] | null };
      lambda?: Record<string, unknown> | null;
      iam?: Record<string, unknown>;
      [key: string]: unknown;
    } | null;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface AlbEvent extends ProxyEventFields {
  httpMethod: string;
  path: string;
  requestContext: { elb: { targetGroupArn: string } };
}

export interface ApiGatewayWebSocketEvent extends ProxyEventFields {
  requestContext: ApiGatewayRequestContext & {
    routeKey: string;
    eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
    connectionId: string;
    connectedAt?: number;
  };
}

export type HttpEvent = ApiGatewayV1Event | ApiGatewayV2Event | AlbEvent | ApiGatewayWebSocketEvent;

/** For WebSocket events: which connection and what happened to it. */
export interface WebSocketInfo {
  connectionId: string;
  routeKey: string;
  eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
  connectedAt: number | undefined;
}

/**
 * The second argument of the fetch handler. `event`, `requestContext` and
 * `lambdaContext` are named as hono's own adapter names them, so hono apps
 * reading `c.env.event` work unchanged.
 */
export interface HttpContext<E = HttpEvent> {
  source: HttpEventSource;
  /** The raw event, as Lambda delivered it. */
  event: E;
  /** The event's requestContext (API Gateway, ALB). */
  requestContext: E extends { requestContext: infer R } ? R : unknown;
  lambdaContext: Context;
  /** The request id API Gateway assigned; for ALB, which has none, Lambda's request id. */
  requestId: string;
  /** The client's address as the source saw it (ALB: the first X-Forwarded-For entry). */
  sourceIp: string | undefined;
  /** What the authorizer passed on (Lambda authorizer context, Cognito or JWT claims, IAM identity), raw. */
  authorizer: Record<string, unknown> | undefined;
  /** JWT or Cognito claims, when an authorizer verified a token. */
  claims: Record<string, unknown> | undefined;
  /** Set for API Gateway WebSocket events. */
  websocket: WebSocketInfo | undefined;
}

export type FetchHandler = (request: Request, context: HttpContext<any>) => Response | Promise<Response>;

/** Something with a fetch method: a hono app, for one. */
export interface FetchApp {
  fetch: (request: Request, env: any, ...rest: any[]) => Response | Promise<Response>;
}

export interface HttpAdapterOptions {
  /**
   * A path prefix to strip, for a custom domain's base-path (REST) or API
   * mapping (HTTP API): with "api", "/api/pets" reaches the app as "/pets".
   */
  basePath?: string;
  /**
   * HTTP APIs put a named stage in the path ("/prod/pets"); REST APIs do not.
   * Stripped by default so routes read the same on every stage and source.
   */
  stripStage?: boolean;
  /**
   * Which response content types go back base64-encoded. By default everything
   * except text, JSON, XML, JavaScript and form data; a Content-Encoding (gzip,
   * br) always makes a body binary.
   */
  isBinary?: (contentType: string) => boolean;
}
