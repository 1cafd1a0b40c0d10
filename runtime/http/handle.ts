import type { Context } from '../loop/context.ts';
import { HttpResponseStream, streamifyResponse, type ResponseStream } from '../loop/response-stream.ts';
import { BadHttpEventError, InvalidHttpResponseError, UnknownHttpEventError } from './errors.ts';
import type { HttpEventProcessor } from './processor.ts';
import { JSON_HEADERS } from './processor.ts';
import { albProcessor } from './processors/alb.ts';
import { apiGatewayV1Processor } from './processors/api-gateway-v1.ts';
import { apiGatewayV2Processor } from './processors/api-gateway-v2.ts';
import { apiGatewayWebSocketProcessor } from './processors/api-gateway-websocket.ts';
import { functionUrlProcessor } from './processors/function-url.ts';
import { errorBody } from './response-parts.ts';
import type { FetchApp, FetchHandler, HttpAdapterOptions, HttpContext, HttpEvent, HttpEventSource } from './types.ts';

// Built-ins through process.getBuiltinModule, as in the runtime (see runtime/loop/handler-loader.ts).
const { once } = process.getBuiltinModule('node:events');

// Most specific first: WebSocket events may carry httpMethod, ALB events look like REST ones.
const PROCESSORS: readonly HttpEventProcessor[] = [
  albProcessor,
  apiGatewayWebSocketProcessor,
  functionUrlProcessor,
  apiGatewayV2Processor,
  apiGatewayV1Processor,
];

function processorFor(event: unknown): HttpEventProcessor | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  return PROCESSORS.find((processor) => processor.matches(event as Record<string, any>));
}

/**
 * Which HTTP source an event comes from, or undefined when it is no HTTP event.
 *
 * @example
 * ```ts
 * import { detectHttpEventSource, handle } from 'lambda-kit/http';
 *
 * const http = handle(app);
 * export const handler = (event: unknown, context: Context) =>
 *   detectHttpEventSource(event) ? http(event, context) : handleQueueMessages(event);
 * ```
 */
export function detectHttpEventSource(event: unknown): HttpEventSource | undefined {
  return processorFor(event)?.source;
}

const contexts = new WeakMap<Request, HttpContext>();

/**
 * The Lambda side of a request made by handle(): event, context, source IP, claims.
 *
 * @example
 * ```ts
 * import { getHttpContext } from 'lambda-kit/http';
 *
 * function audit(request: Request) {
 *   const http = getHttpContext(request);
 *   console.log(http?.requestId, http?.sourceIp, http?.claims?.sub);
 * }
 * ```
 */
export function getHttpContext<E = HttpEvent>(request: Request): HttpContext<E> | undefined {
  return contexts.get(request) as HttpContext<E> | undefined;
}

export type HttpHandler = (event: unknown, context: Context) => Promise<Record<string, unknown>>;

/**
 * Turns a fetch handler (`(request, context) => Response`, or an app with a
 * fetch method such as hono) into a Lambda handler for API Gateway REST and
 * HTTP APIs, ALB, Function URLs and WebSocket APIs.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { handle, type HttpContext } from 'lambda-kit/http';
 *
 * const app = new Hono<{ Bindings: HttpContext }>();
 * app.get('/hello/:name', (c) => c.json({ hello: c.req.param('name'), from: c.env.sourceIp }));
 *
 * export const handler = handle(app); // or handle((request, context) => new Response('hi'))
 * ```
 */
export function handle(app: FetchHandler | FetchApp, options: HttpAdapterOptions = {}): HttpHandler {
  const fetch = toFetch(app);
  return async (event, lambdaContext) => {
    const prepared = prepare(event, lambdaContext, options);
    if ('refusal' in prepared) return prepared.refusal;
    const { processor, request, httpContext } = prepared;
    const response = checkResponse(await fetch(request, httpContext));
    return processor.toResult(response, event as HttpEvent, request, options);
  };
}

