import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import extract from 'extract-zip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject } from '../../../src/build/build.ts';
import { readSnapshotCodeCache } from '../../../src/build/snapshot/snapshot-code-cache.ts';
import { invokeUnpacked, kitError, readZip } from '../support.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cacheDir = fileURLToPath(new URL('../../../.cache/kit', import.meta.url));
const cleanup: string[] = [];
afterAll(async () => Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true }))));

const hostArch = process.arch === 'arm64' ? 'arm64' : 'x86_64';
/** A snapshot build: bundling, the target's Node evaluating the packages, postject, patchelf, a check run, the zip. */
const BUILD_MS = 120_000;

/**
 * A project inside the checkout (in .cache/, ignored by git), so that real
 * packages (zod) resolve from the checkout's node_modules beside packages of
 * its own node_modules.
 */
async function makeProject(files: Record<string, string>): Promise<string> {
  await mkdir(join(root, '.cache'), { recursive: true });
  const dir = await mkdtemp(join(root, '.cache', 'snapshot-test-'));
  cleanup.push(dir);
  for (const [path, contents] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), contents);
  }
  return dir;
}

/** A CommonJS package whose module-level code shows where and how often it ran. */
const PROBE = {
  'node_modules/lk-probe/package.json': '{ "name": "lk-probe", "version": "1.0.0", "main": "index.js" }',
  'node_modules/lk-probe/index.js': `
const crypto = require('node:crypto');
const v8 = require('node:v8');
const https = require('node:https');
const { STATUS_CODES } = require('node:http');
globalThis.lkProbeEvaluations = (globalThis.lkProbeEvaluations ?? 0) + 1;
exports.evaluatedWhileBuilding = Boolean(v8.startupSnapshot.isBuildingSnapshot());
exports.envAtLoad = process.env.PROBE_VALUE ?? null;
// Draws from node:crypto's pools while building: a pool left in the snapshot would repeat at every start.
exports.uuidAtLoad = crypto.randomUUID();
exports.webUuidAtLoad = globalThis.crypto.randomUUID();
exports.intAtLoad = crypto.randomInt(1e12);
exports.randomAtLoad = Math.random();
exports.notFound = STATUS_CODES[404];
const { request } = https;
exports.fresh = () => ({ uuid: crypto.randomUUID(), webUuid: globalThis.crypto.randomUUID(), int: crypto.randomInt(1e12), random: Math.random() });
exports.httpsWorks = () => typeof request === 'function' && new https.Agent({ keepAlive: true }) instanceof https.Agent;
exports.later = () => new Promise((resolve) => setTimeout(() => resolve('timer fired'), 5));
exports.stack = function stackFromThePackage() { return new Error('where').stack; };
exports.neverImportedByName = 'only through the namespace';
exports['not-an-identifier'] = 'named as it is';
`,
};

/** An ESM package: index.mjs gets its default and named exports through the snapshot's stand-in. */
const ESM = {
  'node_modules/lk-esm/package.json': '{ "name": "lk-esm", "version": "1.0.0", "type": "module", "exports": "./index.js" }',
  'node_modules/lk-esm/index.js': `
export const punctuation = '!';
export default function greet(name) { return 'Hello, ' + name + punctuation; }
`,
};

/**
 * A package whose load needs another's side effect (as class-validator needs
 * reflect-metadata), and whose name sorts before it: loaded in import order.
 */
const ORDERED = {
  'node_modules/lk-z-polyfill/package.json': '{ "name": "lk-z-polyfill", "version": "1.0.0" }',
  'node_modules/lk-z-polyfill/index.js': 'globalThis.lkPolyfill = () => "polyfilled";\n',
  'node_modules/lk-a-uses-polyfill/package.json': '{ "name": "lk-a-uses-polyfill", "version": "1.0.0" }',
  'node_modules/lk-a-uses-polyfill/index.js': 'exports.atLoad = globalThis.lkPolyfill();\n',
};

