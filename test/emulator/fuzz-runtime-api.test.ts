// The Runtime API (RuntimeApiServer) under malformed and wrong input (fast-check, bounded): every
// request gets a 4xx with the Runtime API's error document, {"errorMessage","errorType"}, or (for
// what is not HTTP) a closed connection; never a 5xx, never a hang; an invocation made at the same
// time goes through /next and /response as ever.
//
// The error document and its statuses are those of AWS's Runtime Interface Emulator
// (internal/lambda/rapi/model/errorresponse.go, rendering/render_error.go): 400 InvalidRequestID
// for an unknown request id, 404 or 405 for what is not a route; its own fuzz test
// (rapi/rapi_fuzz_test.go) allows 400, 404 and 405 for an unknown path and 202 for any
// /init/error body.
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FUNCTION_ERROR_TYPE_HEADER,
  INIT_ERROR_PATH,
  invocationErrorPath,
  invocationResponsePath,
  NEXT_INVOCATION_PATH,
  REQUEST_ID_HEADER,
  RESPONSE_MODE_HEADER,
  RUNTIME_API_PREFIX,
} from '../../runtime/protocol/index.ts';
import { RuntimeApiServer } from '../../src/emulator/apis/runtime-api-server.ts';
import { waitFor } from '../support/wait.ts';
import {
  answered,
  exchange,
  expectRefused,
  FUZZ_RUNS,
  firstResponse,
  HANG_MS,
  hugeHeaders,
  malformedHttp,
  shown,
  unhandledDuring,
} from './fuzz-support.ts';

let api: RuntimeApiServer;
const dispatcher = new Agent({ headersTimeout: HANG_MS, bodyTimeout: HANG_MS, connections: 16 });
const url = (path: string) => `http://${api.address}${path}`;

beforeAll(async () => {
  api = await RuntimeApiServer.start();
});
afterAll(async () => {
  await dispatcher.close();
  await api?.close();
});

let cycles = 0;

/** One invocation through the Runtime API as a runtime takes it: /next, then /response with `body`. */
async function goodCycle(body: Buffer = Buffer.from(`answer ${cycles++}`), contentType = 'application/json'): Promise<void> {
  const outcome = api.invoke({ cycle: cycles });
  const next = await request(url(NEXT_INVOCATION_PATH), { dispatcher });
  await next.body.dump();
  const requestId = String(next.headers[REQUEST_ID_HEADER.toLowerCase()]);
  const posted = await request(url(invocationResponsePath(requestId)), {
    method: 'POST',
    body,
    headers: { 'content-type': contentType },
    dispatcher,
  });
  const text = await posted.body.text();
  if (posted.statusCode !== 202) throw new Error(`the invocation made alongside: /response got ${posted.statusCode} ${text}`);
  const result = await outcome;
  if (result.kind !== 'response' || !result.body.equals(body)) {
    throw new Error(`the invocation made alongside ended as ${result.kind} with ${shown(result.kind === 'response' ? result.body : '')}`);
  }
}

/** The Runtime API's error document: a 4xx, JSON {"errorMessage": string, "errorType": string}. */
function expectRuntimeError(status: number, headers: Record<string, unknown>, body: string, what: string): string {
  if (status < 400 || status >= 500) throw new Error(`${what}: ${status} ${body.slice(0, 300)}; wanted a 4xx`);
  if (!String(headers['content-type']).startsWith('application/json')) throw new Error(`${what}: ${status} as ${headers['content-type']}`);
  const parsed = JSON.parse(body) as { errorMessage?: unknown; errorType?: unknown };
  if (typeof parsed.errorMessage !== 'string' || typeof parsed.errorType !== 'string' || parsed.errorType === '') {
    throw new Error(`${what}: ${status} with the body ${body.slice(0, 300)}`);
  }
  return parsed.errorType;
}

const requestId = fc.oneof(
  fc.uuid(),
  fc.string({ maxLength: 60 }).map(encodeURIComponent),
  fc.constantFrom('%E0%A4%A', '%', '%zz', '%00', 'a%2Fb', '..', '%C0%AF'),
  fc.stringMatching(/^[%0-9A-Za-z._~-]{1,40}$/),
);

/** Anything but GET /invocation/next (a long poll, by design) and /init/error (which ends the environment). */
const runtimePath = fc.oneof(
  fc.tuple(requestId, fc.constantFrom('response', 'error', 'next', 'bogus', '')).map(([id, route]) => `/invocation/${id}/${route}`),
  requestId.map((id) => `/invocation/${id}`),
  fc
    .webPath()
    .filter((path) => `${RUNTIME_API_PREFIX}${path}` !== NEXT_INVOCATION_PATH && `${RUNTIME_API_PREFIX}${path}` !== INIT_ERROR_PATH),
  fc.constantFrom('', '/', '//', '/invocation', '/invocation//response', '/init', '/restore/next'),
);

