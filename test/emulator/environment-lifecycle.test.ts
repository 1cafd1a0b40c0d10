// How an execution environment lives and dies when its function fails mid-way,
// as Lambda runs it: the emulator outlives any one function's failure, the
// invoke phase ends only when the runtime asks for work again (so a runtime that
// exits after answering gets no more work), a streamed error is logged once, and
// REPORT after a timeout is capped at the timeout and measured before teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../src/emulator/emulator.ts';
import { invokeHttp, invokeStreamHttp } from '../support/aws-clients.ts';
import { fixture } from '../support/function-process.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const faults = fixture('faults.ts');

/** A zip whose bootstrap runs the raw runtime with this machine's Node: unpacked to a task root under $TMPDIR. */
async function rawRuntimeZip(dir: string): Promise<string> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(`#!/bin/sh\nexec "${process.execPath}" "$LAMBDA_TASK_ROOT/raw-runtime.mjs"\n`), 'bootstrap', {
    mode: 0o100755,
  });
  zip.addFile(fixture('raw-runtime.mjs'), 'raw-runtime.mjs', { mode: 0o100644 });
  zip.end();
  const path = join(dir, 'raw.zip');
  await new Promise<void>((resolve, reject) =>
    zip.outputStream
      .pipe(createWriteStream(path))
      .on('close', () => resolve())
      .on('error', reject),
  );
  return path;
}

const requestIdOf = (answer: { headers: Headers }) => answer.headers.get('x-amzn-requestid')!;