const HANDLER = `
import 'lk-z-polyfill';
import { atLoad as polyfilledAtLoad } from 'lk-a-uses-polyfill';
import probe, { fresh, later } from 'lk-probe';
import * as probeNamespace from 'lk-probe';
import greet, * as esm from 'lk-esm';
import { z } from 'zod';
import { startupSnapshot } from 'node:v8';
import { LambdaRuntimeError } from 'lambda-kit/runtime';

// The function's own module-level code: evaluated at start, with the runtime's environment.
const probeValueAtInit = process.env.PROBE_VALUE ?? null;
const initWhileBuilding = Boolean(startupSnapshot.isBuildingSnapshot());
const table = (globalThis as Record<symbol, Record<string, unknown>>)[Symbol.for('lambda-kit.snapshot')];

const Event = z.object({ name: z.string(), fail: z.boolean().optional() });

export async function handler(raw: unknown) {
  const event = Event.parse(raw);
  if (event.fail) throw new TypeError('failing on purpose');
  return {
    polyfilledAtLoad,
    greeting: greet(event.name),
    esmNamed: esm.punctuation,
    probeValueAtInit,
    initWhileBuilding,
    probeEnvAtLoad: probe.envAtLoad,
    evaluatedWhileBuilding: probe.evaluatedWhileBuilding,
    evaluations: (globalThis as { lkProbeEvaluations?: number }).lkProbeEvaluations,
    probeIsTheSnapshots: table?.['node_modules/lk-probe/index.js'] === probe,
    // A CommonJS package's namespace: its exports by name, and module.exports as default, as Node gives them.
    probeNamespace: {
      keys: Object.keys(probeNamespace).sort(),
      default: probeNamespace.default === probe,
      oddName: (probeNamespace as Record<string, unknown>)['not-an-identifier'],
      neverImportedByName: probeNamespace.neverImportedByName,
    },
    // The runtime loop is in the snapshot too, one copy: the function's import of it is the loop's own.
    runtimeIsTheSnapshots: (table?.['lambda-kit/runtime'] as { LambdaRuntimeError?: unknown } | undefined)?.LambdaRuntimeError === LambdaRuntimeError,
    awslambdaGlobal: typeof (globalThis as { awslambda?: { streamifyResponse?: unknown } }).awslambda?.streamifyResponse,
    tableKeys: Object.keys(table ?? {}).sort(),
    atLoad: { uuid: probe.uuidAtLoad, webUuid: probe.webUuidAtLoad, int: probe.intAtLoad, random: probe.randomAtLoad },
    fresh: fresh(),
    notFound: probe.notFound,
    httpsWorks: probe.httpsWorks(),
    timer: await later(),
    packageStack: probe.stack(),
    sinceStartMs: performance.now(),
    timeOriginSkewMs: Math.abs(Date.now() - performance.timeOrigin - performance.now()),
  };
}
`;