describe('Runtime API: well-formed requests that are wrong', () => {
  it('answers any method and path but its own with a 4xx error document; never a 5xx', { timeout: 60_000 }, async () => {
    await unhandledDuring(() =>
      fc.assert(
        fc.asyncProperty(
          fc.constantFrom('GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
          runtimePath,
          fc.uint8Array({ maxLength: 200 }),
          async (method, path, body) => {
            const what = `${method} ${path} ${shown(body)}`;
            const [response] = await Promise.all([
              request(`http://${api.address}${path.startsWith('/') || path === '' ? RUNTIME_API_PREFIX : ''}${path}`, {
                method,
                ...(method !== 'GET' && { body }),
                dispatcher,
              }),
              goodCycle(),
            ]);
            expectRuntimeError(response.statusCode, response.headers, await response.body.text(), what);
          },
        ),
        FUZZ_RUNS,
      ),
    );
    await goodCycle();
  });

  it('answers /response and /error for a request id it does not know with 400 InvalidRequestID', { timeout: 60_000 }, async () => {
    await unhandledDuring(() =>
      fc.assert(
        // Not '', '.' or '..': the URL would no longer name an invocation at all (the client resolves dot segments).
        fc.asyncProperty(
          requestId.filter((id) => !['', '.', '..'].includes(id)),
          fc.constantFrom('response', 'error'),
          async (id, route) => {
            const [response] = await Promise.all([
              request(url(`${RUNTIME_API_PREFIX}/invocation/${id}/${route}`), { method: 'POST', body: '{}', dispatcher }),
              goodCycle(),
            ]);
            const errorType = expectRuntimeError(response.statusCode, response.headers, await response.body.text(), `${route} for ${id}`);
            expect([response.statusCode, errorType]).toEqual([400, 'InvalidRequestID']);
          },
        ),
        FUZZ_RUNS,
      ),
    );
  });

  it('takes any bytes, of any content type, as an invocation’s response, and any as its error', { timeout: 60_000 }, async () => {
    await unhandledDuring(() =>
      fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 2000 }),
          fc.stringMatching(/^[!-~]{1,40}$/),
          fc.boolean(),
          async (bytes, contentType, asError) => {
            const body = Buffer.from(bytes);
            if (!asError) return goodCycle(body, contentType);
            const outcome = api.invoke({});
            const next = await request(url(NEXT_INVOCATION_PATH), { dispatcher });
            await next.body.dump();
            const id = String(next.headers[REQUEST_ID_HEADER.toLowerCase()]);
            const posted = await request(url(invocationErrorPath(id)), {
              method: 'POST',
              body,
              headers: { [FUNCTION_ERROR_TYPE_HEADER]: contentType },
              dispatcher,
            });
            expect(posted.statusCode, await posted.body.text()).toBe(202);
            expect(await outcome).toMatchObject({ kind: 'error', errorType: contentType });
          },
        ),
        FUZZ_RUNS,
      ),
    );
  });

  it('answers /init/error with 202 whatever its body, as AWS does, and gives queued invocations the init error', {
    timeout: 60_000,
  }, async () => {
    await unhandledDuring(() =>
      fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 500 }), async (bytes) => {
          const fresh = await RuntimeApiServer.start();
          try {
            const queued = fresh.invoke({});
            const response = await request(`http://${fresh.address}${INIT_ERROR_PATH}`, {
              method: 'POST',
              body: Buffer.from(bytes),
              dispatcher,
            });
            expect(response.statusCode).toBe(202);
            expect(await response.body.json()).toEqual({ status: 'OK' });
            expect((await queued).kind).toBe('init-error');
          } finally {
            await fresh.close();
          }
        }),
        { ...FUZZ_RUNS, numRuns: 15 },
      ),
    );
  });

  it('gives an invocation to the next runtime that asks when the one that asked first went away', async () => {
    const leaving = new AbortController();
    const gone = request(url(NEXT_INVOCATION_PATH), { signal: leaving.signal, dispatcher }).catch((error: Error) => error.name);
    await waitFor(
      () => api.waitingRuntimes,
      (count) => count === 1,
    );
    leaving.abort();
    expect(await gone).toBe('AbortError');
    await waitFor(
      () => api.waitingRuntimes,
      (count) => count === 0,
    );
    await goodCycle();
  });
});

