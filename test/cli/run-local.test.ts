import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, ['src/cli/main.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('lambda-kit run', () => {
  it('invokes the hello example and prints only the response on stdout', () => {
    const result = cli('run', 'examples/hello/handler.ts', '--payload', '{"firstName":"Ada"}');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"message":"Hello, Ada!"}\n');
    // The function's own log line, formatted by the runtime, goes to stderr.
    expect(result.stderr).toMatch(/\t[0-9a-f-]{36}\tINFO\tgreeting Ada \(\d+ ms left\)/);
  });

  it('reads the payload from stdin with --payload-file -', () => {
    const result = spawnSync(process.execPath, ['src/cli/main.ts', 'run', 'examples/hello/handler.ts', '--payload-file', '-'], {
      cwd: root,
      encoding: 'utf8',
      input: '{"firstName":"Grace"}',
    });
    expect(result.stdout).toBe('{"message":"Hello, Grace!"}\n');
  });

  it('prints the error payload and exits 1 when the function fails', () => {
    const result = cli('run', 'examples/fails/handler.ts', '--payload', '{"orderId":"42"}');
    expect(result.code).toBe(1);
    const error = JSON.parse(result.stdout);
    expect(error).toMatchObject({ errorType: 'OrderNotFoundError', errorMessage: 'order 42 does not exist' });
    expect(result.stderr).toMatch(/the function returned an error/);
  });

  it('reports a timeout as Sandbox.Timedout', () => {
    const result = cli('run', 'test/fixtures/functions/modules/slow.mjs', '--timeout', '0.3');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/^RequestId: [0-9a-f-]{36} Error: Task timed out after 0\.30 seconds$/),
    });
  });

  it.each([
    [['run', 'examples/hello/handler.ts', '--payload', '{not json'], /the payload is not JSON/],
    [['run', 'examples/nope/handler.ts'], /handler file examples\/nope\/handler.ts does not exist/],
    [['run'], /run needs a handler file/],
    [['run', 'examples/hello/handler.ts', '--timeout', 'soon'], /--timeout must be a positive number/],
    [['run', 'examples/hello/handler.ts', '--bogus'], /Unknown option '--bogus'/],
    [['launch'], /unknown command "launch"/],
  ])('rejects bad input %j with a clear message and exit 2', (args, message) => {
    const result = cli(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('has --help', () => {
    const result = cli('run', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/--payload-file <file>/);
  });
});

describe('lambda-kit run <zip>', () => {
  it('runs a zip built by lambda-kit build through its own bootstrap (the main job)', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { buildProject, defaultCacheDir } = await import('../../src/build/build.ts');
    const out = await mkdtemp(join(tmpdir(), 'lambda-kit-run-zip-'));
    try {
      const { artifacts } = await buildProject({ cwd: root, selector: 'hello', overrides: { out }, cacheDir: defaultCacheDir() });
      const result = cli('run', artifacts[0]!.path, '--payload', '{"firstName":"Zip"}');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe('{"message":"Hello, Zip!"}\n');
      // The bundled runtime's own log format, from inside the zip's bootstrap.
      expect(result.stderr).toMatch(/\tINFO\tgreeting Zip/);
      expect(result.stderr).toMatch(/REPORT RequestId: .*Init Duration/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);
});
