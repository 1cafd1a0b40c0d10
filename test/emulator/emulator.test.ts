import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator, type FunctionDefinition } from '../../src/emulator/emulator.ts';
import { decodeEventMessages } from '../../src/emulator/apis/event-stream.ts';
import { invokeHttp } from '../support/aws-clients.ts';
import { fixture } from '../support/function-process.ts';
import { zipTestFunction } from '../support/zip-function.ts';

const node = (script: string): FunctionDefinition['source'] => ({ command: [process.execPath, fixture(script)] });

/** The Invoke API over HTTP, as a caller sees it. */
const invoke = (emulator: Emulator, name: string, payload: unknown, headers: Record<string, string> = {}) =>
  invokeHttp(emulator.endpoint, name, payload, headers);

describe('emulator: Invoke API over a local bootstrap command', () => {
  let emulator: Emulator;
  const lines: string[] = [];

  beforeAll(async () => {
    emulator = await Emulator.start({
      functions: [
        { name: 'behaviours', source: node('behaviours.ts'), timeoutSeconds: 1, memoryMb: 256, maxEnvironments: 2 },
        { name: 'streaming', source: node('streaming.ts') },
        { name: 'broken', source: node('init-failure.ts'), environment: { FIXTURE_INIT: 'missing-module' } },
        { name: 'never-ready', source: { command: [process.execPath, '-e', 'setTimeout(() => {}, 60_000)'] }, initTimeoutMs: 500 },
      ],
      log: (name, line) => lines.push(`${name}: ${line}`),
    });
  });
  afterAll(async () => emulator.close());

  it('answers RequestResponse with 200, the result, the executed version and a request id', async () => {
    const answer = await invoke(emulator, 'behaviours', { action: 'echo', firstName: 'Ada' });
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ action: 'echo', firstName: 'Ada' });
    expect(answer.headers.get('x-amz-executed-version')).toBe('$LATEST');
    expect(answer.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.headers.get('x-amz-function-error')).toBeNull();
  });

  it('returns the last 4 KB of the log, base64, for X-Amz-Log-Type: Tail, with a measured REPORT', async () => {
    const answer = await invoke(emulator, 'behaviours', { action: 'log' }, { 'X-Amz-Log-Type': 'Tail' });
    const requestId = answer.headers.get('x-amzn-requestid');
    const log = answer.log().split('\n');
    expect(log[0]).toBe(`START RequestId: ${requestId} Version: $LATEST`);
    expect(log.some((line) => line.includes(`\t${requestId}\tINFO\tinfo line`))).toBe(true);
    expect(log).toContain(`END RequestId: ${requestId}`);
    const report = log.find((line) => line.startsWith('REPORT'))!;
    expect(report).toMatch(
      new RegExp(
        `^REPORT RequestId: ${requestId}\\tDuration: \\d+\\.\\d\\d ms\\tBilled Duration: \\d+ ms\\tMemory Size: 256 MB\\tMax Memory Used: (\\d+) MB\\t`,
      ),
    );
    const maxMemory = Number(/Max Memory Used: (\d+) MB/.exec(report)![1]);
    // A Node process really uses tens of MB; 0 would mean nothing was measured.
    expect(maxMemory).toBeGreaterThan(20);
    expect(Buffer.from(answer.headers.get('x-amz-log-result')!, 'base64').byteLength).toBeLessThanOrEqual(4096);
  });

  it('puts the lines a function logs before answering ahead of its END, every time', async () => {
    // The lines are in the pipe when the answer arrives, but a poll may hand the answer's socket over first.
    for (let i = 0; i < 40; i++) {
      const answer = await invoke(emulator, 'behaviours', { action: 'log' }, { 'X-Amz-Log-Type': 'Tail' });
      const requestId = answer.headers.get('x-amzn-requestid');
      const log = answer.log().split('\n');
      const logged = log.findIndex((line) => line.includes(`\t${requestId}\tINFO\tinfo line`));
      expect(logged, `invoke ${i}: ${log.join(' | ')}`).toBeGreaterThan(0);
      expect(logged).toBeLessThan(log.indexOf(`END RequestId: ${requestId}`));
    }
  });

  it('marks a function error with X-Amz-Function-Error: Unhandled', async () => {
    const answer = await invoke(emulator, 'behaviours', { action: 'throw-error' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(answer.json()).toMatchObject({ errorType: 'ValidationError', errorMessage: 'firstName is required' });
  });

  it('reports a timeout as an error, kills the environment, and starts the next invoke fresh', async () => {
    const answer = await invoke(emulator, 'behaviours', { action: 'overlap', expected: 99 }, { 'X-Amz-Log-Type': 'Tail' });
    expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
    const requestId = answer.headers.get('x-amzn-requestid');
    expect(answer.json()).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${requestId} Error: Task timed out after 1.00 seconds`,
    });
    expect(answer.log()).toMatch(/Task timed out after 1\.00 seconds/);
    const next = await invoke(emulator, 'behaviours', { action: 'echo' }, { 'X-Amz-Log-Type': 'Tail' });
    expect(next.status).toBe(200);
    expect(next.log()).toMatch(/Init Duration: \d+\.\d\d ms/);
  });

  it('reports a crash as Runtime.ExitError and restarts the environment', async () => {
    const answer = await invoke(emulator, 'behaviours', { action: 'uncaught' });
    // The runtime reported the error itself before exiting, as AWS's does.
    expect(answer.json()).toMatchObject({ errorType: 'RangeError' });
    const killed = await invoke(emulator, 'behaviours', { action: 'unhandled-rejection' });
    expect(killed.headers.get('x-amz-function-error')).toBe('Unhandled');
    const next = await invoke(emulator, 'behaviours', { action: 'echo', after: 'crash' });
    expect(next.json()).toEqual({ action: 'echo', after: 'crash' });
  });

  it('passes X-Amz-Client-Context (base64 JSON) through to the function', async () => {
    const clientContext = { custom: { tenant: 'blue' }, env: { locale: 'en' } };
    const answer = await invoke(
      emulator,
      'behaviours',
      { action: 'context' },
      {
        'X-Amz-Client-Context': Buffer.from(JSON.stringify(clientContext)).toString('base64'),
      },
    );
    expect(answer.json()).toMatchObject({
      clientContext,
      functionName: 'behaviours',
      memoryLimitInMB: '256',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:behaviours',
    });
  });

  it('accepts the function by ARN and by name:$LATEST', async () => {
    expect((await invoke(emulator, 'arn:aws:lambda:us-east-1:000000000000:function:behaviours', { action: 'echo' })).status).toBe(200);
    expect((await invoke(emulator, 'behaviours:$LATEST', { action: 'echo' })).status).toBe(200);
  });

  it('queues Event invokes: 202 at once, run in the background', async () => {
    const before = lines.length;
    const answer = await invoke(emulator, 'behaviours', { action: 'log' }, { 'X-Amz-Invocation-Type': 'Event' });
    expect(answer.status).toBe(202);
    expect(answer.text).toBe('');
    const requestId = answer.headers.get('x-amzn-requestid');
    await expect
      .poll(() => lines.slice(before).some((line) => line.includes(`REPORT RequestId: ${requestId}`)), { timeout: 5000 })
      .toBe(true);
  });

  it('answers DryRun with 204 without running anything', async () => {
    const before = lines.length;
    const answer = await invoke(emulator, 'behaviours', { action: 'log' }, { 'X-Amz-Invocation-Type': 'DryRun' });
    expect(answer.status).toBe(204);
    expect(lines.slice(before).some((line) => line.includes('START'))).toBe(false);
  });

  it.each([
    [
      'an unknown function',
      'nope',
      '{}',
      {},
      404,
      'ResourceNotFoundException',
      /Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope/,
    ],
    ['a non-JSON payload', 'behaviours', '{oops', {}, 400, 'InvalidRequestContentException', /Could not parse request body into json/],
    [
      'an oversize payload',
      'behaviours',
      JSON.stringify({ data: 'x'.repeat(6_300_000) }),
      {},
      413,
      'RequestEntityTooLargeException',
      /smaller than 6291456 bytes/,
    ],
    [
      'an oversize Event payload',
      'behaviours',
      JSON.stringify({ data: 'x'.repeat(1_100_000) }),
      { 'X-Amz-Invocation-Type': 'Event' },
      413,
      'RequestEntityTooLargeException',
      /smaller than 1048576 bytes/,
    ],
    [
      'a bad invocation type',
      'behaviours',
      '{}',
      { 'X-Amz-Invocation-Type': 'Later' },
      400,
      'InvalidParameterValueException',
      /RequestResponse, Event or DryRun/,
    ],
  ])('answers %s the way AWS does', async (_what, name, payload, headers, status, type, message) => {
    const answer = await invoke(emulator, name, payload, headers as Record<string, string>);
    expect(answer.status).toBe(status);
    expect(answer.headers.get('x-amzn-errortype')).toBe(type);
    const messageKey = type === 'ResourceNotFoundException' ? 'Message' : 'message';
    expect(answer.json()).toEqual({ Type: 'User', [messageKey]: expect.stringMatching(message) });
  });

  it('gives an init error to the invoke that started the environment', async () => {
    const answer = await invoke(emulator, 'broken', {}, { 'X-Amz-Log-Type': 'Tail' });
    expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(answer.json()).toMatchObject({ errorType: 'Runtime.ImportModuleError' });
    expect(answer.log()).toMatch(
      /INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError/,
    );
  });

  it('gives up on an init that does not finish within the init timeout', async () => {
    const answer = await invoke(emulator, 'never-ready', {}, { 'X-Amz-Log-Type': 'Tail' });
    expect(answer.json()).toMatchObject({ errorType: 'Sandbox.Timedout' });
    expect(answer.log()).toMatch(/Status: timeout/);
  });

  it('runs up to maxEnvironments at once and queues the rest; nothing is lost', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, (_, index) => invoke(emulator, 'behaviours', { action: 'echo', index })));
    expect(answers.map((answer) => answer.json().index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(emulator.pool('behaviours')!.environmentCount).toBeLessThanOrEqual(2);
  });

  it('streams InvokeWithResponseStream chunks in event-stream framing as the function writes them', async () => {
    const response = await fetch(`${emulator.endpoint}/2021-11-15/functions/streaming/response-streaming-invocations`, {
      method: 'POST',
      body: JSON.stringify({ action: 'chunks' }),
      headers: { 'X-Amz-Log-Type': 'Tail' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
    const reader = response.body!.getReader();
    const arrivals: Array<{ at: number; event: string; payload: Buffer }> = [];
    let pending: Buffer = Buffer.alloc(0);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const decoded = decodeEventMessages(Buffer.concat([pending, Buffer.from(value)]));
      pending = decoded.rest;
      for (const message of decoded.messages) {
        arrivals.push({ at: Date.now(), event: message.headers[':event-type']!, payload: message.payload });
      }
    }
    const chunks = arrivals.filter((arrival) => arrival.event === 'PayloadChunk');
    expect(Buffer.concat(chunks.map((chunk) => chunk.payload)).toString()).toBe('first,second');
    // The first chunk arrived well before the end: the function sleeps 500 ms between its writes.
    expect(arrivals.at(-1)!.at - chunks[0]!.at).toBeGreaterThanOrEqual(300);
    const complete = arrivals.at(-1)!;
    expect(complete.event).toBe('InvokeComplete');
    const details = JSON.parse(complete.payload.toString());
    expect(details.ErrorCode).toBeUndefined();
    expect(Buffer.from(details.LogResult, 'base64').toString()).toMatch(/REPORT RequestId/);
  });

  it('ends a stream that fails midway with InvokeComplete carrying the error code', async () => {
    const response = await fetch(`${emulator.endpoint}/2021-11-15/functions/streaming/response-streaming-invocations`, {
      method: 'POST',
      body: JSON.stringify({ action: 'fail-midway' }),
    });
    const { messages } = decodeEventMessages(Buffer.from(await response.arrayBuffer()));
    expect(messages.map((message) => message.headers[':event-type'])).toEqual(['PayloadChunk', 'InvokeComplete']);
    expect(JSON.parse(messages[1]!.payload.toString())).toMatchObject({ ErrorCode: 'Error' });
    expect(JSON.parse(JSON.parse(messages[1]!.payload.toString()).ErrorDetails)).toMatchObject({
      errorMessage: 'broke after the first chunk',
    });
  });
});

describe('emulator: a function from a built zip', () => {
  let dir: string;
  let emulator: Emulator;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lambda-kit-zip-'));
    const zipPath = join(dir, 'function.zip');
    await zipTestFunction(fixture('behaviours.ts'), zipPath);
    emulator = await Emulator.start({ functions: [{ name: 'zipped', source: { zip: zipPath } }], log: () => {} });
  });
  afterAll(async () => {
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('unpacks it to a task root and runs its bootstrap', async () => {
    const answer = await invoke(emulator, 'zipped', { action: 'context' });
    expect(answer.json()).toMatchObject({ functionName: 'zipped', functionVersion: '$LATEST' });
  });
});

describe('emulator: function definitions', () => {
  it.each([
    [{ name: 'bad name!', source: { command: ['x'] } }, /name: a function name is 1-64 letters/],
    [{ name: 'f', source: { command: ['x'] }, timeoutSeconds: 901 }, /timeoutSeconds/],
    [{ name: 'f', source: { command: ['x'] }, memoryMb: 64 }, /memoryMb/],
    [{ name: 'f', source: { command: ['x'] }, colour: 'red' }, /colour/],
  ])('rejects %j naming the bad key', async (definition, message) => {
    await expect(Emulator.start({ functions: [definition as FunctionDefinition] })).rejects.toThrow(message);
  });

  it('rejects a zip without bootstrap', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-zip-'));
    const zip = new yazl.ZipFile();
    zip.addBuffer(Buffer.from('x'), 'index.mjs');
    zip.end();
    const zipPath = join(dir, 'f.zip');
    await new Promise<void>((resolve) => zip.outputStream.pipe(createWriteStream(zipPath)).on('close', () => resolve()));
    await expect(Emulator.start({ functions: [{ name: 'f', source: { zip: zipPath } }] })).rejects.toThrow(/no executable bootstrap/);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('emulator: runtimeConcurrency (AWS_LAMBDA_MAX_CONCURRENCY)', () => {
  it('hands one multi-concurrent runtime several invocations at once', async () => {
    const emulator = await Emulator.start({
      functions: [{ name: 'multi', source: node('behaviours.ts'), runtimeConcurrency: 4, maxEnvironments: 1 }],
      log: () => {},
    });
    try {
      const results = await Promise.all(
        ['a', 'b', 'c', 'd'].map((tag) =>
          emulator.invoke('multi', { payload: Buffer.from(JSON.stringify({ action: 'overlap', tag, expected: 4 })) }),
        ),
      );
      for (const result of results) expect(JSON.parse(result.body.toString())).toMatchObject({ maxInFlight: 4 });
      expect(emulator.pool('multi')!.environmentCount).toBe(1);
    } finally {
      await emulator.close();
    }
  });
});