describe('lambda-kit build --snapshot', () => {
  let taskRoot: string;
  let zipEntries: ReturnType<typeof readZip>;

  beforeAll(async () => {
    const cwd = await makeProject({ ...PROBE, ...ESM, ...ORDERED, 'handler.ts': HANDLER });
    const out = join(cwd, 'out');
    const lines: string[] = [];
    const { artifacts } = await buildProject({
      cwd,
      selector: 'handler.ts',
      overrides: { out, arch: hostArch, snapshot: true },
      cacheDir,
      log: (line) => lines.push(line),
    });
    expect(lines.join('\n')).toMatch(/snapshot of 6 package\(s\) \(lambda-kit, lk-a-uses-polyfill, lk-esm, lk-probe and 2 more\)/);
    expect(lines.join('\n')).toMatch(/code caches of \d+ built-ins it holds left out \([\d.]+ MB\), \d+ kept/);
    zipEntries = readZip(await readFile(artifacts[0]!.path));
    taskRoot = await mkdtemp(join(root, '.cache', 'snapshot-task-'));
    cleanup.push(taskRoot);
    await extract(artifacts[0]!.path, { dir: taskRoot });
  }, BUILD_MS);

  /** Starts the function in a fresh environment, invokes it once, and stops it. */
  async function startAndInvoke(payload: unknown): Promise<{ body: Record<string, unknown>; functionError: boolean; logs: string[] }> {
    const { answer, lines } = await invokeUnpacked(taskRoot, payload, { PROBE_VALUE: 'from-the-runtime' });
    return { body: JSON.parse(answer.body.toString()) as Record<string, unknown>, functionError: answer.functionError, logs: lines };
  }

  it("leaves the packages out of index.mjs, which reads them from the bootstrap's snapshot", () => {
    const index = zipEntries.find((entry) => entry.path === 'index.mjs')!.data.toString();
    expect(index).toContain('Symbol.for("lambda-kit.snapshot")');
    expect(index).not.toContain('exports.evaluatedWhileBuilding');
    expect(index).not.toContain('ZodObject');
    // The handler's own code is there, evaluated at start; the runtime loop is not (it is in the snapshot).
    expect(index).toContain('failing on purpose');
    expect(index).not.toContain('Lambda-Runtime-Aws-Request-Id');
    expect(index.length).toBeLessThan(8 * 1024);
    expect(zipEntries.map((entry) => entry.path)).not.toContain('node_modules/lk-probe/index.js');
  });

  it('keeps in the snapshot the code caches of the built-ins a start may compile (https), not of those its heap holds (fs, net)', () => {
    const found = readSnapshotCodeCache(zipEntries.find((entry) => entry.path === 'bootstrap')!.data);
    const ids = new Set(found!.entries.map((entry) => entry.id));
    // Node 24 has about 390 built-ins; the snapshot of these packages holds some 150 of them.
    expect(ids.size).toBeGreaterThan(100);
    expect(ids.size).toBeLessThan(330);
    for (const id of ['https', '_http_client', 'tls']) expect(ids).toContain(id);
    for (const id of ['fs', 'net', 'events', 'node:fs']) expect(ids).not.toContain(id);
  });

  it("answers, with the packages evaluated once, at build time, and the function's own code at start with the runtime's environment", async () => {
    const { body, functionError } = await startAndInvoke({ name: 'Ada' });
    expect(functionError).toBe(false);
    expect(body).toMatchObject({
      // Loaded in import order, not by name.
      polyfilledAtLoad: 'polyfilled',
      greeting: 'Hello, Ada!',
      esmNamed: '!',
      // index.mjs's module-level code: at start, the runtime's value.
      probeValueAtInit: 'from-the-runtime',
      initWhileBuilding: false,
      // The package's module-level code: at build time (no PROBE_VALUE there), and not again at start.
      probeEnvAtLoad: null,
      evaluatedWhileBuilding: true,
      evaluations: 1,
      probeIsTheSnapshots: true,
      probeNamespace: {
        keys: [
          'default',
          'envAtLoad',
          'evaluatedWhileBuilding',
          'fresh',
          'httpsWorks',
          'intAtLoad',
          'later',
          'neverImportedByName',
          'not-an-identifier',
          'notFound',
          'randomAtLoad',
          'stack',
          'uuidAtLoad',
          'webUuidAtLoad',
        ],
        default: true,
        oddName: 'named as it is',
        neverImportedByName: 'only through the namespace',
      },
      runtimeIsTheSnapshots: true,
      awslambdaGlobal: 'function',
      tableKeys: [
        expect.stringMatching(/^\.\.\/\.\.\/node_modules\/zod\//),
        'lambda-kit/runtime',
        'node_modules/lk-a-uses-polyfill/index.js',
        'node_modules/lk-esm/index.js',
        'node_modules/lk-probe/index.js',
        'node_modules/lk-z-polyfill/index.js',
      ],
      notFound: 'Not Found',
      httpsWorks: true,
      timer: 'timer fired',
    });
    // The packages' frames have a stable name, not the build machine's paths.
    expect((body.packageStack as string).split('\n')[1]).toMatch(
      /^\s+at .*stackFromThePackage.* \(lambda-kit:snapshot\/packages\.cjs:\d+:\d+\)$/,
    );
    // performance was in the snapshot: its origin is this start's, not the build's.
    expect(body.sinceStartMs).toBeLessThan(5_000);
    expect(body.timeOriginSkewMs).toBeLessThan(50);
  });

  it("draws fresh randomness at each start (Math.random, randomUUID, webcrypto, randomInt), while values made at build time stay the build's", async () => {
    const first = await startAndInvoke({ name: 'one' });
    const second = await startAndInvoke({ name: 'two' });
    const [a, b] = [first.body.fresh as Record<string, unknown>, second.body.fresh as Record<string, unknown>];
    expect(a.uuid).not.toBe(b.uuid);
    expect(a.webUuid).not.toBe(b.webUuid);
    expect(a.int).not.toBe(b.int);
    expect(a.random).not.toBe(b.random);
    // Module-level state is the build's: the same at every start (the caveat the README states).
    expect(first.body.atLoad).toEqual(second.body.atLoad);
    // And a value drawn at start never repeats one drawn at build time.
    expect(Object.values(a)).not.toContain((first.body.atLoad as Record<string, unknown>).uuid);
  });

  it("maps stack traces of the function's own code to its .ts lines", async () => {
    const { body, functionError } = await startAndInvoke({ name: 'x', fail: true });
    expect(functionError).toBe(true);
    expect(body.errorType).toBe('TypeError');
    expect((body.trace as string[]).join('\n')).toMatch(/handler\.ts:\d+:\d+/);
  });
});

describe('lambda-kit build --snapshot: named imports of a CommonJS package', () => {
  it(
    'take the names from the snapshot: index.mjs reads the ones imported and copies no others at start',
    async () => {
      const names = Array.from({ length: 200 }, (_, i) => `wideExport${i}`);
      const cwd = await makeProject({
        'node_modules/lk-wide/package.json': '{ "name": "lk-wide", "version": "1.0.0", "main": "index.js" }',
        'node_modules/lk-wide/index.js': names.map((name) => `exports.${name} = ${JSON.stringify(name)};`).join('\n'),
        'handler.ts': "import { wideExport7 } from 'lk-wide';\nexport const handler = () => wideExport7;\n",
      });
      const { artifacts } = await buildProject({
        cwd,
        selector: 'handler.ts',
        overrides: { out: join(cwd, 'out'), arch: hostArch, snapshot: true },
        cacheDir,
      });
      const index = readZip(await readFile(artifacts[0]!.path))
        .find((entry) => entry.path === 'index.mjs')!
        .data.toString();
      expect(index).toContain('wideExport7');
      expect(index).not.toContain('wideExport8');
      // Not module.exports of a CommonJS stand-in, which esbuild's interop would copy (all 200 getters) at start.
      expect(index).not.toMatch(
        /\.exports=\(globalThis\[Symbol\.for\("lambda-kit\.snapshot"\)\][^\]]*\["node_modules\/lk-wide\/index\.js"\]/,
      );
    },
    BUILD_MS,
  );
});

describe('lambda-kit build --snapshot with nothing to snapshot', () => {
  it(
    'builds as without it (byte for byte), and says so: a snapshot of nothing would only cost',
    async () => {
      const cwd = await makeProject({
        'handler.ts': "import { format } from 'node:util';\nexport const handler = () => format('%s', 'plain');\n",
      });
      const lines: string[] = [];
      const withIt = await buildProject({
        cwd,
        selector: 'handler.ts',
        overrides: { out: join(cwd, 'with'), arch: hostArch, snapshot: true },
        cacheDir,
        log: (line) => lines.push(line),
      });
      const without = await buildProject({
        cwd,
        selector: 'handler.ts',
        overrides: { out: join(cwd, 'without'), arch: hostArch },
        cacheDir,
      });
      expect(lines.join('\n')).toMatch(
        /--snapshot: it imports no packages from node_modules, so there is nothing to snapshot; built without/,
      );
      expect(withIt.artifacts[0]!.sha256).toBe(without.artifacts[0]!.sha256);
    },
    BUILD_MS,
  );
});

describe('lambda-kit build --snapshot: what it refuses', () => {
  it('refuses the thin layout, whose bootstrap is the shared /opt layer, with LK_KIT_SNAPSHOT_OPTIONS', async () => {
    const cwd = await makeProject({ ...PROBE, 'handler.ts': "import 'lk-probe';\nexport const handler = () => 1;\n" });
    const error = await kitError(
      buildProject({
        cwd,
        selector: 'handler.ts',
        overrides: { out: join(cwd, 'out'), arch: hostArch, snapshot: true, layout: 'thin' },
        cacheDir,
      }),
    );
    expect(error.code).toBe('LK_KIT_SNAPSHOT_OPTIONS');
    expect(error.message).toMatch(/thin layout's bootstrap is the Node runtime layer in \/opt/);
    expect(error.message).toMatch(/--layout self-contained/);
  });

  it('refuses --code-cache with it, with LK_KIT_SNAPSHOT_OPTIONS', async () => {
    const cwd = await makeProject({ ...PROBE, 'handler.ts': "import 'lk-probe';\nexport const handler = () => 1;\n" });
    const error = await kitError(
      buildProject({
        cwd,
        selector: 'handler.ts',
        overrides: { out: join(cwd, 'out'), arch: hostArch, snapshot: true, codeCache: true },
        cacheDir,
      }),
    );
    expect(error.code).toBe('LK_KIT_SNAPSHOT_OPTIONS');
    expect(error.message).toMatch(/--snapshot and --code-cache do not go together/);
  });

  /** Builds a handler importing each named package (of `packages`) with --snapshot; the KitError it fails with. */
  async function failure(packages: Record<string, string>) {
    const files: Record<string, string> = { ...PROBE };
    for (const [name, source] of Object.entries(packages)) {
      files[`node_modules/${name}/package.json`] = JSON.stringify({ name, version: '1.0.0', main: 'index.js' });
      files[`node_modules/${name}/index.js`] = source;
    }
    files['handler.ts'] =
      `${[...Object.keys(packages), 'lk-probe'].map((name) => `import '${name}';`).join('\n')}\nexport const handler = () => 1;\n`;
    const cwd = await makeProject(files);
    return kitError(
      buildProject({ cwd, selector: 'handler.ts', overrides: { out: join(cwd, 'out'), arch: hostArch, snapshot: true }, cacheDir }),
    );
  }

  it(
    'names a package whose load-time objects V8 cannot serialise (narrowed down in load order)',
    async () => {
      const error = await failure({ 'lk-hasher': "exports.hash = require('node:crypto').createHash('sha256');\n" });
      expect(error.code).toBe('LK_KIT_SNAPSHOT');
      expect(error.message).toMatch(/V8 cannot hold what lk-hasher makes while loading/);
      expect(error.message).not.toMatch(/lk-probe makes/);
      expect(error.message).toMatch(/--external lk-hasher/);
      expect(error.message).toMatch(/or build without --snapshot/);
    },
    BUILD_MS,
  );

  it(
    'names a package that calls node:https while loading',
    async () => {
      const error = await failure({ 'lk-fetcher': "require('node:https').request('https://127.0.0.1:1/').on('error', () => {});\n" });
      expect(error.code).toBe('LK_KIT_SNAPSHOT');
      expect(error.message).toMatch(/lk-fetcher failed while loading: it uses node:https \(request\(\)\) while loading/);
      expect(error.message).toMatch(/--external lk-fetcher/);
    },
    BUILD_MS,
  );

  it(
    'names a package that leaves a timer pending, which would break every timer after the start',
    async () => {
      const error = await failure({ 'lk-ticker': 'setInterval(() => {}, 60_000).unref();\n' });
      expect(error.code).toBe('LK_KIT_SNAPSHOT');
      expect(error.message).toMatch(/lk-ticker \(setInterval\) left a timer pending while loading/);
      expect(error.message).toMatch(/--external lk-ticker/);
    },
    BUILD_MS,
  );

  it(
    'names a package that throws while loading, with its error',
    async () => {
      const error = await failure({ 'lk-thrower': "throw new Error('needs a database at load time');\n" });
      expect(error.code).toBe('LK_KIT_SNAPSHOT');
      expect(error.message).toMatch(/lk-thrower failed while loading: needs a database at load time/);
    },
    BUILD_MS,
  );
});
