import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../../src/emulator/emulator.ts';
import { bundleFunction, type BundleResult } from '../../../src/build/bundle/bundle.ts';
import { REQUIRE_BANNER } from '../../../src/build/bundle/esbuild.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Writes a bundle's files into a fresh directory: a task root. */
async function unpack(result: BundleResult): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-bundle-'));
  dirs.push(dir);
  for (const file of result.files) {
    await mkdir(dirname(join(dir, file.path)), { recursive: true });
    await writeFile(join(dir, file.path), file.data, { mode: file.mode });
  }
  return dir;
}

/**
 * Runs a bundle as the real bootstrap would, with this machine's Node, under
 * the emulator. `nodeFlags`: e.g. --enable-source-maps, for Node to map stack
 * traces itself (the bundle does, lazily, without).
 */
async function withBundle<T>(
  result: BundleResult,
  name: string,
  use: (emulator: Emulator) => Promise<T>,
  nodeFlags: string[] = [],
): Promise<T> {
  const taskRoot = await unpack(result);
  const emulator = await Emulator.start({
    functions: [{ name, source: { command: [process.execPath, ...nodeFlags, 'index.mjs'], taskRoot } }],
    log: () => {},
  });
  try {
    return await use(emulator);
  } finally {
    await emulator.close();
  }
}

function example(name: string) {
  return bundleFunction({ name, entry: join(root, `examples/${name}/handler.ts`), exportName: 'handler', root, arch: 'x86_64' });
}