describe('Runtime API: malformed HTTP on raw sockets', () => {
  it('answers what is not HTTP with a 4xx or a closed connection, and still serves', { timeout: 60_000 }, async () => {
    await unhandledDuring(() =>
      fc.assert(
        fc.asyncProperty(malformedHttp, async (pieces) => {
          const [result] = await Promise.all([exchange(api.port, pieces), goodCycle()]);
          expectRefused(result, `sent ${shown(pieces.join(''))}`);
        }),
        FUZZ_RUNS,
      ),
    );
    await goodCycle();
  });

  it('answers headers over the limit with 431 (or closes), and still serves', { timeout: 60_000 }, async () => {
    await unhandledDuring(() =>
      fc.assert(
        fc.asyncProperty(hugeHeaders, async (headers) => {
          const head = `GET ${NEXT_INVOCATION_PATH} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`;
          const [result] = await Promise.all([exchange(api.port, [head], { done: answered }), goodCycle()]);
          const response = expectRefused(result, `${headers.length} bytes of headers`);
          if (response && response.status !== 431) throw new Error(`${headers.length} bytes of headers: ${response.status}; wanted 431`);
        }),
        { ...FUZZ_RUNS, numRuns: 15 },
      ),
    );
    await goodCycle();
  });

  it('takes a /response that trickles in, piece by piece', { timeout: 60_000 }, async () => {
    await unhandledDuring(() =>
      fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 12 }), fc.string({ minLength: 1, maxLength: 200 }), async (pieceCount, answer) => {
          const outcome = api.invoke({});
          const next = await request(url(NEXT_INVOCATION_PATH), { dispatcher });
          await next.body.dump();
          const id = String(next.headers[REQUEST_ID_HEADER.toLowerCase()]);
          const body = Buffer.from(answer);
          const text = Buffer.concat([
            Buffer.from(`POST ${invocationResponsePath(id)} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.byteLength}\r\n\r\n`),
            body,
          ]);
          const size = Math.ceil(text.byteLength / pieceCount);
          const pieces = Array.from({ length: pieceCount }, (_, piece) => text.subarray(piece * size, (piece + 1) * size));
          const [result] = await Promise.all([exchange(api.port, pieces, { gapMs: 20, end: false, done: answered }), goodCycle()]);
          expect(firstResponse(result.bytes)?.status, result.bytes.toString('latin1')).toBe(202);
          expect(await outcome).toMatchObject({ kind: 'response', body });
        }),
        { ...FUZZ_RUNS, numRuns: 10 },
      ),
    );
  });

  it.each([
    ['a buffered /response', 'Content-Length: 100', '{"partial":'],
    ['a streamed /response', `${RESPONSE_MODE_HEADER}: streaming\r\nTransfer-Encoding: chunked`, '5\r\nfirst\r\n'],
  ])(
    'survives %s cut off midway: the invocation is then answered once, by a retry or as the cut-off answer',
    async (_what, headers, partial) => {
      const outcome = api.invoke({});
      const next = await request(url(NEXT_INVOCATION_PATH), { dispatcher });
      await next.body.dump();
      const id = String(next.headers[REQUEST_ID_HEADER.toLowerCase()]);
      const head = `POST ${invocationResponsePath(id)} HTTP/1.1\r\nHost: x\r\n${headers}\r\n\r\n`;
      // Written, then the connection is gone: a runtime that died halfway through its answer.
      await unhandledDuring(() => exchange(api.port, [head, partial], { gapMs: 20, abort: true }));
      await goodCycle();
      const retried = await request(url(invocationResponsePath(id)), { method: 'POST', body: '"again"', dispatcher });
      const text = await retried.body.text();
      const settled = await Promise.race([outcome, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), HANG_MS))]);
      expect(settled, 'the invocation never ended').not.toBe('pending');
      if (retried.statusCode === 202) {
        expect(settled).toMatchObject({ kind: 'response', body: Buffer.from('"again"') });
      } else {
        // Ended by the cut-off answer: the retry is refused as for any invocation no longer open.
        expectRuntimeError(retried.statusCode, retried.headers, text, 'the retry');
        expect(settled).not.toMatchObject({ body: Buffer.from('"again"') });
      }
    },
  );
});

describe('Runtime API: an /init/error cut off midway', () => {
  it('is no init error, and the whole one sent after it is', async () => {
    const fresh = await RuntimeApiServer.start();
    try {
      const head = `POST ${INIT_ERROR_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n`;
      await unhandledDuring(() => exchange(fresh.port, [head, '{"errorType":"Cut'], { gapMs: 20, abort: true }));
      expect(fresh.initError).toBeUndefined();
      const whole = await request(`http://${fresh.address}${INIT_ERROR_PATH}`, {
        method: 'POST',
        body: '{"errorType":"Whole","errorMessage":"sent in full"}',
        dispatcher,
      });
      expect(whole.statusCode, await whole.body.text()).toBe(202);
      expect(fresh.initError).toMatchObject({ errorType: 'Whole' });
    } finally {
      await fresh.close();
    }
  });
});

describe('Runtime API: what the fuzzing found, case by case', () => {
  it.each(['%E0%A4%A', '%', '%zz'])('answers /response for the request id %s with 400 InvalidRequestID', async (id) => {
    const text = `POST ${RUNTIME_API_PREFIX}/invocation/${id}/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`;
    const result = await unhandledDuring(() => exchange(api.port, [text], { done: answered }));
    const response = expectRefused(result, `request id ${id}`);
    expect(response, 'an answer, not a closed connection: the request is HTTP').toBeDefined();
    expect(expectRuntimeError(response!.status, response!.headers, response!.body.toString('utf8'), id)).toBe('InvalidRequestID');
    await goodCycle();
  });
});
