import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import { handle, type HttpContext } from '../../../runtime/http/index.ts';
import { lambdaContext, loadEvent } from './support.ts';

type Result = Record<string, any>;
const call = (handler: ReturnType<typeof handle>, event: unknown) => handler(event, lambdaContext()) as Promise<Result>;

const v1 = (patch: Record<string, unknown> = {}) => ({ ...loadEvent('http/apigw_proxy_request.json'), ...patch });
const v2 = (patch: Record<string, unknown> = {}) => ({ ...loadEvent('http/apigw_v2_proxy_request.json'), ...patch });
const alb = (patch: Record<string, unknown> = {}) => ({ ...loadEvent('http/alb_request.json'), ...patch });
const albMulti = (patch: Record<string, unknown> = {}) => ({ ...loadEvent('http/alb_multi_value_request.json'), ...patch });

/** Answers with the request's URL pieces, so a test sees exactly what routing would. */
const urlEcho = handle(async (request) => {
  const url = new URL(request.url);
  return Response.json({ pathname: url.pathname, search: url.search, query: [...url.searchParams] });
});

describe('lambda-kit/http: paths', () => {
  it('percent-encodes a decoded REST path, and keeps a literal % as %25', async () => {
    const result = await call(urlEcho, v1({ path: '/files/my report/50%/café' }));
    expect(JSON.parse(result.body).pathname).toBe('/files/my%20report/50%25/caf%C3%A9');
  });

  it('keeps an ALB path as the client encoded it, without encoding twice', async () => {
    const result = await call(urlEcho, alb({ path: '/files/my%20report/caf%C3%A9' }));
    const { pathname } = JSON.parse(result.body);
    expect(pathname).toBe('/files/my%20report/caf%C3%A9');
    expect(decodeURIComponent(pathname)).toBe('/files/my report/café');
  });

  it('does not let "?" or "#" in a decoded path start a query or fragment', async () => {
    const result = await call(urlEcho, v1({ path: '/a?b#c', queryStringParameters: null, multiValueQueryStringParameters: null }));
    expect(JSON.parse(result.body)).toMatchObject({ pathname: '/a%3Fb%23c', search: '' });
  });

  it('strips a named HTTP API stage from rawPath, keeps it with stripStage: false, and leaves $default alone', async () => {
    const staged = v2({ rawPath: '/prod/pets/7', requestContext: { ...v2().requestContext, stage: 'prod' } });
    expect(JSON.parse((await call(urlEcho, staged)).body).pathname).toBe('/pets/7');
    const keep = handle(async (request) => Response.json({ pathname: new URL(request.url).pathname }), { stripStage: false });
    expect(JSON.parse((await call(keep, staged)).body).pathname).toBe('/prod/pets/7');
    // A path that merely starts with the stage's letters is not the stage.
    const lookalike = v2({ rawPath: '/production/x', requestContext: { ...v2().requestContext, stage: 'prod' } });
    expect(JSON.parse((await call(urlEcho, lookalike)).body).pathname).toBe('/production/x');
  });

  it('strips a custom-domain base path (REST base-path mapping, HTTP API mapping)', async () => {
    const mapped = handle(async (request) => Response.json({ pathname: new URL(request.url).pathname }), { basePath: '/api/' });
    expect(JSON.parse((await call(mapped, v1({ path: '/api/pets' }))).body).pathname).toBe('/pets');
    expect(JSON.parse((await call(mapped, v1({ path: '/api' }))).body).pathname).toBe('/');
    expect(JSON.parse((await call(mapped, v2({ rawPath: '/api/pets' }))).body).pathname).toBe('/pets');
    expect(JSON.parse((await call(mapped, v1({ path: '/other/pets' }))).body).pathname).toBe('/other/pets');
  });
});

