import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function cli(args: string[], input?: string) {
  const result = spawnSync(process.execPath, ['src/cli/main.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000, input });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('lambda-kit emulate + lambda-kit invoke', () => {
  let emulate: ChildProcess;
  let endpoint: string;
  let emulateErr = '';

  beforeAll(async () => {
    emulate = spawn(process.execPath, ['src/cli/main.ts', 'emulate', 'examples/hello/handler.ts', '--port', '0', '--timeout', '2'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    emulate.stderr!.setEncoding('utf8').on('data', (data: string) => (emulateErr += data));
    const [line] = (await once(emulate.stdout!.setEncoding('utf8'), 'data')) as [string];
    endpoint = JSON.parse(line).endpoint;
  });
  afterAll(async () => {
    if (emulate.exitCode === null) {
      emulate.kill('SIGKILL');
      await once(emulate, 'close');
    }
  });

  it('prints the endpoint and where to start', () => {
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emulateErr).toMatch(/Invoke API listening on http:\/\/127\.0\.0\.1:\d+ \(functions: hello\)/);
  });

  it('invokes with a payload argument and prints the response', () => {
    const result = cli(['invoke', 'hello', '--endpoint', endpoint, '--payload', '{"firstName":"Ada"}']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"message":"Hello, Ada!"}\n');
  });

  it('reads the payload from stdin and prints the log tail with --tail', () => {
    const result = cli(['invoke', 'hello', '--endpoint', endpoint, '--tail'], '{"firstName":"Lin"}');
    expect(result.stdout).toBe('{"message":"Hello, Lin!"}\n');
    expect(result.stderr).toMatch(/START RequestId: [0-9a-f-]{36} Version: \$LATEST/);
    expect(result.stderr).toMatch(/INFO\tgreeting Lin/);
    expect(result.stderr).toMatch(/REPORT RequestId: .*Max Memory Used: \d+ MB/);
  });

  it('queues an Event invoke', () => {
    const result = cli(['invoke', 'hello', '--endpoint', endpoint, '--event', '--payload', '{}']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/queued \(202\), request id [0-9a-f-]{36}/);
  });

  it.each([
    [['invoke', 'nope'], 2, /ResourceNotFoundException: Function not found/],
    [['invoke', 'hello', '--payload', '{bad'], 2, /the payload is not JSON/],
    [['invoke'], 2, /invoke needs a function name/],
  ])('fails clearly for %j', (args, code, message) => {
    const result = cli([...args, '--endpoint', endpoint]);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
  });

  it('says how to start an emulator when none answers', () => {
    const result = cli(['invoke', 'hello', '--endpoint', 'http://127.0.0.1:1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /no Lambda Invoke API answers at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\): start one with `lambda-kit emulate/,
    );
  });

  it('shuts down cleanly on Ctrl-C', async () => {
    emulate.kill('SIGINT');
    const [code] = await once(emulate, 'close');
    expect(code).toBe(0);
    expect(emulateErr).toMatch(/shutting down/);
  });
});

describe('lambda-kit emulate: bad input', () => {
  it.each([
    [['emulate'], /emulate needs a function/],
    [['emulate', 'examples/nope/handler.ts', '--port', '0'], /handler file examples\/nope\/handler.ts does not exist/],
    [['emulate', 'examples/hello/handler.ts', '--memory', '64', '--port', '0'], /memoryMb/],
    [['emulate', 'examples/hello/handler.ts', '--env', 'NOVALUE'], /--env takes KEY=VALUE/],
  ])('%j fails with a clear message and exit 2', (args, message) => {
    const result = cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('has --help', () => {
    expect(cli(['emulate', '--help']).stdout).toMatch(/--runtime-concurrency <n>/);
    expect(cli(['invoke', '--help']).stdout).toMatch(/--stream/);
  });
});
