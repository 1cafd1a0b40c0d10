// buildNodeRuntime for this machine's architecture: the bootstrap it makes runs
// here (through its own loader in lib/, since its ELF interpreter is
// /var/task/lib/..., which this machine does not have), starts the function's
// index.mjs under Lambda, says what it is otherwise, and two builds from empty
// build caches are byte-identical; the same for the plain Node of extension
// layers (buildExtensionNode), which is then taken from the cache.
//
// Downloads (npm's node-linux-<cpu>, Debian's libc6/libstdc++6/libgcc-s1) go to
// .cache/kit and are shared by the runs; the first run on a machine needs npm's
// registry and apt (as root), later ones do not.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KitError } from '../../../src/build/errors.ts';
import type { Arch } from '../../../src/platform/arch.ts';
import { buildNodeRuntime, writeNodeRuntime, type NodeRuntime } from '../../../src/build/node/node-runtime.ts';
import { buildExtensionNode } from '../../../src/build/node/node-with-glibc.ts';

const CACHE = fileURLToPath(new URL('../../../.cache/kit', import.meta.url));
const arch: Arch = process.arch === 'arm64' ? 'arm64' : 'x86_64';
const loader = arch === 'arm64' ? 'ld-linux-aarch64.so.1' : 'ld-linux-x86-64.so.2';
const BUILD_TIMEOUT_MS = 180_000;
const NOT_UNDER_LAMBDA = 'AWS_LAMBDA_RUNTIME_API is not set: this is a Lambda bootstrap; run it under Lambda or `lambda-kit emulate`';

interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/**
 * Builds twice, each in a fresh cache holding only the downloads (the same npm
 * tarball and .debs): everything else (extract, strip, patchelf, ...) runs twice.
 */
async function inFreshCaches(build: (cacheDir: string) => Promise<NodeRuntime>): Promise<NodeRuntime[]> {
  const caches = [await mkdtemp(join(tmpdir(), 'lambda-kit-cache-a-')), await mkdtemp(join(tmpdir(), 'lambda-kit-cache-b-'))];
  try {
    const builds: NodeRuntime[] = [];
    for (const cacheDir of caches) {
      await mkdir(cacheDir, { recursive: true });
      await cp(join(CACHE, 'npm'), join(cacheDir, 'npm'), { recursive: true });
      await cp(join(CACHE, 'debs'), join(cacheDir, 'debs'), { recursive: true });
      builds.push(await build(cacheDir));
    }
    return builds;
  } finally {
    for (const cacheDir of caches) await rm(cacheDir, { recursive: true, force: true });
  }
}

const digests = (runtime: NodeRuntime) =>
  Object.fromEntries(runtime.files.map((f) => [f.path, createHash('sha256').update(f.data).digest('hex')]));

