import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RuntimeApiServer, type InvocationOutcome } from '../../../src/emulator/apis/runtime-api-server.ts';
import { fixture, startFunction, type FunctionProcess } from '../../support/function-process.ts';

function json(outcome: InvocationOutcome): unknown {
  if (outcome.kind !== 'response') throw new Error(`expected a response, got ${outcome.kind}: ${JSON.stringify(outcome)}`);
  return JSON.parse(outcome.body.toString('utf8'));
}

function errorOf(outcome: InvocationOutcome) {
  if (outcome.kind !== 'error') throw new Error(`expected an error, got ${outcome.kind}: ${JSON.stringify(outcome)}`);
  return outcome;
}

describe('runtime loop: one long-lived function process', () => {
  let server: RuntimeApiServer;
  let fn: FunctionProcess;

  beforeAll(async () => {
    server = await RuntimeApiServer.start({
      functionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:test-function:live',
    });
    fn = startFunction(fixture('behaviours.ts'), server.address);
  });
  afterAll(async () => {
    await fn.stop();
    await server.close();
  });

  it('answers with the handler result on /response', async () => {
    const outcome = await server.invoke({ action: 'echo', firstName: 'Ada' });
    expect(json(outcome)).toEqual({ action: 'echo', firstName: 'Ada' });
    expect(outcome.headers['content-type']).toBe('application/json');
  });

  it('sends null for an undefined result', async () => {
    const outcome = await server.invoke({ action: 'undefined' });
    expect(outcome.kind).toBe('response');
    expect(outcome.kind === 'response' && outcome.body.toString()).toBe('null');
  });

  it('builds the context from headers and environment, and sets _X_AMZN_TRACE_ID', async () => {
    const identity = { cognitoIdentityId: 'us-east-1:abc', cognitoIdentityPoolId: 'us-east-1:pool' };
    const clientContext = { client: { installation_id: 'i-1' }, Custom: { flag: true }, env: { locale: 'en' } };
    const outcome = await server.invoke(
      { action: 'context' },
      {
        requestId: 'req-context-1',
        timeoutMs: 5000,
        traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
        cognitoIdentity: JSON.stringify(identity),
        clientContext: JSON.stringify(clientContext),
        tenantId: 'tenant-42',
      },
    );
    const context = json(outcome) as Record<string, unknown>;
    expect(context).toMatchObject({
      awsRequestId: 'req-context-1',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:test-function:live',
      functionName: 'test-function',
      functionVersion: '$LATEST',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/test-function',
      logStreamName: '2026/11/24/[$LATEST]0123456789abcdef',
      identity,
      clientContext,
      tenantId: 'tenant-42',
      traceEnv: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    });
    expect(context.remaining).toBeGreaterThan(3000);
    expect(context.remaining).toBeLessThanOrEqual(5000);
  });

  it("reports a thrown Error on /error as AWS's Node runtime does: errorType, errorMessage, trace", async () => {
    const outcome = errorOf(await server.invoke({ action: 'throw-error' }, { requestId: 'thrown-1' }));
    expect(outcome.headers['lambda-runtime-function-error-type']).toBe('ValidationError');
    expect(Object.keys(outcome.error)).toEqual(['errorType', 'errorMessage', 'trace']);
    expect(outcome.error.errorType).toBe('ValidationError');
    expect(outcome.error.errorMessage).toBe('firstName is required');
    expect(outcome.error.trace?.[0]).toBe('ValidationError: firstName is required');
    expect(outcome.error.trace?.some((line) => line.includes('behaviours.ts'))).toBe(true);
    // Logged in aws-lambda-ric's layout: "Invoke Error", a tab, the error with its enumerable fields and its stack.
    const [logged] = await fn.waitForLines((line) => line.includes('\tthrown-1\tERROR\t'), 1);
    const [, json] = /\tthrown-1\tERROR\tInvoke Error \t(\{.*\})$/.exec(logged!)!;
    const record = JSON.parse(json!);
    expect(Object.keys(record)).toEqual(['errorType', 'errorMessage', 'name', 'stack']);
    expect(record).toMatchObject({ errorType: 'ValidationError', errorMessage: 'firstName is required', name: 'ValidationError' });
    expect(record.stack[0]).toBe('ValidationError: firstName is required');
  });

  it.each([
    ['throw-string', 'string', 'plain string thrown'],
    ['throw-undefined', 'undefined', 'undefined'],
    ['throw-object', 'object', '[object Object]'],
  ])('reports a thrown non-Error (%s) as the managed runtime does', async (action, errorType, errorMessage) => {
    const outcome = errorOf(await server.invoke({ action }));
    expect(outcome.errorType).toBe(errorType);
    expect(outcome.error).toEqual({ errorType, errorMessage, trace: [] });
  });

  it.each(['circular', 'bigint'])('reports a result that cannot be serialised (%s) and keeps serving', async (action) => {
    const outcome = errorOf(await server.invoke({ action }));
    expect(outcome.errorType).toBe('Runtime.SerializationError');
    expect(outcome.error.errorMessage).toMatch(/Unable to stringify response body/);
    expect(json(await server.invoke({ action: 'echo', after: action }))).toEqual({ action: 'echo', after: action });
  });

  it('takes the 413 for a response over 6 MB as Lambda means it: the platform reported it, no /error follows', async () => {
    const outcome = await server.invoke({ action: 'big', bytes: 6_300_000 }, { requestId: 'too-big-1' });
    expect(outcome).toMatchObject({ kind: 'too-large', requestId: 'too-big-1' });
    // The runtime logs the refusal (as AWS's does) and asks for the next invocation, without posting /error.
    const [logged] = await fn.waitForLines((line) => line.includes('too-big-1'), 1);
    expect(logged).toMatch(/\ttoo-big-1\tERROR\tFailed to post handler success response\. Http response code: 413\./);
    expect(server.requests.filter((request) => request.url.includes('/invocation/too-big-1/')).map((request) => request.url)).toEqual([
      '/2018-06-01/runtime/invocation/too-big-1/response',
    ]);
    // Just under the limit still goes through.
    const ok = await server.invoke({ action: 'big', bytes: 6_000_000 });
    expect(ok.kind).toBe('response');
  });

  it('echoes Lambda-Runtime-Invocation-Id on the response and on errors', async () => {
    await server.invoke({ action: 'echo' }, { requestId: 'echo-ok', invocationId: 'inv-1' });
    await server.invoke({ action: 'throw-error' }, { requestId: 'echo-err', invocationId: 'inv-2' });
    const answer = (id: string) => server.requests.find((request) => request.url.includes(`/invocation/${id}/`));
    expect(answer('echo-ok')?.headers['lambda-runtime-invocation-id']).toBe('inv-1');
    expect(answer('echo-err')?.headers['lambda-runtime-invocation-id']).toBe('inv-2');
    await server.invoke({ action: 'echo' }, { requestId: 'echo-none' });
    expect(answer('echo-none')?.headers['lambda-runtime-invocation-id']).toBeUndefined();
  });

  it('polls /next with no client-side timeout', async () => {
    // No invocation for longer than any HTTP client default idle timeout we could inherit.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(server.waitingRuntimes).toBe(1);
    expect(json(await server.invoke({ action: 'echo', late: true }))).toEqual({ action: 'echo', late: true });
  });

  it('logs like the managed runtime: timestamp, request id, level, one record per call', async () => {
    await server.invoke({ action: 'log' }, { requestId: 'log-req-1' });
    // The answer comes over TCP and may overtake the log lines coming through the stdout pipe.
    const lines = await fn.waitForLines((line) => line.includes('log-req-1'), 4);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\tlog-req-1\tINFO\tinfo line \{ n: 1 \}$/);
    expect(lines.some((line) => line.endsWith('\tDEBUG\tdebug line'))).toBe(true);
    expect(lines.some((line) => line.endsWith('\tWARN\tmulti\rline warning'))).toBe(true);
    expect(lines.some((line) => line.includes('\tERROR\tan error Error: logged error\r'))).toBe(true);
  });
});

