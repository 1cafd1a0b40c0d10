import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { BadHttpEventError, InvalidHttpResponseError, handle } from '../../../runtime/http/index.ts';
import { lambdaContext, loadEvent } from './support.ts';

const ok = handle(() => new Response('ok'));
const call = (event: unknown) => ok(event, lambdaContext()) as Promise<Record<string, any>>;

describe("lambda-kit/http: bad events get a 400 in their source's shape, and are logged", () => {
  let logged: MockInstance;
  beforeEach(() => {
    logged = vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => logged.mockRestore());

  it('an event of no HTTP source: 400 with code LK_HTTP_UNKNOWN_EVENT', async () => {
    for (const event of [null, 'text', 42, { Records: [] }, loadEvent('sources/example-sqs-event.json')]) {
      const result = await call(event);
      expect(result).toMatchObject({ statusCode: 400, headers: { 'content-type': 'application/json' } });
      expect(JSON.parse(result.body)).toMatchObject({ code: 'LK_HTTP_UNKNOWN_EVENT', status: 400 });
    }
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('LK_HTTP_UNKNOWN_EVENT'));
  });

  const cases: Array<[string, Record<string, unknown>, (result: Record<string, any>) => void]> = [
    [
      'REST, a body that is not base64',
      { ...loadEvent('http/apigw_multi_value_proxy_request.json'), body: '!!', isBase64Encoded: true },
      (result) => expect(result).toMatchObject({ statusCode: 400, isBase64Encoded: false }),
    ],
    [
      'HTTP API, a header name with a space',
      { ...loadEvent('http/apigw_v2_proxy_request.json'), headers: { 'bad name': 'x' } },
      (result) => expect(result).toMatchObject({ statusCode: 400, headers: { 'content-type': 'application/json' } }),
    ],
    [
      'ALB single-value, a method no Request may have',
      { ...loadEvent('http/alb_request.json'), httpMethod: 'CONNECT' },
      (result) =>
        expect(result).toMatchObject({
          statusCode: 400,
          statusDescription: '400 Bad Request',
          headers: { 'content-type': 'application/json' },
        }),
    ],
    [
      'ALB multi-value, a header value with a newline',
      { ...loadEvent('http/alb_multi_value_request.json'), multiValueHeaders: { 'x-a': ['1\n2'] } },
      (result) =>
        expect(result).toMatchObject({
          statusCode: 400,
          statusDescription: '400 Bad Request',
          multiValueHeaders: { 'content-type': ['application/json'] },
        }),
    ],
  ];
  for (const [name, event, check] of cases) {
    it(name, async () => {
      const result = await call(event);
      check(result);
      const body = JSON.parse(result.body);
      expect(body).toMatchObject({ code: 'LK_HTTP_BAD_EVENT' });
      expect(body.message).toMatch(/^bad (api-gateway-v1|api-gateway-v2|alb) event: /);
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('LK_HTTP_BAD_EVENT'));
    });
  }

  it('BadHttpEventError carries a stable code, the source and an errorType', () => {
    const error = new BadHttpEventError('alb', 'why');
    expect(error).toMatchObject({ code: 'LK_HTTP_BAD_EVENT', source: 'alb', errorType: 'Http.BadEvent', message: 'bad alb event: why' });
  });
});

describe('lambda-kit/http: a handler that breaks its contract', () => {
  it('returning no Response fails the invocation with InvalidHttpResponseError', async () => {
    const broken = handle(() => ({ statusCode: 200 }) as unknown as Response);
    const failure = await broken(loadEvent('http/apigw_v2_proxy_request.json'), lambdaContext()).catch((error) => error);
    expect(failure).toBeInstanceOf(InvalidHttpResponseError);
    expect(failure).toMatchObject({ code: 'LK_HTTP_NOT_A_RESPONSE', errorType: 'Http.InvalidResponse' });
  });

  it("an error thrown by the app is the function's error, not a 400", async () => {
    const throwing = handle(() => {
      throw new RangeError('app broke');
    });
    await expect(throwing(loadEvent('http/apigw_v2_proxy_request.json'), lambdaContext())).rejects.toThrow('app broke');
  });

  it('handle() refuses what is neither a fetch handler nor an app with fetch', () => {
    expect(() => handle({} as never)).toThrow(/fetch handler/);
  });
});