describe('bundleFunction', () => {
  it('bundles hello and the runtime loop into one index.mjs (+ map), with nothing from src/ or zod', async () => {
    const result = await example('hello');
    expect(result.files.map((file) => file.path)).toEqual(['index.mjs', 'index.mjs.map']);
    const inputs = Object.keys(result.metafile.inputs);
    const others = inputs.filter(
      (input) => !input.startsWith('runtime/') && input !== 'examples/hello/handler.ts' && input !== '<lambda-kit entry>',
    );
    expect(others).toEqual([]);
    expect(inputs).toContain('examples/hello/handler.ts');
    const code = result.files[0]!.data.toString('utf8');
    expect(code).not.toMatch(/zod/i);
    expect(code.startsWith(REQUIRE_BANNER)).toBe(true);
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
    const map = JSON.parse(result.files[1]!.data.toString('utf8'));
    expect(map.sources).toContain('examples/hello/handler.ts');
    expect(map.sourcesContent).toBeUndefined();
    // Only node:* built-ins stay imports.
    const output = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('index.mjs'))![1];
    const imports = output.imports.filter((entry) => entry.external).map((entry) => entry.path);
    expect(imports.every((path) => path.startsWith('node:'))).toBe(true);
    console.log(`hello bundle: index.mjs ${result.bundleBytes} bytes, map ${result.files[1]!.data.length} bytes`);
  });

  it('minifies whitespace and syntax but keeps names: functions and classes by their own, a map that names only what bundling renamed', async () => {
    const result = await example('hello');
    const code = result.files[0]!.data.toString('utf8');
    expect(code).toContain('function parseHead(');
    expect(code).toMatch(/\bRuntimeApiClient=class\b/);
    // Minified all the same: no comments, no indentation.
    expect(code).not.toContain('/**');
    expect(code).not.toMatch(/\n {2}(const|let|return|if)\b/);
    const map = JSON.parse(result.files[1]!.data.toString('utf8'));
    // Only what bundling had to rename (two modules' `head`): shortened names would list some 400.
    expect(map.names.length).toBeLessThan(20);
  });

  it('runs: hello answers under the emulator', async () => {
    const result = await example('hello');
    const body = await withBundle(result, 'hello', async (emulator) => {
      const answer = await emulator.invoke('hello', { payload: Buffer.from('{"firstName":"Ada"}') });
      expect(answer.functionError).toBe(false);
      return JSON.parse(answer.body.toString('utf8'));
    });
    expect(body).toEqual({ message: 'Hello, Ada!' });
  });

  it('source maps work at run time: a thrown error points at the .ts file and line', async () => {
    const result = await example('fails');
    const error = await withBundle(result, 'fails', async (emulator) => {
      const answer = await emulator.invoke('fails', { payload: Buffer.from('{"orderId":"7"}') });
      expect(answer.functionError).toBe(true);
      return JSON.parse(answer.body.toString('utf8'));
    });
    expect(error).toMatchObject({ errorType: 'OrderNotFoundError', errorMessage: 'order 7 does not exist' });
    // examples/fails/handler.ts line 7: `throw new OrderNotFoundError(...)`.
    expect(error.trace.join('\n')).toMatch(/examples\/fails\/handler\.ts:7:\d+/);
  });

  it('maps its stack traces itself, as Node does with --enable-source-maps: the same lines, frame by frame', async () => {
    const result = await bundleFunction({
      name: 'stacks',
      entry: join(root, 'test/fixtures/functions/stack-shapes.ts'),
      exportName: 'handler',
      root,
      arch: 'x86_64',
    });
    const kinds = ['constructor', 'method', 'await', 'node'];
    const traces = async (nodeFlags: string[]) =>
      withBundle(
        result,
        'stacks',
        async (emulator) => {
          const errors = [];
          for (const kind of kinds) {
            const answer = await emulator.invoke('stacks', { payload: Buffer.from(JSON.stringify({ kind })) });
            // Each run has a task root of its own: named alike, so that the two compare.
            const body = answer.body.toString('utf8').replaceAll(/lambda-kit-bundle-[A-Za-z0-9]+/g, 'lambda-kit-bundle-X');
            errors.push(JSON.parse(body) as { errorType: string; trace: string[] });
          }
          return errors;
        },
        nodeFlags,
      );
    const [ours, nodes] = await Promise.all([traces([]), traces(['--enable-source-maps'])]);
    expect(ours).toEqual(nodes);
    const lines = ours.map((error) => error.trace.join('\n'));
    expect(lines[0]).toMatch(/^Error: thrown in a constructor\n {4}at new Parser \(.*test\/fixtures\/functions\/stack-shapes\.ts:5:/);
    expect(lines[1]).toMatch(/at Parser\.parse \(.*stack-shapes\.ts:9:/);
    expect(lines[2]).toMatch(/at deeper \(.*stack-shapes\.ts:16:/);
    expect(lines[3]).toMatch(/^TypeError \[ERR_INVALID_ARG_TYPE\]: /);
    expect(lines[3]).toMatch(/stack-shapes\.ts:18:/);
  });

  it('runs the streaming example: chunks arrive one by one', async () => {
    const result = await example('streaming');
    const chunks: string[] = [];
    const answer = await withBundle(result, 'streaming', (emulator) =>
      emulator.invoke('streaming', { payload: Buffer.from('{"count":3}'), onChunk: (chunk) => chunks.push(chunk.toString('utf8')) }),
    );
    expect(answer.streamed).toBe(true);
    expect(answer.functionError).toBe(false);
    expect(chunks.join('')).toContain('chunk 1 of 3\nchunk 2 of 3\nchunk 3 of 3\n');
    expect(chunks.length).toBeGreaterThanOrEqual(3);
  });

  it('bundles the http example: hono and the http adapter, one copy of the runtime, no zod; it serves API Gateway events', async () => {
    const result = await example('http');
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('runtime/http/handle.ts');
    expect(inputs.some((input) => input.startsWith('node_modules/hono/'))).toBe(true);
    expect(inputs.some((input) => input.includes('zod'))).toBe(false);
    // The adapter's runtime imports resolve to the runtime the entry uses: one response-stream.ts, not two.
    expect(inputs.filter((input) => input.endsWith('response-stream.ts'))).toEqual(['runtime/loop/response-stream.ts']);
    const event = JSON.parse(readFileSync(join(root, 'test/fixtures/events/http/apigw_v2_proxy_request.json'), 'utf8'));
    const answer = await withBundle(result, 'http', async (emulator) => {
      const hello = await emulator.invoke('http', {
        payload: Buffer.from(
          JSON.stringify({
            ...event,
            rawPath: '/hello/Ada',
            requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method: 'GET' } },
          }),
        ),
      });
      return JSON.parse(hello.body.toString('utf8'));
    });
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ message: 'Hello, Ada!', source: 'api-gateway-v2', sourceIp: 'IP' });
  });

  it('reports an error while the handler module initialises as an init error', async () => {
    const result = await bundleFunction({
      name: 'init-failure',
      entry: join(root, 'test/fixtures/functions/modules/throws-at-init.mjs'),
      exportName: 'handler',
      root,
      arch: 'x86_64',
    });
    expect(result.files.map((file) => file.path)).toEqual(['index.mjs', 'index.mjs.map']);
    const answer = await withBundle(result, 'init-failure', (emulator) => emulator.invoke('init-failure', { payload: Buffer.from('{}') }));
    expect(answer.functionError).toBe(true);
    const body = JSON.parse(answer.body.toString('utf8'));
    expect(body).toMatchObject({ errorType: 'ConfigError', errorMessage: 'TABLE_NAME is not configured' });
  });
});
