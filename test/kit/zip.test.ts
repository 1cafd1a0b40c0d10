import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProject } from '../../src/kit/build.ts';
import { KitError } from '../../src/kit/errors.ts';
import { createZip, zipTimestamp } from '../../src/kit/zip.ts';
import { placeholderNodeRuntime, readZip, removeAll } from './support.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cleanup: string[] = [];
afterAll(() => removeAll(cleanup));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-zip-'));
  cleanup.push(dir);
  return dir;
}

const files = [
  { path: 'index.mjs', data: Buffer.from('export {}\n'), mode: 0o644 },
  { path: 'bootstrap', data: Buffer.from('binary'), mode: 0o755 },
  { path: 'lib/libc.so.6', data: Buffer.alloc(10_000, 1), mode: 0o600 },
];

/** 1980-01-01 00:00:00 in a zip's DOS date and time fields. */
const DOS_1980 = { dosDate: (0 << 9) | (1 << 5) | 1, dosTime: 0 };

describe('createZip', () => {
  it('sorts entries, sets modes, one fixed timestamp, deflate, no extra fields', async () => {
    const entries = readZip(await createZip(files));
    expect(entries.map((entry) => entry.path)).toEqual(['bootstrap', 'index.mjs', 'lib/libc.so.6']);
    expect(entries.map((entry) => entry.mode.toString(8))).toEqual(['100755', '100644', '100644']);
    for (const entry of entries) {
      expect(entry).toMatchObject({ ...DOS_1980, method: 8, extraLength: 0 });
    }
    expect(entries[2]!.data.equals(files[2]!.data)).toBe(true);
  });

  it('gives the same bytes whatever the order of the files and the time zone', async () => {
    const a = await createZip(files);
    const b = await createZip([...files].reverse());
    expect(a.equals(b)).toBe(true);
    const script = `import { createZip } from ${JSON.stringify(join(root, 'src/kit/zip.ts'))};
      const zip = await createZip([{ path: 'a', data: Buffer.from('x'), mode: 0o644 }]);
      console.log(require('node:crypto').createHash('sha256').update(zip).digest('hex'));`;
    const hashIn = (tz: string) =>
      execFileSync(process.execPath, ['--input-type=module', '-e', script.replace("require('node:crypto')", "(await import('node:crypto'))")], {
        env: { ...process.env, TZ: tz, SOURCE_DATE_EPOCH: '' },
        encoding: 'utf8',
      }).trim();
    expect(hashIn('Pacific/Kiritimati')).toBe(hashIn('America/Los_Angeles'));
  });

  it('uses SOURCE_DATE_EPOCH when set, as UTC', async () => {
    // 2023-11-14T22:13:20Z
    const entries = readZip(await createZip(files, { mtime: zipTimestamp({ SOURCE_DATE_EPOCH: '1700000000' }) }));
    expect(entries[0]!.dosDate).toBe(((2023 - 1980) << 9) | (11 << 5) | 14);
    expect(entries[0]!.dosTime).toBe((22 << 11) | (13 << 5) | (20 >> 1));
    expect(() => zipTimestamp({ SOURCE_DATE_EPOCH: 'yesterday' })).toThrow(/SOURCE_DATE_EPOCH must be a whole number/);
  });

  it('refuses two files at one path and paths that leave the zip', async () => {
    await expect(createZip([files[0]!, files[0]!])).rejects.toThrow(/two files would go to index.mjs/);
    await expect(createZip([{ path: '../etc/passwd', data: Buffer.alloc(1), mode: 0o644 }])).rejects.toBeInstanceOf(KitError);
  });
});

describe('buildProject (zip format, with a placeholder Node runtime)', () => {
  it('self-contained: two builds are byte-identical; bootstrap 0755 at the root, lib/, index.mjs and its map', async () => {
    const [outA, outB] = [await tempDir(), await tempDir()];
    const build = (out: string) =>
      buildProject({ cwd: root, selector: 'hello', overrides: { out, arch: 'x86_64' }, nodeRuntime: placeholderNodeRuntime() });
    const a = await build(outA);
    const b = await build(outB);
    expect(a.artifacts).toHaveLength(1);
    const artifact = a.artifacts[0]!;
    expect(artifact).toMatchObject({
      function: 'hello',
      kind: 'function',
      path: join(outA, 'hello.zip'),
      arch: 'x86_64',
      target: 'al2023',
      format: 'zip',
      layout: 'self-contained',
      nodeVersion: 'v24.0.0-placeholder',
    });
    const [zipA, zipB] = [await readFile(join(outA, 'hello.zip')), await readFile(join(outB, 'hello.zip'))];
    expect(zipA.equals(zipB)).toBe(true);
    expect(artifact.sha256).toBe(b.artifacts[0]!.sha256);
    expect(artifact.size).toBe(zipA.length);
    const entries = readZip(zipA);
    expect(entries.map((entry) => `${entry.path} ${entry.mode.toString(8)}`)).toEqual([
      'bootstrap 100755',
      'index.mjs 100644',
      'index.mjs.map 100644',
      'lib/libplaceholder.so.1 100644',
    ]);
  });

  it('thin: a small function zip with the code only, and a runtime layer zip for /opt', async () => {
    const out = await tempDir();
    const calls: unknown[] = [];
    const result = await buildProject({
      cwd: root,
      selector: 'examples/hello/handler.ts',
      overrides: { out, arch: 'arm64', layout: 'thin', nodeMajor: 22 },
      nodeRuntime: placeholderNodeRuntime(calls),
    });
    expect(calls).toEqual([expect.objectContaining({ arch: 'arm64', nodeMajor: 22, root: '/opt' })]);
    expect(result.artifacts.map((artifact) => [artifact.kind, artifact.path])).toEqual([
      ['function', join(out, 'hello.zip')],
      ['runtime-layer', join(out, 'hello-runtime-arm64.zip')],
    ]);
    const code = readZip(await readFile(join(out, 'hello.zip')));
    expect(code.map((entry) => entry.path)).toEqual(['index.mjs', 'index.mjs.map']);
    const layer = readZip(await readFile(join(out, 'hello-runtime-arm64.zip')));
    expect(layer.map((entry) => `${entry.path} ${entry.mode.toString(8)}`)).toEqual(['bootstrap 100755', 'lib/libplaceholder.so.1 100644']);
    const size = result.artifacts[0]!.size;
    console.log(`hello thin function zip: ${size} bytes`);
    expect(size).toBeLessThan(30_000);
  });

  it('builds every function of the config, each Node runtime once', async () => {
    const out = await tempDir();
    const calls: unknown[] = [];
    const result = await buildProject({ cwd: root, overrides: { out, arch: 'x86_64' }, nodeRuntime: placeholderNodeRuntime(calls) });
    expect(result.artifacts.map((artifact) => (artifact.kind === 'extension-layer' ? artifact.extension : artifact.function))).toEqual(['hello', 'fails', 'streaming', 'http', 'logs-to-file', 'telemetry-counter']);
    expect(calls).toHaveLength(1);
  });
});
