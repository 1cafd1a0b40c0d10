// The Invoke API under malformed and wrong input (fast-check, bounded): every request gets a 4xx in
// Lambda's error shape, or (for what is not HTTP) a closed connection; never a 5xx, never a hang,
// and a valid invoke made at the same time is answered as ever.
//
// Lambda's error shape: status, x-amzn-ErrorType, and {"Type":"User","message":...} (Message for
// ResourceNotFoundException), as the Lambda API reference's Invoke "Errors" list them. Payloads
// are JSON parsed from bytes: bytes that are not UTF-8 are InvalidRequestContentException too.
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  INVOCATION_TYPE_HEADER,
  INVOKE_CLIENT_CONTEXT_HEADER,
  INVOKE_ERROR_TYPE_HEADER,
  invokePath,
  LOG_TYPE_HEADER,
  MAX_CLIENT_CONTEXT_BYTES,
  streamInvokePath,
} from '../../runtime/protocol/index.ts';
import { Emulator } from '../../src/emulator/emulator.ts';
import { fixture } from '../support/function-process.ts';
import {
  answered,
  exchange,
  expectRefused,
  FUZZ_RUNS,
  firstResponse,
  HANG_MS,
  hugeHeaders,
  isStrictJson,
  malformedHttp,
  shown,
  unhandledDuring,
} from './fuzz-support.ts';

let emulator: Emulator;
let port: number;
// Every request of these tests fails rather than waits when the emulator does not answer.
const dispatcher = new Agent({ headersTimeout: HANG_MS, bodyTimeout: HANG_MS, connections: 16 });

beforeAll(async () => {
  emulator = await Emulator.start({
    functions: [{ name: 'f', source: { command: [process.execPath, fixture('behaviours.ts')] }, maxEnvironments: 2 }],
    log: () => {},
  });
  port = Number(new URL(emulator.endpoint).port);
});
afterAll(async () => {
  await dispatcher.close();
  await emulator?.close();
});

let goodInvokes = 0;

/** A valid invoke: it must get its own echo, whatever else the emulator is being sent. */
async function goodInvoke(): Promise<void> {
  const index = goodInvokes++;
  const response = await request(`${emulator.endpoint}${invokePath('f')}`, {
    method: 'POST',
    body: JSON.stringify({ action: 'echo', index }),
    dispatcher,
  });
  const body = await response.body.text();
  if (response.statusCode !== 200 || body !== JSON.stringify({ action: 'echo', index })) {
    throw new Error(`the valid invoke made alongside got ${response.statusCode}: ${body.slice(0, 300)}`);
  }
}

/** Lambda's error shape: a 4xx, x-amzn-ErrorType, {"Type":"User","message" or "Message": string}. */
function expectLambdaError(status: number, headers: Record<string, unknown>, body: string, method: string, what: string): string {
  if (status < 400 || status >= 500) throw new Error(`${what}: ${status} ${body.slice(0, 300)}; wanted a 4xx`);
  const errorType = headers[INVOKE_ERROR_TYPE_HEADER.toLowerCase()];
  if (typeof errorType !== 'string' || errorType === '') throw new Error(`${what}: ${status} without ${INVOKE_ERROR_TYPE_HEADER}`);
  if (method === 'HEAD') return errorType;
  const parsed = JSON.parse(body) as { Type?: unknown; message?: unknown; Message?: unknown };
  if (parsed.Type !== 'User' || typeof (parsed.message ?? parsed.Message) !== 'string') {
    throw new Error(`${what}: ${status} ${errorType} with the body ${body.slice(0, 300)}`);
  }
  return errorType;
}

const functionName = fc.oneof(
  fc.constant('f'),
  fc.constantFrom('f:$LATEST', 'f:1', 'arn:aws:lambda:us-east-1:000000000000:function:f', 'nope', 'f%3Aprod', '%E0%A4%A', '%', '%zz', '..'),
  fc.string({ maxLength: 80 }).map(encodeURIComponent),
  fc.stringMatching(/^[%0-9A-Za-z:._-]{1,40}$/),
);

const anyPath = fc.oneof(
  functionName.map((name) => invokePath(name).replace(encodeURIComponent(name), name)),
  functionName.map((name) => streamInvokePath(name).replace(encodeURIComponent(name), name)),
  fc.webPath(),
  fc.constantFrom('/', '//', '////x', '/2015-03-31/functions/', '/2015-03-31/functions//invocations', '/%', '/?Qualifier=%ZZ'),
);

