import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import extract from 'extract-zip';
import { afterAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../src/emulator/emulator.ts';
import { layerArtifactLike, makeProject, removeAll } from '../build/support.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const PROBE = fileURLToPath(new URL('../fixtures/extensions/probe-extension.ts', import.meta.url));
const cleanup: string[] = [];
afterAll(() => removeAll(cleanup));

function cli(args: string[], cwd = root, env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(process.execPath, [join(root, 'src/cli/main.ts'), 'build', ...args], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: 280_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('lambda-kit build: errors', () => {
  it('fails clearly when --format image finds no Docker engine', () => {
    const result = cli(['hello', '--format', 'image'], root, { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--format image needs a Docker engine, and none answers .*: start Docker/);
  });

  it('fails clearly when --docker has no builder image', () => {
    const result = cli(['hello', '--docker', '--builder', 'lambda-kit/no-such-builder:x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /builder image lambda-kit\/no-such-builder:x is not in the local Docker engine: build it \(npm run builder:images/,
    );
  });

  it('refuses --docker for images', () => {
    const result = cli(['hello', '--docker', '--format', 'image']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--docker builds zips/);
  });

  it("refuses --snapshot with --docker (its bootstrap needs the host's tools) and with --layout thin, as bad input", () => {
    const docker = cli(['hello', '--docker', '--snapshot']);
    expect(docker.code).toBe(2);
    expect(docker.stderr).toMatch(/--snapshot, whose bootstrap needs the host's/);
    const thin = cli(['hello', '--snapshot', '--layout', 'thin']);
    expect(thin.code).toBe(2);
    expect(thin.stderr).toMatch(/thin layout's bootstrap is the Node runtime layer in \/opt/);
  });

  it('prints its help', () => {
    const result = cli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/lambda-kit build \[entry\|name\] \[options\]/);
    expect(result.stdout).toMatch(/--layout <layout>/);
    expect(result.stdout).toMatch(/<out>\/layers\/<name>\.zip for an extension/);
  });

  it.each([
    [
      ['examples/nope/handler.ts'],
      /entry examples\/nope\/handler\.ts does not exist and is not the name of a function or an extension \(functions in lambda-kit\.config\.json: hello, fails, streaming, http; extensions: logs-to-file, telemetry-counter\)/,
    ],
    [['hello', '--arch', 'sparc'], /unknown arch "sparc" \(--arch\): use x86_64 or arm64/],
    [['hello', '--format', 'tar'], /unknown format "tar" \(--format\): this lambda-kit builds zip/],
    [['hello', '--layout', 'fat'], /unknown layout "fat" \(--layout\): use self-contained or thin/],
    [['hello', '--node', '18'], /unknown Node major version "18" \(--node\): use 24 or 22/],
    [['hello', 'fails'], /build takes one entry or function name/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('rejects %j with a clear message and exit 2', (args, message) => {
    const result = cli(args);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
  });

  it('names a bad config key and its file (exit 2)', async () => {
    const cwd = await makeProject(
      {
        'lambda-kit.config.json': JSON.stringify({ functions: { api: { entry: 'api.ts', externals: ['pg'] } } }),
        'api.ts': 'export const handler = () => 1;\n',
      },
      cleanup,
    );
    const result = cli([], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^lambda-kit: lambda-kit\.config\.json: unknown key "externals" at functions\.api \(allowed: entry, export, arch, target, format, layout, external,/,
    );
  });

  it('refuses flags that only functions have when building an extension (exit 2)', async () => {
    const cwd = await makeProject({ 'lambda-kit.config.json': JSON.stringify({ extensions: { probe: { entry: PROBE } } }) }, cleanup);
    const result = cli(['probe', '--layout', 'thin'], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('lambda-kit: --layout is for functions; extension "probe" is always built into a layer zip: leave it out\n');
  });

  it('refuses a native addon, naming the package (exit 1)', async () => {
    const cwd = await makeProject(
      {
        'package.json': JSON.stringify({ name: 'app', type: 'module', lambda: { entry: 'handler.mjs' } }),
        'handler.mjs': "import addon from 'fast-thing';\nexport const handler = async () => addon.run();\n",
        'node_modules/fast-thing/package.json': JSON.stringify({ name: 'fast-thing', version: '1.0.0', main: 'index.js', gypfile: true }),
        'node_modules/fast-thing/index.js': "module.exports = require('./build/Release/fast.node');\n",
        'node_modules/fast-thing/build/Release/fast.node': Buffer.from('\x7fELF'),
      },
      cleanup,
    );
    const result = cli(['--arch', 'arm64'], cwd);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /lambda-kit: package "fast-thing" contains a native addon .* Mark it --external fast-thing: .* linux-arm64/,
    );
    expect(existsSync(join(cwd, 'dist'))).toBe(false);
  });
});

describe('lambda-kit build: artifacts (with the real Node runtime)', () => {
  it('builds hello into a self-contained zip, reports it with --json, and the zip runs under the emulator', async () => {
    const out = await mkdtemp(join(tmpdir(), 'lambda-kit-build-'));
    cleanup.push(out);
    const result = cli(['hello', '--out', out, '--json']);
    expect(result.stderr).toMatch(/hello: bundled examples\/hello\/handler\.ts into index\.mjs/);
    expect(result.code).toBe(0);
    const { artifacts } = JSON.parse(result.stdout);
    expect(artifacts).toEqual([
      {
        function: 'hello',
        kind: 'function',
        path: join(out, 'hello.zip'),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        size: expect.any(Number),
        arch: process.arch === 'arm64' ? 'arm64' : 'x86_64',
        target: 'al2023',
        format: 'zip',
        layout: 'self-contained',
        nodeVersion: expect.stringMatching(/^v?24\./),
      },
    ]);
    const zip = readFileSync(join(out, 'hello.zip'));
    expect(createHash('sha256').update(zip).digest('hex')).toBe(artifacts[0].sha256);
    console.log(`hello self-contained zip: ${zip.length} bytes`);

    // The real bootstrap, run the way the kernel would at /var/task: through its own loader in lib/.
    const taskRoot = await mkdtemp(join(tmpdir(), 'lambda-kit-task-'));
    cleanup.push(taskRoot);
    await extract(join(out, 'hello.zip'), { dir: taskRoot });
    const loader = process.arch === 'arm64' ? 'ld-linux-aarch64.so.1' : 'ld-linux-x86-64.so.2';
    const emulator = await Emulator.start({
      functions: [{ name: 'hello', source: { command: [join(taskRoot, 'lib', loader), join(taskRoot, 'bootstrap')], taskRoot } }],
      log: () => {},
    });
    try {
      const answer = await emulator.invoke('hello', { payload: Buffer.from('{"firstName":"Ada"}') });
      expect(JSON.parse(answer.body.toString())).toEqual({ message: 'Hello, Ada!' });
    } finally {
      await emulator.close();
    }

    // A rebuild is byte-identical.
    const again = JSON.parse(cli(['hello', '--out', out, '--json']).stdout);
    expect(again.artifacts[0].sha256).toBe(artifacts[0].sha256);
  }, 300_000);

  it('builds a thin function zip of a few KB and a runtime layer zip', async () => {
    const out = await mkdtemp(join(tmpdir(), 'lambda-kit-build-'));
    cleanup.push(out);
    const result = cli(['hello', '--out', out, '--layout', 'thin', '--json']);
    expect(result.code).toBe(0);
    const { artifacts } = JSON.parse(result.stdout);
    expect(artifacts.map((artifact: { kind: string; path: string }) => [artifact.kind, artifact.path])).toEqual([
      ['function', join(out, 'hello.zip')],
      ['runtime-layer', expect.stringMatching(/hello-runtime-(x86_64|arm64)\.zip$/)],
    ]);
    expect(artifacts[0].size).toBeLessThan(30_000);
  }, 300_000);

  it('builds an extension into <out>/layers/<name>.zip and reports it with --json', async () => {
    const cwd = await makeProject(
      {
        'lambda-kit.config.json': JSON.stringify({ extensions: { probe: { entry: PROBE } }, functions: { api: { entry: 'api.ts' } } }),
        'api.ts': 'export const handler = async () => 1;\n',
      },
      cleanup,
    );
    const env = { ...process.env, LAMBDA_KIT_CACHE_DIR: join(root, '.cache/kit') };
    const result = cli(['probe', '--arch', 'arm64', '--json'], cwd, env);
    expect(result.code, result.stderr).toBe(0);
    const { artifacts } = JSON.parse(result.stdout);
    expect(artifacts).toEqual([
      layerArtifactLike(join(cwd, 'dist/lambda/layers/probe.zip'), 'arm64', expect.stringMatching(/^24\.\d+\.\d+$/)),
    ]);
    expect(createHash('sha256').update(readFileSync(artifacts[0].path)).digest('hex')).toBe(artifacts[0].sha256);
    expect(result.stderr).toMatch(/^lambda-kit: probe: bundled .*probe-extension\.ts into extensions\/probe \(\d+\.\d KB\) in \d+ ms$/m);
    expect(result.stderr).toMatch(
      /^lambda-kit: probe: wrote .*layers\/probe\.zip \(\d+\.\d MB, extension layer, arm64, Node 24\.\d+\.\d+\)$/m,
    );
    expect(result.stderr).toMatch(/^lambda-kit: built 1 extension layer\(s\) in \d+ ms$/m);
    // The function was not asked for.
    expect(existsSync(join(cwd, 'dist/lambda/api.zip'))).toBe(false);
  }, 300_000);
});