describe(`buildNodeRuntime (${arch}, this machine)`, () => {
  let dir: string;
  let runtime: NodeRuntime;
  /** Runs the bootstrap the way the kernel would at /var/task: its loader, its lib/. */
  const bootstrap = (env: NodeJS.ProcessEnv) => run(join(dir, 'lib', loader), [join(dir, 'bootstrap')], { PATH: process.env.PATH, ...env });

  beforeAll(async () => {
    runtime = await buildNodeRuntime({ arch, root: '/var/task', cacheDir: CACHE });
    dir = await mkdtemp(join(tmpdir(), 'lambda-kit-node-runtime-'));
    await writeNodeRuntime(runtime, dir);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('gives bootstrap and the NEEDED closure of node in lib/, as regular files', () => {
    expect(runtime.nodeVersion).toMatch(/^24\.\d+\.\d+$/);
    const paths = runtime.files.map((f) => f.path);
    expect(paths).toEqual([...paths].sort());
    expect(paths).toEqual(
      expect.arrayContaining(['bootstrap', `lib/${loader}`, 'lib/libc.so.6', 'lib/libm.so.6', 'lib/libstdc++.so.6', 'lib/libgcc_s.so.1']),
    );
    expect(paths.every((p) => p === 'bootstrap' || /^lib\/[^/]+$/.test(p))).toBe(true);
    expect(runtime.files.find((f) => f.path === 'bootstrap')!.mode).toBe(0o755);
    expect(runtime.files.find((f) => f.path === `lib/${loader}`)!.mode).toBe(0o755);
    for (const file of runtime.files) expect(file.data.length, file.path).toBeGreaterThan(1000);
  });

  it('points bootstrap at /var/task/lib: ELF interpreter there, DT_RPATH $ORIGIN/lib', async () => {
    const interpreter = await run('patchelf', ['--print-interpreter', join(dir, 'bootstrap')], process.env);
    expect(interpreter.stdout.trim()).toBe(`/var/task/lib/${loader}`);
    const dynamic = await run('readelf', ['-dW', join(dir, 'bootstrap')], process.env);
    expect(dynamic.stdout).toMatch(/\(RPATH\)\s+Library rpath: \[\$ORIGIN\/lib\]/);
    expect(dynamic.stdout).not.toMatch(/RUNPATH/);
  });

  it('imports $LAMBDA_TASK_ROOT/index.mjs when AWS_LAMBDA_RUNTIME_API is set', async () => {
    const task = await mkdtemp(join(tmpdir(), 'lambda-kit-task-'));
    try {
      await writeFile(
        join(task, 'index.mjs'),
        "import { isSea } from 'node:sea';\n" +
          'await new Promise((resolve) => setTimeout(resolve, 10));\n' +
          'console.log(JSON.stringify({ arch: process.arch, node: process.version, sea: isSea(), api: process.env.AWS_LAMBDA_RUNTIME_API }));\n',
      );
      const exit = await bootstrap({ AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', LAMBDA_TASK_ROOT: task });
      expect(exit, exit.stderr).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(exit.stdout)).toEqual({
        arch: process.arch,
        node: `v${runtime.nodeVersion}`,
        sea: true,
        api: '127.0.0.1:9001',
      });
    } finally {
      await rm(task, { recursive: true, force: true });
    }
  });

  it('prints the error and exits 1 when index.mjs throws or is missing', async () => {
    const task = await mkdtemp(join(tmpdir(), 'lambda-kit-task-'));
    try {
      const missing = await bootstrap({ AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', LAMBDA_TASK_ROOT: task });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('ERR_MODULE_NOT_FOUND');
      await writeFile(join(task, 'index.mjs'), "throw new RangeError('broken on purpose');\n");
      const throws = await bootstrap({ AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', LAMBDA_TASK_ROOT: task });
      expect(throws.code).toBe(1);
      expect(throws.stderr).toContain('RangeError: broken on purpose');
      expect(throws.stderr).toContain(join(task, 'index.mjs'));
    } finally {
      await rm(task, { recursive: true, force: true });
    }
  });

  it('says what it is and exits 1 when AWS_LAMBDA_RUNTIME_API is not set', async () => {
    const exit = await bootstrap({});
    expect(exit.code).toBe(1);
    expect(exit.stdout).toBe('');
    expect(exit.stderr.trim()).toBe(NOT_UNDER_LAMBDA);
  });

  it('takes a second build from the cache, identical', async () => {
    const again = await buildNodeRuntime({ arch, root: '/var/task', cacheDir: CACHE });
    expect(again.nodeVersion).toBe(runtime.nodeVersion);
    expect(digests(again)).toEqual(digests(runtime));
  });

  it(
    'builds byte-identical files from empty build caches',
    async () => {
      const builds = await inFreshCaches((cacheDir) =>
        buildNodeRuntime({ arch, root: '/var/task', cacheDir, nodeVersion: runtime.nodeVersion }),
      );
      expect(digests(builds[0]!)).toEqual(digests(builds[1]!));
      expect(digests(builds[0]!)).toEqual(digests(runtime));
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'differs only in the interpreter for root /opt',
    async () => {
      const opt = await buildNodeRuntime({ arch, root: '/opt', cacheDir: CACHE, nodeVersion: runtime.nodeVersion });
      const a = digests(runtime);
      const b = digests(opt);
      expect(Object.keys(b)).toEqual(Object.keys(a));
      expect(b.bootstrap).not.toBe(a.bootstrap);
      for (const path of Object.keys(a).filter((p) => p !== 'bootstrap')) expect(b[path], path).toBe(a[path]);
    },
    BUILD_TIMEOUT_MS,
  );

  it('rejects an unknown arch or root with a KitError', async () => {
    await expect(buildNodeRuntime({ arch: 'mips' as Arch, root: '/var/task', cacheDir: CACHE })).rejects.toMatchObject({
      name: 'KitError',
      code: 'LK_KIT_INVALID_OPTIONS',
    });
    const error = await buildNodeRuntime({ arch, root: '/srv' as '/opt', cacheDir: CACHE }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KitError);
    expect((error as KitError).message).toContain("'/var/task' or '/opt'");
    await expect(buildNodeRuntime({ arch, root: '/opt', cacheDir: CACHE, nodeVersion: 'latest' })).rejects.toMatchObject({
      code: 'LK_KIT_INVALID_OPTIONS',
    });
    await expect(buildNodeRuntime({ arch, root: '/opt', cacheDir: CACHE, nodeMajor: 20 as 22 })).rejects.toMatchObject({
      code: 'LK_KIT_INVALID_OPTIONS',
    });
  });
});

describe(`buildExtensionNode (${arch}, this machine)`, () => {
  it(
    'builds byte-identical bin/node and lib/ from empty build caches, then takes them from the cache',
    async () => {
      const nodeVersion = (await buildExtensionNode({ arch, cacheDir: CACHE })).nodeVersion;
      const builds = await inFreshCaches((cacheDir) => buildExtensionNode({ arch, cacheDir, nodeVersion }));
      expect(digests(builds[0]!)).toEqual(digests(builds[1]!));
      expect(Object.keys(digests(builds[0]!))).toEqual(expect.arrayContaining(['bin/node', `lib/${loader}`, 'lib/libc.so.6']));
      const started = Date.now();
      const cached = await buildExtensionNode({ arch, cacheDir: CACHE, nodeVersion });
      expect(digests(cached)).toEqual(digests(builds[0]!));
      console.log(`extension Node ${nodeVersion} (${arch}) from the cache in ${Date.now() - started} ms`);
    },
    BUILD_TIMEOUT_MS,
  );

  it('rejects what it cannot build with a KitError', async () => {
    await expect(buildExtensionNode({ arch, cacheDir: CACHE, nodeMajor: 20 as 22 })).rejects.toMatchObject({
      code: 'LK_KIT_INVALID_OPTIONS',
      message: 'buildExtensionNode: unsupported nodeMajor 20: 24 or 22',
    });
    await expect(buildExtensionNode({ arch, cacheDir: CACHE, nodeVersion: 'latest' })).rejects.toMatchObject({
      code: 'LK_KIT_INVALID_OPTIONS',
      message: "buildNodeWithGlibc: nodeVersion 'latest' is not an exact version like '24.21.0'",
    });
  });
});