const anyBody = fc.oneof(
  fc.constant(Buffer.from('{"action":"echo"}')),
  fc.json().map((text) => Buffer.from(text)),
  fc.string().map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
);

/** Header values undici will send (visible ASCII): Lambda's three headers, with values right and wrong. */
const headerValue = fc.stringMatching(/^[!-~][ -~]{0,60}$/);
const invokeHeaders = fc.record(
  {
    [INVOCATION_TYPE_HEADER]: fc.oneof(fc.constantFrom('RequestResponse', 'Event', 'DryRun', 'requestresponse', ''), headerValue),
    [LOG_TYPE_HEADER]: fc.oneof(fc.constantFrom('None', 'Tail', 'tail'), headerValue),
    [INVOKE_CLIENT_CONTEXT_HEADER]: fc.oneof(
      fc.constant(Buffer.from('{"custom":{"a":1}}').toString('base64')),
      fc.base64String({ maxLength: 100 }),
      fc.constant(Buffer.from('[1,2]').toString('base64')),
      // One character over the limit (MAX_CLIENT_CONTEXT_BYTES).
      fc.constant('a'.repeat(MAX_CLIENT_CONTEXT_BYTES + 1)),
      headerValue,
    ),
  },
  { requiredKeys: [] },
);

describe('Invoke API: well-formed requests that are wrong', () => {
  it('answers any method, path, header and body with a 2xx for an invoke, else a 4xx in Lambda’s error shape; never a 5xx', {
    timeout: 60_000,
  }, async () => {
    await unhandledDuring(() =>
      fc.assert(
        fc.asyncProperty(
          fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'POST', 'POST', 'POST', 'OPTIONS', 'HEAD'),
          anyPath,
          invokeHeaders,
          anyBody,
          async (method, path, headers, body) => {
            const what = `${method} ${path} ${shown(headers)} ${shown(body)}`;
            const [response] = await Promise.all([
              request(`${emulator.endpoint}${path.startsWith('/') ? path : `/${path}`}`, {
                method,
                headers,
                ...(method !== 'GET' && method !== 'HEAD' && { body }),
                dispatcher,
              }),
              goodInvoke(),
            ]);
            const text = await response.body.text();
            if (response.statusCode >= 200 && response.statusCode < 300) {
              if (method !== 'POST') throw new Error(`${what}: ${response.statusCode} for ${method}; Invoke takes POST`);
              return;
            }
            expectLambdaError(response.statusCode, response.headers, text, method, what);
          },
        ),
        FUZZ_RUNS,
      ),
    );
    await goodInvoke();
  });

  it('takes a payload that is JSON (parsed from UTF-8) and refuses any other with 400 InvalidRequestContentException', {
    timeout: 60_000,
  }, async () => {
    await unhandledDuring(() =>
      fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.json().map((text) => Buffer.from(text)),
            fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
            // JSON but for one byte that is not UTF-8 in a string.
            fc
              .tuple(fc.string({ maxLength: 20 }), fc.constantFrom(0x80, 0xc0, 0xe0, 0xf8, 0xfe, 0xff))
              .map(([text, byte]) =>
                Buffer.concat([Buffer.from(`{"action":"${text.replace(/["\\]/g, '')}`), Buffer.from([byte]), Buffer.from('"}')]),
              ),
          ),
          async (payload) => {
            const [response] = await Promise.all([
              request(`${emulator.endpoint}${invokePath('f')}`, { method: 'POST', body: payload, dispatcher }),
              goodInvoke(),
            ]);
            const text = await response.body.text();
            const what = `payload ${shown(payload)}`;
            if (isStrictJson(payload)) {
              // The function gets it (and, not being an echo, may fail on it: that is a function error, still a 200).
              if (response.statusCode !== 200) throw new Error(`${what}: ${response.statusCode} ${text.slice(0, 200)}`);
            } else {
              const errorType = expectLambdaError(response.statusCode, response.headers, text, 'POST', what);
              if (response.statusCode !== 400 || errorType !== 'InvalidRequestContentException') {
                throw new Error(`${what}: ${response.statusCode} ${errorType}; wanted 400 InvalidRequestContentException`);
              }
            }
          },
        ),
        FUZZ_RUNS,
      ),
    );
  });
});