describe('lambda-kit/http: query strings', () => {
  it('REST: repeated keys from multiValueQueryStringParameters, re-encoded', async () => {
    const event = v1({
      queryStringParameters: { tag: 'b', q: 'a b&c' },
      multiValueQueryStringParameters: { tag: ['a', 'b'], q: ['a b&c'] },
    });
    const { query } = JSON.parse((await call(urlEcho, event)).body);
    expect(query).toEqual([
      ['tag', 'a'],
      ['tag', 'b'],
      ['q', 'a b&c'],
    ]);
  });

  it('HTTP API: rawQueryString as sent, repeats and encoding intact', async () => {
    const { query } = JSON.parse((await call(urlEcho, v2({ rawQueryString: 'tag=a&tag=b&q=a%20b%26c' }))).body);
    expect(query).toEqual([
      ['tag', 'a'],
      ['tag', 'b'],
      ['q', 'a b&c'],
    ]);
  });

  it('ALB: values are not decoded by the load balancer, so they are not encoded again', async () => {
    const event = albMulti({ multiValueQueryStringParameters: { q: ['a%20b%26c', 'x'] } });
    const { query, search } = JSON.parse((await call(urlEcho, event)).body);
    expect(search).toBe('?q=a%20b%26c&q=x');
    expect(query).toEqual([
      ['q', 'a b&c'],
      ['q', 'x'],
    ]);
  });
});

describe('lambda-kit/http: bodies', () => {
  const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe, 0x0d, 0x0a]);
  const binaryEcho = handle(
    async (request) =>
      new Response(await request.arrayBuffer(), {
        headers: { 'content-type': request.headers.get('content-type') ?? 'application/octet-stream' },
      }),
  );

  for (const [name, event] of [
    [
      'REST',
      v1({
        httpMethod: 'PUT',
        body: bytes.toString('base64'),
        isBase64Encoded: true,
        headers: { 'Content-Type': 'image/png' },
        multiValueHeaders: { 'Content-Type': ['image/png'] },
      }),
    ],
    ['HTTP API', v2({ body: bytes.toString('base64'), isBase64Encoded: true, headers: { 'content-type': 'image/png' } })],
    [
      'ALB',
      albMulti({
        httpMethod: 'POST',
        body: bytes.toString('base64'),
        isBase64Encoded: true,
        multiValueHeaders: { 'content-type': ['image/png'] },
      }),
    ],
  ] as const) {
    it(`${name}: a base64 body arrives as its bytes, and a binary answer goes back base64`, async () => {
      const result = await call(binaryEcho, event);
      expect(result.isBase64Encoded).toBe(true);
      expect(Buffer.from(result.body, 'base64')).toEqual(bytes);
    });
  }

  it('text types go back as text; a Content-Encoding makes any body binary', async () => {
    const typed = (type: string, extra: Record<string, string> = {}) =>
      call(
        handle(async () => new Response('héllo', { headers: { 'content-type': type, ...extra } })),
        v2(),
      );
    for (const type of [
      'text/html; charset=utf-8',
      'application/json',
      'application/problem+json',
      'application/xml',
      'image/svg+xml',
      'application/javascript',
    ]) {
      expect(await typed(type), type).toMatchObject({ body: 'héllo', isBase64Encoded: false });
    }
    expect(await typed('application/pdf')).toMatchObject({ body: Buffer.from('héllo').toString('base64'), isBase64Encoded: true });
    expect(await typed('text/plain', { 'content-encoding': 'gzip' })).toMatchObject({ isBase64Encoded: true });
  });

  it('isBinary overrides the choice', async () => {
    const handler = handle(async () => new Response('x', { headers: { 'content-type': 'application/x-custom' } }), {
      isBinary: (type) => type !== 'application/x-custom',
    });
    expect(await call(handler, v2())).toMatchObject({ body: 'x', isBase64Encoded: false });
  });

  it('HEAD answers carry no body; GET requests carry none even when the event has one', async () => {
    const seen: Array<string | null> = [];
    const handler = handle(async (request) => {
      seen.push(request.body === null ? null : await request.text());
      return new Response('body', { headers: { 'content-type': 'text/plain' } });
    });
    expect(await call(handler, v1({ httpMethod: 'HEAD' }))).toMatchObject({ statusCode: 200, body: '' });
    // alb_multi_value_request_encoded_query_parameters is a GET with "request_body".
    await call(handler, loadEvent('http/alb_multi_value_request_encoded_query_parameters.json'));
    expect(seen).toEqual([null, null]);
  });
});

