import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { Context } from '../../../runtime/loop/context.ts';
import { getHttpContext, type HttpContext } from '../../../runtime/http/index.ts';

const eventsDir = fileURLToPath(new URL('../../fixtures/events/', import.meta.url));

export function loadEvent<T = any>(relativePath: string): T {
  return JSON.parse(readFileSync(`${eventsDir}${relativePath}`, 'utf8')) as T;
}

/** Every fixture under test/fixtures/events, as "dir/name.json". */
export function allEventFixtures(): string[] {
  return ['http', 'sources'].flatMap((dir) => readdirSync(`${eventsDir}${dir}`).map((name) => `${dir}/${name}`));
}

/** The Context the runtime would pass; only awsRequestId matters to the adapter. */
export function lambdaContext(awsRequestId = 'lambda-request-1'): Context {
  return {
    awsRequestId,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:http',
    functionName: 'http',
    functionVersion: '$LATEST',
    memoryLimitInMB: '128',
    logGroupName: '/aws/lambda/http',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 3000,
  } as unknown as Context;
}

export interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  source: string;
  requestId: string;
  sourceIp: string | undefined;
  claims: Record<string, unknown> | undefined;
  websocket: unknown;
  rawEventKeys: string[];
}

async function echo(request: Request, context: HttpContext): Promise<Response> {
  const body: Echo = {
    method: request.method,
    url: request.url,
    headers: Object.fromEntries(request.headers),
    body: await request.text(),
    source: context.source,
    requestId: context.requestId,
    sourceIp: context.sourceIp,
    claims: context.claims,
    websocket: context.websocket ?? null,
    rawEventKeys: Object.keys(context.event as object).sort(),
  };
  const headers = new Headers({ 'content-type': 'application/json; charset=utf-8', 'X-Echo': 'yes' });
  headers.append('set-cookie', 'session=abc; Path=/; HttpOnly');
  headers.append('set-cookie', 'theme=dark; Path=/');
  return new Response(JSON.stringify(body), { status: 201, headers });
}

/** A plain fetch handler that answers with what it received. */
export const plainEcho = (request: Request, context: HttpContext) => echo(request, context);

/** The same through a real hono app: it reads the Lambda side from c.env, as with hono's own adapter. */
export function honoEcho(): Hono<{ Bindings: HttpContext }> {
  const app = new Hono<{ Bindings: HttpContext }>();
  app.all('*', async (c) => {
    // c.env is the HttpContext handed to app.fetch; getHttpContext finds the same from the request.
    if (getHttpContext(c.req.raw) !== c.env) throw new Error('getHttpContext(request) differs from c.env');
    return echo(c.req.raw, c.env);
  });
  return app;
}
