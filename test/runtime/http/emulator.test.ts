import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../../src/emulator/emulator.ts';
import { decodeEventMessages } from '../../../src/emulator/apis/event-stream.ts';
import { invokeHttp } from '../../support/aws-clients.ts';
import { fixture } from '../../support/function-process.ts';
import { loadEvent } from './support.ts';

interface Arrival {
  at: number;
  event: string;
  payload: Buffer;
}

/** InvokeWithResponseStream as a Function URL calls it; each event-stream message with its arrival time. */
async function invokeStreaming(emulator: Emulator, name: string, payload: unknown): Promise<{ arrivals: Arrival[] }> {
  const response = await fetch(`${emulator.endpoint}/2021-11-15/functions/${name}/response-streaming-invocations`, {
    method: 'POST',
    body: JSON.stringify(payload),
  });
  expect(response.status).toBe(200);
  const arrivals: Arrival[] = [];
  let pending: Buffer = Buffer.alloc(0);
  for await (const value of response.body!) {
    const decoded = decodeEventMessages(Buffer.concat([pending, Buffer.from(value)]));
    pending = decoded.rest;
    for (const message of decoded.messages)
      arrivals.push({ at: Date.now(), event: message.headers[':event-type']!, payload: message.payload });
  }
  return { arrivals };
}

const payloadOf = (arrivals: Arrival[]) =>
  Buffer.concat(arrivals.filter((arrival) => arrival.event === 'PayloadChunk').map((arrival) => arrival.payload));

/** Splits an HTTP-integration stream: JSON prelude, 8 NUL bytes, body. */
function splitPrelude(payload: Buffer): { prelude: any; body: string } {
  const separator = payload.indexOf(Buffer.alloc(8));
  expect(separator, 'no 8-NUL separator after the prelude').toBeGreaterThan(0);
  return { prelude: JSON.parse(payload.subarray(0, separator).toString()), body: payload.subarray(separator + 8).toString() };
}

const functionUrl = (rawPath: string) => ({ ...loadEvent('http/lambda_function_url_request.json'), rawPath, rawQueryString: '' });

describe('lambda-kit/http through the emulator: hono served by the real runtime loop', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    const source = { command: [process.execPath, fixture('http-app.ts')] };
    emulator = await Emulator.start({
      functions: [
        { name: 'http-stream', source, environment: { HTTP_MODE: 'stream' } },
        { name: 'http-buffered', source, environment: { HTTP_MODE: 'buffered' } },
      ],
      log: () => {},
    });
  });
  afterAll(async () => emulator.close());

  it('streams a Function URL response: prelude with cookies and no content-length, 8 NULs, then the body as written', async () => {
    const { arrivals } = await invokeStreaming(emulator, 'http-stream', functionUrl('/stream'));
    const { prelude, body } = splitPrelude(payloadOf(arrivals));
    expect(prelude.statusCode).toBe(200);
    expect(prelude.headers['content-type']).toBe('text/plain; charset=UTF-8');
    expect(Object.keys(prelude.headers)).not.toContain('content-length');
    expect(prelude.cookies).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(body).toBe('first second');
    // "first " left the function before it slept: the body was streamed, not buffered.
    const chunks = arrivals.filter((arrival) => arrival.event === 'PayloadChunk');
    const firstBody = chunks.find((chunk) => chunk.payload.includes('first'))!;
    expect(arrivals.at(-1)!.event).toBe('InvokeComplete');
    expect(arrivals.at(-1)!.at - firstBody.at).toBeGreaterThanOrEqual(300);
  });

  it('drops a content-length the app set: the prelude never has one', async () => {
    const { prelude, body } = splitPrelude(payloadOf((await invokeStreaming(emulator, 'http-stream', functionUrl('/sized'))).arrivals));
    expect(prelude.headers).toEqual({ 'content-type': 'text/plain' });
    expect(body).toBe('12345');
  });

  it('streams a REST API response with its cookies in multiValueHeaders', async () => {
    const rest = {
      ...loadEvent('http/apigw_proxy_request.json'),
      path: '/stream',
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
    };
    const { prelude, body } = splitPrelude(payloadOf((await invokeStreaming(emulator, 'http-stream', rest)).arrivals));
    expect(prelude).toMatchObject({ statusCode: 200, multiValueHeaders: { 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'] } });
    expect(prelude.headers['content-length']).toBeUndefined();
    expect(body).toBe('first second');
  });

  it('answers an HTTP API event (which cannot stream) from the same function with the buffered result', async () => {
    const payload = payloadOf(
      (await invokeStreaming(emulator, 'http-stream', loadEvent('http/apigw_v2_proxy_request_minimal.json'))).arrivals,
    );
    const result = JSON.parse(payload.toString());
    expect(result).toMatchObject({ statusCode: 404, isBase64Encoded: false });
  });

  it('answers a plain Invoke of the buffered function with the result object', async () => {
    const answer = await invokeHttp(emulator.endpoint, 'http-buffered', loadEvent('http/lambda_function_url_request.json'));
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ statusCode: 200, isBase64Encoded: false });
    expect(JSON.parse(answer.json().body)).toEqual({
      source: 'function-url',
      query: { parameter1: ['value1', 'value2'], parameter2: ['value'] },
    });
  });

  it('answers bad events with a 400 and keeps serving: no crash, no function error', async () => {
    const unknown = await invokeHttp(emulator.endpoint, 'http-buffered', { hello: 'world' });
    expect(unknown.headers.get('x-amz-function-error')).toBeNull();
    expect(unknown.json()).toMatchObject({ statusCode: 400 });
    expect(JSON.parse(unknown.json().body)).toMatchObject({ code: 'LK_HTTP_UNKNOWN_EVENT' });

    const badBody = { ...loadEvent('http/apigw_multi_value_proxy_request.json'), body: '%%% not base64', isBase64Encoded: true };
    const bad = await invokeHttp(emulator.endpoint, 'http-buffered', badBody);
    expect(bad.json()).toMatchObject({ statusCode: 400 });
    expect(JSON.parse(bad.json().body)).toMatchObject({ code: 'LK_HTTP_BAD_EVENT' });

    const streamed = await invokeStreaming(emulator, 'http-stream', { ...functionUrl('/stream'), headers: { 'bad header': 'x' } });
    const { prelude, body } = splitPrelude(payloadOf(streamed.arrivals));
    expect(prelude.statusCode).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ code: 'LK_HTTP_BAD_EVENT' });

    const good = await invokeHttp(emulator.endpoint, 'http-buffered', loadEvent('http/lambda_function_url_request.json'));
    expect(good.json()).toMatchObject({ statusCode: 200 });
  });

  it('reports a handler that returns no Response as a function error, then serves the next request', async () => {
    const answer = await invokeHttp(emulator.endpoint, 'http-buffered', functionUrl('/not-a-response'));
    expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(answer.json()).toMatchObject({ errorType: 'Http.InvalidResponse' });
    const next = await invokeHttp(emulator.endpoint, 'http-buffered', loadEvent('http/lambda_function_url_request.json'));
    expect(next.json()).toMatchObject({ statusCode: 200 });
  });
});