describe('lambda-kit/http: headers and cookies', () => {
  const cookieApp = handle(async (request) => {
    const headers = new Headers({ 'Content-Type': 'text/plain', 'X-Mixed-Case': 'kept' });
    headers.append('Set-Cookie', 'a=1; Path=/');
    headers.append('Set-Cookie', 'b=2, with comma; Path=/');
    headers.append('Set-Cookie', 'c=3');
    headers.append('Vary', 'Accept');
    headers.append('Vary', 'Origin');
    return new Response(request.headers.get('x-request-header') ?? '', { headers });
  });

  it('reads headers case-insensitively, whatever case the source used', async () => {
    const event = v1({ headers: { 'X-Request-Header': 'One' }, multiValueHeaders: { 'X-REQUEST-HEADER': ['One'] } });
    expect((await call(cookieApp, event)).body).toBe('One');
  });

  it('REST: every Set-Cookie in multiValueHeaders, the rest in headers with lower-case names', async () => {
    const result = await call(cookieApp, v1());
    expect(result.multiValueHeaders).toEqual({ 'set-cookie': ['a=1; Path=/', 'b=2, with comma; Path=/', 'c=3'] });
    expect(result.headers).toEqual({ 'content-type': 'text/plain', 'x-mixed-case': 'kept', vary: 'Accept, Origin' });
  });

  it('HTTP API and Function URL: Set-Cookie in the cookies array, never joined in a header', async () => {
    for (const event of [v2(), loadEvent('http/lambda_function_url_request.json')]) {
      const result = await call(cookieApp, event);
      expect(result.cookies).toEqual(['a=1; Path=/', 'b=2, with comma; Path=/', 'c=3']);
      expect(result.headers['set-cookie']).toBeUndefined();
    }
  });

  it('ALB multi-value mode: multiValueHeaders only, every cookie', async () => {
    const result = await call(cookieApp, albMulti());
    expect(result.headers).toBeUndefined();
    expect(result.multiValueHeaders['set-cookie']).toEqual(['a=1; Path=/', 'b=2, with comma; Path=/', 'c=3']);
    expect(result.multiValueHeaders['x-mixed-case']).toEqual(['kept']);
  });

  it('ALB single-value mode: one value per header, the last cookie (as ALB itself would keep), and a warning', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const result = await call(cookieApp, alb());
      expect(result.multiValueHeaders).toBeUndefined();
      expect(result.headers['set-cookie']).toBe('c=3');
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('enable multi-value headers'));
    } finally {
      warn.mockRestore();
    }
  });

  it('joins request cookies with "; ", from the cookies array or from repeated Cookie headers', async () => {
    const cookieEcho = handle(async (request) => new Response(request.headers.get('cookie')));
    expect((await call(cookieEcho, v2({ cookies: ['a=1', 'b=2'], headers: {} }))).body).toBe('a=1; b=2');
    expect((await call(cookieEcho, v1({ multiValueHeaders: { Cookie: ['a=1', 'b=2'] } }))).body).toBe('a=1; b=2');
  });
});