describe('runtime loop: logging settings', () => {
  let server: RuntimeApiServer;
  let fn: FunctionProcess | undefined;
  beforeAll(async () => {
    server = await RuntimeApiServer.start();
  });
  afterEach(async () => fn?.stop());
  afterAll(async () => server.close());

  it('writes one JSON object per line with AWS_LAMBDA_LOG_FORMAT=JSON and filters by AWS_LAMBDA_LOG_LEVEL', async () => {
    fn = startFunction(fixture('behaviours.ts'), server.address, {
      AWS_LAMBDA_LOG_FORMAT: 'JSON',
      AWS_LAMBDA_LOG_LEVEL: 'WARN',
    });
    await server.invoke({ action: 'log' }, { requestId: 'json-req', tenantId: 'tenant-7' });
    const records = (await fn.waitForLines((line) => line.includes('"json-req"'), 2)).map(
      (line) => JSON.parse(line) as Record<string, unknown>,
    );
    expect(records.map((record) => record.level)).toEqual(['WARN', 'ERROR']);
    expect(records[0]).toMatchObject({ level: 'WARN', message: 'multi\nline warning', tenantId: 'tenant-7' });
    expect(records[0]!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(records[1]).toMatchObject({ errorType: 'Error', errorMessage: 'logged error' });
    expect(Array.isArray(records[1]!.stackTrace)).toBe(true);
  });
});

describe('runtime loop: faults that end the process', () => {
  let server: RuntimeApiServer;
  let fn: FunctionProcess | undefined;
  beforeAll(async () => {
    server = await RuntimeApiServer.start();
  });
  afterEach(async () => {
    await fn?.stop();
    fn = undefined;
  });
  afterAll(async () => server.close());

  it.each([
    ['unhandled-rejection', 'Runtime.UnhandledPromiseRejection', 'TypeError: nobody awaited me', 128],
    ['uncaught', 'RangeError', 'thrown from a timer', 129],
  ])('reports %s against the invocation in flight as %s, then exits', async (action, errorType, message, exitCode) => {
    fn = startFunction(fixture('behaviours.ts'), server.address);
    const outcome = errorOf(await server.invoke({ action }));
    expect(outcome.errorType).toBe(errorType);
    expect(outcome.error.errorMessage).toBe(message);
    expect((await fn.exited).code).toBe(exitCode);
  });

  it('exits non-zero at once when the Runtime API answers 500 on /response', async () => {
    fn = startFunction(fixture('behaviours.ts'), server.address);
    server.injectFault('response', 500);
    void server.invoke({ action: 'echo' });
    const exit = await fn.exited;
    expect(exit.code).toBe(1);
    expect(fn.stdout()).toMatch(/FATAL\tcannot answer invocation .*HTTP 500/);
  });

  it('exits non-zero at once when /next answers 500', async () => {
    server.injectFault('next', 500);
    fn = startFunction(fixture('behaviours.ts'), server.address);
    expect((await fn.exited).code).toBe(1);
    expect(fn.stdout()).toMatch(/cannot get the next invocation/);
  });

  it('runs the shutdown hooks on SIGTERM and exits 0', async () => {
    fn = startFunction(fixture('behaviours.ts'), server.address);
    await server.invoke({ action: 'echo' });
    fn.child.kill('SIGTERM');
    const exit = await fn.exited;
    expect(exit.code).toBe(0);
    expect(fn.stdout()).toMatch(/INFO\tshutdown hook ran on SIGTERM/);
  });

  it('exits 1 naming AWS_LAMBDA_RUNTIME_API when it is missing', async () => {
    fn = startFunction(fixture('behaviours.ts'), server.address, { AWS_LAMBDA_RUNTIME_API: undefined });
    expect((await fn.exited).code).toBe(1);
    expect(fn.stderr()).toMatch(/AWS_LAMBDA_RUNTIME_API is not set/);
  });
});

describe('runtime loop: init errors', () => {
  let server: RuntimeApiServer;
  let fn: FunctionProcess | undefined;
  beforeAll(async () => {
    server = await RuntimeApiServer.start();
  });
  afterEach(async () => {
    await fn?.stop();
    fn = undefined;
    await server.close();
    server = await RuntimeApiServer.start();
  });
  afterAll(async () => server.close());

  async function initErrorFor(env: Record<string, string | undefined>, script = 'init-failure.ts') {
    fn = startFunction(fixture(script), server.address, env);
    const outcome = await server.invoke({});
    expect((await fn.exited).code).toBe(1);
    if (outcome.kind !== 'init-error') throw new Error(`expected an init error, got ${JSON.stringify(outcome)}`);
    expect(outcome.headers['lambda-runtime-function-error-type']).toBe(outcome.errorType);
    return outcome;
  }

  it('names a missing required variable', async () => {
    const outcome = await initErrorFor({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: undefined }, 'behaviours.ts');
    expect(outcome.errorType).toBe('Runtime.MissingEnvironmentVariable');
    expect(outcome.error.errorMessage).toMatch(/AWS_LAMBDA_FUNCTION_MEMORY_SIZE is not set/);
  });

  it('reports an error thrown while the module initialises with its own type', async () => {
    const outcome = await initErrorFor({ FIXTURE_INIT: 'throws' });
    expect(outcome.errorType).toBe('ConfigError');
    expect(outcome.error.errorMessage).toBe('TABLE_NAME is not configured');
  });

  it('reports a syntax error as Runtime.UserCodeSyntaxError', async () => {
    const outcome = await initErrorFor({ FIXTURE_INIT: 'syntax' });
    expect(outcome.errorType).toBe('Runtime.UserCodeSyntaxError');
    expect(outcome.error.errorMessage).toMatch(/^SyntaxError: /);
  });

  it('reports a module that cannot be found as Runtime.ImportModuleError', async () => {
    const outcome = await initErrorFor({ FIXTURE_INIT: 'missing-module' });
    expect(outcome.errorType).toBe('Runtime.ImportModuleError');
    expect(outcome.error.errorMessage).toMatch(/Cannot find module 'does-not-exist'/);
  });

  it.each([
    ['missing-export', 'ok.nope is undefined or not exported'],
    ['not-a-function', 'ok.notAFunction is not a function'],
  ])('reports %s as Runtime.HandlerNotFound', async (mode, message) => {
    const outcome = await initErrorFor({ FIXTURE_INIT: mode });
    expect(outcome.errorType).toBe('Runtime.HandlerNotFound');
    expect(outcome.error.errorMessage).toBe(message);
  });

  it('reports a handler name without a dot as Runtime.MalformedHandlerName', async () => {
    const outcome = await initErrorFor({ _HANDLER: 'index', LAMBDA_TASK_ROOT: fixture('modules') });
    expect(outcome.errorType).toBe('Runtime.MalformedHandlerName');
    expect(outcome.error.errorMessage).toMatch(/^Bad handler index/);
  });

  it('loads _HANDLER from LAMBDA_TASK_ROOT, ESM and CommonJS, nested exports included', async () => {
    for (const [handler, expected] of [
      ['ok.handler', { loaded: 'ok', event: { n: 1 } }],
      ['legacy.handler', { loaded: 'cjs', event: { n: 1 } }],
      ['ok.nested.handler', 'nested handler'],
    ] as const) {
      fn = startFunction(fixture('init-failure.ts'), server.address, {
        _HANDLER: handler,
        LAMBDA_TASK_ROOT: fixture('modules'),
      });
      expect(json(await server.invoke({ n: 1 }))).toEqual(expected);
      await fn.stop();
      // The killed runtime's /next must be gone before the next invocation is handed out, or it goes to a dead socket.
      await vi.waitFor(() => expect(server.waitingRuntimes).toBe(0), { timeout: 5000 });
    }
  });
});

describe('runtime loop: response streaming', () => {
  let server: RuntimeApiServer;
  let fn: FunctionProcess;
  beforeAll(async () => {
    server = await RuntimeApiServer.start();
    fn = startFunction(fixture('streaming.ts'), server.address);
  });
  afterAll(async () => {
    await fn.stop();
    await server.close();
  });

  it('sends chunks as they are written, with the streaming headers', async () => {
    const arrivals: number[] = [];
    const outcome = await server.invoke({ action: 'chunks' }, { onChunk: () => arrivals.push(Date.now()) });
    const done = Date.now();
    if (outcome.kind !== 'stream') throw new Error(`expected a stream, got ${outcome.kind}`);
    expect(outcome.body.toString()).toBe('first,second');
    expect(outcome.headers['lambda-runtime-function-response-mode']).toBe('streaming');
    expect(outcome.headers['transfer-encoding']).toBe('chunked');
    expect(outcome.headers['content-type']).toBe('text/plain');
    // The first chunk reached the server while the handler was still sleeping (500 ms) before the second.
    expect(done - arrivals[0]!).toBeGreaterThanOrEqual(300);
    expect(outcome.errorType).toBeUndefined();
  });

  it('writes the HTTP prelude and 8 NUL bytes for HttpResponseStream.from', async () => {
    const outcome = await server.invoke({ action: 'http' });
    if (outcome.kind !== 'stream') throw new Error(`expected a stream, got ${outcome.kind}`);
    expect(outcome.contentType).toBe('application/vnd.awslambda.http-integration-response');
    const body = outcome.body;
    const delimiter = body.indexOf(Buffer.alloc(8));
    const prelude = JSON.parse(body.subarray(0, delimiter).toString());
    expect(prelude).toEqual({ statusCode: 201, headers: { 'content-type': 'text/html' }, cookies: ['a=1', 'b=2'] });
    expect(body.subarray(delimiter + 8).toString()).toBe('<p>hi</p>');
  });

  it('ends a stream that fails midway with the error trailers', async () => {
    const outcome = await server.invoke({ action: 'fail-midway' });
    if (outcome.kind !== 'stream') throw new Error(`expected a stream, got ${outcome.kind}`);
    expect(outcome.body.toString()).toBe('partial');
    expect(outcome.trailers['lambda-runtime-function-error-type']).toBe('Error');
    expect(outcome.error).toMatchObject({ errorType: 'Error', errorMessage: 'broke after the first chunk' });
    expect(String(outcome.headers.trailer)).toMatch(/Lambda-Runtime-Function-Error-Type/);
  });

  it('reports a failure before the first byte as an ordinary error', async () => {
    const outcome = errorOf(await server.invoke({ action: 'fail-before' }));
    expect(outcome.errorType).toBe('TypeError');
    expect(outcome.error.errorMessage).toBe('broke before any byte');
  });

  it("runs hono's streamHandle unchanged", async () => {
    const honoServer = await RuntimeApiServer.start();
    const hono = startFunction(fixture('hono-stream.ts'), honoServer.address);
    try {
      const event = JSON.parse(
        readFileSync(new URL('../../fixtures/events/http/lambda_function_url_request.json', import.meta.url), 'utf8'),
      );
      event.rawPath = '/stream';
      event.requestContext.http.path = '/stream';
      event.requestContext.http.method = 'GET';
      const outcome = await honoServer.invoke(event);
      if (outcome.kind !== 'stream') throw new Error(`expected a stream, got ${JSON.stringify(outcome)}`);
      const delimiter = outcome.body.indexOf(Buffer.alloc(8));
      expect(JSON.parse(outcome.body.subarray(0, delimiter).toString())).toMatchObject({ statusCode: 200 });
      expect(outcome.body.subarray(delimiter + 8).toString()).toBe('hello from hono');
    } finally {
      await hono.stop();
      await honoServer.close();
    }
  });
});

describe('runtime loop: AWS_LAMBDA_MAX_CONCURRENCY', () => {
  it('polls with that many loops in one process and keeps each invocation apart', async () => {
    const server = await RuntimeApiServer.start();
    const fn = startFunction(fixture('behaviours.ts'), server.address, { AWS_LAMBDA_MAX_CONCURRENCY: '4' });
    try {
      const tags = ['a', 'b', 'c', 'd'];
      const outcomes = await Promise.all(
        tags.map((tag) => server.invoke({ action: 'overlap', tag, expected: 4 }, { requestId: `overlap-${tag}` })),
      );
      for (const [index, outcome] of outcomes.entries()) {
        expect(json(outcome)).toEqual({ tag: tags[index], requestId: `overlap-${tags[index]}`, maxInFlight: 4 });
      }
      const logLines = await fn.waitForLines((line) => line.includes('finishing'), 4);
      expect(logLines).toHaveLength(4);
      for (const line of logLines) {
        const [, requestId, , message] = line.split('\t');
        expect(message).toBe(`finishing ${requestId!.replace('overlap-', '')}`);
      }
      // All four loops are back polling /next on their own connections.
      await vi.waitFor(() => expect(server.waitingRuntimes).toBe(4), { timeout: 2000 });
    } finally {
      await fn.stop();
      await server.close();
    }
  });
});
