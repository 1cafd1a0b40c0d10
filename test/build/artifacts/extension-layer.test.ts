// The layer zip of an external extension: its layout and modes, the #! line,
// the inline source map, determinism (with a placeholder Node: packaging only);
// then with the real Node: bin/node's ELF interpreter and DT_RPATH, Node for
// arm64 under qemu, and the probe extension from an unpacked layer, started by
// the emulator, registering, getting INVOKE and SHUTDOWN and the function's
// log lines through the Telemetry API.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import extract from 'extract-zip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../../src/emulator/emulator.ts';
import { buildProject } from '../../../src/build/build.ts';
import { REQUIRE_BANNER } from '../../../src/build/bundle/esbuild.ts';
import type { Arch } from '../../../src/platform/arch.ts';
import type { ExtensionLayerArtifact } from '../../../src/build/artifacts/formats.ts';
import { fixture } from '../../support/function-process.ts';
import {
  kitError,
  layerArtifactLike,
  makeProject,
  placeholderExtensionNode,
  placeholderNodeRuntime,
  readZip,
  removeAll,
  type ZipEntry,
} from '../support.ts';

const CACHE = fileURLToPath(new URL('../../../.cache/kit', import.meta.url));
const PROBE = fileURLToPath(new URL('../../fixtures/extensions/probe-extension.ts', import.meta.url));
const HOST_ARCH: Arch = process.arch === 'arm64' ? 'arm64' : 'x86_64';
const LOADERS: Record<Arch, string> = { x86_64: 'ld-linux-x86-64.so.2', arm64: 'ld-linux-aarch64.so.1' };
const BUILD_TIMEOUT_MS = 180_000;

const cleanup: string[] = [];
afterAll(() => removeAll(cleanup));

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup.push(dir);
  return dir;
}

function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = { PATH: process.env.PATH },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** A project whose config declares the probe extension (and, when asked, a function). */
function probeProject(extra: Record<string, unknown> = {}, files: Record<string, string> = {}): Promise<string> {
  return makeProject(
    { 'lambda-kit.config.json': JSON.stringify({ extensions: { probe: { entry: PROBE } }, ...extra }), ...files },
    cleanup,
  );
}

const layerOf = (artifacts: Array<{ kind: string }>) =>
  artifacts.find((artifact): artifact is ExtensionLayerArtifact => artifact.kind === 'extension-layer')!;
const listing = (entries: ZipEntry[]) => entries.map((entry) => `${entry.path} ${entry.mode.toString(8)}`);

