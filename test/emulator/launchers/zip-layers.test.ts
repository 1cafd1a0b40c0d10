// A zip with layers, as lambda-kit build makes them: the thin layout's
// function zip runs the runtime layer's /opt/bootstrap, and an extension layer
// starts from /opt/extensions with the Node it carries in /opt.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject, defaultCacheDir } from '../../../src/build/build.ts';
import { Emulator } from '../../../src/emulator/emulator.ts';
import { namespaceSupport } from '../../../src/emulator/launchers/mount-namespace.ts';
import { waitFor } from '../../support/wait.ts';

const HELLO = fileURLToPath(new URL('../../../examples/hello/handler.ts', import.meta.url));
const PROBE = fileURLToPath(new URL('../../fixtures/extensions/probe-extension.ts', import.meta.url));
const INVOKE_ZIP = fileURLToPath(new URL('../../fixtures/emulator/invoke-zip.ts', import.meta.url));
const namespaces = 'tools' in (await namespaceSupport());

describe('a thin zip with its runtime layer and an extension layer', () => {
  let dir: string;
  const artifacts: Record<string, string> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lambda-kit-layers-test-'));
    await writeFile(
      join(dir, 'lambda-kit.config.json'),
      JSON.stringify({ functions: { hello: { entry: HELLO } }, extensions: { probe: { entry: PROBE } } }),
    );
    const built = await buildProject({
      cwd: dir,
      overrides: { arch: process.arch === 'arm64' ? 'arm64' : 'x86_64', out: join(dir, 'out'), layout: 'thin' },
      cacheDir: defaultCacheDir(),
    });
    for (const artifact of built.artifacts) artifacts[artifact.kind] = artifact.path;
  }, 180_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the function zip, which has no bootstrap, with the runtime layer's", async () => {
    const emulator = await Emulator.start({
      functions: [{ name: 'hello', source: { zip: artifacts.function! }, layers: [artifacts['runtime-layer']!], handler: 'index.handler' }],
      log: () => {},
    });
    try {
      const result = await emulator.invoke('hello', { payload: Buffer.from('{"firstName":"Ada"}') });
      expect(result.functionError, result.body.toString()).toBe(false);
      expect(JSON.parse(result.body.toString())).toEqual({ message: 'Hello, Ada!' });
    } finally {
      await emulator.close();
    }
  });

  it("runs it with the runtime layer's loader where no namespace can be made", async () => {
    // Without unshare on its PATH, the emulator cannot make namespaces.
    const emptyPath = await mkdtemp(join(dir, 'empty-path-'));
    const child = spawn(process.execPath, [INVOKE_ZIP, artifacts.function!, '{"firstName":"Ada"}', artifacts['runtime-layer']!], {
      env: { PATH: emptyPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await new Promise((resolve) => child.once('close', resolve)), stderr).toBe(0);
    expect(stderr).toMatch(/^lambda-kit emulator: zips run in their unpacked folder/);
    expect(JSON.parse(stdout).body).toEqual({ message: 'Hello, Ada!' });
  });

  // An extension layer's #! line names the Node it carries in /opt, which only a namespace puts there.
  it.skipIf(!namespaces)('starts the extension layer from /opt/extensions, and it registers', async () => {
    const report = join(dir, 'probe.jsonl');
    const emulator = await Emulator.start({
      functions: [
        {
          name: 'hello',
          source: { zip: artifacts.function! },
          layers: [artifacts['runtime-layer']!, artifacts['extension-layer']!],
          handler: 'index.handler',
          environment: { PROBE_REPORT: report },
        },
      ],
      log: () => {},
    });
    try {
      const result = await emulator.invoke('hello', { payload: Buffer.from('{}') });
      expect(result.functionError, result.body.toString()).toBe(false);
      const registered = await waitFor(
        () => readFile(report, 'utf8').catch(() => ''),
        (text) => text.includes('"kind":"registered"'),
      );
      expect(JSON.parse(registered.split('\n')[0]!)).toMatchObject({ name: 'probe', kind: 'registered', status: 200 });
    } finally {
      await emulator.close();
    }
  });

  it('refuses layers for a source that does not run from a zip', async () => {
    await expect(
      Emulator.start({ functions: [{ name: 'f', source: { handlerFile: HELLO }, layers: [artifacts['runtime-layer']!] }], log: () => {} }),
    ).rejects.toThrow(/layers are for zip sources/);
  });
});