describe('lambda-kit emulate outlives a function that fails mid-answer', () => {
  let dir: string;
  let tmp: string;
  let emulate: ChildProcess;
  let endpoint: string;
  let stderr = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lambda-kit-lifecycle-'));
    // The emulator's own temporary files (the zip's task root) go here, to be counted.
    tmp = join(dir, 'tmp');
    await mkdir(tmp);
    const config = {
      functions: [
        { name: 'stream', source: { handlerFile: faults, exportName: 'stream' }, timeoutSeconds: 1 },
        { name: 'buffered', source: { handlerFile: faults, exportName: 'handler' }, timeoutSeconds: 2 },
        { name: 'bystander', source: { zip: await rawRuntimeZip(dir) } },
      ],
    };
    await writeFile(join(dir, 'functions.json'), JSON.stringify(config));
    emulate = spawn(process.execPath, ['src/cli/main.ts', 'emulate', '--config', join(dir, 'functions.json'), '--port', '0'], {
      cwd: root,
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    emulate.stderr!.setEncoding('utf8').on('data', (data: string) => (stderr += data));
    const [line] = (await once(emulate.stdout!.setEncoding('utf8'), 'data')) as [string];
    endpoint = JSON.parse(line).endpoint;
  });
  afterAll(async () => {
    if (emulate.exitCode === null && emulate.signalCode === null) {
      emulate.kill('SIGKILL');
      await once(emulate, 'close');
    }
    await rm(dir, { recursive: true, force: true });
  });

  /** The emulator process is up and another function still answers. */
  async function stillServing(): Promise<void> {
    expect(emulate.exitCode, stderr).toBeNull();
    const answer = await invokeHttp(endpoint, 'bystander', { n: 1 });
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ echo: { n: 1 } });
  }

  it('ends a stream that times out after its first byte with Sandbox.Timedout', async () => {
    const answer = await invokeStreamHttp(endpoint, 'stream', { fault: 'timeout-after' });
    expect(answer.status).toBe(200);
    expect(answer.events).toEqual(['PayloadChunk', 'InvokeComplete']);
    expect(answer.payload).toBe('first,');
    expect(answer.complete.ErrorCode).toBe('Sandbox.Timedout');
    expect(JSON.parse(answer.complete.ErrorDetails!)).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${requestIdOf(answer)} Error: Task timed out after 1.00 seconds`,
    });
    await stillServing();
  });

  it('ends a stream whose runtime exits after its first byte with Runtime.ExitError', async () => {
    const answer = await invokeStreamHttp(endpoint, 'stream', { fault: 'exit-during' });
    expect(answer.events).toEqual(['PayloadChunk', 'InvokeComplete']);
    expect(answer.complete.ErrorCode).toBe('Runtime.ExitError');
    expect(JSON.parse(answer.complete.ErrorDetails!)).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${requestIdOf(answer)} Error: Runtime exited with error: exit status 1`,
    });
    await stillServing();
  });

  it('answers a runtime that exits with its 20 MB answer half posted with Runtime.ExitError', async () => {
    const answer = await invokeHttp(endpoint, 'buffered', { fault: 'exit-during-body' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(answer.json()).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${requestIdOf(answer)} Error: Runtime exited with error: exit status 1`,
    });
    await stillServing();
  });

  it('answers a handler that exits while its 20 MB answer is being written with a function error', async () => {
    const answer = await invokeHttp(endpoint, 'buffered', { fault: 'exit-while-answering' });
    expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
    // How much of the answer left the process before it went is up to the kernel: under 6 MB the cut
    // answer is the runtime's exit, past it Lambda has refused the answer as too large by then.
    expect(['Runtime.ExitError', 'Function.ResponseSizeTooLarge']).toContain(answer.json().errorType);
    await stillServing();
    const next = await invokeHttp(endpoint, 'buffered', { fault: 'none' }, { 'X-Amz-Log-Type': 'Tail' });
    expect(next.json()).toMatchObject({ ok: true });
    expect(next.log()).toMatch(/Init Duration: \d+\.\d\d ms/);
  });

  it('prefixes every line of a multi-line platform record with the function name', () => {
    const lines = stderr.split('\n');
    expect(lines).toContain('[buffered] Runtime.ExitError');
    expect(lines).not.toContain('Runtime.ExitError');
    expect(stderr).not.toMatch(/Error: aborted/);
  });

  it('shuts down on Ctrl-C and leaves no task root behind', async () => {
    expect(await readdir(tmp)).toEqual([expect.stringMatching(/^lambda-kit-task-/)]);
    emulate.kill('SIGINT');
    const [code] = await once(emulate, 'close');
    expect(code, stderr).toBe(0);
    expect(await readdir(tmp)).toEqual([]);
  });
});

describe('emulator: the invoke phase ends when the runtime asks for work again', () => {
  let emulator: Emulator;
  const lines: string[] = [];

  beforeAll(async () => {
    emulator = await Emulator.start({
      functions: [
        { name: 'buffered', source: { handlerFile: faults }, timeoutSeconds: 1, memoryMb: 256, maxEnvironments: 1 },
        { name: 'stream', source: { handlerFile: faults, exportName: 'stream' }, maxEnvironments: 1 },
      ],
      log: (name, line) => lines.push(`${name}: ${line}`),
    });
  });
  afterAll(async () => emulator?.close());

  const instance = async () => (await invokeHttp(emulator.endpoint, 'buffered', { fault: 'none' })).json().instance as string;

  it.each([
    ['uncaught', 'RangeError', 'thrown from a timer'],
    ['unhandled-rejection', 'Runtime.UnhandledPromiseRejection', 'TypeError: nobody awaited me'],
    ['uncaught', 'RangeError', 'thrown from a timer'],
    ['unhandled-rejection', 'Runtime.UnhandledPromiseRejection', 'TypeError: nobody awaited me'],
  ])(
    'after %s the caller gets the error the runtime posted, and the next invoke a fresh environment',
    async (fault, errorType, errorMessage) => {
      const before = await instance();
      const answer = await invokeHttp(emulator.endpoint, 'buffered', { fault });
      expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
      expect(answer.json()).toMatchObject({ errorType, errorMessage });
      // The runtime exited (129, 128) instead of asking for the next invoke: that one runs elsewhere, for real.
      const next = await invokeHttp(emulator.endpoint, 'buffered', { fault: 'none' }, { 'X-Amz-Log-Type': 'Tail' });
      expect(next.headers.get('x-amz-function-error'), next.text).toBeNull();
      expect(next.json().instance).not.toBe(before);
      expect(next.log()).toMatch(/Init Duration: \d+\.\d\d ms/);
    },
  );

  it('logs an error that ends a stream once: the runtime logs it, the platform does not again', async () => {
    const answer = await invokeStreamHttp(emulator.endpoint, 'stream', { fault: 'throw-midway' }, { 'X-Amz-Log-Type': 'Tail' });
    expect(answer.complete.ErrorCode).toBe('Error');
    const requestId = requestIdOf(answer);
    const logged = (text: string[]) => text.filter((line) => line.includes('Invoke Error'));
    expect(logged(answer.log().split('\n'))).toHaveLength(1);
    await expect.poll(() => lines.some((line) => line.includes(`REPORT RequestId: ${requestId}`))).toBe(true);
    expect(logged(lines.filter((line) => line.includes(requestId)))).toHaveLength(1);
  });

  it('caps Duration and Billed Duration of a timed-out invoke at the timeout, and measures its memory first', async () => {
    await instance();
    const answer = await invokeHttp(emulator.endpoint, 'buffered', { fault: 'timeout' }, { 'X-Amz-Log-Type': 'Tail' });
    expect(answer.json()).toMatchObject({ errorType: 'Sandbox.Timedout' });
    const report = answer
      .log()
      .split('\n')
      .find((line) => line.startsWith('REPORT'))!;
    // A warm environment: no init to bill.
    expect(report).toMatch(/\tDuration: 1000\.00 ms\tBilled Duration: 1000 ms\tMemory Size: 256 MB\tMax Memory Used: (\d+) MB\t$/);
    expect(Number(/Max Memory Used: (\d+) MB/.exec(report)![1])).toBeGreaterThan(20);
  });
});