describe('lambda-kit/http: the Lambda side of a request', () => {
  const contextEcho = handle(async (_request, context: HttpContext) =>
    Response.json({
      requestId: context.requestId,
      sourceIp: context.sourceIp,
      claims: context.claims,
      authorizer: context.authorizer,
      lambdaRequestId: context.lambdaContext.awsRequestId,
      stage: (context.requestContext as { stage?: string }).stage,
    }),
  );

  it('REST with a Cognito authorizer: claims, source IP, request id, stage', async () => {
    const event = v1();
    event.requestContext = { ...event.requestContext, authorizer: { claims: { sub: 'user-1', email: 'ada@example.com' } } };
    const answer = JSON.parse((await call(contextEcho, event)).body);
    expect(answer).toMatchObject({
      requestId: event.requestContext.requestId,
      sourceIp: '192.168.100.1',
      claims: { sub: 'user-1', email: 'ada@example.com' },
      lambdaRequestId: 'lambda-request-1',
      stage: event.requestContext.stage,
    });
  });

  it('HTTP API with a JWT authorizer: the JWT claims; with a Lambda authorizer: its context', async () => {
    const jwt = JSON.parse((await call(contextEcho, loadEvent('sources/example-apigw-v2-request-jwt-authorizer.json'))).body);
    expect(jwt.claims).toEqual({ claim1: 'value1', claim2: 'value2' });
    const lambda = loadEvent('sources/example-apigw-v2-request-lambda-authorizer.json');
    const answer = JSON.parse((await call(contextEcho, lambda)).body);
    expect(answer.authorizer).toEqual(lambda.requestContext.authorizer);
    expect(answer.claims).toBeUndefined();
  });

  it("hono apps read the same through c.env, as with hono's own adapter", async () => {
    const app = new Hono<{ Bindings: HttpContext }>();
    app.get('/my/path', (c) => c.json({ ip: c.env.sourceIp, method: (c.env.event as any).requestContext.http.method }));
    const result = await call(handle(app), loadEvent('http/lambda_function_url_request.json'));
    expect(JSON.parse(result.body)).toEqual({ ip: '65.78.31.245', method: 'GET' });
  });
});

describe('lambda-kit/http: WebSocket', () => {
  const app = new Hono<{ Bindings: HttpContext }>();
  const seen: string[] = [];
  app.get('/$connect', (c) => {
    seen.push(`connect ${c.env.websocket!.connectionId} key=${c.req.header('sec-websocket-key')}`);
    return c.text('', 200);
  });
  app.post('/$default', async (c) => {
    seen.push(`message ${c.env.websocket!.connectionId} ${await c.req.text()}`);
    return c.json({ echoed: true });
  });
  app.delete('/$disconnect', (c) => {
    seen.push(`disconnect ${c.env.websocket!.connectionId}`);
    return c.body(null, 200);
  });
  const handler = handle(app);

  it('connect, message and disconnect each reach their route with the connection id', async () => {
    const connect = loadEvent('sources/example-apigw-websocket-request-without-method.json');
    const base = connect.requestContext;
    const message = {
      requestContext: { ...base, routeKey: '$default', eventType: 'MESSAGE', messageId: 'm-1' },
      body: '{"action":"hi"}',
      isBase64Encoded: false,
    };
    const disconnect = loadEvent('sources/example-apigw-websocket-request-disconnect-route.json');
    expect(await call(handler, connect)).toMatchObject({ statusCode: 200 });
    expect(await call(handler, message)).toMatchObject({ statusCode: 200, body: '{"echoed":true}' });
    expect(await call(handler, disconnect)).toMatchObject({ statusCode: 200 });
    expect(seen).toEqual([
      `connect ${base.connectionId} key=asdfasdf==`,
      `message ${base.connectionId} {"action":"hi"}`,
      `disconnect ${disconnect.requestContext.connectionId}`,
    ]);
  });

  it('a $connect answered 403 refuses the connection: the status goes back as is', async () => {
    const refuse = handle(() => new Response('no', { status: 403 }));
    expect(await call(refuse, loadEvent('sources/example-apigw-websocket-request-without-method.json'))).toMatchObject({
      statusCode: 403,
      body: 'no',
    });
  });
});