describe('extension layer zip (placeholder Node)', () => {
  it("holds extensions/<name> (0755, #! line to the layer's Node) and lambda-kit-node/v<version>/; nothing else under extensions/", async () => {
    const cwd = await probeProject({ functions: { api: { entry: 'api.ts' } } }, { 'api.ts': 'export const handler = async () => 1;\n' });
    const calls: unknown[] = [];
    const result = await buildProject({
      cwd,
      overrides: { arch: 'arm64' },
      nodeRuntime: placeholderNodeRuntime(),
      extensionNode: placeholderExtensionNode(calls),
      cacheDir: CACHE,
    });
    expect(calls).toEqual([expect.objectContaining({ arch: 'arm64', nodeMajor: 24 })]);
    expect(result.artifacts.map((artifact) => artifact.kind)).toEqual(['function', 'extension-layer']);
    const layer = layerOf(result.artifacts);
    expect(layer).toEqual(layerArtifactLike(join(cwd, 'dist/lambda/layers/probe.zip'), 'arm64', '24.0.0'));
    const entries = readZip(await readFile(layer.path));
    expect(listing(entries)).toEqual([
      'extensions/probe 100755',
      'lambda-kit-node/v24.0.0/bin/node 100755',
      'lambda-kit-node/v24.0.0/lib/libplaceholder.so.1 100644',
    ]);
    const executable = entries[0]!.data.toString('utf8');
    expect(executable.split('\n')[0]).toBe('#!/opt/lambda-kit-node/v24.0.0/bin/node --enable-source-maps');
    // ESM (Node detects it in an extensionless file), the probe's code, its map inline at the end.
    expect(executable.split('\n')[1]!.startsWith(REQUIRE_BANNER)).toBe(true);
    expect(executable).toContain('2020-01-01/extension/register');
    expect(executable.trimEnd().split('\n').at(-1)).toMatch(/^\/\/# sourceMappingURL=data:application\/json;base64,/);
  });

  it('gives byte-identical zips from two builds', async () => {
    const cwd = await probeProject();
    const build = async (out: string) =>
      layerOf(
        (await buildProject({ cwd, overrides: { out, arch: 'x86_64' }, extensionNode: placeholderExtensionNode(), cacheDir: CACHE }))
          .artifacts,
      );
    const [a, b] = [await build(await tempDir('lambda-kit-layer-a-')), await build(await tempDir('lambda-kit-layer-b-'))];
    expect(a.sha256).toBe(b.sha256);
    expect((await readFile(a.path)).equals(await readFile(b.path))).toBe(true);
  });

  it("maps stack traces to the .ts line below the #! line (the entry's own #! line dropped); sourcemap: false leaves map and flag out", async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source of a file under test, with a template literal in it
    const boom = ['#!/usr/bin/env node', 'const where: string = "boom";', '', 'throw new Error(`${where} on line 4`);', ''].join('\n');
    const cwd = await makeProject(
      {
        'lambda-kit.config.json': JSON.stringify({
          extensions: { boom: { entry: 'src/boom.ts' }, quiet: { entry: 'src/boom.ts', sourcemap: false } },
        }),
        'src/boom.ts': boom,
      },
      cleanup,
    );
    const result = await buildProject({ cwd, overrides: { arch: HOST_ARCH }, extensionNode: placeholderExtensionNode(), cacheDir: CACHE });
    const executables: Record<string, string> = {};
    for (const artifact of result.artifacts) {
      const entry = readZip(await readFile(artifact.path)).find((item) => item.path.startsWith('extensions/'))!;
      executables[entry.path] = join(cwd, entry.path.replace('/', '-'));
      await writeFile(executables[entry.path]!, entry.data, { mode: 0o755 });
    }
    const mapped = await readFile(executables['extensions/boom']!, 'utf8');
    expect(mapped.match(/^#!/gm)).toHaveLength(1);
    // The #! line names a Node that only exists in /opt: run the file with this one, and the flag the #! line gives.
    const thrown = await run(process.execPath, ['--enable-source-maps', executables['extensions/boom']!]);
    expect(thrown.code).toBe(1);
    expect(thrown.stderr).toMatch(/Error: boom on line 4\n\s+at .*src\/boom\.ts:4:7/);

    const quiet = await readFile(executables['extensions/quiet']!, 'utf8');
    expect(quiet.split('\n')[0]).toBe('#!/opt/lambda-kit-node/v24.0.0/bin/node');
    expect(quiet).not.toContain('sourceMappingURL');
  });

  it('refuses a native addon in an extension, naming the package', async () => {
    const cwd = await makeProject(
      {
        'package.json': JSON.stringify({ name: 'app', type: 'module', lambda: { extensions: { fast: { entry: 'fast.mjs' } } } }),
        'fast.mjs': "import addon from 'fast-thing';\naddon.run();\n",
        'node_modules/fast-thing/package.json': JSON.stringify({ name: 'fast-thing', version: '1.0.0', main: 'index.js', gypfile: true }),
        'node_modules/fast-thing/index.js': "module.exports = require('./build/Release/fast.node');\n",
        'node_modules/fast-thing/build/Release/fast.node': '\x7fELF',
      },
      cleanup,
    );
    const error = await kitError(
      buildProject({ cwd, overrides: { arch: 'arm64' }, extensionNode: placeholderExtensionNode(), cacheDir: CACHE }),
    );
    expect(error.code).toBe('LK_KIT_NATIVE_ADDON');
    expect(error.message).toMatch(/package "fast-thing" contains a native addon/);
  });
});

interface UnpackedLayer {
  layer: ExtensionLayerArtifact;
  /** Where the zip is unpacked: what /opt would hold. */
  dir: string;
  /** <dir>/lambda-kit-node/v<version> */
  nodeDir: string;
}

/** The probe's layer for `arch` with the real Node, built and unpacked once for all the tests that want it. */
const unpacked = new Map<Arch, Promise<UnpackedLayer>>();
function unpackedLayer(arch: Arch): Promise<UnpackedLayer> {
  let built = unpacked.get(arch);
  if (!built) {
    built = (async () => {
      const cwd = await probeProject();
      const started = Date.now();
      const layer = layerOf((await buildProject({ cwd, overrides: { arch }, cacheDir: CACHE })).artifacts);
      console.log(`probe extension layer, ${arch}: ${layer.size} bytes, Node ${layer.nodeVersion}, built in ${Date.now() - started} ms`);
      const dir = await tempDir('lambda-kit-layer-opt-');
      await extract(layer.path, { dir });
      return { layer, dir, nodeDir: join(dir, `lambda-kit-node/v${layer.nodeVersion}`) };
    })();
    unpacked.set(arch, built);
  }
  return built;
}

describe.each([HOST_ARCH, HOST_ARCH === 'x86_64' ? 'arm64' : 'x86_64'] as const)('extension layer zip for %s (real Node)', (arch) => {
  let layer: ExtensionLayerArtifact;
  let nodeDir: string;
  const loader = LOADERS[arch];

  beforeAll(async () => {
    ({ layer, nodeDir } = await unpackedLayer(arch));
  }, BUILD_TIMEOUT_MS);

  it('has bin/node with its ELF interpreter and DT_RPATH in /opt/lambda-kit-node/v<version>/lib, stripped', async () => {
    const entries = readZip(await readFile(layer.path));
    const paths = entries.map((entry) => entry.path);
    expect(paths.filter((path) => path.startsWith('extensions/'))).toEqual(['extensions/probe']);
    expect(paths).toEqual(
      expect.arrayContaining([
        `lambda-kit-node/v${layer.nodeVersion}/bin/node`,
        `lambda-kit-node/v${layer.nodeVersion}/lib/${loader}`,
        `lambda-kit-node/v${layer.nodeVersion}/lib/libc.so.6`,
      ]),
    );
    expect(paths.every((path) => path === 'extensions/probe' || path.startsWith(`lambda-kit-node/v${layer.nodeVersion}/`))).toBe(true);
    expect(entries.find((entry) => entry.path.endsWith('/bin/node'))!.mode.toString(8)).toBe('100755');
    expect(entries[0]!.data.toString('utf8').split('\n')[0]).toBe(
      `#!/opt/lambda-kit-node/v${layer.nodeVersion}/bin/node --enable-source-maps`,
    );

    const libPath = `/opt/lambda-kit-node/v${layer.nodeVersion}/lib`;
    const interpreter = await run('patchelf', ['--print-interpreter', join(nodeDir, 'bin/node')]);
    expect(interpreter.stdout.trim()).toBe(`${libPath}/${loader}`);
    const dynamic = await run('readelf', ['-dW', join(nodeDir, 'bin/node')]);
    expect(dynamic.stdout).toMatch(new RegExp(`\\(RPATH\\)\\s+Library rpath: \\[${libPath.replaceAll('.', '\\.')}\\]`));
    expect(dynamic.stdout).not.toMatch(/RUNPATH/);
    const sections = await run('readelf', ['-SW', join(nodeDir, 'bin/node')]);
    expect(sections.stdout).not.toMatch(/\.symtab/);
  });

  it('runs its Node through its own loader (under qemu for the other arch)', async () => {
    const version = await run(join(nodeDir, 'lib', loader), [
      '--library-path',
      join(nodeDir, 'lib'),
      join(nodeDir, 'bin/node'),
      '--version',
    ]);
    expect(version).toMatchObject({ code: 0, stdout: `v${layer.nodeVersion}\n` });
  }, 60_000);
});

describe(`the probe from an unpacked ${HOST_ARCH} layer, under the emulator`, () => {
  it(
    "registers, gets an INVOKE per invoke, the function's log lines, and SHUTDOWN",
    async () => {
      const { dir, nodeDir } = await unpackedLayer(HOST_ARCH);
      const loader = LOADERS[HOST_ARCH];
      // /opt/extensions/probe, as the kernel would start it from /opt: the #! line's Node, through its loader here.
      const extensionsDir = join(dir, 'started-as');
      await mkdir(extensionsDir);
      const node = [
        join(nodeDir, 'lib', loader),
        '--library-path',
        join(nodeDir, 'lib'),
        join(nodeDir, 'bin/node'),
        '--enable-source-maps',
      ];
      await writeFile(
        join(extensionsDir, 'probe'),
        `#!/bin/sh\nexec ${[...node, join(dir, 'extensions/probe')].map((arg) => `'${arg}'`).join(' ')}\n`,
      );
      await chmod(join(extensionsDir, 'probe'), 0o755);
      const report = join(dir, 'probe-report.jsonl');
      const lines: string[] = [];
      const emulator = await Emulator.start({
        functions: [
          {
            name: 'with-layer',
            source: { command: [process.execPath, fixture('extension-host.ts')] },
            extensionsDir,
            maxEnvironments: 1,
            environment: { PROBE_REPORT: report },
          },
        ],
        log: (_name, line) => lines.push(line),
      });
      const requestIds: string[] = [];
      try {
        for (const marker of ['first', 'second']) {
          const result = await emulator.invoke('with-layer', { payload: Buffer.from(JSON.stringify({ action: 'log', marker })) });
          expect(JSON.parse(result.body.toString())).toBe('logged');
          await result.settled;
          requestIds.push(result.requestId);
        }
        expect(lines).toContain('EXTENSION\tName: probe\tState: Ready\tEvents: [INVOKE, SHUTDOWN]');
      } finally {
        await emulator.close();
      }
      const entries = (await readFile(report, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
      expect(entries.find((entry) => entry.kind === 'registered')).toMatchObject({
        name: 'probe',
        status: 200,
        body: { functionName: 'with-layer' },
      });
      expect(entries.find((entry) => entry.kind === 'subscribed')).toMatchObject({ status: 200 });
      const events = entries.filter((entry) => entry.kind === 'event').map((entry) => entry.event);
      expect(events.map((event) => event.eventType)).toEqual(['INVOKE', 'INVOKE', 'SHUTDOWN']);
      expect(events.slice(0, 2).map((event) => event.requestId)).toEqual(requestIds);
      expect(events[2].shutdownReason).toBe('spindown');
      const records = entries.filter((entry) => entry.kind === 'batch').flatMap((entry) => entry.records);
      for (const marker of ['first', 'second']) {
        expect(records.some((record) => record.type === 'function' && String(record.record).includes(`function says ${marker}`))).toBe(
          true,
        );
      }
    },
    BUILD_TIMEOUT_MS,
  );
});