/**
 * Like handle(), streaming the response body as the app produces it: for
 * Function URLs (invoke mode RESPONSE_STREAM) and REST APIs (response transfer
 * mode STREAM). Sources that cannot stream (HTTP APIs, ALB, WebSocket) get
 * the buffered answer, so one function serves them all.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { streamText } from 'hono/streaming';
 * import { streamHandle } from 'lambda-kit/http';
 *
 * const app = new Hono();
 * app.get('/count', (c) => streamText(c, async (stream) => {
 *   for (let i = 1; i <= 3; i++) await stream.writeln(String(i));
 * }));
 *
 * export const handler = streamHandle(app);
 * ```
 */
export function streamHandle(app: FetchHandler | FetchApp, options: HttpAdapterOptions = {}) {
  const fetch = toFetch(app);
  return streamifyResponse(async (event: unknown, responseStream: ResponseStream, lambdaContext: Context) => {
    const prepared = prepare(event, lambdaContext, options);
    if ('refusal' in prepared) {
      const { processor } = prepared;
      if (processor?.toPrelude) {
        const refusal = new Response(prepared.refusal.body as string, { status: 400, headers: JSON_HEADERS });
        return pipeBody(refusal, 'POST', HttpResponseStream.from(responseStream, processor.toPrelude(refusal, event)));
      }
      return writeJson(responseStream, prepared.refusal);
    }
    const { processor, request, httpContext } = prepared;
    const response = checkResponse(await fetch(request, httpContext));
    if (!processor.toPrelude) {
      return writeJson(responseStream, await processor.toResult(response, event as HttpEvent, request, options));
    }
    // The prelude has no content-length: the body's length is not known until it has streamed.
    const stream = HttpResponseStream.from(responseStream, processor.toPrelude(response, event));
    await pipeBody(response, request.method, stream);
  });
}

type Prepared =
  | { processor: HttpEventProcessor; request: Request; httpContext: HttpContext }
  | { refusal: Record<string, unknown>; processor: HttpEventProcessor | undefined };

/** The request and context, or a refusal in the source's shape: bad events must not fail the invocation. */
function prepare(event: unknown, lambdaContext: Context, options: HttpAdapterOptions): Prepared {
  const processor = processorFor(event);
  if (!processor) {
    const error = new UnknownHttpEventError();
    console.error(`${error.code}: ${error.message}`);
    return { processor, refusal: { statusCode: 400, headers: { ...JSON_HEADERS }, body: errorBody(400, error.code, error.message) } };
  }
  let request: Request;
  try {
    request = processor.toRequest(event, options);
  } catch (error) {
    if (!(error instanceof BadHttpEventError)) throw error;
    console.error(`${error.code}: ${error.message}`);
    return { processor, refusal: processor.errorResult(400, errorBody(400, error.code, error.message), event) };
  }
  const facts = processor.facts(event, request);
  const httpContext: HttpContext = {
    source: processor.source,
    event: event as HttpEvent,
    requestContext: (event as HttpEvent).requestContext as HttpContext['requestContext'],
    lambdaContext,
    requestId: facts.requestId ?? lambdaContext.awsRequestId,
    sourceIp: facts.sourceIp,
    authorizer: facts.authorizer,
    claims: facts.claims,
    websocket: facts.websocket,
  };
  contexts.set(request, httpContext);
  return { processor, request, httpContext };
}

function toFetch(app: FetchHandler | FetchApp): FetchHandler {
  if (typeof app === 'function') return app;
  if (app && typeof app.fetch === 'function') return (request, context) => app.fetch(request, context);
  throw new TypeError('handle() takes a fetch handler (request, context) => Response, or an object with a fetch method (a hono app)');
}

function checkResponse(response: unknown): Response {
  if (response instanceof Response) return response;
  // Another realm's or a polyfill's Response still works if it quacks.
  if (response && typeof (response as Response).status === 'number' && (response as Response).headers instanceof Headers) {
    return response as Response;
  }
  throw new InvalidHttpResponseError(response);
}

async function pipeBody(response: Response, method: string, stream: ResponseStream): Promise<void> {
  if (method !== 'HEAD' && response.body) {
    for await (const chunk of response.body) {
      if (!stream.write(chunk)) await once(stream, 'drain');
    }
  } else {
    await response.body?.cancel();
  }
  stream.end();
}

function writeJson(stream: ResponseStream, result: Record<string, unknown>): void {
  stream.setContentType('application/json');
  stream.end(JSON.stringify(result));
}
