import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { expect } from 'vitest';
import { Emulator } from '../../src/emulator/emulator.ts';
import type { InvokeResult } from '../../src/emulator/invocation.ts';
import { KitError } from '../../src/build/errors.ts';
import type { ExtensionNodeBuilder } from '../../src/build/node/node-with-glibc.ts';
import type { NodeRuntimeBuilder } from '../../src/build/node/node-runtime.ts';

/**
 * A stand-in for buildNodeRuntime, for tests of packaging only: its files are
 * placeholders (the bootstrap is not runnable). Tests that run an artifact run
 * index.mjs with this machine's Node instead.
 */
export function placeholderNodeRuntime(calls: unknown[] = []): NodeRuntimeBuilder {
  return async (options) => {
    calls.push(options);
    return {
      nodeVersion: `v${options.nodeMajor}.0.0-placeholder`,
      files: [
        { path: 'bootstrap', data: Buffer.from(`placeholder bootstrap for ${options.arch}, root ${options.root}\n`), mode: 0o755 },
        { path: 'lib/libplaceholder.so.1', data: Buffer.alloc(4096, 7), mode: 0o644 },
      ],
    };
  };
}

/** The same for the Node of extension layers (bin/node, lib/*): placeholders, a real version number. */
export function placeholderExtensionNode(calls: unknown[] = []): ExtensionNodeBuilder {
  return async (options) => {
    calls.push(options);
    return {
      nodeVersion: `${options.nodeMajor ?? 24}.0.0`,
      files: [
        { path: 'bin/node', data: Buffer.from(`placeholder node for ${options.arch}\n`), mode: 0o755 },
        { path: 'lib/libplaceholder.so.1', data: Buffer.alloc(4096, 7), mode: 0o644 },
      ],
    };
  };
}

/** What an extension layer artifact of `--json` and buildProject looks like. */
export function layerArtifactLike(path: string, arch: string, nodeVersion: unknown): Record<string, unknown> {
  return {
    extension: 'probe',
    kind: 'extension-layer',
    path,
    sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    size: expect.any(Number),
    arch,
    format: 'zip',
    nodeVersion,
  };
}

/** Writes a project (path → contents) into a fresh temporary directory. */
export async function makeProject(files: Record<string, string | Buffer>, cleanup: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-project-'));
  cleanup.push(dir);
  for (const [path, contents] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), contents);
    if (path.endsWith('.sh')) await chmod(join(dir, path), 0o755);
  }
  return dir;
}

export async function removeAll(dirs: string[]): Promise<void> {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export interface ZipEntry {
  path: string;
  mode: number;
  method: number;
  /** DOS date and time fields, as stored. */
  dosDate: number;
  dosTime: number;
  extraLength: number;
  data: Buffer;
}

/** Reads a zip's central directory (a test's own small reader, to check what createZip wrote). */
export function readZip(zip: Buffer): ZipEntry[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip');
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error('bad central directory');
    const method = zip.readUInt16LE(offset + 10);
    const dosTime = zip.readUInt16LE(offset + 12);
    const dosDate = zip.readUInt16LE(offset + 14);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const external = zip.readUInt32LE(offset + 38);
    const local = zip.readUInt32LE(offset + 42);
    const path = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataStart, dataStart + compressedSize);
    entries.push({
      path,
      mode: external >>> 16,
      method,
      dosDate,
      dosTime,
      extraLength,
      data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Resolves with the KitError a promise rejects with; fails the test if it resolves or rejects otherwise. */
export async function kitError(promise: Promise<unknown>): Promise<KitError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KitError);
    return error as KitError;
  }
  throw new Error('expected a KitError');
}

/** The loader an unpacked artifact's bootstrap runs through here (its interpreter path is /var/task/lib). */
const LOADER = process.arch === 'arm64' ? 'ld-linux-aarch64.so.1' : 'ld-linux-x86-64.so.2';

/**
 * Starts the bootstrap of an artifact unpacked in `taskRoot` in a fresh
 * emulator environment, invokes it once with `payload`, and stops it: the
 * answer, and every line the environment logged.
 */
export async function invokeUnpacked(
  taskRoot: string,
  payload: unknown,
  environment: Record<string, string> = {},
): Promise<{ answer: InvokeResult; lines: string[] }> {
  const lines: string[] = [];
  const emulator = await Emulator.start({
    functions: [
      { name: 'unpacked', source: { command: [join(taskRoot, 'lib', LOADER), join(taskRoot, 'bootstrap')], taskRoot }, environment },
    ],
    log: (_name, line) => lines.push(line),
  });
  try {
    return { answer: await emulator.invoke('unpacked', { payload: Buffer.from(JSON.stringify(payload)) }), lines };
  } finally {
    await emulator.close();
  }
}