describe('Invoke API: malformed HTTP on raw sockets', () => {
  it('answers what is not HTTP with a 4xx or a closed connection, and still serves', { timeout: 60_000 }, async () => {
    await unhandledDuring(() =>
      fc.assert(
        fc.asyncProperty(malformedHttp, async (pieces) => {
          const [result] = await Promise.all([exchange(port, pieces), goodInvoke()]);
          expectRefused(result, `sent ${shown(pieces.join(''))}`);
        }),
        FUZZ_RUNS,
      ),
    );
    await goodInvoke();
  });

  it('answers headers over the limit with 431 (or closes), and still serves', { timeout: 60_000 }, async () => {
    await unhandledDuring(() =>
      fc.assert(
        fc.asyncProperty(hugeHeaders, async (headers) => {
          const head = `POST ${invokePath('f')} HTTP/1.1\r\nHost: x\r\n${headers}Content-Length: 2\r\n\r\n{}`;
          const [result] = await Promise.all([exchange(port, [head], { done: answered }), goodInvoke()]);
          const response = expectRefused(result, `${headers.length} bytes of headers`);
          if (response && response.status !== 431) throw new Error(`${headers.length} bytes of headers: ${response.status}; wanted 431`);
        }),
        { ...FUZZ_RUNS, numRuns: 15 },
      ),
    );
    await goodInvoke();
  });

  it('takes a request that trickles in, piece by piece, while other invokes are answered', { timeout: 60_000 }, async () => {
    await unhandledDuring(() =>
      fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 0, max: 99 }), async (pieceCount, index) => {
          const body = JSON.stringify({ action: 'echo', trickled: index });
          const text = `POST ${invokePath('f')} HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
          const size = Math.ceil(text.length / pieceCount);
          const pieces = Array.from({ length: pieceCount }, (_, piece) => text.slice(piece * size, (piece + 1) * size));
          const [result] = await Promise.all([
            exchange(port, pieces, { gapMs: 20, end: false, done: answered }),
            goodInvoke().then(goodInvoke),
          ]);
          const response = firstResponse(result.bytes);
          expect(response?.status, result.bytes.toString('latin1')).toBe(200);
          expect(response?.body.toString()).toBe(body);
        }),
        { ...FUZZ_RUNS, numRuns: 10 },
      ),
    );
  });

  it('keeps serving while a request body stalls, and after its caller gives up', async () => {
    const stalled = exchange(port, [`POST ${invokePath('f')} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"act`], {
      end: false,
      done: answered,
    });
    for (let i = 0; i < 5; i++) await goodInvoke();
    // The stalled request is still waiting for the rest of its body when this side drops it, HANG_MS later.
    const result = await stalled;
    expect(result).toMatchObject({ hung: true, closed: false });
    expect(result.bytes.toString('latin1')).toBe('');
    await goodInvoke();
  });
});

describe('Invoke API: what the fuzzing found, case by case', () => {
  it.each([
    ['a request target of //', `POST // HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`],
    ['an absolute-form target that is no URL', `POST http://[::1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`],
    [
      'a function name with a broken %-escape',
      `POST /2015-03-31/functions/%E0%A4%A/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`,
    ],
  ])('answers %s with a 4xx in Lambda’s error shape', async (what, text) => {
    const result = await unhandledDuring(() => exchange(port, [text], { done: answered }));
    const response = expectRefused(result, what);
    expect(response, 'an answer, not a closed connection: the request is HTTP').toBeDefined();
    expectLambdaError(response!.status, response!.headers, response!.body.toString('utf8'), 'POST', what);
    await goodInvoke();
  });

  it('refuses a payload that is not UTF-8 with 400 InvalidRequestContentException', async () => {
    const payload = Buffer.concat([Buffer.from('{"action":"echo","name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const response = await request(`${emulator.endpoint}${invokePath('f')}`, { method: 'POST', body: payload, dispatcher });
    const text = await response.body.text();
    expect([response.statusCode, response.headers[INVOKE_ERROR_TYPE_HEADER.toLowerCase()]], text).toEqual([
      400,
      'InvalidRequestContentException',
    ]);
  });
});
