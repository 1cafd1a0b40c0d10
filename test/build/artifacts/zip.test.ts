import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { buildProject } from '../../../src/build/build.ts';
import { KitError } from '../../../src/build/errors.ts';
import type { NodeRuntimeBuilder } from '../../../src/build/node/node-runtime.ts';
import type { ArtifactFile } from '../../../src/build/artifact-file.ts';
import { COMPRESSION_LEVEL, DEFLATE_CACHE_MIN_BYTES, createZip, zipTimestamp } from '../../../src/build/artifacts/zip.ts';
import { placeholderNodeRuntime, readZip, removeAll } from '../support.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
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
    const script = `import { createZip } from ${JSON.stringify(join(root, 'src/build/artifacts/zip.ts'))};
      const zip = await createZip([{ path: 'a', data: Buffer.from('x'), mode: 0o644 }]);
      console.log(require('node:crypto').createHash('sha256').update(zip).digest('hex'));`;
    const hashIn = (tz: string) =>
      execFileSync(
        process.execPath,
        ['--input-type=module', '-e', script.replace("require('node:crypto')", "(await import('node:crypto'))")],
        {
          env: { ...process.env, TZ: tz, SOURCE_DATE_EPOCH: '' },
          encoding: 'utf8',
        },
      ).trim();
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

/** The zip yazl writes for the same files, as createZip wrote them before it had a deflate cache. */
function yazlZip(files: ArtifactFile[], mtime: Date): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    zip.addBuffer(file.data, file.path, {
      mtime,
      mode: 0o100000 | (file.mode & 0o111 ? 0o755 : 0o644),
      compress: true,
      compressionLevel: COMPRESSION_LEVEL,
      forceDosTimestamp: true,
    });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** Bytes that deflate neither to nothing nor not at all, like a binary: a fixed pseudo-random walk. */
function binaryLike(size: number, seed: number): Buffer {
  const data = Buffer.alloc(size);
  let state = seed;
  for (let i = 0; i < size; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    data[i] = (state >>> 24) & (i % 7 === 0 ? 0xff : 0x0f);
  }
  return data;
}

