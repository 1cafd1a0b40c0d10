import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../../src/emulator/emulator.ts';
import { REQUIRE_BANNER, bundleFunction, type BundleResult } from '../../../src/build/bundle/bundle.ts';

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
async function withBundle<T>(result: BundleResult, name: string, use: (emulator: Emulator) => Promise<T>, nodeFlags: string[] = []): Promise<T> {
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
    const others = inputs.filter((input) => !input.startsWith('runtime/') && input !== 'examples/hello/handler.ts' && input !== '<lambda-kit entry>');
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

  it('shortens names in the vendor bundle of --snapshot (its code runs at build time), keeping them for name', async () => {
    const { bundleVendor } = await import('../../../src/build/bundle/bundle.ts');
    const project = await mkdtemp(join(tmpdir(), 'lambda-kit-vendor-'));
    dirs.push(project);
    await mkdir(join(project, 'node_modules/fake'), { recursive: true });
    await writeFile(join(project, 'node_modules/fake/index.js'), 'function aDescriptiveName() { return 1; }\nmodule.exports = { aDescriptiveName };\n');
    await writeFile(join(project, 'handler.js'), "export { aDescriptiveName as handler } from 'fake';\n");
    const vendor = await bundleVendor([{ key: 'node_modules/fake/index.js', package: 'fake', format: 'cjs' }], {
      root: project,
      entry: join(project, 'handler.js'),
      arch: 'x86_64',
    });
    const code = vendor.code.toString('utf8');
    expect(code).not.toContain('function aDescriptiveName(');
    // keepNames: the function's name property survives the shortening.
    expect(code).toContain('"aDescriptiveName"');
  });

  describe('the vendor bundle of --snapshot lets go of each CommonJS module\'s body once it has run', () => {
    /** A package of two CommonJS modules that require each other, one with a long top-level body; and a handler importing it. */
    async function vendorOfCycle() {
      const { bundleVendor } = await import('../../../src/build/bundle/bundle.ts');
      const project = await mkdtemp(join(tmpdir(), 'lambda-kit-vendor-'));
      dirs.push(project);
      await mkdir(join(project, 'node_modules/cycle'), { recursive: true });
      // Classes and functions, as a package's top level mostly is (the AWS SDK's client: thousands).
      const longBody = Array.from(
        { length: 1000 },
        (_, i) => `class C${i} { constructor(v) { this.v = v; } get scaled() { return this.v * ${i}; } }\nexports.C${i} = C${i};\nexports.f${i} = (x) => x + ${i};`,
      ).join('\n');
      await writeFile(
        join(project, 'node_modules/cycle/index.js'),
        `exports.early = 'set before b';\nconst b = require('./b.js');\nexports.seenByB = b.sawEarly;\nexports.loads = (globalThis.cycleLoads = (globalThis.cycleLoads ?? 0) + 1);\n${longBody}\n`,
      );
      await writeFile(join(project, 'node_modules/cycle/b.js'), "exports.sawEarly = require('./index.js').early;\n");
      await writeFile(join(project, 'handler.js'), "export { seenByB as handler } from 'cycle';\n");
      return bundleVendor([{ key: 'node_modules/cycle/index.js', package: 'cycle', format: 'cjs' }], {
        root: project,
        entry: join(project, 'handler.js'),
        arch: 'x86_64',
      });
    }

    /**
     * Makes a startup snapshot of vendor code evaluated as the snapshot's build script does
     * (snapshot-launcher.cjs), with this Node; the snapshot's size, and what its module exports at start.
     */
    async function snapshotOf(code: string): Promise<{ bytes: number; seenByB: string; loads: number; made: number[]; again: boolean }> {
      const { execFileSync } = await import('node:child_process');
      const { stat } = await import('node:fs/promises');
      const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-vendor-run-'));
      dirs.push(dir);
      await writeFile(join(dir, 'vendor.cjs'), code);
      await writeFile(
        join(dir, 'build.cjs'),
        `const table = {};
        const module = { exports: {} };
        new Function('require', 'module', 'exports', '__lambdaKitSnapshotLoad', require('node:fs').readFileSync(${JSON.stringify(join(dir, 'vendor.cjs'))}, 'utf8'))(
          require, module, module.exports, (key, pkg, load) => { table[key] = load(); });
        require('node:v8').startupSnapshot.setDeserializeMainFunction(() => {
          const cycle = table['node_modules/cycle/index.js'];
          const made = [new cycle.C999(2).scaled, cycle.f999(1)];
          console.log(JSON.stringify({ seenByB: cycle.seenByB, loads: cycle.loads, made, again: cycle === table['node_modules/cycle/index.js'] }));
        });\n`,
      );
      const blob = join(dir, 'snapshot.blob');
      execFileSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', join(dir, 'build.cjs')], { cwd: dir });
      const started = JSON.parse(execFileSync(process.execPath, ['--snapshot-blob', blob], { encoding: 'utf8' }));
      return { bytes: (await stat(blob)).size, ...started };
    }

    it('loads as esbuild\'s own wrapper would, a require cycle included', async () => {
      const vendor = await vendorOfCycle();
      const code = vendor.code.toString('utf8');
      // The wrapper as released: the body's variable set to 0 once it has run.
      expect(code).toMatch(/\(\(\w+=\{exports:\{\}\}\)\.exports,\w+\),\w+=0\)/);
      const started = await snapshotOf(code);
      expect(started).toMatchObject({ seenByB: 'set before b', loads: 1, made: [1998, 1000], again: true });
    });

    it('holds no module\'s body in the snapshot once it has run (esbuild\'s wrapper as written keeps each)', async () => {
      const code = (await vendorOfCycle()).code.toString('utf8');
      // esbuild's own wrapper: the release undone.
      const kept = code.replace(/\|\|\(([\w$]+)\(\(([\w$]+)=\{exports:\{\}\}\)\.exports,\2\),\1=0\),/, '||$1(($2={exports:{}}).exports,$2),');
      expect(kept).not.toBe(code);
      const [released, held] = [await snapshotOf(code), await snapshotOf(kept)];
      expect(held.made).toEqual(released.made);
      // Measured: 555 KB more in the snapshot (its isolate part: 2.41 against 1.85 MB) while the body is kept.
      expect(held.bytes - released.bytes).toBeGreaterThan(200_000);
    });
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
    expect(error.stackTrace.join('\n')).toMatch(/examples\/fails\/handler\.ts:7:\d+/);
  });

  it('maps its stack traces itself, as Node does with --enable-source-maps: the same lines, frame by frame', async () => {
    const result = await bundleFunction({ name: 'stacks', entry: join(root, 'test/fixtures/functions/stack-shapes.ts'), exportName: 'handler', root, arch: 'x86_64' });
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
            errors.push(JSON.parse(body) as { errorType: string; stackTrace: string[] });
          }
          return errors;
        },
        nodeFlags,
      );
    const [ours, nodes] = await Promise.all([traces([]), traces(['--enable-source-maps'])]);
    expect(ours).toEqual(nodes);
    const lines = ours.map((error) => error.stackTrace.join('\n'));
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
    expect(inputs.filter((input) => input.endsWith('response-stream.ts'))).toEqual(['runtime/response-stream.ts']);
    const event = JSON.parse(readFileSync(join(root, 'test/fixtures/events/http/apigw_v2_proxy_request.json'), 'utf8'));
    const answer = await withBundle(result, 'http', async (emulator) => {
      const hello = await emulator.invoke('http', { payload: Buffer.from(JSON.stringify({ ...event, rawPath: '/hello/Ada', requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method: 'GET' } } })) });
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