describe('createZip: the bytes yazl wrote, and a deflate cache', () => {
  const big = binaryLike(DEFLATE_CACHE_MIN_BYTES + 12_345, 1);
  const mixed: ArtifactFile[] = [
    ...files,
    { path: 'bootstrap-big', data: big, mode: 0o755 },
    { path: 'lib/libstdc++.so.6', data: binaryLike(DEFLATE_CACHE_MIN_BYTES * 2, 2), mode: 0o644 },
    { path: 'empty', data: Buffer.alloc(0), mode: 0o644 },
    { path: 'node_modules/ünïcode/naïve.js', data: Buffer.from('module.exports = "é";\n'), mode: 0o644 },
  ];

  it('writes byte for byte what yazl writes, for any timestamp', async () => {
    for (const mtime of [zipTimestamp({}), zipTimestamp({ SOURCE_DATE_EPOCH: '1700000000' })]) {
      expect((await createZip(mixed, { mtime })).equals(await yazlZip(mixed, mtime))).toBe(true);
    }
  });

  it('gives the same bytes with an empty cache, a warm one and none; only big entries are cached', async () => {
    const cache = join(await tempDir(), 'deflate');
    const none = await createZip(mixed);
    const cold = await createZip(mixed, { deflateCache: cache });
    const cached = await readdir(cache);
    const warm = await createZip(mixed, { deflateCache: cache });
    expect(cold.equals(none)).toBe(true);
    expect(warm.equals(none)).toBe(true);
    // bootstrap-big and libstdc++: named by content, level and zlib version.
    expect(cached).toHaveLength(2);
    for (const name of cached) expect(name).toMatch(new RegExp(`^[0-9a-f]{64}-${COMPRESSION_LEVEL}-zlib.+\\.deflate$`));
    expect(await readdir(cache)).toEqual(cached);
  });

  it('reads the deflated form from the cache, and deflates again when a cached entry is damaged', async () => {
    const cache = join(await tempDir(), 'deflate');
    const one = [{ path: 'bootstrap', data: big, mode: 0o755 }];
    const expected = await createZip(one);
    await createZip(one, { deflateCache: cache });
    const [name] = await readdir(cache);
    const entry = join(cache, name!);
    const good = await readFile(entry);
    // Another deflated form of the same file (level 1), with a right header: a zip that has it took it from the cache.
    const level1 = deflateRawSync(big, { level: 1 });
    const header = Buffer.from(good.subarray(0, 13));
    header.writeUInt32LE(crc32(level1), 9);
    await writeFile(entry, Buffer.concat([header, level1]));
    const fromCache = await createZip(one, { deflateCache: cache });
    expect(fromCache.includes(level1)).toBe(true);
    expect(readZip(fromCache)[0]!.data.equals(big)).toBe(true);
    for (const damage of [
      good.subarray(0, good.length - 10),
      Buffer.concat([good.subarray(0, 40), Buffer.from('x'), good.subarray(41)]),
      Buffer.from('LKZD1'),
    ]) {
      await writeFile(entry, damage);
      expect((await createZip(one, { deflateCache: cache })).equals(expected)).toBe(true);
      // ... and the entry is whole again.
      expect((await readFile(entry)).equals(good)).toBe(true);
    }
  });

  it("takes a file's SHA-256 when handed one, and checks the CRC-32 so that a wrong digest cannot bring in another file", async () => {
    const cache = join(await tempDir(), 'deflate');
    const digest = createHash('sha256').update(big).digest('hex');
    const withDigest = [{ path: 'bootstrap', data: big, mode: 0o755, sha256: digest }];
    expect((await createZip(withDigest, { deflateCache: cache })).equals(await createZip(withDigest))).toBe(true);
    expect(await readdir(cache)).toEqual([expect.stringMatching(new RegExp(`^${digest}-`))]);
    // Another file of the same size under big's digest (a stale manifest): the cached entry is not its own.
    const other = [{ path: 'bootstrap', data: binaryLike(big.length, 9), mode: 0o755, sha256: digest }];
    const zip = await createZip(other, { deflateCache: cache });
    expect(zip.equals(await createZip([{ ...other[0]!, sha256: undefined }]))).toBe(true);
  });

  it('still writes the zip when the cache cannot be written', async () => {
    // A file where the cache directory should be: no directory can be made there, even by root.
    const notADirectory = join(await tempDir(), 'deflate');
    await writeFile(notADirectory, 'x');
    const one = [{ path: 'bootstrap', data: big, mode: 0o755 }];
    expect((await createZip(one, { deflateCache: notADirectory })).equals(await createZip(one))).toBe(true);
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
    // Its stated budget, 20 KB (the benchmark's target too): a change that grows it past the budget must say why, here.
    expect(size).toBeLessThanOrEqual(20 * 1024);
  });

  it('keeps the deflated Node in <cacheDir>/deflate: a warm build writes the same bytes as a cold one', async () => {
    const cacheDir = await tempDir();
    const bootstrap = binaryLike(DEFLATE_CACHE_MIN_BYTES * 3, 3);
    const nodeRuntime: NodeRuntimeBuilder = async () => ({
      nodeVersion: '24.0.0',
      files: [{ path: 'bootstrap', data: bootstrap, mode: 0o755 }],
    });
    const zips: Buffer[] = [];
    for (let i = 0; i < 2; i++) {
      const out = await tempDir();
      await buildProject({ cwd: root, selector: 'hello', overrides: { out, arch: 'x86_64' }, nodeRuntime, cacheDir });
      zips.push(await readFile(join(out, 'hello.zip')));
      expect(await readdir(join(cacheDir, 'deflate'))).toHaveLength(1);
    }
    expect(zips[1]!.equals(zips[0]!)).toBe(true);
  });

  it('builds every function of the config, each Node runtime once', async () => {
    const out = await tempDir();
    const calls: unknown[] = [];
    const result = await buildProject({ cwd: root, overrides: { out, arch: 'x86_64' }, nodeRuntime: placeholderNodeRuntime(calls) });
    expect(result.artifacts.map((artifact) => (artifact.kind === 'extension-layer' ? artifact.extension : artifact.function))).toEqual([
      'hello',
      'fails',
      'streaming',
      'http',
      'logs-to-file',
      'telemetry-counter',
    ]);
    expect(calls).toHaveLength(1);
  });
});
